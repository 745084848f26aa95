"""Every injected fault: latency (and the seed's latency preset), dropped connections, reject
bursts, feed loss and reordering, stale market data."""

from __future__ import annotations

import asyncio
import http.client
import json
import random
import time
from urllib.parse import urlsplit

import pytest
from websockets.exceptions import ConnectionClosed

from host import wire
from sim.venue import (
    SEED_LATENCY,
    TEST_ACCOUNT,
    TEST_API_KEY,
    AccountSpec,
    FaultConfig,
    FeedConfig,
    Latency,
    VenueConfig,
    VenueCore,
)
from sim.venue.book import BUY, SELL
from sim.venue.engine import NewOrder
from sim.venue.faults import Faults
from sim.venue.testing import FeedBook, FeedSocket, WsClient
from sim.venue.threaded import VenueThread

MAKER_KEY = "pf_test_fault_maker"
ACCOUNTS = (TEST_ACCOUNT, AccountSpec(MAKER_KEY, "fault-maker"))


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_seed_latency_preset_reproduces_the_seed_table():
    faults = Faults(SEED_LATENCY)
    for latency, p50, p99 in ((SEED_LATENCY.ack_latency, 0.8, 3.2),
                              (SEED_LATENCY.fill_latency, 1.1, 4.5),
                              (SEED_LATENCY.snapshot_latency, 2.4, 8.1),
                              (SEED_LATENCY.rest_order_latency, 15, 45),
                              (SEED_LATENCY.rest_account_latency, 18, 52)):
        samples = sorted(faults.delay(latency) * 1000 for _ in range(40_000))
        assert samples[20_000] == pytest.approx(p50, rel=0.04)
        assert samples[39_600] == pytest.approx(p99, rel=0.08)
    off = FaultConfig()  # the default: no latency added anywhere
    assert all(getattr(off, f"{k}_latency") is None
               for k in ("ack", "fill", "snapshot", "rest_order", "rest_account"))


def test_acks_and_fills_are_delayed_in_order_while_market_data_is_not():
    faults = FaultConfig(ack_latency=Latency(40, 50), fill_latency=Latency(60, 70))
    with VenueThread(VenueConfig(accounts=ACCOUNTS, faults=faults)) as venue:
        async def go():
            maker = await WsClient.connect(venue.ws_url, MAKER_KEY)
            taker = await WsClient.connect(venue.ws_url, TEST_API_KEY)
            await taker.send(type="subscribe", channel="orderbook", market="ETH-PERP")
            await taker.next("orderbook")
            await maker.send(type="order", order_id="m", market="ETH-PERP", side="sell",
                             price=2000.0, qty=1.0)
            await maker.next("order_ack")
            await taker.send(type="order", order_id="t", market="ETH-PERP", side="buy",
                             price=2000.0, qty=0.5)
            seen = []
            while len([m for m in seen if m["type"] in ("order_ack", "fill")]) < 2:
                seen.append(await taker.recv())
            kinds = [m["type"] for m in seen]
            # The book moved at once; the acknowledgement and the fill came later, in order.
            assert kinds.index("book_update") < kinds.index("order_ack") < kinds.index("fill")
            await maker.close()
            await taker.close()
        run(go())


def test_rest_latency_is_added():
    faults = FaultConfig(rest_account_latency=Latency(30, 40))
    with VenueThread(VenueConfig(faults=faults)) as venue:
        url = urlsplit(venue.rest_url)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        start = time.monotonic()
        conn.request("GET", "/api/v1/balance", headers={"X-API-Key": TEST_API_KEY})
        response = conn.getresponse()
        assert response.status == 200 and json.loads(response.read())["balance_usdc"] > 0
        # A lower bound on an injected delay (sampled near 30 ms), not a speed assertion.
        assert time.monotonic() - start >= 0.010
        conn.close()


def test_dropped_connections_keep_the_orders_of_the_key():
    faults = FaultConfig(drop_connection_mean_s=0.05, seed=4)
    with VenueThread(VenueConfig(faults=faults)) as venue:
        async def go():
            client = await WsClient.connect(venue.ws_url, TEST_API_KEY)
            await client.recv()
            await client.send(type="order", order_id="survivor", market="SOL-PERP",
                              side="buy", price=10.0, qty=1.0)
            with pytest.raises(ConnectionClosed) as dropped:
                while True:
                    await client.recv(timeout=10)
            assert dropped.value.rcvd is None  # cut, not closed: no close frame
        run(go())
        assert "survivor" in venue.call(
            lambda: venue.venue.core.by_key[TEST_API_KEY].open_orders)


def test_drop_connections_on_demand():
    with VenueThread(VenueConfig(accounts=ACCOUNTS)) as venue:
        async def go():
            mine = await WsClient.connect(venue.ws_url, TEST_API_KEY)
            other = await WsClient.connect(venue.ws_url, MAKER_KEY)
            await mine.recv()
            await other.recv()
            assert venue.call(venue.venue.drop_connections, TEST_API_KEY) == 1
            with pytest.raises(ConnectionClosed):
                await mine.recv()
            await other.send(type="ping")
            assert (await other.next("pong"))["type"] == "pong"
            await other.close()
        run(go())


def test_reject_bursts_on_demand_and_at_random():
    with VenueThread(VenueConfig()) as venue:
        async def go():
            client = await WsClient.connect(venue.ws_url, TEST_API_KEY)
            await client.recv()
            venue.call(venue.venue.reject_burst, 3)
            for i in range(4):
                await client.send(type="order", order_id=f"b{i}", market="SOL-PERP",
                                  side="buy", price=10.0, qty=1.0)
            answers = [m for m in await client.sync() if m["type"].startswith("order")]
            assert [m.get("reason") for m in answers] == ["venue_busy"] * 3 + [None]
            await client.close()
        run(go())
    faults = Faults(FaultConfig(reject_burst_mean_gap_s=1.0, reject_burst_len=5, seed=9))
    decisions = [faults.reject_now(t * 0.01) for t in range(10_000)]  # 100 s, 100 orders/s
    runs, count = [], 0
    for rejected in decisions + [False]:
        if rejected:
            count += 1
        elif count:
            runs.append(count)
            count = 0
    assert 60 < len(runs) < 140 and all(n % 5 == 0 for n in runs)


def _packets(n_events: int) -> list[bytes]:
    core = VenueCore(VenueConfig(), clock_ns=lambda: 1)
    house = core.house_account("h")
    rng = random.Random(1)
    out = []
    for i in range(n_events):
        side = rng.choice((BUY, SELL))
        price = 1000 - rng.randint(1, 20) if side == BUY else 1000 + rng.randint(1, 20)
        core.run(core.engine.submit(house, NewOrder(f"f{i}", 0, side, "limit", price, 1)))
        out += core.encoder.flush()
    return out


@pytest.mark.parametrize("loss,reorder", [(0.05, 0.0), (0.0, 0.05), (0.05, 0.05)])
def test_feed_loss_and_reordering_show_as_sequence_gaps(loss, reorder):
    packets = _packets(2000)
    faults = Faults(FaultConfig(feed_loss=loss, feed_reorder=reorder, seed=2))
    sent = faults.feed_packets(packets) + faults.release_held()
    reader = FeedBook()
    for payload in sent:
        reader.on_payload(payload)
    assert len(sent) == len(packets) - faults.feed_dropped
    if loss:
        assert faults.feed_dropped > 20 and reader.packet_gaps > 0 and reader.market_gaps
    if reorder:
        assert faults.feed_reordered > 20 and reader.late_packets > 0
    if not loss:
        assert sorted(wire.decode_packet(p).header.sequence for p in sent) == [
            wire.decode_packet(p).header.sequence for p in packets]


def test_stale_market_data_carries_its_original_time():
    with VenueThread(VenueConfig(accounts=ACCOUNTS)) as venue:
        venue.call(venue.venue.set_market_data_delay, 150)

        async def go():
            watcher = await WsClient.connect(venue.ws_url, TEST_API_KEY)
            await watcher.recv()
            await watcher.send(type="subscribe", channels=["ticker"], markets=["SOL-PERP"])
            await watcher.next("subscribed")
            maker = await WsClient.connect(venue.ws_url, MAKER_KEY)
            await maker.send(type="order", order_id="s1", market="SOL-PERP", side="sell",
                             price=101.0, qty=1.0)
            await maker.send(type="order", order_id="s2", market="SOL-PERP", side="buy",
                             price=99.0, qty=1.0)
            assert (await maker.next("order_ack"))["ts_ns"]  # acks are not delayed
            ticker = await watcher.next("ticker")
            received = time.time_ns()
            assert received - ticker["ts_ns"] >= 150_000_000
            await maker.send(type="cancel_all")
            await maker.close()
            await watcher.close()
        run(go())


def test_losing_a_book_update_or_a_feed_packet_on_demand():
    feed = FeedSocket(("127.0.0.1", 0))
    config = VenueConfig(accounts=ACCOUNTS, feed=FeedConfig(port=feed.sock.getsockname()[1]))
    with VenueThread(config) as venue:
        async def go():
            watcher = await WsClient.connect(venue.ws_url)
            await watcher.send(type="subscribe", channel="orderbook", market="SOL-PERP",
                               depth=5)
            assert (await watcher.next("orderbook"))["sequence"] == 0
            trader = await WsClient.connect(venue.ws_url, MAKER_KEY)
            for i, lose in enumerate((False, True, False)):
                if lose:
                    venue.call(venue.venue.lose_book_update, "SOL-PERP")
                    venue.call(venue.venue.lose_feed_packets, 1)
                await trader.send(type="order", order_id=f"g{i}", market="SOL-PERP",
                                  side="buy", price=100.0 + i, qty=1.0)
                await trader.sync()
            updates = [m for m in await watcher.sync() if m["type"] == "book_update"]
            assert [m["sequence"] for m in updates] == [1, 3]
            await watcher.send(type="subscribe", channel="orderbook", market="SOL-PERP",
                               depth=5)
            snapshot = await watcher.next("orderbook")
            assert snapshot["sequence"] == 3 and len(snapshot["bids"]) == 3
            await trader.send(type="cancel_all")
            await trader.sync()
            for c in (watcher, trader):
                await c.close()
        run(go())
        venue.call(venue.venue._flush_feed)
    reader = FeedBook()
    for payload in feed.drain(0.5):
        reader.on_payload(payload)
    feed.close()
    assert reader.packet_gaps == 1 and reader.market_gaps
