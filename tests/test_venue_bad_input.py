"""Bad input gets an error message or a close with a reason, and touches no other session:
after each case a bystander's resting order, subscription and connection are intact."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from websockets.exceptions import ConnectionClosed

from sim.venue import TEST_ACCOUNT, TEST_API_KEY, AccountSpec, VenueConfig
from sim.venue.testing import WsClient
from sim.venue.threaded import VenueThread

BYSTANDER_KEY = "pf_test_bystander"


@pytest.fixture(scope="module")
def venue():
    config = VenueConfig(accounts=(TEST_ACCOUNT, AccountSpec(BYSTANDER_KEY, "bystander")))
    with VenueThread(config) as v:
        yield v


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


ORDER = {"type": "order", "order_id": "bad1", "market": "BTC-PERP", "side": "buy",
         "price": 50000.0, "qty": 0.001}

# (frame to send, what must come back: ("error", code) or ("order_reject", reason))
ANSWERED = [
    ('{"type": "order",', ("error", "bad_json")),
    ("", ("error", "bad_json")),
    ("[" * 2000 + "]" * 2000, ("error", "bad_json")),
    ('{"type": "order", "price": NaN}', ("error", "bad_json")),
    ("[1, 2]", ("error", "not_object")),
    ('"order"', ("error", "not_object")),
    ('{"type": "teleport"}', ("error", "unknown_type")),
    ('{"type": 5}', ("error", "unknown_type")),
    ('{"no_type": true}', ("error", "unknown_type")),
    ({**ORDER, "qty": "abc"}, ("order_reject", "bad_field")),
    ({**ORDER, "qty": [1]}, ("order_reject", "bad_field")),
    ({**ORDER, "qty": -0.001}, ("order_reject", "qty_too_small")),
    ({**ORDER, "price": True}, ("order_reject", "bad_field")),
    ({**ORDER, "price": 0}, ("order_reject", "bad_field")),
    ({**ORDER, "price": 1e300}, ("order_reject", "bad_field")),
    ({**ORDER, "price": 50000.05}, ("order_reject", "price_not_on_tick")),
    ({**ORDER, "side": "long"}, ("order_reject", "bad_field")),
    ({**ORDER, "order_type": "fok"}, ("order_reject", "bad_field")),
    ({**ORDER, "market": "NOPE-PERP"}, ("order_reject", "unknown_market")),
    ({**ORDER, "market": None}, ("order_reject", "missing_field")),
    ({**ORDER, "submit_ns": "now"}, ("order_reject", "bad_field")),
    ({**ORDER, "order_id": 17}, ("error", "bad_field")),
    ({**ORDER, "order_id": "x" * 65}, ("error", "bad_field")),
    ({"type": "cancel", "order_id": {}}, ("error", "bad_field")),
    ({"type": "cancel", "order_id": "never"}, ("cancel_reject", "unknown_order")),
    ({"type": "subscribe", "channel": "orderbook", "market": "BTC-PERP", "depth": "20"},
     ("error", "bad_field")),
    ({"type": "subscribe", "channel": "orderbook", "market": "BTC-PERP", "depth": 10**6},
     ("error", "bad_field")),
    ({"type": "subscribe", "channels": "ticker", "markets": ["BTC-PERP"]},
     ("error", "bad_field")),
    ({"type": "subscribe", "channels": ["ticker"], "markets": [1]}, ("error", "bad_field")),
    ({"type": "subscribe", "channels": ["weather"], "markets": ["BTC-PERP"]},
     ("error", "unknown_channel")),
    ({"type": "subscribe", "channel": "ticker"}, ("error", "missing_field")),
    ({"type": "auth", "api_key": 123}, ("error", "bad_field")),
    ({"type": "auth", "api_key": BYSTANDER_KEY}, ("error", "already_authenticated")),
]


async def _bystander(venue):
    client = await WsClient.connect(venue.ws_url, BYSTANDER_KEY)
    await client.send(type="subscribe", channel="orderbook", market="SOL-PERP", depth=5)
    await client.send(type="order", order_id="keep", market="SOL-PERP", side="buy",
                      price=120.0, qty=1.0, order_type="post_only")
    assert "order_ack" in [m["type"] for m in await client.sync()]
    return client


async def _still_fine(venue, client: WsClient) -> None:
    """The bystander's order rests, its subscription delivers, the venue takes new work."""
    await client.send(type="order", order_id="probe", market="SOL-PERP", side="buy",
                      price=121.0, qty=1.0, order_type="post_only")
    seen = await client.sync()
    assert [m["type"] for m in seen] == ["order_ack", "book_update"]
    await client.send(type="cancel", order_id="probe")
    await client.send(type="cancel", order_id="keep")
    seen = await client.sync()
    assert [m["order_id"] for m in seen if m["type"] == "cancelled"] == ["probe", "keep"]


@pytest.mark.parametrize("frame,expected", ANSWERED, ids=range(len(ANSWERED)))
def test_bad_messages_are_answered_and_harm_nobody(venue, frame, expected):
    async def go():
        bystander = await _bystander(venue)
        attacker = await WsClient.connect(venue.ws_url, TEST_API_KEY)
        await attacker.recv()
        if isinstance(frame, dict):
            await attacker.send(**frame)
        else:
            await attacker.ws.send(frame)
        answer = await attacker.next("error", "order_reject", "cancel_reject")
        kind, code = expected
        assert answer["type"] == kind
        assert answer.get("code", answer.get("reason")) == code
        assert answer.get("message", "x")
        # the attacker's own connection still works, and so does everyone else's
        await attacker.send(type="ping")
        await attacker.next("pong")
        await _still_fine(venue, bystander)
        await attacker.close()
        await bystander.close()
    run(go())


@pytest.mark.parametrize("case", ["huge_frame", "invalid_utf8", "binary", "abrupt_close"])
def test_frames_that_close_or_are_refused(venue, case):
    async def go():
        bystander = await _bystander(venue)
        attacker = await WsClient.connect(venue.ws_url, TEST_API_KEY, max_size=None)
        await attacker.recv()
        if case == "huge_frame":
            await attacker.ws.send('{"type": "ping", "pad": "' + "x" * 100_000 + '"}')
            with pytest.raises(ConnectionClosed) as closed:
                await attacker.recv()
            assert closed.value.rcvd.code == 1009  # message too big, with a reason
            assert closed.value.rcvd.reason
        elif case == "invalid_utf8":
            await attacker.ws.send(b'{"type": "ping", "x": "\xff\xfe"}', text=True)
            with pytest.raises(ConnectionClosed) as closed:
                await attacker.recv()
            assert closed.value.rcvd.code == 1007
        elif case == "binary":
            await attacker.ws.send(b'{"type": "ping"}')
            assert (await attacker.next("error"))["code"] == "binary_not_supported"
            await attacker.close()
        else:
            await attacker.send(**{**ORDER, "order_id": "left-behind", "price": 100.0})
            await attacker.next("order_ack")
            attacker.ws.transport.abort()
        await _still_fine(venue, bystander)
        await bystander.close()
    run(go())


def test_frames_are_answered_in_arrival_order_whatever_path_they_take(venue):
    """Complete text frames are handled as they are read; binary and fragmented ones go
    through websockets' queue. One TCP write carrying all kinds must be answered in order."""
    async def go():
        client = await WsClient.connect(venue.ws_url, TEST_API_KEY)
        await client.recv()
        proto = client.ws.protocol

        def order(order_id: str) -> bytes:
            return orjson.dumps({**ORDER, "order_id": order_id, "price": 100.0,
                                 "order_type": "post_only"})

        fragmented = order("fragmented")
        proto.send_text(order("first"))
        proto.send_binary(b'{"type": "ping"}')
        proto.send_text(order("after-binary"))
        proto.send_text(fragmented[:20], fin=False)
        proto.send_continuation(fragmented[20:], fin=True)
        proto.send_text(order("after-fragments"))
        client.ws.send_data()  # all six frames in one write
        seen = [await client.recv() for _ in range(5)]
        assert [(m["type"], m.get("order_id", m.get("code"))) for m in seen] == [
            ("order_ack", "first"), ("error", "binary_not_supported"),
            ("order_ack", "after-binary"), ("order_ack", "fragmented"),
            ("order_ack", "after-fragments")]
        await client.send(type="cancel_all")
        assert len([m for m in await client.sync() if m["type"] == "cancelled"]) == 4
        await client.close()
    run(go())
