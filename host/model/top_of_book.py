"""Top of book for up to 256 markets, tracked to a bounded depth from MDP3-style level updates.

Each side of a market is `depth` positional slots, slot 0 the best. A BookLevel message acts on
slot `level` (0-based):
- NEW inserts there; the slots below shift down one and the bottom one falls off;
- CHANGE overwrites the slot's price and quantity;
- DELETE removes it; the slots below shift up one and the bottom slot becomes empty.

**At the bound.** A message for a level at or past `depth` changes nothing the tracker keeps
and is counted `beyond_depth`. A DELETE shifts a level the tracker never saw into the bottom slot,
which goes empty; when that slot had been filled, `depth_exhausted` counts it. Every filled
slot holds exactly the venue's level at that position, so the best price is either right or
empty, never wrong; empty slots are levels the tracker does not know. A BestBidOffer refills
slot 0 of both sides and empties the slots below.

**Sequencing.** Every market message carries the market's rpt_seq. A market starts in sync
expecting 1. A message whose rpt_seq is not the expected one is a gap: `market_gaps` counts it,
a MarketGap event is reported and the market goes stale. While stale, book and trade messages
are ignored (`stale_drops`), a MarketStatus is still applied (a halt is never missed), and a
BestBidOffer resynchronises: it is applied and the expectation restarts after its rpt_seq. A
gap is never applied over.

`tick()` returns the events of one tick: a MarketGap if any, then a BookTop if the best bid or
ask changed. `applied` tells the trigger whether the tick was a book message that was applied.
"""

from __future__ import annotations

from host.model.counters import BOOK_COUNTERS, zeroed
from host.model.events import BookTop, MarketGap, Tick, TickKind
from host.wire.enums import BookAction, Side, TradingStatus

_EMPTY = (0, 0, 0)  # (valid, price, qty)
_SEQ_MASK = 0xFFFF_FFFF


class MarketBook:
    __slots__ = ("bids", "asks", "expected", "in_sync", "status")

    def __init__(self, depth: int) -> None:
        self.bids = [_EMPTY] * depth
        self.asks = [_EMPTY] * depth
        self.expected = 1
        self.in_sync = True
        self.status = int(TradingStatus.TRADING)

    def top(self, market: int) -> BookTop:
        b, a = self.bids[0], self.asks[0]
        return BookTop(market, b[0], b[1], b[2], a[0], a[1], a[2])

    @property
    def trading(self) -> bool:
        return self.status == TradingStatus.TRADING


class TopOfBook:
    def __init__(self, depth: int = 4, markets: int = 256) -> None:
        if depth < 1:
            raise ValueError(f"depth must be at least 1, not {depth}")
        self.depth = depth
        self.books = [MarketBook(depth) for _ in range(markets)]
        self.counters = zeroed(BOOK_COUNTERS)
        self.applied = False

    def tick(self, t: Tick) -> list:
        book = self.books[t.market]
        out: list = []
        self.applied = False
        if book.in_sync and t.rpt_seq != book.expected:
            self.counters["market_gaps"] += 1
            out.append(MarketGap(t.market, book.expected, t.rpt_seq))
            book.in_sync = False
        if t.kind == TickKind.STATUS:
            book.status = t.status
        elif not book.in_sync and t.kind != TickKind.BBO:
            self.counters["stale_drops"] += 1
            return out
        if book.in_sync or t.kind == TickKind.BBO:
            book.in_sync = True
            book.expected = (t.rpt_seq + 1) & _SEQ_MASK
        if t.kind == TickKind.BOOK or t.kind == TickKind.BBO:
            before = (book.bids[0], book.asks[0])
            if t.kind == TickKind.BBO:
                self._snapshot(book, t)
                self.applied = True
            else:
                self.applied = self._level(book, t)
            if (book.bids[0], book.asks[0]) != before:
                out.append(book.top(t.market))
        return out

    def _snapshot(self, book: MarketBook, t: Tick) -> None:
        depth = self.depth
        book.bids = [(1, t.price0, t.qty0) if t.qty0 else _EMPTY] + [_EMPTY] * (depth - 1)
        book.asks = [(1, t.price1, t.qty1) if t.qty1 else _EMPTY] + [_EMPTY] * (depth - 1)

    def _level(self, book: MarketBook, t: Tick) -> bool:
        k = t.level
        if k >= self.depth:
            self.counters["beyond_depth"] += 1
            return False
        slots = book.bids if t.side == Side.BID else book.asks
        if t.action == BookAction.NEW:
            slots.insert(k, (1, t.price0, t.qty0))
            slots.pop()
        elif t.action == BookAction.CHANGE:
            slots[k] = (1, t.price0, t.qty0)
        else:
            if slots[-1][0]:
                self.counters["depth_exhausted"] += 1
            del slots[k]
            slots.append(_EMPTY)
        return True
