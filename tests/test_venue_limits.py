"""The seed's limits, each with a clear reject: 100 orders/s and 200 cancels/s per key
(exactly, on a controlled clock, and over a real socket), 50 subscriptions per connection and
10 connections per key."""

from __future__ import annotations

import asyncio

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from sim.venue import TEST_API_KEY, VenueConfig, VenueCore
from sim.venue.events import Accepted, Cancelled, CancelRejected, Rejected
from sim.venue.limits import RateWindow
from sim.venue.protocol import PlaceOrder
from sim.venue.testing import WsClient
from sim.venue.threaded import VenueThread


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _order(i: int) -> PlaceOrder:
    return PlaceOrder(f"o{i}", "SOL-PERP", "buy", "limit", "100.0", "0.1", "cancel_taker",
                      None)


def test_rate_window_is_exact_over_any_second():
    window = RateWindow(3, 1.0)
    times = (0.0, 0.25, 0.5, 0.75, 1.0, 1.125, 1.25, 1.5)
    assert [window.allow(t) for t in times] == [True, True, True, False, True, False, True,
                                                True]


def test_100_orders_and_200_cancels_per_second_per_key():
    clock = Clock()
    core = VenueCore(VenueConfig(), monotonic=clock)
    account = core.by_key[TEST_API_KEY]
    results = [type(core.place(account, _order(i))[0]) for i in range(101)]
    assert results[:100] == [Accepted] * 100
    [denied] = core.place(account, _order(101))
    assert isinstance(denied, Rejected) and denied.reason == "order_rate_limited"
    other = core.add_account(type(core.config.accounts[0])("pf_other", "other"))
    assert isinstance(core.place(other, _order(0))[0], Accepted)  # per key
    clock.now += 1.0
    assert isinstance(core.place(account, _order(102))[0], Accepted)  # the window slid
    cancels = [type(core.cancel(account, f"o{i}")[0]) for i in range(100)]
    cancels += [type(core.cancel(account, f"missing{i}")[0]) for i in range(100)]
    assert cancels[:100] == [Cancelled] * 100
    [limited] = core.cancel(account, "o102")
    assert isinstance(limited, CancelRejected) and limited.reason == "cancel_rate_limited"
    clock.now += 1.0
    assert isinstance(core.cancel(account, "o102")[0], Cancelled)


@pytest.fixture(scope="module")
def venue():
    with VenueThread(VenueConfig()) as v:
        yield v


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_order_rate_over_a_socket(venue):
    async def go():
        client = await WsClient.connect(venue.ws_url, TEST_API_KEY)
        for i in range(130):
            await client.send(type="order", order_id=f"r{i}", market="ETH-PERP", side="buy",
                              price=100.0, qty=0.01)
        answers = [m for m in await client.sync() if m["type"] in ("order_ack", "order_reject")]
        # 130 orders sent in a burst: the first 100 pass, then the limit refuses.
        assert [m["type"] for m in answers[:100]] == ["order_ack"] * 100
        assert answers[100]["reason"] == "order_rate_limited"
        assert {m.get("reason") for m in answers if m["type"] == "order_reject"} == {
            "order_rate_limited"}
        await client.send(type="cancel_all")  # cancels have their own budget
        assert (await client.next("cancelled"))["reason"] == "user"
        await client.close()
    run(go())


def test_50_subscriptions_per_connection(venue):
    async def go():
        client = await WsClient.connect(venue.ws_url)
        markets = ["BTC-PERP", "ETH-PERP", "SOL-PERP", "BTC-SPOT"]
        depths = range(1, 13)  # 4 markets x 12 depths = 48 orderbook subscriptions
        for depth in depths:
            await client.send(type="subscribe", channel="orderbook", markets=markets,
                              depth=depth)
        await client.send(type="subscribe", channels=["ticker"], markets=markets[:2])
        replies = await client.sync()
        assert sum(m["type"] == "subscribed" for m in replies) == 50
        await client.send(type="subscribe", channel="trades", market="BTC-PERP")
        error = await client.next("error")
        assert error["code"] == "too_many_subscriptions"
        await client.send(type="unsubscribe", channel="ticker", market="ETH-PERP")
        await client.next("unsubscribed")
        await client.send(type="subscribe", channel="trades", market="BTC-PERP")
        assert (await client.next("subscribed", "error"))["type"] == "subscribed"
        await client.close()
    run(go())


def test_10_connections_per_key(venue):
    async def go():
        held = [await WsClient.connect(venue.ws_url, TEST_API_KEY) for _ in range(10)]
        for client in held:
            assert (await client.recv())["type"] == "auth_ok"
        with pytest.raises(InvalidStatus) as refused:
            await WsClient.connect(venue.ws_url, TEST_API_KEY)
        assert refused.value.response.status_code == 429
        assert b"too_many_connections" in refused.value.response.body
        late = await WsClient.connect(venue.ws_url)  # no header: refused at auth instead
        await late.send(type="auth", api_key=TEST_API_KEY)
        assert (await late.next("error"))["code"] == "too_many_connections"
        with pytest.raises(ConnectionClosed) as closed:
            await late.recv()
        assert closed.value.rcvd.code == 1008 and closed.value.rcvd.reason == \
            "too_many_connections"
        await held.pop().close()
        await asyncio.sleep(0.05)
        again = await WsClient.connect(venue.ws_url, TEST_API_KEY)
        assert (await again.recv())["type"] == "auth_ok"
        for client in [*held, again]:
            await client.close()
    run(go())
