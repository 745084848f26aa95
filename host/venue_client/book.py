"""An L2 book kept from the venue's `orderbook` snapshot and numbered `book_update`s.

Each (market, depth) view numbers its updates 1, 2, 3, ...; a snapshot's `sequence` is the
last number folded into it, so the next update carries `sequence + 1` (docs/venue.md). A
book that sees any other number has lost sync: `apply` raises `SequenceGap` and the book goes
back to waiting for a snapshot, which the session asks for by subscribing that market again.

While it waits, updates are kept (up to `MAX_PENDING`): the venue may deliver the snapshot
after updates that follow it (a delayed snapshot), and those must then be applied on top of
it, not lost. Updates at or below the snapshot's sequence are already in it and are dropped.

`apply` returns the new `TopOfBook` when the best bid or ask (price or quantity) changed,
else None. Prices are ticks and quantities lots; an empty side is 0/0.
"""

from __future__ import annotations

import msgspec

from host.venue_client.errors import ClientError
from host.venue_client.events import BookSnapshot, BookUpdate

MAX_PENDING = 1024


class TopOfBook(msgspec.Struct, frozen=True, gc=False):
    """A frozen msgspec Struct, not a dataclass: one is built per top change on the
    tick-to-order path, and a Struct is built in C, several times faster than a frozen
    dataclass. Immutable, hashable and equal by value all the same."""

    market: str
    bid: int
    bid_qty: int
    ask: int
    ask_qty: int
    ts_ns: int  # the venue's ts_ns of the message that set it


class BookError(ClientError):
    reason = "book_error"


class SequenceGap(BookError):
    """An update number was skipped (or repeated): the book must be rebuilt from a snapshot."""

    reason = "sequence_gap"

    def __init__(self, market: str, expected: int, got: int):
        super().__init__(f"{market}: expected book_update {expected}, got {got}")
        self.market = market
        self.expected = expected
        self.got = got


class WrongBook(BookError):
    """A message for another market or depth was given to this book (a caller's bug)."""

    reason = "wrong_book"


class L2Book:
    __slots__ = ("market", "depth", "bids", "asks", "best_bid", "best_ask", "next_sequence",
                 "synced", "pending", "top", "snapshots", "gaps")

    def __init__(self, market: str, depth: int):
        self.market = market
        self.depth = depth
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.best_bid = 0
        self.best_ask = 0
        self.next_sequence = 0
        self.synced = False
        self.pending: list[BookUpdate] = []
        self.top: TopOfBook | None = None
        self.snapshots = 0
        self.gaps = 0

    def reset(self) -> None:
        """Forget everything (a new connection): wait for a snapshot."""
        self.bids.clear()
        self.asks.clear()
        self.best_bid = self.best_ask = 0
        self.synced = False
        self.pending.clear()
        self.top = None

    def apply(self, message: BookSnapshot | BookUpdate) -> TopOfBook | None:
        if message.market != self.market or message.depth != self.depth:
            raise WrongBook(f"{message.market}@{message.depth} given to the book of "
                            f"{self.market}@{self.depth}")
        if message.__class__ is BookUpdate:
            if not self.synced:
                if len(self.pending) >= MAX_PENDING:
                    self.pending.clear()  # the snapshot is not coming; the resync will retry
                self.pending.append(message)
                return None
            if message.sequence != self.next_sequence:
                expected = self.next_sequence
                self._lose_sync()
                raise SequenceGap(self.market, expected, message.sequence)
            self.next_sequence += 1
            return self._update(message)
        if message.__class__ is BookSnapshot:
            return self._snapshot(message)
        raise WrongBook(f"not a book message: {type(message).__name__}")

    def _lose_sync(self) -> None:
        self.gaps += 1
        self.synced = False
        self.pending.clear()

    def _snapshot(self, snap: BookSnapshot) -> TopOfBook | None:
        self.snapshots += 1
        self.bids = dict(snap.bids)
        self.asks = dict(snap.asks)
        self.best_bid = snap.bids[0][0] if snap.bids else 0
        self.best_ask = snap.asks[0][0] if snap.asks else 0
        if (self.bids and self.best_bid != max(self.bids)) or (
                self.asks and self.best_ask != min(self.asks)):
            # Snapshots list the best level first; trust the numbers, not the order.
            self.best_bid = max(self.bids, default=0)
            self.best_ask = min(self.asks, default=0)
        self.next_sequence = snap.sequence + 1
        self.synced = True
        self.top = None
        top = self._top(snap.ts_ns)
        pending, self.pending = self.pending, []
        for update in pending:
            if update.sequence < self.next_sequence:
                continue  # already in the snapshot
            if update.sequence != self.next_sequence:
                expected = self.next_sequence
                self._lose_sync()
                raise SequenceGap(self.market, expected, update.sequence)
            self.next_sequence += 1
            top = self._update(update) or top
        return top

    def _update(self, update: BookUpdate) -> TopOfBook | None:
        bids = self.bids
        best = self.best_bid
        stale = False
        for price, qty in update.bids:
            if qty:
                bids[price] = qty
                if price > best:
                    best = price
            elif bids.pop(price, None) is not None and price == best:
                stale = True
        self.best_bid = max(bids, default=0) if stale else best
        asks = self.asks
        best = self.best_ask
        stale = False
        for price, qty in update.asks:
            if qty:
                asks[price] = qty
                if best == 0 or price < best:
                    best = price
            elif asks.pop(price, None) is not None and price == best:
                stale = True
        self.best_ask = min(asks, default=0) if stale else best
        return self._top(update.ts_ns)

    def _top(self, ts_ns: int) -> TopOfBook | None:
        bid, ask = self.best_bid, self.best_ask
        bid_qty = self.bids[bid] if bid else 0
        ask_qty = self.asks[ask] if ask else 0
        top = self.top
        if (top is not None and top.bid == bid and top.ask == ask and top.bid_qty == bid_qty
                and top.ask_qty == ask_qty):
            return None
        self.top = top = TopOfBook(self.market, bid, bid_qty, ask, ask_qty, ts_ns)
        return top

    def levels(self, n: int | None = None) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """(bids best first, asks best first), at most n each. Sorted on demand: not hot."""
        bids = sorted(self.bids.items(), reverse=True)
        asks = sorted(self.asks.items())
        return (bids[:n], asks[:n]) if n is not None else (bids, asks)
