"""RestClient against the real local venue over loopback, plus servers that misbehave on
purpose: answers in ticks, lots and Decimal; typed errors for every refusal and failure."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from host.venue_client.events import OrderType, Side, VenueOrder
from host.venue_client.rest import RateLimited, RestClient, RestError, RestTransportError
from sim.venue import TEST_API_KEY, GeneratorConfig, Limits, Venue, VenueConfig


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_account_work_in_ticks_lots_and_decimal():
    async def go():
        async with Venue(VenueConfig(source=GeneratorConfig(seed=5))) as venue, \
                RestClient(venue.rest_url, TEST_API_KEY, timeout_s=2) as rest:
            markets = await rest.markets()
            assert [m.name for m in markets] == ["BTC-PERP", "ETH-PERP", "SOL-PERP",
                                                 "BTC-SPOT"]
            balance = await rest.balance()
            assert balance["balance_usdc"] == Decimal("100000.0")
            assert "success" not in balance
            await rest.request("POST", "/api/v1/orders", {
                "market": "BTC-PERP", "side": "sell", "type": "market", "qty": "0.003"})
            await rest.request("POST", "/api/v1/orders", {
                "market": "ETH-PERP", "side": "buy", "type": "limit", "price": "1000.05",
                "qty": "0.5", "client_id": "keep-1"})
            await rest.request("POST", "/api/v1/orders", {
                "market": "BTC-PERP", "side": "buy", "type": "limit", "price": "50000.1",
                "qty": "0.002", "client_id": "keep-2"})
            (position,) = await rest.positions(markets)
            assert (position.market, position.qty) == ("BTC-PERP", -3)
            assert isinstance(position.entry_price, Decimal)
            orders = await rest.open_orders(markets)
            assert sorted(orders, key=lambda o: o.order_id) == [
                VenueOrder("keep-1", "ETH-PERP", Side.BUY, OrderType.LIMIT, 100005, 50, 0,
                           50),
                VenueOrder("keep-2", "BTC-PERP", Side.BUY, OrderType.LIMIT, 500001, 2, 0,
                           2)]
            assert [o.order_id for o in await rest.open_orders(markets, "ETH-PERP")] == [
                "keep-1"]
            await rest.cancel("keep-2")
            with pytest.raises(RestError) as caught:
                await rest.cancel("keep-2")
            assert (caught.value.status, caught.value.code) == (404, "unknown_order")
            assert await rest.cancel_all("BTC-PERP") == 0
            assert await rest.cancel_all() == 1
            assert await rest.open_orders(markets) == []
            assert rest.connects == 1  # one keep-alive connection throughout
    run(go())


def test_refusals_are_typed():
    async def go():
        config = VenueConfig(limits=Limits(orders_per_s=2))
        async with Venue(config) as venue:
            async with RestClient(venue.rest_url, "pf_wrong_key", timeout_s=2) as stranger:
                with pytest.raises(RestError) as caught:
                    await stranger.balance()
                assert (caught.value.status, caught.value.reason) == (401, "bad_api_key")
                assert "pf_wrong_key" not in str(caught.value)
            async with RestClient(venue.rest_url, TEST_API_KEY, timeout_s=2) as rest:
                markets = await rest.markets()
                with pytest.raises(RestError) as caught:
                    await rest.open_orders(markets, "XRP-PERP")
                assert (caught.value.status, caught.value.code) == (404, "unknown_market")
                order = {"market": "BTC-PERP", "side": "buy", "type": "limit",
                         "price": "100", "qty": "0.001"}
                await rest.request("POST", "/api/v1/orders", order)
                await rest.request("POST", "/api/v1/orders", order)
                with pytest.raises(RateLimited) as limited:
                    await rest.request("POST", "/api/v1/orders", order)
                assert (limited.value.status, limited.value.code) == (429, "order_rate_limited")
                assert limited.value.retry_after_s == 1.0
                assert len(await rest.open_orders(markets)) == 2  # still usable after
    run(go())


async def _serve(handler):
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


def test_a_silent_server_times_out():
    async def go():
        async def silent(reader, writer):
            await reader.read(65536)
            await asyncio.sleep(10)

        server, url = await _serve(silent)
        async with server, RestClient(url, TEST_API_KEY, timeout_s=0.2) as rest:
            with pytest.raises(RestTransportError) as caught:
                await rest.balance()
            assert caught.value.reason == "timeout"
    run(go())


@pytest.mark.parametrize("answer, reason", [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "bad_response"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]", "bad_response"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n{\"markets\": 1}", "bad_response"),
    (b"NONSENSE\r\n\r\n", "transport"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"a\"", "transport"),
    (b"", "transport"),
])
def test_a_broken_answer_is_a_typed_transport_error(answer, reason):
    async def go():
        async def broken(reader, writer):
            await reader.read(65536)
            writer.write(answer)
            await writer.drain()
            writer.close()

        server, url = await _serve(broken)
        async with server, RestClient(url, TEST_API_KEY, timeout_s=1) as rest:
            with pytest.raises(RestTransportError) as caught:
                await rest.markets()
            assert caught.value.reason == reason
    run(go())


def test_an_error_page_that_is_not_json_keeps_its_status():
    async def go():
        async def proxy_error(reader, writer):
            await reader.read(65536)
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 3\r\n\r\nbad")
            await writer.drain()

        server, url = await _serve(proxy_error)
        async with server, RestClient(url, TEST_API_KEY, timeout_s=1) as rest:
            with pytest.raises(RestError) as caught:
                await rest.balance()
            assert (caught.value.status, caught.value.code) == (502, "http_502")
    run(go())


def test_a_keep_alive_connection_closed_while_idle_is_reopened():
    async def go():
        async with Venue(VenueConfig()) as venue, \
                RestClient(venue.rest_url, TEST_API_KEY, timeout_s=2) as rest:
            await rest.balance()
            rest._writer.transport.abort()  # as if the server had timed it out
            await asyncio.sleep(0.01)
            assert (await rest.balance())["balance_usdc"] == Decimal("100000.0")
            assert rest.connects == 2
    run(go())


def test_a_connection_cut_under_a_get_is_retried_once_but_a_post_is_not():
    async def go():
        served = []

        async def one_answer_per_connection(reader, writer):
            # Answers the first request of each connection, then closes on the next one
            # without a word: a keep-alive connection the server gave up on.
            await reader.readuntil(b"\r\n\r\n")
            served.append(1)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n{\"orders\":[]}")
            await writer.drain()
            await reader.readuntil(b"\r\n\r\n")
            writer.transport.abort()

        server, url = await _serve(one_answer_per_connection)
        async with server, RestClient(url, TEST_API_KEY, timeout_s=1) as rest:
            assert await rest.request("GET", "/x") == {"orders": []}
            assert await rest.request("GET", "/x") == {"orders": []}  # retried on a new one
            assert (len(served), rest.connects) == (2, 2)
            with pytest.raises(RestTransportError) as caught:
                await rest.request("POST", "/x", {"a": 1})
            assert caught.value.reason == "transport" and len(served) == 2
    run(go())


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        RestClient("ftp://x", TEST_API_KEY)
    with pytest.raises(ValueError):
        RestClient("http://127.0.0.1:1", TEST_API_KEY, timeout_s=0)
