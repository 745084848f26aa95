"""VenueConnection against the real local venue over loopback: every message type the venue
emits, socket options, reconnect and resubscribe, per-market resync, malformed frames,
liveness, a refused key, an unreachable venue, and a key that never reaches a log."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections import Counter

import pytest

from host.venue_client import codec
from host.venue_client.book import SequenceGap, TopOfBook
from host.venue_client.errors import ProtocolError
from host.venue_client.events import OrderType, Side
from host.venue_client.markets import MarketTable
from host.venue_client.session import NotLive, SessionConfig, State, Subscription
from host.venue_client.ws_adapter import ConnectionConfig, StartFailed, VenueConnection
from sim.venue import DEFAULT_MARKETS, TEST_API_KEY, GeneratorConfig, Venue, VenueConfig

MARKETS = MarketTable.from_json([spec.describe() for spec in DEFAULT_MARKETS])
FAST = ConnectionConfig(
    session=SessionConfig(connect_timeout_s=2, handshake_timeout_s=2, ping_interval_s=0.2,
                          pong_timeout_s=0.4, backoff_base_s=0.05, backoff_cap_s=0.4,
                          seed=3),
    start_timeout_s=5, close_timeout_s=1)
BOOKS = Subscription("orderbook", ("BTC-PERP", "ETH-PERP"), 10)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


class Recorder:
    """on_event / on_state that keep everything and let a test wait for a condition."""

    def __init__(self):
        self.events: list = []
        self.states: list[State] = []
        self._changed = asyncio.Event()

    def on_event(self, event, recv_ns: int) -> None:
        assert isinstance(recv_ns, int) and recv_ns <= time.monotonic_ns()
        self.events.append(event)
        self._changed.set()

    def on_state(self, state: State) -> None:
        self.states.append(state)
        self._changed.set()

    def kinds(self) -> Counter:
        return Counter(type(e).__name__ for e in self.events)

    def of(self, name: str, **fields) -> list:
        return [e for e in self.events if type(e).__name__ == name
                and all(getattr(e, k) == v for k, v in fields.items())]

    async def until(self, condition, timeout: float = 5.0):
        async with asyncio.timeout(timeout):
            while not (result := condition()):
                self._changed.clear()
                await self._changed.wait()
        return result


def connection(venue, rec, subs=(BOOKS,), config=FAST, key=TEST_API_KEY):
    return VenueConnection(venue.ws_url, key, MARKETS, subs, config, rec.on_event,
                           rec.on_state)


def market_data():
    return VenueConfig(source=GeneratorConfig(seed=11))


def test_every_message_type_the_venue_emits_decodes():
    async def go():
        async with Venue(market_data()) as venue:
            rec = Recorder()
            subs = (Subscription("orderbook", ("BTC-PERP",), 10),
                    Subscription("ticker", ("BTC-PERP",)), Subscription("trades", ("BTC-PERP",)),
                    Subscription("orders"))
            conn = connection(venue, rec, subs)
            await conn.start()
            top = await rec.until(lambda: conn.top("BTC-PERP"))
            conn.send_order("take", "BTC-PERP", Side.BUY, 1, top.ask, OrderType.IOC)
            conn.send_order("rest", "BTC-PERP", Side.BUY, 1, top.bid - 100, OrderType.POST_ONLY)
            conn.send_order("cross", "BTC-PERP", Side.BUY, 1, top.ask + 100,
                            OrderType.POST_ONLY)
            await rec.until(lambda: rec.of("OrderAck", order_id="rest"))
            conn.cancel("rest")
            conn.cancel("never-placed")
            conn._send(codec.encode_unsubscribe("trades", "BTC-PERP"))
            conn._send('{"type": "no_such_thing"}')
            venue.halt("BTC-PERP")
            venue.resume("BTC-PERP")
            await rec.until(lambda: rec.of("Cancelled", order_id="rest")
                            and rec.of("CancelReject") and rec.of("Unsubscribed")
                            and rec.of("VenueError") and len(rec.of("MarketStatus")) == 2
                            and rec.of("Pong") and rec.of("Trade"))
            await conn.close()
            kinds = rec.kinds()
            assert set(kinds) == {
                "AuthOk", "Subscribed", "Unsubscribed", "BookSnapshot", "BookUpdate", "Ticker",
                "Trade", "MarketStatus", "OrderAck", "OrderReject", "Fill", "Cancelled",
                "CancelReject", "VenueError", "Pong", "TopOfBook"}, kinds
            (fill,) = rec.of("Fill", order_id="take")
            assert (fill.qty, fill.price, fill.liquidity) == (1, top.ask, "taker")
            (reject,) = rec.of("OrderReject", order_id="cross")
            assert reject.reason == "post_only_would_cross"
            assert rec.of("CancelReject")[0].reason == "unknown_order"
            assert rec.of("VenueError")[0].code == "unknown_type"
            assert [s.halted for s in rec.of("MarketStatus")] == [True, False]
            assert conn.session_stats.malformed == 0
            assert rec.states == [State.CONNECTING, State.AUTHENTICATING, State.SUBSCRIBING,
                                  State.LIVE, State.CLOSED]
    run(go())


def test_compression_off_and_tcp_nodelay_on():
    async def go():
        async with Venue(VenueConfig()) as venue:
            rec = Recorder()
            conn = connection(venue, rec, subs=())
            await conn.start()
            ws = conn._ws
            sock = ws.transport.get_extra_info("socket")
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
            assert ws.response.headers.get("Sec-WebSocket-Extensions") is None
            assert "Sec-WebSocket-Extensions" not in ws.request.headers
            await conn.close()
    run(go())


def test_a_dropped_connection_reconnects_and_resubscribes():
    async def go():
        async with Venue(market_data()) as venue:
            rec = Recorder()
            conn = connection(venue, rec, subs=(BOOKS, Subscription("orders")))
            await conn.start()
            await rec.until(lambda: conn.top("BTC-PERP") and conn.top("ETH-PERP"))
            assert venue.drop_connections(TEST_API_KEY) == 1
            await rec.until(lambda: rec.states.count(State.LIVE) == 2)
            assert rec.states[3:] == [State.LIVE, State.BACKOFF, State.CONNECTING,
                                      State.AUTHENTICATING, State.SUBSCRIBING, State.LIVE]
            snaps = Counter(e.market for e in rec.of("BookSnapshot"))
            await rec.until(lambda: Counter(e.market for e in rec.of("BookSnapshot"))
                            == Counter({"BTC-PERP": 2, "ETH-PERP": 2}))
            assert snaps["BTC-PERP"] >= 1
            await rec.until(lambda: conn.top("BTC-PERP") and conn.top("ETH-PERP"))
            top = conn.top("BTC-PERP")
            conn.send_order("after", "BTC-PERP", Side.BUY, 1, top.bid - 50,
                            OrderType.POST_ONLY)
            await rec.until(lambda: rec.of("OrderAck", order_id="after"))
            stats = conn.session_stats
            assert (stats.connects, stats.lost, stats.close_reasons) == (2, 1, {"dropped": 1})
            await conn.close()
    run(go())


def _venue_top(venue, market: str) -> tuple[int, int, int, int]:
    book = venue.core.engine.books[venue.core.markets[market].market_id]
    return book.bbo()


def _snapshots(rec, market):
    return len(rec.of("BookSnapshot", market=market))


async def _check_resync(venue, rec, conn, lost_market, other_market, lose):
    await rec.until(lambda: conn.top(lost_market) and conn.top(other_market))
    lose()
    gap = await rec.until(lambda: [e for e in rec.events if isinstance(e, SequenceGap)])
    assert [g.market for g in gap] == [lost_market]
    await rec.until(lambda: _snapshots(rec, lost_market) == 2 and conn.book(lost_market).synced)
    assert _snapshots(rec, other_market) == 1  # the other market was never resubscribed
    assert conn.book(other_market).gaps == 0
    assert conn.session_stats.resyncs == 1 and conn.state is State.LIVE
    # Both books agree with the venue's own book once it is quiet for a moment.
    for _ in range(50):
        await asyncio.sleep(0.02)
        tops = {m: conn.top(m) for m in (lost_market, other_market)}
        if all(t is not None and (t.bid, t.bid_qty, t.ask, t.ask_qty) == _venue_top(venue, m)
               for m, t in tops.items()):
            return
    raise AssertionError(f"books differ from the venue: {tops}")


def test_a_lost_book_update_resyncs_that_market_only():
    async def go():
        async with Venue(market_data()) as venue:
            rec = Recorder()
            conn = connection(venue, rec)
            await conn.start()
            await _check_resync(venue, rec, conn, "BTC-PERP", "ETH-PERP",
                                lambda: venue.lose_book_update("BTC-PERP"))
            await conn.close()
    run(go())


def test_a_frame_lost_on_the_way_in_resyncs_that_market_only():
    async def go():
        async with Venue(market_data()) as venue:
            rec = Recorder()
            conn = connection(venue, rec)
            await conn.start()

            def lose_one_eth_update():
                def hook(raw: bytes):
                    if b'"book_update"' in raw and b'"ETH-PERP"' in raw:
                        conn.frame_hook = None
                        return None
                    return raw
                conn.frame_hook = hook

            await _check_resync(venue, rec, conn, "ETH-PERP", "BTC-PERP", lose_one_eth_update)
            assert conn.stats.frames_discarded == 1
            await conn.close()
    run(go())


def test_malformed_frames_are_reported_and_the_session_goes_on():
    async def go():
        async with Venue(market_data()) as venue:
            rec = Recorder()
            conn = connection(venue, rec, subs=(Subscription("ticker", ("BTC-PERP",)),))
            await conn.start()
            damage = iter([b'{"type": "ticker", "market": "BTC-PERP", "bid": ',
                           b'{"type": "ticker", "market": "DOGE-PERP"}', b"[]"])

            def hook(raw: bytes):
                if b'"ticker"' in raw:
                    return next(damage, raw)
                return raw
            conn.frame_hook = hook
            await rec.until(lambda: len([e for e in rec.events
                                         if isinstance(e, ProtocolError)]) == 3)
            before = len(rec.of("Ticker"))
            await rec.until(lambda: len(rec.of("Ticker")) > before)
            reasons = [e.reason for e in rec.events if isinstance(e, ProtocolError)]
            assert reasons == ["bad_json", "unknown_market", "not_object"]
            assert conn.state is State.LIVE and conn.session_stats.malformed == 3
            await conn.close()
    run(go())


def test_missing_pongs_declare_the_link_dead_and_it_comes_back():
    async def go():
        async with Venue(VenueConfig()) as venue:
            rec = Recorder()
            conn = connection(venue, rec, subs=())
            await conn.start()
            conn.frame_hook = lambda raw: None if b'"pong"' in raw else raw
            await rec.until(lambda: State.BACKOFF in rec.states)
            assert conn.session_stats.close_reasons == {"pong_timeout": 1}
            with pytest.raises(NotLive):
                conn.send_order("x", "BTC-PERP", Side.BUY, 1, 1)
            conn.frame_hook = None
            await rec.until(lambda: rec.states.count(State.LIVE) == 2)
            await rec.until(lambda: conn.session_stats.last_rtt_ns is not None)
            await conn.close()
    run(go())


def test_a_refused_key_fails_start_without_retrying():
    async def go():
        async with Venue(VenueConfig()) as venue:
            rec = Recorder()
            conn = connection(venue, rec, key="pf_not_a_key")
            with pytest.raises(StartFailed) as caught:
                await conn.start()
            assert caught.value.reason == "bad_api_key"
            assert conn.state is State.CLOSED and conn.session_stats.connects == 1
    run(go())


def test_an_unreachable_venue_is_retried_with_growing_delays_until_closed():
    async def go():
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]  # closed again: nothing listens there
        rec = Recorder()
        conn = VenueConnection(f"ws://127.0.0.1:{port}/trading", TEST_API_KEY, MARKETS, (),
                               FAST, rec.on_event, rec.on_state)
        await conn.start(wait=False)
        await rec.until(lambda: rec.states.count(State.BACKOFF) >= 5)
        assert conn.session.backoff.attempts >= 5
        assert conn.session_stats.close_reasons == {"connect_failed": conn.session_stats.lost}
        started = time.monotonic()
        await conn.close()
        assert conn.state is State.CLOSED
        assert time.monotonic() - started < 2  # bounded: close does not wait out a backoff
        with pytest.raises(StartFailed) as caught:
            await VenueConnection(f"ws://127.0.0.1:{port}/trading", TEST_API_KEY, MARKETS, (),
                                  ConnectionConfig(session=FAST.session,
                                                   start_timeout_s=0.3)).start()
        assert caught.value.reason == "start_timeout"
    run(go())


def test_a_failing_callback_is_counted_and_the_connection_goes_on():
    async def go():
        async with Venue(market_data()) as venue:
            seen = []

            def on_event(event, recv_ns):
                seen.append(event)
                if isinstance(event, TopOfBook):
                    raise RuntimeError("strategy bug")
            conn = VenueConnection(venue.ws_url, TEST_API_KEY, MARKETS, (BOOKS,), FAST,
                                   on_event)
            await conn.start()
            for _ in range(100):
                await asyncio.sleep(0.02)
                if conn.stats.callback_errors >= 3:
                    break
            assert conn.stats.callback_errors >= 3 and conn.state is State.LIVE
            await conn.close()
    run(go())


def test_the_key_never_reaches_a_log(caplog):
    async def go():
        async with Venue(VenueConfig()) as venue:
            rec = Recorder()
            conn = connection(venue, rec, subs=(Subscription("orders"),))
            await conn.start()
            await rec.until(lambda: conn.session_stats.last_rtt_ns is not None)
            venue.drop_connections(TEST_API_KEY)
            await rec.until(lambda: rec.states.count(State.LIVE) == 2)
            await conn.close()
            return conn

    with caplog.at_level(logging.DEBUG):
        conn = run(go())
    frames = [r for r in caplog.records if r.name == "tickwire.venue_client.websockets"]
    assert any("auth" in r.getMessage() for r in frames)  # frame logging was on
    venue = [r for r in caplog.records
             if r.name == "tickwire.venue" or r.name.startswith("tickwire.venue.")]
    ours = [r for r in caplog.records if r not in venue]
    # The venue's own frame log shows the key (so this check can see one); ours never does.
    assert any(TEST_API_KEY in r.getMessage() for r in venue)
    assert not [r.getMessage() for r in ours if TEST_API_KEY in r.getMessage()]
    assert TEST_API_KEY not in repr(conn.session.__dict__) + repr(conn.__dict__)
