"""The fast path on the real recordings: for every depth message, the top decide() returns
from the raw bytes is the top the whole message leaves, and after finish() the book equals a
reference book fed by the plain full path, level for level. Skips when shared/data/ is
absent."""

from __future__ import annotations

import pytest

from host.feeds import binance
from host.feeds.binance import StreamKind
from host.model.depth_book import DepthBook
from host.model.depth_fast import DecisionRevoked, DepthFastPath, Fallback
from host.model.depth_sync import APPLIED, ChainRule, DepthSync, Synced


def replay(name: str, rule: ChainRule, qty_dp: int, price_step: int, bids_ascending: bool):
    path = binance.find_recording(name)
    if path is None:
        pytest.skip(binance.missing_recording_message(name))
    fast_sync = DepthSync(DepthBook(2, qty_dp, price_step=price_step), rule)
    fast = DepthFastPath(fast_sync, binance.decode_depth_diff, bids_ascending=bids_ascending)
    reference = DepthSync(DepthBook(2, qty_dp), rule)
    checked = 0
    for record in binance.read_raw(path):
        if record.kind is StreamKind.SNAPSHOT:
            snapshot = binance.decode(StreamKind.SNAPSHOT, record.message)
            expected = reference.on_snapshot(snapshot.lastUpdateId, snapshot.bids, snapshot.asks)
            assert fast_sync.on_snapshot(snapshot.lastUpdateId, snapshot.bids,
                                         snapshot.asks) == expected
        elif record.kind is StreamKind.DEPTH:
            diff = binance.decode_depth_diff(record.message)
            expected = reference.on_diff(diff.U, diff.u, diff.pu, diff.b, diff.a)
            decided = fast.decide(record.message)
            event = fast.finish()
            assert not isinstance(event, DecisionRevoked), (diff.u, event)
            assert event == expected
            top = reference.book.top_tuple()
            assert fast.book.top_tuple() == top, diff.u
            if decided is not None:
                assert decided == top, diff.u
            checked += 1
    assert fast.book.bids == reference.book.bids and fast.book.asks == reference.book.asks
    return fast, checked


def test_usdm_every_decision_is_the_messages_top_and_the_book_is_exact():
    fast, checked = replay(binance.USDM_FILE, ChainRule.FUTURES, 3, 10, bids_ascending=True)
    assert checked == 6551
    assert fast.sync.applied == 6547 and not fast.sync.gaps
    # Only the diffs before the snapshot (4 buffered, then the one spanning it) and the deepest
    # sweeps are not decided from the bytes; nothing was revoked.
    assert fast.decisions >= 6500
    assert set(fast.fallbacks) <= {Fallback.NOT_LIVE, Fallback.TOO_DEEP}
    assert not fast.revocations


def test_spot_bids_descending_every_decision_is_the_messages_top():
    fast, checked = replay(binance.SPOT_FILE, ChainRule.SPOT, 8, 1, bids_ascending=False)
    assert checked == 3451
    assert fast.sync.applied == 3449 and not fast.sync.gaps
    assert fast.decisions >= 3400
    assert set(fast.fallbacks) <= {Fallback.NOT_LIVE, Fallback.TOO_DEEP}
    assert not fast.revocations


def test_usdm_with_the_wrong_bid_order_is_caught_never_wrong():
    # Told that bids descend, the fast path reads the lowest bid first: wherever the message
    # moved the best bid, the decision must come back revoked, and the book stays exact.
    path = binance.find_recording(binance.USDM_FILE)
    if path is None:
        pytest.skip(binance.missing_recording_message(binance.USDM_FILE))
    sync = DepthSync(DepthBook(2, 3, price_step=10), ChainRule.FUTURES)
    fast = DepthFastPath(sync, binance.decode_depth_diff, bids_ascending=False)
    reference = DepthSync(DepthBook(2, 3), ChainRule.FUTURES)
    wrong = revoked = 0
    for number, record in enumerate(binance.read_raw(path)):
        if number > 20_000:
            break
        if record.kind is StreamKind.SNAPSHOT:
            snapshot = binance.decode(StreamKind.SNAPSHOT, record.message)
            for target in (sync, reference):
                target.on_snapshot(snapshot.lastUpdateId, snapshot.bids, snapshot.asks)
        elif record.kind is StreamKind.DEPTH:
            diff = binance.decode_depth_diff(record.message)
            reference.on_diff(diff.U, diff.u, diff.pu, diff.b, diff.a)
            decided = fast.decide(record.message)
            event = fast.finish()
            top = reference.book.top_tuple()
            assert sync.book.top_tuple() == top
            if decided is not None and decided != top:
                wrong += 1
                assert isinstance(event, DecisionRevoked) and event.event is APPLIED
                revoked += 1
            elif decided is not None:
                assert event is APPLIED or isinstance(event, Synced)
    assert wrong > 0 and revoked == wrong == fast.revocations.total()
    assert sync.book.bids == reference.book.bids
