"""The WebSocket API over loopback with a real websockets client: auth, market data that
rebuilds the book exactly, and orders, fills and cancels between two keys."""

from __future__ import annotations

import asyncio
import random

import pytest
from websockets.exceptions import InvalidStatus
from websockets.frames import Frame, Opcode

from sim.venue import TEST_ACCOUNT, TEST_API_KEY, AccountSpec, VenueConfig
from sim.venue.testing import WsClient
from sim.venue.threaded import VenueThread
from sim.venue.ws_server import text_frame

MAKER_KEY = "pf_test_maker_key"
CONFIG = VenueConfig(accounts=(TEST_ACCOUNT, AccountSpec(MAKER_KEY, "maker")))


@pytest.fixture(scope="module")
def venue():
    with VenueThread(CONFIG) as v:
        yield v


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_auth_by_header_or_message(venue):
    async def go():
        by_header = await WsClient.connect(venue.ws_url, TEST_API_KEY)
        assert (await by_header.recv())["type"] == "auth_ok"
        anonymous = await WsClient.connect(venue.ws_url)
        await anonymous.send(type="order", order_id="x", market="BTC-PERP", side="buy",
                             price=100.0, qty=0.001)
        assert (await anonymous.next("order_reject"))["reason"] == "not_authenticated"
        await anonymous.send(type="auth", api_key="nope")
        assert (await anonymous.next("error"))["code"] == "bad_api_key"
        await anonymous.send(type="auth", api_key=TEST_API_KEY, timestamp_ns=1)
        ok = await anonymous.next("auth_ok")
        assert ok["agent_id"] == TEST_ACCOUNT.agent_id
        with pytest.raises(InvalidStatus) as bad:
            await WsClient.connect(venue.ws_url, "pf_wrong")
        assert bad.value.response.status_code == 401
        assert b"bad_api_key" in bad.value.response.body
        with pytest.raises(InvalidStatus) as elsewhere:
            await WsClient.connect(venue.ws_url.replace("/trading", "/other"))
        assert elsewhere.value.response.status_code == 404
        await by_header.close()
        await anonymous.close()
    run(go())


def _apply(book: dict, levels):
    for price, qty in levels:
        if qty == 0:
            book.pop(price, None)
        else:
            book[price] = qty


def test_snapshot_plus_updates_rebuild_the_view_and_sequences_are_contiguous(venue):
    async def go():
        watcher = await WsClient.connect(venue.ws_url)
        await watcher.send(type="subscribe", channel="orderbook", market="ETH-PERP", depth=5)
        await watcher.send(type="subscribe", channels=["ticker", "trades"], markets=["ETH-PERP"])
        snap = await watcher.next("orderbook")
        bids, asks = dict(map(tuple, snap["bids"])), dict(map(tuple, snap["asks"]))
        sequence = snap["sequence"]
        trader = await WsClient.connect(venue.ws_url, MAKER_KEY)
        other = await WsClient.connect(venue.ws_url, TEST_API_KEY)
        rng = random.Random(2)
        live = []
        for n in range(150):
            client = rng.choice((trader, other))
            if live and rng.random() < 0.3:
                owner, oid = live.pop(rng.randrange(len(live)))
                await owner.send(type="cancel", order_id=oid)
            else:
                oid = f"w{n}"
                side = rng.choice(("buy", "sell"))
                price = round(2600 + rng.randint(-20, 20) * 0.05, 2)
                await client.send(type="order", order_id=oid, market="ETH-PERP", side=side,
                                  price=price, qty=round(rng.randint(1, 30) * 0.01, 2))
                live.append((client, oid))
        await trader.sync()
        await other.sync()
        updates = [m for m in await watcher.sync() if m["type"] == "book_update"]
        assert len(updates) > 20
        for update in updates:
            assert update["sequence"] == sequence + 1
            sequence = update["sequence"]
            _apply(bids, update["bids"])
            _apply(asks, update["asks"])
        fresh = await WsClient.connect(venue.ws_url)
        await fresh.send(type="subscribe", channel="orderbook", market="ETH-PERP", depth=5)
        now = await fresh.next("orderbook")
        assert bids == dict(map(tuple, now["bids"])) and asks == dict(map(tuple, now["asks"]))
        assert now["sequence"] == sequence
        # subscribing again is the resync: a fresh snapshot at the current sequence
        await watcher.send(type="subscribe", channel="orderbook", market="ETH-PERP", depth=5)
        again = await watcher.next("orderbook")
        assert (again["sequence"], again["bids"], again["asks"]) == (
            sequence, now["bids"], now["asks"])
        assert any(m["type"] == "trade" for m in watcher.seen)
        tickers = [m for m in watcher.seen if m["type"] == "ticker"]
        assert tickers and tickers[-1]["bid"] == max(bids) and tickers[-1]["ask"] == min(asks)
        await trader.send(type="cancel_all")
        await other.send(type="cancel_all")
        for c in (watcher, trader, other, fresh):
            await c.close()
    run(go())


def test_orders_fills_and_cancels_between_two_keys(venue):
    async def go():
        maker = await WsClient.connect(venue.ws_url, MAKER_KEY)
        taker = await WsClient.connect(venue.ws_url, TEST_API_KEY)
        watcher = await WsClient.connect(venue.ws_url, MAKER_KEY)
        await watcher.send(type="subscribe", channel="orders")
        await watcher.next("subscribed")
        await maker.send(type="order", order_id="m1", market="SOL-PERP", side="sell",
                         price="150.250", qty=2.0, order_type="post_only")
        ack = await maker.next("order_ack")
        assert (ack["order_id"], ack["price"], ack["qty"]) == ("m1", 150.25, 2.0)
        await taker.send(type="order", order_id="t1", market="SOL-PERP", side="buy",
                         price=150.3, qty=0.5, submit_ns=123)
        assert (await taker.next("order_ack"))["order_id"] == "t1"
        tfill = await taker.next("fill")
        mfill = await maker.next("fill")
        assert (tfill["fill_qty"], tfill["price"], tfill["liquidity"]) == (0.5, 150.25, "taker")
        assert tfill["fee"] == pytest.approx(0.5 * 150.25 * 0.0005)
        assert (mfill["fill_qty"], mfill["liquidity"], mfill["remaining_qty"]) == (
            0.5, "maker", 1.5)
        assert mfill["fee"] == pytest.approx(0.5 * 150.25 * 0.0002)
        assert mfill["trade_id"] == tfill["trade_id"]
        # the other connection of the maker's key follows its orders on the orders channel
        seen = [(m["type"], m["order_id"]) for m in await watcher.sync()]
        assert seen == [("order_ack", "m1"), ("fill", "m1")]
        await maker.send(type="cancel", order_id="m1")
        cancelled = await maker.next("cancelled")
        assert (cancelled["reason"], cancelled["remaining_qty"]) == ("user", 1.5)
        await maker.send(type="cancel", order_id="m1")
        assert (await maker.next("cancel_reject"))["reason"] == "unknown_order"
        await taker.send(type="order", order_id="t2", market="SOL-PERP", side="buy",
                         price=150.3, qty=0.5, order_type="ioc")
        assert (await taker.next("cancelled"))["reason"] == "ioc_remainder"
        for c in (maker, taker, watcher):
            await c.close()
    run(go())


def test_halt_is_published_and_refuses_orders(venue):
    async def go():
        client = await WsClient.connect(venue.ws_url, TEST_API_KEY)
        await client.send(type="subscribe", channels=["ticker"], markets=["SOL-PERP"])
        await client.next("subscribed")
        venue.call(venue.venue.halt, "SOL-PERP", 7)
        status = await client.next("market_status")
        assert (status["status"], status["reason"]) == ("halted", 7)
        await client.send(type="order", order_id="h1", market="SOL-PERP", side="buy",
                          price=100.0, qty=1.0)
        assert (await client.next("order_reject"))["reason"] == "market_halted"
        venue.call(venue.venue.resume, "SOL-PERP")
        assert (await client.next("market_status"))["status"] == "trading"
        await client.close()
    run(go())


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_text_frames_are_the_bytes_websockets_would_send(size):
    payload = bytes(random.Random(size).choices(b"abc{}", k=size))
    assert text_frame(payload) == Frame(Opcode.TEXT, payload).serialize(mask=False)
