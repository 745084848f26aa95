"""Replay of the real Binance recordings in shared/data/ as BTC-SPOT and BTC-PERP.

The exchange's own bookTicker is the oracle: wherever its update id equals a depth diff's,
the venue's book after that diff must show exactly its best bid and ask, quantities
included. Skipped, with a message, when shared/data/ is missing.
"""

from __future__ import annotations

import asyncio

import pytest

from sim.venue import TEST_API_KEY, VenueConfig, VenueCore
from sim.venue.command import find_data_dir
from sim.venue.level_updates import FEED_DEPTH
from sim.venue.replay import DepthDiff, Quote, Replayer, binance_pair
from sim.venue.testing import FeedBook, WsClient
from sim.venue.threaded import VenueThread


@pytest.fixture(scope="module")
def data_dir():
    try:
        return find_data_dir(None)
    except FileNotFoundError as exc:
        pytest.skip(f"real market data not available: {exc}")


def test_replayed_books_match_the_exchange_oracle_and_the_feed(data_dir):
    core = VenueCore(VenueConfig(), clock_ns=lambda: 1)
    replayer = Replayer(core, binance_pair(data_dir, speed=0))
    reader = FeedBook()
    after_diff: dict[tuple[int, int], tuple] = {}
    quotes: dict[tuple[int, int], tuple] = {}
    prints = 0
    for _, market_id, record in replayer.records():
        for item in replayer.apply(market_id, record):
            if isinstance(item, DepthDiff):
                after_diff[(market_id, item.last_id)] = core.engine.books[market_id].bbo()
        if isinstance(record, Quote):
            quotes[(market_id, record.update_id)] = (record.bid, record.bid_qty, record.ask,
                                                     record.ask_qty)
        elif type(record).__name__ == "Print":
            prints += 1
        for payload in core.encoder.flush():
            reader.on_payload(payload)
    perp, spot = core.markets["BTC-PERP"].market_id, core.markets["BTC-SPOT"].market_id
    points = {key: quote for key, quote in quotes.items() if key in after_diff}
    wrong = {key: (quote, after_diff[key]) for key, quote in points.items()
             if after_diff[key] != quote}
    assert not wrong
    assert sum(1 for market_id, _ in points if market_id == perp) >= 600  # README: 629
    assert sum(1 for market_id, _ in points if market_id == spot) >= 500
    assert replayer.syncs[perp].gaps == 0 and replayer.syncs[spot].gaps == 0
    assert prints == 21_313 + 9_757
    # the colo feed told the same story, in order, with nothing missing
    assert reader.packet_gaps == 0 and not reader.market_gaps
    assert reader.markets[perp].trades and reader.markets[spot].trades
    for market_id in (perp, spot):
        book = core.engine.books[market_id]
        view = reader.markets[market_id]
        assert view.bids == book.bids.top(FEED_DEPTH) and view.asks == book.asks.top(FEED_DEPTH)


def test_replay_over_sockets_is_tradeable(data_dir):
    with VenueThread(VenueConfig(source=binance_pair(data_dir, speed=0))) as venue:
        async def go():
            client = await WsClient.connect(venue.ws_url, TEST_API_KEY)
            await client.send(type="subscribe", channels=["ticker"],
                              markets=["BTC-SPOT", "BTC-PERP"])
            seen = {}
            while len(seen) < 2:
                message = await client.next("ticker")
                seen[message["market"]] = message
            for ticker in seen.values():
                assert 60_000 < ticker["bid"] < ticker["ask"] < 64_000
            await client.send(type="order", order_id="r1", market="BTC-PERP", side="buy",
                              order_type="market", qty=0.01)
            fill = await client.next("fill")
            assert fill["liquidity"] == "taker" and 60_000 < fill["price"] < 64_000
            await client.close()
        asyncio.run(asyncio.wait_for(go(), 30))
