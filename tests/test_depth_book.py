"""The full-depth book against a plain dict: unit cases, then hypothesis properties (no crossed
book after a consistent stream, best levels equal a brute-force recompute, snapshot + diffs
equal applying everything to a dict)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from host.model.decimal_ticks import DecimalScale
from host.model.depth_book import DepthBook, TopOfBook
from host.model.depth_errors import BadDecimal, BadLevels, TooPrecise

P, Q = 2, 3
FMT_P, FMT_Q = DecimalScale(P), DecimalScale(Q)


def lv(tick: int, lots: int) -> tuple[str, str]:
    return FMT_P.format(tick), FMT_Q.format(lots)


def brute_top(bids: dict[int, int], asks: dict[int, int]) -> TopOfBook:
    bid = max(bids, default=None)
    ask = min(asks, default=None)
    return TopOfBook(bid, bids.get(bid), ask, asks.get(ask))


def test_snapshot_then_diff():
    book = DepthBook(P, Q)
    book.apply_snapshot([lv(100, 5), lv(99, 7)], [lv(101, 3), lv(105, 1)])
    assert book.top() == TopOfBook(100, 5, 101, 3)
    book.apply_diff([lv(100, 0), lv(98, 2)], [lv(101, 4)])
    assert book.top() == TopOfBook(99, 7, 101, 4)
    assert book.best_bid() == (99, 7) and book.best_ask() == (101, 4)
    assert book.depth(2) == ([(99, 7), (98, 2)], [(101, 4), (105, 1)])
    assert len(book) == 4


def test_empty_sides():
    book = DepthBook(P, Q)
    assert book.best_bid() is None and book.best_ask() is None
    assert book.top() == TopOfBook(None, None, None, None)
    assert not book.is_crossed()
    book.apply_diff([lv(100, 1)], [])
    book.apply_diff([lv(100, 0)], [])
    assert book.best_bid() is None


def test_deleting_an_absent_level_is_harmless():
    book = DepthBook(P, Q)
    book.apply_snapshot([lv(100, 5)], [lv(101, 3)])
    book.apply_diff([lv(50, 0)], [lv(500, 0)])
    assert book.top() == TopOfBook(100, 5, 101, 3)


def test_later_entry_for_a_price_wins_within_a_diff():
    book = DepthBook(P, Q)
    book.apply_snapshot([lv(100, 5)], [lv(101, 3)])
    book.apply_diff([lv(100, 0), lv(100, 9)], [lv(102, 1), lv(102, 0)])
    assert book.top() == TopOfBook(100, 9, 101, 3)
    assert 102 not in book.asks


def test_losing_the_best_finds_the_next_among_old_and_new_levels():
    book = DepthBook(P, Q)
    book.apply_snapshot([lv(t, 1) for t in range(90, 101)], [lv(t, 1) for t in range(101, 111)])
    book.apply_diff([lv(95, 0), lv(96, 0)], [lv(120, 2)])  # deep levels go
    book.apply_diff([lv(80, 4)], [lv(130, 1)])  # new levels wait outside the heap
    for tick in range(100, 96, -1):
        book.apply_diff([lv(tick, 0)], [])
    assert book.best_bid() == (94, 1)
    for tick in range(101, 111):
        book.apply_diff([], [lv(tick, 0)])
    assert book.best_ask() == (120, 2)


def test_crossed_and_locked_books_are_detected():
    book = DepthBook(P, Q)
    book.apply_snapshot([lv(100, 1)], [lv(101, 1)])
    assert not book.is_crossed()
    book.apply_diff([lv(101, 1)], [])
    assert book.is_crossed()  # locked
    book.apply_diff([lv(101, 0), lv(103, 1)], [])
    assert book.is_crossed()


def test_snapshot_levels_with_zero_quantity_are_no_levels():
    book = DepthBook(P, Q)
    book.apply_snapshot([lv(100, 0), lv(99, 1)], [lv(101, 0), lv(102, 1)])
    assert book.top() == TopOfBook(99, 1, 102, 1)


# A level that is a two-character string ("12") would unpack into two one-character strings:
# the decoder's msgspec types refuse it before it reaches the book (tests/test_binance_feed.py).
@pytest.mark.parametrize("levels", [
    [("1.00",)], [("1.00", "2.000", "3")], ["123"], [12], [None], [["1.00", ["2"]]],
])
def test_malformed_levels(levels):
    with pytest.raises(BadLevels) as error:
        DepthBook(P, Q).apply_diff(levels, [])
    assert error.value.reason == "bad_levels"
    with pytest.raises(BadLevels):
        DepthBook(P, Q).apply_snapshot([], levels)


@pytest.mark.parametrize(("level", "error"), [
    (("1.00", "-1"), BadDecimal), (("1e2", "1"), BadDecimal), (("1.001", "1"), TooPrecise),
    ((1.5, "1"), BadDecimal),
])
def test_malformed_numbers(level, error):
    with pytest.raises(error):
        DepthBook(P, Q).apply_diff([level], [])


# -- properties -------------------------------------------------------------------------------

ticks = st.integers(1, 60)
lots = st.integers(0, 4)  # zero deletes
diff_side = st.lists(st.tuples(ticks, lots), max_size=12)
text_forms = st.sampled_from(["", "0", "00"])  # extra zero places the parser must accept


def text(tick: int, lot: int, pad: str) -> tuple[str, str]:
    return FMT_P.format(tick) + pad, FMT_Q.format(lot) + pad


def apply_to_dict(side: dict[int, int], levels) -> None:
    for tick, lot in levels:
        if lot:
            side[tick] = lot
        else:
            side.pop(tick, None)


@settings(max_examples=300, deadline=None)
@given(snapshot=st.tuples(diff_side, diff_side),
       diffs=st.lists(st.tuples(diff_side, diff_side, text_forms), max_size=40))
def test_snapshot_and_diffs_equal_a_plain_dict_and_best_equals_brute_force(snapshot, diffs):
    book = DepthBook(P, Q, cache_entries=16)  # a small cache also exercises its eviction
    bids = {}
    asks = {}
    apply_to_dict(bids, snapshot[0])
    apply_to_dict(asks, snapshot[1])
    book.apply_snapshot([text(t, q, "") for t, q in snapshot[0]],
                        [text(t, q, "") for t, q in snapshot[1]])
    assert book.top() == brute_top(bids, asks)
    for bid_levels, ask_levels, pad in diffs:
        book.apply_diff([text(t, q, pad) for t, q in bid_levels],
                        [text(t, q, pad) for t, q in ask_levels])
        apply_to_dict(bids, bid_levels)
        apply_to_dict(asks, ask_levels)
        assert book.top() == brute_top(bids, asks)
    assert book.bids == bids and book.asks == asks


@st.composite
def consistent_stream(draw):
    """Diffs that keep a true book uncrossed: when the mid moves, the diff deletes every
    level on the wrong side of it, as a venue's would."""
    bids: dict[int, int] = {}
    asks: dict[int, int] = {}
    mid = draw(st.integers(20, 40))
    stream = []
    for _ in range(draw(st.integers(1, 40))):
        mid = max(2, min(58, mid + draw(st.integers(-3, 3))))
        bid_levels = [(t, 0) for t in bids if t >= mid]
        ask_levels = [(t, 0) for t in asks if t <= mid]
        bid_levels += [(t, q) for t, q in draw(st.lists(
            st.tuples(st.integers(1, mid - 1), lots), max_size=8))]
        ask_levels += [(t, q) for t, q in draw(st.lists(
            st.tuples(st.integers(mid + 1, 60), lots), max_size=8))]
        apply_to_dict(bids, bid_levels)
        apply_to_dict(asks, ask_levels)
        stream.append((bid_levels, ask_levels, dict(bids), dict(asks)))
    return stream


@settings(max_examples=300, deadline=None)
@given(consistent_stream())
def test_no_crossed_book_after_a_consistent_stream(stream):
    book = DepthBook(P, Q)
    for bid_levels, ask_levels, bids, asks in stream:
        book.apply_diff([lv(t, q) for t, q in bid_levels], [lv(t, q) for t, q in ask_levels])
        assert not book.is_crossed()
        assert book.top() == brute_top(bids, asks)
