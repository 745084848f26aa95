"""The depth fast path on synthetic Binance messages: hypothesis streams, sorted and unsorted,
after each of which the book must equal plain dicts and every decision that stands must be the
true top; then unusual and malformed bytes, each with its typed outcome."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from host.feeds import binance
from host.feeds.binance import FeedError
from host.model.decimal_ticks import DecimalScale
from host.model.depth_book import DepthBook
from host.model.depth_fast import DecisionRevoked, DepthFastPath, Fallback, RevokeReason
from host.model.depth_sync import (
    APPLIED,
    BUFFERED,
    ChainRule,
    DepthGap,
    DepthSync,
    GapReason,
    SyncState,
)

P, Q, STEP = 2, 3, 10  # prices on a 0.10 grid written with 2 places, as on USD-M
PRICES, QTYS = DecimalScale(P), DecimalScale(Q)


def level(index: int, lots: int) -> list[str]:
    """The level at grid index `index` (price index * 0.10) with `lots` thousandths."""
    return [PRICES.format(index * STEP), QTYS.format(lots)]


def message(first: int, last: int, prev: int, bids, asks, *, spot=False, spaced=False) -> bytes:
    data = {"e": "depthUpdate", "E": 1, "T": 2, "s": "BTCUSDT", "U": first, "u": last,
            "pu": prev, "b": bids, "a": asks}
    if spot:
        del data["T"], data["pu"]
    stream = "btcusdt@depth@100ms" if spot else "btcusdt@depth@0ms"
    separators = (", ", ": ") if spaced else (",", ":")
    return json.dumps({"stream": stream, "data": data}, separators=separators).encode()


class Venue:
    """One live market behind the fast path, with the true book as plain dicts (tick -> lots)
    and the ids of the next message."""

    def __init__(self, bids=(), asks=(), *, spot=False, max_levels=64):
        self.spot = spot
        self.sync = DepthSync(DepthBook(P, Q, price_step=STEP),
                              ChainRule.SPOT if spot else ChainRule.FUTURES)
        self.fast = DepthFastPath(self.sync, binance.decode_depth_diff,
                                  bids_ascending=not spot, max_levels=max_levels)
        self.bids = {index * STEP: lots for index, lots in bids if lots}
        self.asks = {index * STEP: lots for index, lots in asks if lots}
        self.sync.on_snapshot(10, [level(i, q) for i, q in bids], [level(i, q) for i, q in asks])
        assert self.sync.on_diff(10 if spot else 9, 11, None if spot else 8, [], []).last_update_id
        self.last = 11

    def raw(self, bids, asks, *, spaced=False, prev=None) -> bytes:
        """A message carrying these levels ((index, lots), in this order) that continues the
        chain (or names `prev` as the previous id)."""
        return message(self.last + 1, self.last + 3, self.last if prev is None else prev,
                       [level(*x) for x in bids], [level(*x) for x in asks],
                       spot=self.spot, spaced=spaced)

    def send(self, bids, asks, **kwargs):
        """decide() and finish() one message; the true book follows when it applies."""
        decided = self.fast.decide(self.raw(bids, asks, **kwargs))
        event = self.fast.finish()
        applied = event.event if isinstance(event, DecisionRevoked) else event
        if applied is APPLIED:
            self.last += 3
            for side, levels in ((self.bids, bids), (self.asks, asks)):
                for index, lots in levels:
                    if lots:
                        side[index * STEP] = lots
                    else:
                        side.pop(index * STEP, None)
        return decided, event

    def true_top(self) -> tuple:
        bid, ask = max(self.bids, default=None), min(self.asks, default=None)
        return bid, self.bids.get(bid), ask, self.asks.get(ask)

    def assert_book_exact(self) -> None:
        book = self.sync.book
        assert book.bids == self.bids and book.asks == self.asks
        assert book.top_tuple() == self.true_top()


# -- properties -------------------------------------------------------------------------------

# Bids below index 200, asks above: the book never crosses. Up to 400 grid steps, so next-best
# searches run both within the probe window (64 steps) and past it, into the heap.
bid_index, ask_index = st.integers(1, 199), st.integers(201, 400)
lots = st.integers(0, 5)  # zero deletes


def side(indices, *, unique):
    return st.lists(st.tuples(indices, lots), max_size=24, unique_by=lambda x: x[0]) \
        if unique else st.lists(st.tuples(indices, lots), max_size=24)


def snapshot_side(indices):
    return st.lists(st.tuples(indices, st.integers(1, 5)), max_size=60,
                    unique_by=lambda x: x[0])


@settings(max_examples=150, deadline=None)
@given(bids=snapshot_side(bid_index), asks=snapshot_side(ask_index),
       diffs=st.lists(st.tuples(side(bid_index, unique=True), side(ask_index, unique=True)),
                      min_size=1, max_size=10),
       spot=st.booleans(), max_levels=st.sampled_from([2, 5, 64]))
def test_sorted_messages_decide_the_true_top_and_leave_the_exact_book(bids, asks, diffs, spot,
                                                                       max_levels):
    venue = Venue(bids, asks, spot=spot, max_levels=max_levels)
    for bid_levels, ask_levels in diffs:
        ask_levels.sort()
        bid_levels.sort(reverse=spot)  # USD-M sends bids ascending, spot descending
        decided, event = venue.send(bid_levels, ask_levels)
        assert event is APPLIED
        venue.assert_book_exact()
        assert decided is None or decided == venue.true_top()
    # A sorted message is only ever left to finish() for a sweep deeper than max_levels.
    assert set(venue.fast.fallbacks) <= {Fallback.TOO_DEEP}
    assert venue.fast.decisions + venue.fast.fallbacks.total() == len(diffs)
    assert not venue.fast.revocations


@settings(max_examples=150, deadline=None)
@given(bids=snapshot_side(bid_index), asks=snapshot_side(ask_index),
       diffs=st.lists(st.tuples(side(bid_index, unique=False), side(ask_index, unique=False)),
                      min_size=1, max_size=10),
       spot=st.booleans())
def test_unsorted_messages_fall_back_or_are_revoked_and_the_book_stays_exact(bids, asks, diffs,
                                                                             spot):
    venue = Venue(bids, asks, spot=spot)
    for bid_levels, ask_levels in diffs:
        decided, event = venue.send(bid_levels, ask_levels)
        venue.assert_book_exact()
        if decided is None or decided == venue.true_top():
            assert event is APPLIED
        else:  # the disorder lay beyond what decide() read, and moved the top
            assert event == DecisionRevoked(RevokeReason.TOP_CHANGED, decided, APPLIED)
    fast = venue.fast
    assert fast.revocations[RevokeReason.TOP_CHANGED] == fast.revocations.total()
    assert set(fast.fallbacks) <= {Fallback.UNSORTED, Fallback.TOO_DEEP}


@settings(max_examples=40, deadline=None)
@given(bids=snapshot_side(bid_index), asks=snapshot_side(ask_index),
       bid_levels=side(bid_index, unique=True), ask_levels=side(ask_index, unique=True))
def test_valid_json_in_another_layout_is_left_to_the_full_parse(bids, asks, bid_levels,
                                                                ask_levels):
    venue = Venue(bids, asks)
    decided, event = venue.send(sorted(bid_levels), sorted(ask_levels), spaced=True)
    assert decided is None and event is APPLIED
    assert venue.fast.fallbacks == {Fallback.CHAIN: 1}
    venue.assert_book_exact()


# -- examples ---------------------------------------------------------------------------------

DENSE_BIDS = [(i, 1) for i in range(1, 151)]
DENSE_ASKS = [(i, 1) for i in range(201, 351)]


def test_a_sweep_stops_at_a_level_the_message_does_not_name():
    venue = Venue(DENSE_BIDS, DENSE_ASKS)
    # Bids 150 down to 60 go, except 100, which the message does not mention: 50 levels down
    # the sweep, which decide() must notice within its 64 levels (else: TOO_DEEP).
    gone = [(i, 0) for i in range(60, 151) if i != 100]
    decided, event = venue.send(gone, [])
    assert decided == venue.true_top() == (100 * STEP, 1, 201 * STEP, 1)
    assert event is APPLIED
    # The same on the asks, 201 up to 300 but 250.
    decided, event = venue.send([], [(i, 0) for i in range(201, 301) if i != 250])
    assert decided == venue.true_top() == (100 * STEP, 1, 250 * STEP, 1)
    assert event is APPLIED and not venue.fast.fallbacks
    venue.assert_book_exact()


def test_the_next_best_far_away_comes_from_the_heap():
    venue = Venue([(1, 3), (2, 4), (300 - 200, 5)], [(250, 1), (390, 2)])
    decided, event = venue.send([(100, 0)], [(250, 0)])  # 98 and 140 steps to the next ones
    assert decided == (2 * STEP, 4, 390 * STEP, 2) == venue.true_top()
    assert event is APPLIED


def test_an_insert_beyond_a_deleted_front_is_weighed_against_the_book_between():
    venue = Venue(DENSE_BIDS, DENSE_ASKS)
    decided, _ = venue.send([], [(201, 0), (202, 0), (206, 7)])  # 203 is live and untouched
    assert decided == (150 * STEP, 1, 203 * STEP, 1)
    decided, _ = venue.send([], [(203, 0), (204, 0), (205, 0), (206, 0), (207, 9)])
    assert decided == (150 * STEP, 1, 207 * STEP, 9) == venue.true_top()


def test_empty_sides_and_empty_arrays():
    venue = Venue()
    assert venue.send([], []) == ((None, None, None, None), APPLIED)
    assert venue.send([(5, 2)], [(250, 1)]) == ((5 * STEP, 2, 250 * STEP, 1), APPLIED)
    assert venue.send([(5, 0)], [(250, 0)]) == ((None, None, None, None), APPLIED)
    venue.assert_book_exact()


def test_disorder_among_the_levels_read_falls_back():
    venue = Venue(DENSE_BIDS, DENSE_ASKS)
    decided, event = venue.send([], [(199, 1), (198, 1)])  # asks must ascend
    assert decided is None and event is APPLIED
    assert venue.fast.fallbacks == {Fallback.UNSORTED: 1}
    decided, event = venue.send([(152, 1), (151, 1)], [])  # USD-M bids must ascend
    assert decided is None and event is APPLIED
    venue.assert_book_exact()


def test_disorder_past_the_levels_read_that_moves_the_top_is_revoked():
    venue = Venue(DENSE_BIDS, DENSE_ASKS)
    raw = message(12, 14, 11, [], [level(260, 1), level(261, 1), level(190, 4)])
    decided = venue.fast.decide(raw)  # 260 is above the best ask: it stops there
    assert decided == (150 * STEP, 1, 201 * STEP, 1)
    event = venue.fast.finish()
    assert event == DecisionRevoked(RevokeReason.TOP_CHANGED, decided, APPLIED)
    assert venue.sync.live and venue.sync.book.top_tuple() == (150 * STEP, 1, 190 * STEP, 4)


def test_a_sweep_deeper_than_max_levels_is_left_to_the_full_parse():
    venue = Venue(DENSE_BIDS, DENSE_ASKS, max_levels=4)
    decided, event = venue.send([(i, 0) for i in range(140, 151)], [])
    assert decided is None and event is APPLIED
    assert venue.fast.fallbacks == {Fallback.TOO_DEEP: 1}
    venue.assert_book_exact()


def test_a_crossing_top_is_not_decided_and_the_sync_reports_it():
    venue = Venue(DENSE_BIDS, DENSE_ASKS)
    decided, event = venue.send([(205, 1)], [])
    assert decided is None and venue.fast.fallbacks == {Fallback.CROSSED: 1}
    assert isinstance(event, DepthGap) and event.reason is GapReason.CROSSED


def test_a_chain_break_is_not_decided_and_the_sync_reports_it():
    venue = Venue(DENSE_BIDS, DENSE_ASKS)
    decided, event = venue.send([(151, 1)], [], prev=10)
    assert decided is None and venue.fast.fallbacks == {Fallback.CHAIN: 1}
    assert isinstance(event, DepthGap) and event.reason is GapReason.CHAIN_BREAK
    assert venue.sync.state is SyncState.AWAITING_SNAPSHOT


def test_before_the_snapshot_nothing_is_decided():
    sync = DepthSync(DepthBook(P, Q, price_step=STEP), ChainRule.FUTURES)
    fast = DepthFastPath(sync, binance.decode_depth_diff)
    assert fast.decide(message(1, 2, 0, [level(5, 1)], [])) is None
    assert fast.finish() is BUFFERED
    assert fast.fallbacks == {Fallback.NOT_LIVE: 1}


# -- malformed bytes ----------------------------------------------------------------------------


def test_bytes_that_are_no_message_raise_and_change_nothing():
    venue = Venue(DENSE_BIDS, DENSE_ASKS)
    for raw in (b"", b"not json", b'{"stream":"x","data":{}}', b"\xff" * 40):
        assert venue.fast.decide(raw) is None
        with pytest.raises(FeedError) as error:
            venue.fast.finish()
        assert error.value.reason == "bad_feed_message"
    assert venue.sync.live
    assert venue.send([(151, 2)], [])[1] is APPLIED  # the chain goes on
    venue.assert_book_exact()


def revoked_gap(venue: Venue, raw: bytes, detail: str) -> None:
    """decide() decides on `raw`, and finish() must revoke it with a MALFORMED gap."""
    decided = venue.fast.decide(raw)
    assert decided is not None
    event = venue.fast.finish()
    assert isinstance(event, DecisionRevoked) and event.reason is RevokeReason.GAP
    assert event.decided == decided
    gap = event.event
    assert isinstance(gap, DepthGap) and gap.reason is GapReason.MALFORMED
    assert gap.detail.startswith(detail)
    assert (gap.first_update_id, gap.last_update_id) == (12, 14)
    assert venue.sync.state is SyncState.AWAITING_SNAPSHOT and len(venue.sync.book) == 0
    assert venue.sync.gaps == {GapReason.MALFORMED: 1}


def test_a_message_cut_short_after_the_decision_is_revoked():
    venue = Venue(DENSE_BIDS, DENSE_ASKS)
    revoked_gap(venue, venue.raw([(151, 1)], [(200, 1), (260, 1), (270, 1)])[:-12],
                "bad_feed_message")


def test_a_bad_number_past_the_levels_read_is_revoked():
    venue = Venue(DENSE_BIDS, DENSE_ASKS)
    raw = venue.raw([], [(200, 1), (260, 1), (270, 1), (280, 1)])
    revoked_gap(venue, raw.replace(b'"28.00"', b'"2.8e1"'), "bad_decimal")


def test_a_level_of_three_strings_past_the_levels_read_is_revoked():
    venue = Venue(DENSE_BIDS, DENSE_ASKS)
    raw = venue.raw([], [(200, 1), (260, 1), (270, 1), (280, 1)])
    revoked_gap(venue, raw.replace(b'"0.001"]]', b'"0.001","x"]]'), "bad_feed_message")


def test_a_second_asks_key_is_caught_by_the_full_parse():
    # JSON parsers keep the last of two equal keys; decide() read the first. The two readings
    # differ, so the decision is revoked and the book, touched by decide(), is not trusted.
    venue = Venue(DENSE_BIDS, DENSE_ASKS)
    raw = venue.raw([], [(200, 1)])[:-2] + b',"a":[["20.10","0.009"]]}}'
    revoked_gap(venue, raw, "bad_message: the ids or levels read")


def test_levels_applied_without_a_decision_then_bytes_cut_short_are_a_gap():
    venue = Venue(DENSE_BIDS, DENSE_ASKS)
    raw = venue.raw([], [(199, 1), (198, 1), (260, 1), (270, 1)])[:-12]
    assert venue.fast.decide(raw) is None  # 199 applied, then 198: out of order
    assert venue.fast.fallbacks == {Fallback.UNSORTED: 1}
    gap = venue.fast.finish()  # the touched book cannot stay in use: no raise, a gap
    assert isinstance(gap, DepthGap) and gap.reason is GapReason.MALFORMED
    assert gap.detail.startswith("bad_feed_message")
    assert len(venue.sync.book) == 0 and not venue.fast.revocations


@pytest.mark.parametrize(("bad", "reason"), [
    (b'"19.90"', "bad_decimal"),  # as "1.99e1"
    (b'"19.95"', "off_grid"),  # between two 0.10 ticks
])
def test_a_bad_number_at_the_top_is_not_decided(bad, reason):
    venue = Venue(DENSE_BIDS, DENSE_ASKS)
    raw = venue.raw([], [(199, 1)])
    raw = raw.replace(b'"19.90"', b'"1.99e1"' if reason == "bad_decimal" else bad)
    assert venue.fast.decide(raw) is None
    assert venue.fast.fallbacks == {Fallback.BAD_NUMBER: 1}
    event = venue.fast.finish()
    assert isinstance(event, DepthGap) and event.detail.startswith(reason)
    assert not venue.fast.revocations


def test_misuse_is_refused():
    venue = Venue(DENSE_BIDS, DENSE_ASKS)
    with pytest.raises(RuntimeError):
        venue.fast.finish()
    with pytest.raises(TypeError):
        venue.fast.decide(bytearray(venue.raw([], [])))
    venue.fast.decide(venue.raw([], []))
    with pytest.raises(RuntimeError):
        venue.fast.decide(venue.raw([], []))
    with pytest.raises(ValueError):
        DepthFastPath(venue.sync, binance.decode_depth_diff, max_levels=0)
