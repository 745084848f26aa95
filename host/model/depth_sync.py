"""Binance's depth synchronisation, sans-I/O: a snapshot plus a chain of diffs make a book.

The procedure (shared/data/README.md, Binance's documentation):
1. Diffs that arrive before the snapshot are buffered.
2. Diffs that end before the snapshot's lastUpdateId are dropped.
3. The first diff applied must span the snapshot: U <= lastUpdateId <= u on futures,
   U <= lastUpdateId + 1 <= u on spot.
4. Every later diff must continue the chain: on futures its `pu` equals the previous diff's
   `u`; on spot its `U` equals the previous `u` + 1.

A break is never applied over. It comes back as a `DepthGap` event naming the reason; the book
is cleared (so nothing trades on it) and the diffs that follow are buffered until the caller
supplies a new snapshot. A malformed diff and a crossed book are breaks too: either way the
book no longer matches the venue.

`on_diff` returns a module-level singleton (APPLIED, BUFFERED, STALE) in the common cases, so
the hot path allocates no event.
"""

from __future__ import annotations

import enum
from collections import Counter, deque
from dataclasses import dataclass

from host.model.depth_book import DepthBook
from host.model.depth_errors import BadMessage, DepthError


class ChainRule(enum.Enum):
    """How consecutive diffs link: USD-M futures by `pu`, spot by consecutive update ids."""

    FUTURES = "futures"
    SPOT = "spot"


class SyncState(enum.Enum):
    AWAITING_SNAPSHOT = "awaiting_snapshot"
    AWAITING_FIRST_DIFF = "awaiting_first_diff"
    LIVE = "live"


@dataclass(frozen=True, slots=True)
class Applied:
    """The diff continued the chain and is in the book."""


@dataclass(frozen=True, slots=True)
class Buffered:
    """No snapshot yet: the diff is held until one arrives."""


@dataclass(frozen=True, slots=True)
class Stale:
    """The diff ends before the snapshot, which already contains it; dropped."""


@dataclass(frozen=True, slots=True)
class AwaitingFirstDiff:
    """The snapshot is in the book; no diff spanning it has arrived yet."""


APPLIED = Applied()
BUFFERED = Buffered()
STALE = Stale()
AWAITING_FIRST_DIFF = AwaitingFirstDiff()


@dataclass(frozen=True, slots=True)
class Synced:
    """The book is live: a diff spanning the snapshot and every buffered diff after it are
    applied."""

    snapshot_id: int
    last_update_id: int
    replayed: int  # buffered diffs applied on top of the snapshot, the spanning one included
    dropped: int  # buffered diffs that ended before the snapshot


class GapReason(enum.Enum):
    CHAIN_BREAK = "chain_break"  # pu (futures) or U (spot) does not follow the previous u
    SNAPSHOT_TOO_OLD = "snapshot_too_old"  # the first usable diff starts after the snapshot
    MALFORMED = "malformed"  # the diff could not be applied (detail names the DepthError)
    CROSSED = "crossed"  # best bid at or above best ask after the diff


@dataclass(frozen=True, slots=True)
class DepthGap:
    """The book lost sync. It is cleared; supply a new snapshot with `on_snapshot`."""

    reason: GapReason
    first_update_id: int
    last_update_id: int
    expected: int | None  # the id that would have continued the chain, where one applies
    detail: str = ""


class DepthSync:
    """Keeps `book` in sync with one market's depth stream."""

    def __init__(self, book: DepthBook, rule: ChainRule, *, max_buffered: int = 10_000):
        self.book = book
        self.rule = rule
        self._by_prev = rule is ChainRule.FUTURES
        self.state = SyncState.AWAITING_SNAPSHOT
        self.snapshot_id: int | None = None
        self.last_update_id: int | None = None
        self._buffer: deque[tuple] = deque(maxlen=max_buffered)
        self.gaps: Counter[GapReason] = Counter()  # by reason, for the metrics
        self.last_gap: DepthGap | None = None
        self.applied = 0

    @property
    def live(self) -> bool:
        return self.state is SyncState.LIVE

    def on_diff(self, first_id: int, last_id: int, prev_id: int | None, bids, asks):
        """One depth diff: U, u, pu (None on spot), and its level lists. Returns an event."""
        if self.state is SyncState.LIVE:
            if self._by_prev:
                if prev_id != self.last_update_id or last_id < first_id:
                    return self._chain_break(first_id, last_id, prev_id, bids, asks)
            elif first_id != self.last_update_id + 1 or last_id < first_id:
                return self._chain_break(first_id, last_id, prev_id, bids, asks)
            return self._apply(first_id, last_id, bids, asks)
        if last_id < first_id:
            raise BadMessage(f"diff ends ({last_id}) before it starts ({first_id})")
        if self.state is SyncState.AWAITING_SNAPSHOT:
            self._buffer.append((first_id, last_id, prev_id, bids, asks))
            return BUFFERED
        return self._first_diff(first_id, last_id, prev_id, bids, asks, replayed=0, dropped=0)

    def on_snapshot(self, last_update_id: int, bids, asks):
        """A REST depth snapshot. Returns Synced, AWAITING_FIRST_DIFF, or a DepthGap."""
        if type(last_update_id) is not int:
            raise BadMessage("snapshot lastUpdateId must be an integer")
        self.book.apply_snapshot(bids, asks)
        self.snapshot_id = last_update_id
        self.last_update_id = None
        self.state = SyncState.AWAITING_FIRST_DIFF
        buffered, self._buffer = self._buffer, deque(maxlen=self._buffer.maxlen)
        dropped = 0
        while buffered and self._ends_before_snapshot(buffered[0][1]):
            buffered.popleft()
            dropped += 1
        if not buffered:
            return AWAITING_FIRST_DIFF
        event = self._first_diff(*buffered.popleft(), replayed=len(buffered), dropped=dropped)
        while buffered and self.state is SyncState.LIVE:
            result = self.on_diff(*buffered.popleft())
            if isinstance(result, DepthGap):
                event = result
        if isinstance(event, Synced):
            event = Synced(event.snapshot_id, self.last_update_id, event.replayed, dropped)
        # Whatever followed a break waits for the next snapshot.
        self._buffer.extend(buffered)
        return event

    # -- internals -------------------------------------------------------------------------

    def _ends_before_snapshot(self, last_id: int) -> bool:
        # Futures keep a diff whose u equals lastUpdateId (it spans it); spot drops it.
        if self._by_prev:
            return last_id < self.snapshot_id
        return last_id <= self.snapshot_id

    def _first_diff(self, first_id, last_id, prev_id, bids, asks, *, replayed, dropped):
        if self._ends_before_snapshot(last_id):
            return STALE
        target = self.snapshot_id if self._by_prev else self.snapshot_id + 1
        if first_id > target:
            return self._lose_sync(DepthGap(GapReason.SNAPSHOT_TOO_OLD, first_id, last_id,
                                            target), (first_id, last_id, prev_id, bids, asks))
        event = self._apply(first_id, last_id, bids, asks)
        if event is not APPLIED:
            return event
        return Synced(self.snapshot_id, last_id, replayed + 1, dropped)

    def _apply(self, first_id, last_id, bids, asks):
        book = self.book
        try:
            book.apply_diff(bids, asks)
        except DepthError as exc:
            return self._lose_sync(DepthGap(GapReason.MALFORMED, first_id, last_id, None,
                                            f"{exc.reason}: {exc}"), None)
        self.last_update_id = last_id
        self.state = SyncState.LIVE
        self.applied += 1
        if book.is_crossed():
            top = book.top()
            return self._lose_sync(DepthGap(GapReason.CROSSED, first_id, last_id, None,
                                            f"bid {top.bid_tick} >= ask {top.ask_tick}"), None)
        return APPLIED

    def _chain_break(self, first_id, last_id, prev_id, bids, asks):
        if last_id < first_id:
            return self._lose_sync(DepthGap(GapReason.MALFORMED, first_id, last_id, None,
                                            "diff ends before it starts"), None)
        expected = self.last_update_id if self._by_prev else self.last_update_id + 1
        got = prev_id if self._by_prev else first_id
        return self._lose_sync(DepthGap(GapReason.CHAIN_BREAK, first_id, last_id, expected,
                                        f"got {got}"), (first_id, last_id, prev_id, bids, asks))

    def _lose_sync(self, gap: DepthGap, keep: tuple | None):
        self.book.clear()
        self.state = SyncState.AWAITING_SNAPSHOT
        self.last_update_id = None
        self.gaps[gap.reason] += 1
        self.last_gap = gap
        if keep is not None:
            self._buffer.append(keep)
        return gap
