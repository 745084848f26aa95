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


# -- leading from the touch: the fast path's primitive ----------------------------------------


def windows(levels, sizes):
    """(tick, lots) levels as (price, qty) strings, cut into windows of the given sizes."""
    texts, out = [lv(t, q) for t, q in levels], []
    for size in sizes:
        out.append(texts[:size])
        texts = texts[size:]
    return out + ([texts] if texts else [])


def stepped_book(bids, asks) -> DepthBook:
    book = DepthBook(P, Q, price_step=10)
    book.apply_snapshot([lv(t, q) for t, q in bids], [lv(t, q) for t, q in asks])
    return book


def test_lead_asks_stops_before_the_first_level_that_cannot_move_the_best():
    book = stepped_book([(1000, 1)], [(1100, 1), (1110, 1), (1200, 1)])
    applied = book.lead_asks(windows([(1050, 2), (1120, 3), (1130, 1)], [2]), book.prices,
                             book.qtys)
    assert applied == 1 and book.best_ask() == (1050, 2) and 1120 not in book.asks


def test_lead_through_a_deleted_front_finds_the_level_the_message_skips():
    book = stepped_book([(1000, 1), (990, 1), (980, 1)], [(1100, 1), (1110, 1), (1200, 1)])
    # 1100 and 1110 go; 1250 arrives, but 1200, which the message does not name, is lower.
    levels = [(1100, 0), (1110, 0), (1250, 1), (1300, 1)]
    assert book.lead_asks(windows(levels, [4]), book.prices, book.qtys) == 3
    assert book.best_ask() == (1200, 1)
    assert book.lead_bids(windows([(1000, 0), (990, 0)], [1]), book.prices, book.qtys) == 2
    assert book.best_bid() == (980, 1)


def test_lead_out_of_order_returns_minus_one_minus_applied():
    book = stepped_book([(1000, 1)], [(1100, 1)])
    assert book.lead_asks(windows([(1050, 1), (1040, 1)], []), book.prices, book.qtys) == -2
    assert book.best_ask() == (1050, 1) and 1040 not in book.asks
    assert book.lead_bids(windows([(1010, 1), (1020, 1)], []), book.prices, book.qtys) == -2


def test_lead_leaves_the_best_exact_when_a_number_is_refused():
    book = stepped_book([(1000, 1)], [(1100, 1), (1110, 1)])
    with pytest.raises(BadDecimal):
        book.lead_asks([[lv(1100, 0), ("1e3", "1.000")]], book.prices, book.qtys)
    assert book.best_ask() == (1110, 1)


def test_lead_past_the_probe_window_asks_the_heap():
    book = stepped_book([(1000, 1), (10, 2)], [(1100, 1), (9000, 3)])
    assert book.lead_asks(windows([(1100, 0)], []), book.prices, book.qtys) == 1
    assert book.lead_bids(windows([(1000, 0)], []), book.prices, book.qtys) == 1
    assert book.top() == TopOfBook(10, 2, 9000, 3)


grid = st.integers(1, 300).map(lambda n: n * 10)
grid_side = st.lists(st.tuples(grid, lots), max_size=30, unique_by=lambda x: x[0])


@settings(max_examples=300, deadline=None)
@given(snapshot=st.tuples(grid_side, grid_side), diff=st.tuples(grid_side, grid_side),
       sizes=st.lists(st.integers(1, 5), max_size=6), settle=st.booleans())
def test_lead_leaves_the_best_the_whole_side_leaves(snapshot, diff, sizes, settle):
    book = stepped_book(*snapshot)
    bids, asks = {}, {}
    apply_to_dict(bids, [x for x in snapshot[0] if x[1]])
    apply_to_dict(asks, [x for x in snapshot[1] if x[1]])
    bid_levels, ask_levels = sorted(diff[0], reverse=True), sorted(diff[1])
    if settle:
        book.settle()
    led_asks = book.lead_asks(windows(ask_levels, sizes), book.prices, book.qtys)
    led_bids = book.lead_bids(windows(bid_levels, sizes), book.prices, book.qtys)
    assert 0 <= led_asks <= len(ask_levels) and 0 <= led_bids <= len(bid_levels)
    apply_to_dict(asks, ask_levels)
    apply_to_dict(bids, bid_levels)
    assert book.top() == brute_top(bids, asks)  # the whole side would leave the same best
    # The rest of the diff, then the whole of it again: the same book as the diff alone.
    book.apply_diff([lv(t, q) for t, q in bid_levels], [lv(t, q) for t, q in ask_levels])
    assert book.bids == bids and book.asks == asks
    assert book.top() == brute_top(bids, asks)
