"""A full-depth order book keyed by integer ticks, for the venue's price-keyed JSON depth.

Each side is a plain dict from tick to lots, and the best tick of each side is a plain int
kept up to date as levels arrive: a new level beats it or not, one comparison. Only when a
diff deletes the best level is a next-best search needed, and for that each side keeps a heap
of its ticks (negated for bids), cleaned lazily: a deleted level stays in the heap until it
surfaces at the top, where one dict lookup spots it. New levels wait in a plain list and
enter the heap only when a search needs them, so most messages never touch the heap.

The loop runs once per level, and was measured against C-level bulk variants (zip, map,
dict.update, itertools.compress over each side) on the USD-M data: the plain loop won at every
percentile, because the bulk variants allocate tuples, sets and dicts per side that cost more
than the bytecode they save (docs/depth-book.md has the numbers).

Levels come in as (price, qty) decimal-string pairs, as host.feeds.binance decodes them (its
msgspec types have checked that each level is a pair of strings). A malformed string raises a
DepthError subclass part-way through a diff, leaving that diff half applied: the book no
longer matches the venue, as it would not had the diff been skipped either, so the caller
must resync. DepthSync does that and reports it as a gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from heapq import heapify, heappop, heappush

from host.model.decimal_ticks import DEFAULT_CACHE_ENTRIES, DecimalScale
from host.model.depth_errors import BadLevels, DepthError

NO_BID = -1  # below every tick: any bid beats it
NO_ASK = 1 << 63  # above every int64 tick: any ask beats it
# New levels wait at most this long in the pending list before they are pushed to the heap.
_PENDING_LIMIT = 2048
# A heap may hold this many stale entries beyond its live ones before it is rebuilt.
_HEAP_SLACK = 4096


@dataclass(frozen=True, slots=True)
class TopOfBook:
    """Best bid and ask with their quantities; None on a side with no levels."""

    bid_tick: int | None
    bid_lots: int | None
    ask_tick: int | None
    ask_lots: int | None


class DepthBook:
    """One market's full-depth book. Prices are ticks of 10**-price_decimals, quantities lots
    of 10**-qty_decimals, both int."""

    __slots__ = ("bids", "asks", "prices", "qtys", "_best_bid", "_best_ask",
                 "_bid_heap", "_ask_heap", "_bid_pending", "_ask_pending")

    def __init__(self, price_decimals: int, qty_decimals: int, *,
                 cache_entries: int = DEFAULT_CACHE_ENTRIES):
        self.prices = DecimalScale(price_decimals, max_cache=cache_entries)
        self.qtys = DecimalScale(qty_decimals, max_cache=cache_entries)
        self.clear()

    def clear(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self._reindex()

    # -- updates ---------------------------------------------------------------------------

    def apply_diff(self, bids, asks) -> None:
        """Applies one depth diff: (price, qty) string pairs per side; qty zero deletes the
        level. A later entry for the same price wins."""
        try:
            if bids:
                self._apply_bids(bids)
            if asks:
                self._apply_asks(asks)
        except DepthError:
            raise
        except (TypeError, ValueError):
            raise BadLevels("every level must be a (price, qty) pair of strings") from None

    def apply_snapshot(self, bids, asks) -> None:
        """Replaces the whole book. A snapshot level with quantity zero is no level."""
        prices, qtys = self.prices, self.qtys
        try:
            new_bids = {prices[p]: qtys[q] for p, q in bids}
            new_asks = {prices[p]: qtys[q] for p, q in asks}
        except DepthError:
            raise
        except (TypeError, ValueError):
            raise BadLevels("every level must be a (price, qty) pair of strings") from None
        self.bids = {tick: lots for tick, lots in new_bids.items() if lots}
        self.asks = {tick: lots for tick, lots in new_asks.items() if lots}
        self._reindex()

    def _apply_bids(self, levels) -> None:
        prices, qtys, book = self.prices, self.qtys, self.bids
        pending = self._bid_pending
        remember = pending.append
        best = self._best_bid
        lost = False
        for price, qty in levels:
            tick = prices[price]
            lots = qtys[qty]
            if lots:
                if tick not in book:
                    remember(tick)
                    if tick > best:
                        best = tick
                book[tick] = lots
            else:
                if tick == best:
                    lost = True
                book.pop(tick, None)
        if lost and best not in book:
            best = self._next_bid()
        elif len(pending) > _PENDING_LIMIT:
            self._push_pending(self._bid_heap, pending, book, -1)
        self._best_bid = best

    def _apply_asks(self, levels) -> None:
        prices, qtys, book = self.prices, self.qtys, self.asks
        pending = self._ask_pending
        remember = pending.append
        best = self._best_ask
        lost = False
        for price, qty in levels:
            tick = prices[price]
            lots = qtys[qty]
            if lots:
                if tick not in book:
                    remember(tick)
                    if tick < best:
                        best = tick
                book[tick] = lots
            else:
                if tick == best:
                    lost = True
                book.pop(tick, None)
        if lost and best not in book:
            best = self._next_ask()
        elif len(pending) > _PENDING_LIMIT:
            self._push_pending(self._ask_heap, pending, book, 1)
        self._best_ask = best

    # -- next-best search ------------------------------------------------------------------

    def _next_bid(self) -> int:
        book, heap = self.bids, self._bid_heap
        self._push_pending(heap, self._bid_pending, book, -1)
        while heap and -heap[0] not in book:
            heappop(heap)
        best = -heap[0] if heap else NO_BID
        if len(heap) > 2 * len(book) + _HEAP_SLACK:
            self._reindex()
        return best

    def _next_ask(self) -> int:
        book, heap = self.asks, self._ask_heap
        self._push_pending(heap, self._ask_pending, book, 1)
        while heap and heap[0] not in book:
            heappop(heap)
        best = heap[0] if heap else NO_ASK
        if len(heap) > 2 * len(book) + _HEAP_SLACK:
            self._reindex()
        return best

    @staticmethod
    def _push_pending(heap: list[int], pending: list[int], book: dict[int, int],
                      sign: int) -> None:
        for tick in pending:
            if tick in book:
                heappush(heap, sign * tick)
        pending.clear()

    def _reindex(self) -> None:
        """Rebuilds both heaps and best ticks from the dicts (snapshot, clear, compaction)."""
        self._bid_heap = [-tick for tick in self.bids]
        heapify(self._bid_heap)
        self._ask_heap = list(self.asks)
        heapify(self._ask_heap)
        self._bid_pending: list[int] = []
        self._ask_pending: list[int] = []
        self._best_bid = -self._bid_heap[0] if self._bid_heap else NO_BID
        self._best_ask = self._ask_heap[0] if self._ask_heap else NO_ASK

    # -- queries ---------------------------------------------------------------------------

    def best_bid(self) -> tuple[int, int] | None:
        """(tick, lots) of the highest bid, or None."""
        tick = self._best_bid
        return None if tick == NO_BID else (tick, self.bids[tick])

    def best_ask(self) -> tuple[int, int] | None:
        """(tick, lots) of the lowest ask, or None."""
        tick = self._best_ask
        return None if tick == NO_ASK else (tick, self.asks[tick])

    def top(self) -> TopOfBook:
        bid, ask = self._best_bid, self._best_ask
        return TopOfBook(None if bid == NO_BID else bid, self.bids.get(bid),
                         None if ask == NO_ASK else ask, self.asks.get(ask))

    def is_crossed(self) -> bool:
        """True when the best bid is at or above the best ask (a locked book counts). An
        empty side never crosses: its sentinel sits beyond every tick."""
        return self._best_bid >= self._best_ask

    def depth(self, levels: int | None = None) -> tuple[list[tuple[int, int]],
                                                        list[tuple[int, int]]]:
        """The best `levels` of each side, best first (sorts the sides: not for the hot
        path)."""
        return (sorted(self.bids.items(), reverse=True)[:levels],
                sorted(self.asks.items())[:levels])

    def __len__(self) -> int:
        return len(self.bids) + len(self.asks)
