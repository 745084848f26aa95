"""The colo feed's contract, checked by a plain reader (sim.venue.testing.FeedBook):

- MDP3 level updates turn the previous published top 10 into the new one exactly;
- packet sequence = first message's sequence, contiguous from 1, in one session;
- rpt_seq per market contiguous from 1 over every market message;
- the last message of each event has END_OF_EVENT; BestBidOffer follows a top-of-book change;
- payloads stay within the packet size limit.
"""

from __future__ import annotations

import random

import pytest

from host import wire
from sim.venue import VenueConfig, VenueCore, colo_feed
from sim.venue.accounts import Account
from sim.venue.book import BUY, SELL
from sim.venue.engine import NewOrder
from sim.venue.level_updates import FEED_DEPTH, LevelUpdateError, apply_update, diff_side
from sim.venue.testing import FeedBook
from tests.wire_samples import random_record


def _random_side(rng, is_bid, n):
    prices = sorted(rng.sample(range(1, 40), n), reverse=is_bid)
    return [(p, rng.randint(1, 5), rng.randint(1, 3)) for p in prices]


def _mutate(rng, levels, is_bid):
    """A plausible next book: some levels gone, some changed, some new, some pushed off."""
    book = {p: (q, c) for p, q, c in levels}
    for p in list(book):
        r = rng.random()
        if r < 0.2:
            del book[p]
        elif r < 0.4:
            book[p] = (rng.randint(1, 5), rng.randint(1, 3))
    for _ in range(rng.randint(0, 6)):
        book[rng.randint(1, 40)] = (rng.randint(1, 5), rng.randint(1, 3))
    prices = sorted(book, reverse=is_bid)[:FEED_DEPTH]
    return [(p, *book[p]) for p in prices]


@pytest.mark.parametrize("is_bid", [True, False])
def test_level_updates_rebuild_the_new_book_exactly(is_bid):
    rng = random.Random(5 if is_bid else 6)
    for _ in range(4000):
        old = _random_side(rng, is_bid, rng.randint(0, FEED_DEPTH))
        new = _mutate(rng, old, is_bid) if rng.random() < 0.8 else _random_side(
            rng, is_bid, rng.randint(0, FEED_DEPTH))
        updates = diff_side(old, new, is_bid)
        book = list(old)
        for update in updates:
            apply_update(book, *update)
        assert book == new, (old, new, updates)
        assert all(0 <= u[1] < FEED_DEPTH for u in updates)
        if old == new:
            assert updates == []


def test_a_new_level_pushes_the_bottom_off_without_a_delete():
    old = [(p, 1, 1) for p in range(100, 90, -1)]  # ten bids, 100 .. 91
    new = [(101, 2, 1)] + old[:9]
    assert diff_side(old, new, True) == [(wire.BookAction.NEW, 0, 101, 2, 1)]


def test_receiver_refuses_updates_that_do_not_fit():
    with pytest.raises(LevelUpdateError):
        apply_update([], wire.BookAction.CHANGE, 0, 1, 1, 1)
    with pytest.raises(LevelUpdateError):
        apply_update([(1, 1, 1)], wire.BookAction.NEW, 2, 1, 1, 1)
    with pytest.raises(LevelUpdateError):
        apply_update([(1, 1, 1)], wire.BookAction.DELETE, 1, 1, 1, 1)


def _fixed_clock():
    t = [1_800_000_000_000_000_000]

    def clock():
        t[0] += 1000
        return t[0]
    return clock


def test_feed_from_random_trading_matches_the_engine_after_every_event():
    core = VenueCore(VenueConfig(), clock_ns=_fixed_clock())
    rng = random.Random(3)
    accounts = [Account(90 + i, f"t{i}", f"t{i}", 1e15) for i in range(3)]
    reader = FeedBook()
    markets = list(core.engine.specs)
    payloads = []
    events_seen = 0
    for n in range(2500):
        market_id = rng.choice(markets)
        account = rng.choice(accounts)
        if account.open_orders and rng.random() < 0.3:
            core.run(core.engine.cancel(account, rng.choice(list(account.open_orders))))
        elif rng.random() < 0.01:
            status = rng.choice((wire.TradingStatus.HALTED, wire.TradingStatus.TRADING))
            core.run(core.engine.set_status(market_id, int(status)))
        else:
            kind = rng.choices(("limit", "ioc", "market"), (8, 1, 1))[0]
            price = None if kind == "market" else 5000 + rng.randint(-30, 30)
            core.run(core.engine.submit(account, NewOrder(
                f"o{n}", market_id, rng.choice((BUY, SELL)), kind, price, rng.randint(1, 20))))
        if rng.random() < 0.05:
            core.encoder.heartbeat()
        if rng.random() < 0.8:
            continue  # several events share packets until the next flush
        for payload in core.encoder.flush():
            payloads.append(payload)
            reader.on_payload(payload)
        for market_id, book in core.engine.books.items():
            view = reader.markets.get(market_id)
            if view is None:
                continue
            events_seen += 1
            assert not view.in_event, "an event ended without END_OF_EVENT"
            assert view.bids == book.bids.top(FEED_DEPTH)
            assert view.asks == book.asks.top(FEED_DEPTH)
            assert view.bbo == book.bbo()
    assert reader.packet_gaps == reader.late_packets == 0
    assert not reader.market_gaps
    assert reader.max_payload <= 1400
    first = wire.decode_packet(payloads[0]).header
    assert first.sequence == 1
    assert {type(m).__name__ for p in payloads for m in wire.decode_packet(p).messages} == {
        "BookLevel", "BestBidOffer", "Trade", "MarketStatus", "Heartbeat"}
    assert max(len(wire.decode_packet(p).messages) for p in payloads) > 20  # events share
    assert sum(v.rpt_seq for v in reader.markets.values()) + reader.messages["Heartbeat"] \
        == reader.next_sequence - 1


def test_large_events_span_packets_and_sequences_stay_contiguous():
    core = VenueCore(VenueConfig(), clock_ns=_fixed_clock())
    house = core.house_account("replay")
    market_id = core.markets["BTC-PERP"].market_id
    events = []
    for i in range(60):
        events += core.engine.set_level(house, market_id, BUY, 1000 - i, 5 + i)
        events += core.engine.set_level(house, market_id, SELL, 1001 + i, 5 + i)
    core.run(events)  # one event: 20 NEWs and a BBO
    events = []
    for i in range(30):  # sweep the top away: deletes and refills in one event
        events += core.engine.set_level(house, market_id, BUY, 1000 - i, 0)
        events += core.engine.set_level(house, market_id, SELL, 1001 + i, 0)
    core.run(events)
    payloads = core.encoder.flush()
    reader = FeedBook()
    for payload in payloads:
        reader.on_payload(payload)
    view = reader.markets[market_id]
    book = core.engine.books[market_id]
    assert view.bids == book.bids.top(FEED_DEPTH) and view.asks == book.asks.top(FEED_DEPTH)
    headers = [wire.decode_packet(p).header for p in payloads]
    for a, b in zip(headers, headers[1:], strict=False):
        assert b.sequence == a.sequence + a.msg_count
    flags = [m.flags for p in payloads for m in wire.decode_packet(p).messages]
    assert flags.count(int(wire.MessageFlags.END_OF_EVENT)) == 2


def test_the_fast_packers_agree_with_the_wire_declaration():
    rng = random.Random(1)
    for packer in (colo_feed._BOOK, colo_feed._TRADE, colo_feed._BBO, colo_feed._STATUS,
                   colo_feed._HEARTBEAT, colo_feed._HEADER):
        for _ in range(300):
            record = random_record(rng, packer.layout)
            assert packer.pack(packer.values(**record._asdict())) == \
                packer.layout.encode(record)
