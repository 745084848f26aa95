"""The top-of-book model on its own: property tests against a brute-force book."""

from hypothesis import given, settings
from hypothesis import strategies as st

from host.model.events import BookTop, MarketGap, Tick, TickKind
from host.model.feed_parser import FeedParser
from host.model.top_of_book import TopOfBook
from host.wire import BookAction, Side
from sim.book_stream import BookStream, diff_levels


def _run(stream: BookStream, packets: int, depth: int) -> TopOfBook:
    parser, book = FeedParser(), TopOfBook(depth, markets=len(stream.markets))
    for payload in stream.packets(packets):
        for tick in parser.payload(payload):
            book.tick(tick)
    return book


def _positions_ok(tracked: list, truth: list) -> bool:
    """Every filled slot holds exactly the true level at its position."""
    return all(not valid or k < len(truth) and (price, qty) == truth[k]
               for k, (valid, price, qty) in enumerate(tracked))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), depth=st.integers(1, 8))
def test_filled_slots_hold_the_true_level_at_their_position(seed, depth):
    stream = BookStream(markets=4, published_depth=6, seed=seed, bbo=False)
    book = _run(stream, 60, depth)
    for m, state in zip(book.books, stream.markets, strict=True):
        assert _positions_ok(m.bids, state.levels(Side.BID, 6))
        assert _positions_ok(m.asks, state.levels(Side.ASK, 6))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), extra=st.integers(0, 3))
def test_best_levels_equal_brute_force_and_never_cross(seed, extra):
    published = 5
    stream = BookStream(markets=3, published_depth=published, seed=seed, bbo=False)
    parser, book = FeedParser(), TopOfBook(published + extra, markets=3)
    for n in range(50):
        for tick in parser.payload(stream.packet(send_time=n)):
            book.tick(tick)
        for m, state in zip(book.books, stream.markets, strict=True):
            bid, ask = state.best()
            assert m.bids[0] == ((1, *bid) if bid else (0, 0, 0))
            assert m.asks[0] == ((1, *ask) if ask else (0, 0, 0))
            if m.bids[0][0] and m.asks[0][0]:
                assert m.bids[0][1] < m.asks[0][1]


@settings(max_examples=60, deadline=None)
@given(old=st.lists(st.integers(1, 40), unique=True, max_size=8),
       new=st.lists(st.integers(1, 40), unique=True, max_size=8),
       qty=st.integers(1, 5))
def test_level_diffs_rebuild_the_new_levels(old, new, qty):
    old_levels = [(p, 1) for p in sorted(old)]
    new_levels = [(p, qty) for p in sorted(new)]
    work = list(old_levels)
    for action, k, level in diff_levels(old_levels, new_levels):
        if action == BookAction.NEW:
            work.insert(k, level)
        elif action == BookAction.CHANGE:
            work[k] = level
        else:
            del work[k]
    assert work == new_levels


def _level(market, seq, action, level, price=100, qty=5, side=Side.BID):
    return Tick(TickKind.BOOK, market, seq, side, action, level, 0, price, qty)


def test_depth_bound_is_counted_and_the_best_goes_empty_not_wrong():
    book = TopOfBook(depth=2, markets=1)
    book.tick(_level(0, 1, BookAction.NEW, 0, price=100))
    book.tick(_level(0, 2, BookAction.NEW, 1, price=99))
    book.tick(_level(0, 3, BookAction.NEW, 2, price=98))       # past the depth
    assert book.counters["beyond_depth"] == 1
    book.tick(_level(0, 4, BookAction.DELETE, 0))               # 98 moves into view unseen
    assert book.counters["depth_exhausted"] == 1
    assert book.books[0].bids == [(1, 99, 5), (0, 0, 0)]
    book.tick(_level(0, 5, BookAction.DELETE, 0))
    assert book.books[0].bids[0] == (0, 0, 0)


def test_gap_makes_market_stale_until_a_bbo_and_spares_other_markets():
    book = TopOfBook(depth=2, markets=2)
    assert book.tick(_level(0, 1, BookAction.NEW, 0)) == [BookTop(0, 1, 100, 5, 0, 0, 0)]
    book.tick(_level(1, 1, BookAction.NEW, 0, price=7))
    events = book.tick(_level(0, 3, BookAction.NEW, 0, price=101))
    assert events == [MarketGap(0, 2, 3)]
    assert book.tick(_level(0, 4, BookAction.NEW, 0, price=102)) == []
    assert book.counters == {**book.counters, "market_gaps": 1, "stale_drops": 2}
    assert book.books[0].bids[0] == (1, 100, 5)                 # not applied over the gap
    book.tick(_level(1, 2, BookAction.CHANGE, 0, price=7, qty=9))
    assert book.books[1].bids[0] == (1, 7, 9)                   # other market unharmed
    bbo = Tick(TickKind.BBO, 0, 10, price0=103, qty0=1, price1=104, qty1=2)
    assert book.tick(bbo) == [BookTop(0, 1, 103, 1, 1, 104, 2)]
    book.tick(_level(0, 11, BookAction.NEW, 1, price=102))
    assert book.books[0].bids == [(1, 103, 1), (1, 102, 5)]
    assert book.counters["market_gaps"] == 1


def test_status_applies_even_while_stale():
    book = TopOfBook(depth=1, markets=1)
    book.tick(_level(0, 5, BookAction.NEW, 0))
    book.tick(Tick(TickKind.STATUS, 0, 9, status=2))
    assert not book.books[0].trading and not book.books[0].in_sync
