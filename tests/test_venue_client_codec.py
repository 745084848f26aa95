"""The client codec without a venue: every message type both ways, exact unit conversion,
and malformed frames, each refused with a typed ProtocolError naming the reason."""

from __future__ import annotations

import random
from decimal import Decimal

import orjson
import pytest

from host.venue_client import codec
from host.venue_client.codec import Decoder, Units, decode
from host.venue_client.errors import EncodeError, ProtocolError
from host.venue_client.events import (
    AuthOk,
    BookSnapshot,
    BookUpdate,
    Cancelled,
    CancelReject,
    Fill,
    MarketStatus,
    OrderAck,
    OrderReject,
    OrderType,
    Pong,
    Side,
    Subscribed,
    Ticker,
    Trade,
    Unsubscribed,
    VenueError,
)
from host.venue_client.markets import MarketTable
from sim.venue import DEFAULT_MARKETS

MARKETS = MarketTable.from_json([spec.describe() for spec in DEFAULT_MARKETS])
VENUE_SPECS = {spec.name: spec for spec in DEFAULT_MARKETS}


def _frame(**fields) -> bytes:
    return orjson.dumps(fields)


# Every message the venue sends, as it prints it (sim/venue: price() and qty() are floats).
SAMPLES = [
    (_frame(type="auth_ok", agent_id="a", account_id=7), AuthOk("a", "7")),
    (_frame(type="subscribed", channel="orderbook", market="BTC-PERP", depth=10),
     Subscribed("orderbook", "BTC-PERP", 10)),
    (_frame(type="subscribed", channel="orders"), Subscribed("orders", None, None)),
    (_frame(type="unsubscribed", channel="ticker", market="ETH-PERP"),
     Unsubscribed("ticker", "ETH-PERP", None)),
    (_frame(type="orderbook", market="BTC-PERP", depth=2, sequence=5, rpt_seq=9,
            bids=[[60000.1, 0.5], [60000.0, 1.0]], asks=[[60000.2, 0.001]], ts_ns=1),
     BookSnapshot("BTC-PERP", 2, 5, 9, ((600001, 500), (600000, 1000)), ((600002, 1),), 1)),
    (_frame(type="book_update", market="SOL-PERP", depth=10, sequence=6,
            bids=[[149.981, 0.0]], asks=[[150.013, 12.3]], ts_ns=2),
     BookUpdate("SOL-PERP", 10, 6, ((149981, 0),), ((150013, 123),), 2)),
    (_frame(type="ticker", market="ETH-PERP", bid=2600.1, bid_qty=0.5, ask=2600.25,
            ask_qty=3.0, ts_ns=3), Ticker("ETH-PERP", 260010, 50, 260025, 300, 3)),
    (_frame(type="trade", market="BTC-SPOT", price=60002.01, qty=0.000123, side="sell",
            trade_id=4, ts_ns=4), Trade("BTC-SPOT", 6000201, 123, Side.SELL, 4, 4)),
    (_frame(type="trade", market="BTC-SPOT", price=60002.01, qty=1.0, side=None,
            trade_id=5, ts_ns=4), Trade("BTC-SPOT", 6000201, 1000000, None, 5, 4)),
    (_frame(type="market_status", market="BTC-PERP", status="halted", reason=3, ts_ns=5),
     MarketStatus("BTC-PERP", True, "3", 5)),
    (_frame(type="order_ack", order_id="o1", market="BTC-PERP", side="buy",
            order_type="post_only", price=60000.1, qty=0.002, status="open", ts_ns=6),
     OrderAck("o1", "BTC-PERP", Side.BUY, OrderType.POST_ONLY, 600001, 2, 6)),
    (_frame(type="order_ack", order_id="o2", market="BTC-PERP", side="sell",
            order_type="market", price=None, qty=0.002, status="open", ts_ns=6),
     OrderAck("o2", "BTC-PERP", Side.SELL, OrderType.MARKET, None, 2, 6)),
    (_frame(type="order_reject", order_id="o3", reason="market_halted", message="halted",
            ts_ns=7), OrderReject("o3", "market_halted", "halted", 7)),
    (_frame(type="fill", order_id="o1", market="BTC-PERP", side="buy", fill_qty=0.001,
            price=60000.2, fee=0.030006, liquidity="taker", remaining_qty=0.001, trade_id=8,
            ts_ns=8),
     Fill("o1", "BTC-PERP", Side.BUY, 1, 600002, Decimal("0.030006"), "taker", 1, 8, 8)),
    (_frame(type="cancelled", order_id="o1", market="BTC-PERP", reason="user",
            remaining_qty=0.001, ts_ns=9), Cancelled("o1", "BTC-PERP", "user", 1, 9)),
    (_frame(type="cancel_reject", order_id="zz", reason="unknown_order", ts_ns=10),
     CancelReject("zz", "unknown_order", 10)),
    (_frame(type="error", code="bad_json", message="no"), VenueError("bad_json", "no", None)),
    (_frame(type="error", code="bad_field", message="x", field="depth"),
     VenueError("bad_field", "x", "depth")),
    (_frame(type="pong", ts_ns=11), Pong(11)),
]


@pytest.mark.parametrize("raw, expected", SAMPLES, ids=[s[1].__class__.__name__ for s in SAMPLES])
def test_decode_every_message_type(raw, expected):
    assert decode(raw, MARKETS) == expected
    assert decode(raw.decode(), MARKETS) == expected  # text or bytes


def test_samples_cover_every_type_the_decoder_knows():
    kinds = {orjson.loads(raw)["type"] for raw, _ in SAMPLES}
    assert kinds == set(Decoder(MARKETS)._handlers)


def test_fast_constructed_events_are_ordinary_frozen_events():
    tick = decode(SAMPLES[6][0], MARKETS)
    assert tick == Ticker("ETH-PERP", 260010, 50, 260025, 300, 3)
    assert hash(tick) == hash(Ticker("ETH-PERP", 260010, 50, 260025, 300, 3))
    with pytest.raises(AttributeError):
        tick.bid = 1


@pytest.mark.parametrize("name", sorted(VENUE_SPECS))
def test_units_agree_with_the_venue_for_random_values(name):
    """The venue prints ticks as floats (sim/venue/markets.py); we must get the ticks back,
    through the cache and through the exact path, and refuse anything off the grid."""
    venue = VENUE_SPECS[name]
    prices = Units(MARKETS[name].tick_size, positive=True)
    qtys = Units(MARKETS[name].lot_size, positive=False)
    rng = random.Random(name)
    for _ in range(3000):
        ticks = rng.randrange(1, 10**rng.randrange(1, 12))
        printed = orjson.loads(orjson.dumps(venue.price(ticks)))
        assert prices[printed] == ticks == prices.exact(printed)
        assert prices.exact(str(venue.price(ticks))) == ticks
        lots = rng.randrange(0, 10**rng.randrange(1, 12))
        assert qtys[orjson.loads(orjson.dumps(venue.qty(lots)))] == lots
    with pytest.raises(ValueError):
        prices.exact(0.0)  # a price of nothing
    assert qtys.exact(0.0) == 0


def test_off_grid_and_non_numbers_are_refused_not_rounded():
    prices = Units("0.1", positive=True)
    for bad in (60000.15, "60000.15", 60000.100001):
        with pytest.raises(ValueError):
            prices.exact(bad)
    with pytest.raises(ValueError):
        prices[60000.15]
    assert 60000.15 not in prices  # a refused value is not cached
    for bad in (True, None, [1], "abc", "nan", float("inf"), -1.0, "1e400000",
                "1e-400000", 1e300, 1.7e308, float("nan")):
        with pytest.raises(ValueError):
            prices.exact(bad)


def test_unit_text_is_exact():
    assert Units("0.1", positive=True).text(432501) == "43250.1"
    assert Units("0.001", positive=False).text(5) == "0.005"
    assert Units("0.000001", positive=False).text(1234567) == "1.234567"
    assert Units("5", positive=True).text(3) == "15"
    assert Units("0.25", positive=True).text(3) == "0.75"


MALFORMED = [
    (b"", "bad_json"), (b"{", "bad_json"), (b"\xff\xfe", "bad_json"), (b"[1]", "not_object"),
    (b"7", "not_object"), (b'"ticker"', "not_object"), (b"{}", "unknown_type"),
    (b'{"type": 5}', "unknown_type"), (b'{"type": ["ticker"]}', "unknown_type"),
    (b'{"type": "hello"}', "unknown_type"),
    (b'{"type": "ticker", "market": "BTC-PERP"}', "missing_field"),
    (b'{"type": "ticker", "market": "XRP-PERP", "bid": 1.0}', "unknown_market"),
    (b'{"type": "ticker", "market": ["BTC-PERP"]}', "bad_field"),
    (_frame(type="ticker", market="BTC-PERP", bid=1.05, bid_qty=1.0, ask=2.0, ask_qty=1.0,
            ts_ns=1), "off_grid"),
    (_frame(type="ticker", market="BTC-PERP", bid=True, bid_qty=1.0, ask=2.0, ask_qty=1.0,
            ts_ns=1), "bad_field"),
    (_frame(type="ticker", market="BTC-PERP", bid=1.0, bid_qty=1.0, ask=2.0, ask_qty=1.0,
            ts_ns=-5), "bad_field"),
    (_frame(type="ticker", market="BTC-PERP", bid=1.0, bid_qty=1.0, ask=2.0, ask_qty=1.0,
            ts_ns="1"), "bad_field"),
    (_frame(type="book_update", market="BTC-PERP", depth=10, sequence=1, bids=[[1.0]],
            asks=[], ts_ns=1), "bad_field"),
    (_frame(type="book_update", market="BTC-PERP", depth=10, sequence=1, bids={"1.0": 1},
            asks=[], ts_ns=1), "bad_field"),
    (_frame(type="book_update", market="BTC-PERP", depth=10, sequence=1.0, bids=[],
            asks=[], ts_ns=1), "bad_field"),
    (_frame(type="book_update", market="BTC-PERP", depth=10, sequence=1, bids=[[1.0, -1.0]],
            asks=[], ts_ns=1), "bad_field"),
    (_frame(type="orderbook", market="BTC-PERP", depth=10, sequence=1, rpt_seq=1,
            bids=[[1.0, 0.0]], asks=[], ts_ns=1), "bad_field"),
    (_frame(type="orderbook", market="BTC-PERP", depth=10, sequence=1, bids=[], asks=[],
            ts_ns=1), "missing_field"),
    (_frame(type="order_ack", order_id="o9", market="BTC-PERP", side="up",
            order_type="limit", price=1.0, qty=0.001, ts_ns=1), "bad_field"),
    (_frame(type="order_ack", order_id="o9", market="BTC-PERP", side="buy",
            order_type="stop", price=1.0, qty=0.001, ts_ns=1), "bad_field"),
    (_frame(type="fill", order_id="o9", market="BTC-PERP", side="buy", fill_qty=0.001,
            price=1.0, fee="lots", liquidity="taker", remaining_qty=0.0, trade_id=1,
            ts_ns=1), "bad_field"),
    (_frame(type="fill", order_id="o9", market="BTC-PERP", side="buy", fill_qty=0.0015,
            price=1.0, fee=0.1, liquidity="taker", remaining_qty=0.0, trade_id=1,
            ts_ns=1), "off_grid"),
    (_frame(type="fill", order_id="o9", market="BTC-PERP", side="buy", fill_qty=0.001,
            price=1.0, fee=0.1, liquidity="both", remaining_qty=0.0, trade_id=1,
            ts_ns=1), "bad_field"),
    (_frame(type="order_reject", order_id=5, reason="x", message="y", ts_ns=1), "bad_field"),
    (_frame(type="order_reject", order_id="o9", reason="x", message=5, ts_ns=1), "bad_field"),
    (_frame(type="market_status", market="BTC-PERP", status="open", ts_ns=1), "bad_field"),
    (_frame(type="subscribed", channel="news"), "bad_field"),
    (_frame(type="subscribed", channel="ticker", market="BTC-PERP", depth=0), "bad_field"),
    (_frame(type="auth_ok", agent_id="a", account_id=None), "bad_field"),
    (_frame(type="pong"), "missing_field"),
]


@pytest.mark.parametrize("raw, reason", MALFORMED)
def test_malformed_frames_raise_a_typed_error(raw, reason):
    with pytest.raises(ProtocolError) as caught:
        decode(raw, MARKETS)
    assert caught.value.reason == reason, caught.value


def test_a_malformed_order_message_names_its_order():
    raw = MALFORMED[24][0]
    with pytest.raises(ProtocolError) as caught:
        decode(raw, MARKETS)
    assert caught.value.order_id == "o9"
    assert caught.value.kind == "order_ack"


def test_encoders_make_what_the_venue_parses():
    from sim.venue import protocol

    spec = MARKETS["BTC-PERP"]
    order = protocol.decode(codec.encode_order("tw1-1", "BTC-PERP", spec, Side.BUY, 1500,
                                               432501, OrderType.POST_ONLY, submit_ns=9))
    assert (order.order_id, order.market, order.side, order.order_type, order.submit_ns) == (
        "tw1-1", "BTC-PERP", "buy", "post_only", 9)
    venue = VENUE_SPECS["BTC-PERP"]
    assert venue.to_ticks(order.price) == 432501 and venue.to_lots(order.qty) == 1500
    market = protocol.decode(codec.encode_order("m", "BTC-PERP", spec, "sell", 1, None,
                                                "market"))
    assert market.price is None and market.order_type == "market"
    sub = protocol.decode(codec.encode_subscribe(["orderbook", "ticker"], ["BTC-PERP"], 20))
    assert (sub.channels, sub.markets, sub.depth, sub.remove) == (
        ("orderbook", "ticker"), ("BTC-PERP",), 20, False)
    unsub = protocol.decode(codec.encode_unsubscribe("ticker", "BTC-PERP"))
    assert unsub.remove and unsub.channels == ("ticker",)
    assert protocol.decode(codec.encode_subscribe("orders")).channels == ("orders",)
    assert protocol.decode(codec.encode_cancel("tw1-1")).order_id == "tw1-1"
    assert protocol.decode(codec.encode_cancel_all()).market is None
    assert protocol.decode(codec.encode_cancel_all("ETH-PERP")).market == "ETH-PERP"
    assert type(protocol.decode(codec.encode_ping())).__name__ == "Ping"
    assert protocol.decode(codec.encode_auth("k1")).api_key == "k1"


@pytest.mark.parametrize("args, reason", [
    (("", "BTC-PERP", Side.BUY, 1, 1, OrderType.LIMIT), "bad_order_id"),
    (("x" * 65, "BTC-PERP", Side.BUY, 1, 1, OrderType.LIMIT), "bad_order_id"),
    (("o", "ETH-PERP", Side.BUY, 1, 1, OrderType.LIMIT), "wrong_market"),
    (("o", "BTC-PERP", "up", 1, 1, OrderType.LIMIT), "bad_side"),
    (("o", "BTC-PERP", Side.BUY, 1, 1, "stop"), "bad_order_type"),
    (("o", "BTC-PERP", Side.BUY, 0, 1, OrderType.LIMIT), "bad_qty"),
    (("o", "BTC-PERP", Side.BUY, 1.5, 1, OrderType.LIMIT), "bad_qty"),
    (("o", "BTC-PERP", Side.BUY, True, 1, OrderType.LIMIT), "bad_qty"),
    (("o", "BTC-PERP", Side.BUY, 1, None, OrderType.LIMIT), "bad_price"),
    (("o", "BTC-PERP", Side.BUY, 1, -3, OrderType.IOC), "bad_price"),
    (("o", "BTC-PERP", Side.BUY, 1, 5, OrderType.MARKET), "bad_price"),
])
def test_bad_orders_are_not_encoded(args, reason):
    order_id, market, side, qty, price, kind = args
    with pytest.raises(EncodeError) as caught:
        codec.encode_order(order_id, market, MARKETS["BTC-PERP"], side, qty, price, kind)
    assert caught.value.reason == reason


@pytest.mark.parametrize("call, reason", [
    (lambda: codec.encode_subscribe(["news"], ["BTC-PERP"]), "unknown_channel"),
    (lambda: codec.encode_subscribe([], ["BTC-PERP"]), "unknown_channel"),
    (lambda: codec.encode_subscribe(["ticker"]), "missing_market"),
    (lambda: codec.encode_subscribe(["orderbook"], ["BTC-PERP"], 0), "bad_depth"),
    (lambda: codec.encode_subscribe(["orderbook"], ["BTC-PERP"], 101), "bad_depth"),
    (lambda: codec.encode_cancel(""), "bad_order_id"),
    (lambda: codec.encode_cancel_all(""), "bad_market"),
    (lambda: codec.encode_auth(""), "bad_key"),
])
def test_bad_requests_are_not_encoded(call, reason):
    with pytest.raises(EncodeError) as caught:
        call()
    assert caught.value.reason == reason


def _mutations(rng: random.Random, raw: bytes):
    data = bytearray(raw)
    for _ in range(rng.randrange(1, 4)):
        choice = rng.randrange(3)
        pos = rng.randrange(len(data))
        if choice == 0:
            data[pos] = rng.randrange(256)
        elif choice == 1:
            del data[pos]
        else:
            data.insert(pos, rng.choice(b'{}[]",:0123456789.-etrufalsn '))
    return bytes(data)


_VALUES = [None, True, False, 0, -1, 1.5, 2**63, "", "x", "BTC-PERP", [], [[1.0, 2.0]], {},
           [1.0], 1e308, "1e9", "buy"]


def test_random_corruption_only_ever_raises_protocol_error():
    """Byte-level and field-level damage to every sample: either a typed event or a
    ProtocolError, never another exception (the session relies on that)."""
    rng = random.Random(6)
    decoder = Decoder(MARKETS)
    outcomes = {"event": 0, "error": 0}
    for _ in range(40):
        for raw, _ in SAMPLES:
            candidates = [_mutations(rng, raw)]
            msg = orjson.loads(raw)
            key = rng.choice(sorted(msg))
            if key != "type":
                damaged = dict(msg)
                damaged[key] = rng.choice(_VALUES)
                candidates.append(orjson.dumps(damaged))
                del damaged[key]
                candidates.append(orjson.dumps(damaged))
            for candidate in candidates:
                try:
                    decoder.decode(candidate)
                    outcomes["event"] += 1
                except ProtocolError as exc:
                    assert exc.reason in {"bad_json", "not_object", "unknown_type",
                                          "missing_field", "bad_field", "unknown_market",
                                          "off_grid"}
                    outcomes["error"] += 1
    assert outcomes["error"] > 500 and outcomes["event"] > 50
