"""Binance's synchronisation procedure on synthetic streams: buffer, drop, span, chain, and
every break reported as a typed gap, never applied over."""

from __future__ import annotations

import pytest

from host.model.depth_book import DepthBook, TopOfBook
from host.model.depth_errors import BadMessage
from host.model.depth_sync import (
    APPLIED,
    AWAITING_FIRST_DIFF,
    BUFFERED,
    STALE,
    ChainRule,
    DepthGap,
    DepthSync,
    GapReason,
    Synced,
    SyncState,
)

SNAP_BIDS = [("100.00", "1.000")]
SNAP_ASKS = [("101.00", "1.000")]


def futures() -> DepthSync:
    return DepthSync(DepthBook(2, 3), ChainRule.FUTURES)


def spot() -> DepthSync:
    return DepthSync(DepthBook(2, 3), ChainRule.SPOT)


def bid(price: str, qty: str = "1.000"):
    return [(price, qty)], []


def test_futures_buffer_drop_span_then_chain():
    sync = futures()
    assert sync.on_diff(1, 5, 0, *bid("90.00")) is BUFFERED
    assert sync.on_diff(6, 9, 5, *bid("91.00")) is BUFFERED
    assert sync.on_diff(10, 20, 9, *bid("99.00")) is BUFFERED
    assert sync.on_diff(21, 25, 20, *bid("99.50")) is BUFFERED
    event = sync.on_snapshot(12, SNAP_BIDS, SNAP_ASKS)
    assert event == Synced(snapshot_id=12, last_update_id=25, replayed=2, dropped=2)
    assert sync.live and sync.last_update_id == 25
    # The dropped diffs predate the snapshot and never reach the book.
    assert 9000 not in sync.book.bids and 9100 not in sync.book.bids
    assert 9900 in sync.book.bids and 9950 in sync.book.bids
    assert sync.on_diff(26, 30, 25, *bid("100.50")) is APPLIED
    assert sync.book.top() == TopOfBook(10050, 1000, 10100, 1000)
    assert sync.applied == 3


def test_futures_pu_break_is_a_gap_and_the_book_is_cleared():
    sync = futures()
    sync.on_snapshot(10, SNAP_BIDS, SNAP_ASKS)
    assert sync.on_diff(8, 12, 7, *bid("99.00")) == Synced(10, 12, 1, 0)
    gap = sync.on_diff(15, 18, 14, *bid("98.00"))
    assert isinstance(gap, DepthGap)
    assert gap.reason is GapReason.CHAIN_BREAK and gap.expected == 12
    assert sync.state is SyncState.AWAITING_SNAPSHOT and len(sync.book) == 0
    assert sync.gaps[GapReason.CHAIN_BREAK] == 1 and sync.last_gap == gap
    # Diffs after the break are buffered, the breaking one included, for the next snapshot.
    assert sync.on_diff(19, 22, 18, *bid("97.00")) is BUFFERED
    assert sync.on_snapshot(16, SNAP_BIDS, SNAP_ASKS) == Synced(16, 22, 2, 0)
    assert sync.book.best_bid() == (10000, 1000) and 9700 in sync.book.bids


def test_snapshot_first_then_live_diffs():
    sync = futures()
    assert sync.on_snapshot(50, SNAP_BIDS, SNAP_ASKS) is AWAITING_FIRST_DIFF
    assert sync.on_diff(40, 49, 39, *bid("90.00")) is STALE
    assert sync.on_diff(50, 55, 49, *bid("99.00")) == Synced(50, 55, 1, 0)
    assert sync.on_diff(56, 60, 55, [], [("101.00", "0")]) is APPLIED
    assert sync.book.best_ask() is None


def test_snapshot_older_than_every_diff_is_a_gap():
    sync = futures()
    sync.on_diff(100, 110, 99, *bid("90.00"))
    gap = sync.on_snapshot(50, SNAP_BIDS, SNAP_ASKS)
    assert isinstance(gap, DepthGap) and gap.reason is GapReason.SNAPSHOT_TOO_OLD
    assert gap.expected == 50 and len(sync.book) == 0
    assert sync.on_snapshot(105, SNAP_BIDS, SNAP_ASKS) == Synced(105, 110, 1, 0)


def test_a_gap_while_replaying_the_buffer():
    sync = futures()
    sync.on_diff(1, 10, 0, *bid("90.00"))
    sync.on_diff(11, 20, 10, *bid("91.00"))
    sync.on_diff(31, 40, 30, *bid("92.00"))  # 21..30 lost
    sync.on_diff(41, 50, 40, *bid("93.00"))
    gap = sync.on_snapshot(5, SNAP_BIDS, SNAP_ASKS)
    assert gap.reason is GapReason.CHAIN_BREAK and gap.first_update_id == 31
    assert sync.on_snapshot(35, SNAP_BIDS, SNAP_ASKS) == Synced(35, 50, 2, 0)


def test_spot_rules():
    sync = spot()
    sync.on_diff(1, 10, None, *bid("90.00"))
    sync.on_diff(11, 20, None, *bid("91.00"))
    sync.on_diff(21, 30, None, *bid("92.00"))
    # Spot drops u <= lastUpdateId and starts where U <= lastUpdateId + 1 <= u.
    assert sync.on_snapshot(20, SNAP_BIDS, SNAP_ASKS) == Synced(20, 30, 1, 2)
    assert sync.on_diff(31, 31, None, *bid("93.00")) is APPLIED
    gap = sync.on_diff(33, 40, None, *bid("94.00"))
    assert gap.reason is GapReason.CHAIN_BREAK and gap.expected == 32


def test_malformed_diff_is_a_gap_not_a_skip():
    sync = futures()
    sync.on_snapshot(10, SNAP_BIDS, SNAP_ASKS)
    sync.on_diff(10, 11, 9, *bid("99.00"))
    gap = sync.on_diff(12, 13, 11, [("99.50", "1.000"), ("1e3", "1.000")], [])
    assert gap.reason is GapReason.MALFORMED and "bad_decimal" in gap.detail
    assert len(sync.book) == 0 and not sync.live


def test_crossed_book_is_a_gap():
    sync = futures()
    sync.on_snapshot(10, SNAP_BIDS, SNAP_ASKS)
    gap = sync.on_diff(10, 11, 9, *bid("101.00"))
    assert gap.reason is GapReason.CROSSED and "bid 10100 >= ask 10100" in gap.detail
    assert len(sync.book) == 0


def test_ids_out_of_order():
    sync = futures()
    with pytest.raises(BadMessage):
        sync.on_diff(10, 5, 4, [], [])
    sync.on_snapshot(10, SNAP_BIDS, SNAP_ASKS)
    sync.on_diff(9, 12, 8, [], [])
    gap = sync.on_diff(20, 15, 12, [], [])
    assert gap.reason is GapReason.MALFORMED
    with pytest.raises(BadMessage):
        sync.on_snapshot("12", SNAP_BIDS, SNAP_ASKS)


def test_buffer_is_bounded():
    sync = DepthSync(DepthBook(2, 3), ChainRule.FUTURES, max_buffered=3)
    for n in range(10):
        sync.on_diff(n * 10 + 1, n * 10 + 10, n * 10, [], [])
    assert sync.on_snapshot(75, SNAP_BIDS, SNAP_ASKS) == Synced(75, 100, 3, 0)
