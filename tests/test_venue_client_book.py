"""The client's L2 book: snapshot, numbered updates, gaps, late snapshots and the top of book,
checked against a plain rebuild on random streams."""

from __future__ import annotations

import random

import pytest

from host.venue_client.book import L2Book, SequenceGap, TopOfBook, WrongBook
from host.venue_client.events import BookSnapshot, BookUpdate


def snap(seq, bids, asks, market="M", depth=10, ts=1):
    return BookSnapshot(market, depth, seq, 0, tuple(bids), tuple(asks), ts)


def upd(seq, bids=(), asks=(), market="M", depth=10, ts=2):
    return BookUpdate(market, depth, seq, tuple(bids), tuple(asks), ts)


def test_snapshot_then_updates_give_the_top():
    book = L2Book("M", 10)
    assert book.apply(snap(4, [(100, 5), (99, 1)], [(101, 2)])) == TopOfBook("M", 100, 5, 101, 2, 1)
    assert book.apply(upd(5, bids=[(98, 3)])) is None  # below the top: no new top
    assert book.apply(upd(6, bids=[(100, 0)], ts=7)) == TopOfBook("M", 99, 1, 101, 2, 7)
    assert book.apply(upd(7, asks=[(101, 9)], ts=8)) == TopOfBook("M", 99, 1, 101, 9, 8)
    assert book.apply(upd(8, asks=[(101, 0)], ts=9)) == TopOfBook("M", 99, 1, 0, 0, 9)
    assert book.levels() == ([(99, 1), (98, 3)], [])


def test_a_skipped_number_is_a_gap_and_the_book_waits_for_a_snapshot():
    book = L2Book("M", 10)
    book.apply(snap(0, [(100, 5)], [(101, 2)]))
    book.apply(upd(1, bids=[(100, 6)]))
    with pytest.raises(SequenceGap) as gap:
        book.apply(upd(3, bids=[(100, 7)]))
    assert (gap.value.market, gap.value.expected, gap.value.got) == ("M", 2, 3)
    assert gap.value.reason == "sequence_gap"
    assert not book.synced and book.gaps == 1
    assert book.apply(upd(4, bids=[(100, 8)])) is None  # kept for after the snapshot
    top = book.apply(snap(3, [(100, 7)], [(101, 2)], ts=5))
    assert book.synced and top == TopOfBook("M", 100, 8, 101, 2, 2)


def test_updates_before_a_late_snapshot_are_kept_or_dropped_by_number():
    book = L2Book("M", 10)
    book.apply(upd(5, bids=[(100, 1)]))   # in the snapshot already
    book.apply(upd(6, bids=[(100, 2)]))   # after it
    top = book.apply(snap(5, [(100, 1)], [(105, 1)]))
    assert top.bid_qty == 2 and book.next_sequence == 7


def test_a_hole_among_kept_updates_is_a_gap_too():
    book = L2Book("M", 10)
    book.apply(upd(7, bids=[(100, 1)]))
    with pytest.raises(SequenceGap) as gap:
        book.apply(snap(5, [(100, 1)], []))
    assert (gap.value.expected, gap.value.got) == (6, 7) and not book.synced


def test_a_duplicate_number_is_a_gap():
    book = L2Book("M", 10)
    book.apply(snap(0, [], []))
    book.apply(upd(1))
    with pytest.raises(SequenceGap):
        book.apply(upd(1))


def test_messages_for_another_book_are_refused():
    book = L2Book("M", 10)
    with pytest.raises(WrongBook):
        book.apply(snap(0, [], [], market="N"))
    with pytest.raises(WrongBook):
        book.apply(upd(1, depth=20))
    assert book.snapshots == 0


def test_reset_waits_for_a_snapshot_again():
    book = L2Book("M", 10)
    book.apply(snap(0, [(1, 1)], [(2, 1)]))
    book.reset()
    assert not book.synced and book.top is None and book.bids == {}
    assert book.apply(upd(1, bids=[(1, 2)])) is None


def test_random_streams_match_a_plain_rebuild():
    rng = random.Random(61)
    for _ in range(40):
        book = L2Book("M", 10)
        bids = {p: rng.randrange(1, 9) for p in rng.sample(range(90, 100), 5)}
        asks = {p: rng.randrange(1, 9) for p in rng.sample(range(101, 111), 5)}
        book.apply(snap(0, sorted(bids.items(), reverse=True), sorted(asks.items())))
        for seq in range(1, 200):
            changes = {"bids": [], "asks": []}
            for side, levels, lo, hi in (("bids", bids, 80, 101), ("asks", asks, 100, 121)):
                for _ in range(rng.randrange(0, 4)):
                    price = rng.randrange(lo, hi)
                    qty = 0 if rng.random() < 0.4 else rng.randrange(1, 9)
                    changes[side].append((price, qty))
                    if qty:
                        levels[price] = qty
                    else:
                        levels.pop(price, None)
            before = book.top
            top = book.apply(upd(seq, changes["bids"], changes["asks"], ts=seq))
            best_bid = max(bids, default=0)
            best_ask = min(asks, default=0)
            expected = (best_bid, bids.get(best_bid, 0), best_ask, asks.get(best_ask, 0))
            now = book.top
            assert (now.bid, now.bid_qty, now.ask, now.ask_qty) == expected
            unchanged = (before.bid, before.bid_qty, before.ask, before.ask_qty) == expected
            assert (top is None) == unchanged  # a new top exactly when something changed
        assert book.bids == bids and book.asks == asks
