"""The WebSocket JSON codec: text frames in, typed commands out; venue events in, JSON out.

Sans-I/O and stateless. `decode` never raises anything but `VenueError` subclasses, each with
a `Reason` code; an order whose `order_id` could be read carries it on the error, so the
client's order can be rejected by id rather than with an anonymous error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import orjson

from sim.venue.errors import BadField, ProtocolError, Reason, VenueError

MAX_ID_LEN = 64
CHANNELS = ("orderbook", "ticker", "trades", "orders")


@dataclass(frozen=True, slots=True)
class Auth:
    api_key: str


@dataclass(frozen=True, slots=True)
class Subscribe:
    channels: tuple[str, ...]
    markets: tuple[str, ...]
    depth: int | None
    remove: bool = False


class PlaceOrder(NamedTuple):  # built once per order: a tuple is cheaper than a dataclass
    order_id: str
    market: str
    side: str
    order_type: str
    price: object  # number or decimal string, converted with the market's tick size
    qty: object
    stp: str
    submit_ns: int | None


@dataclass(frozen=True, slots=True)
class Cancel:
    order_id: str


@dataclass(frozen=True, slots=True)
class CancelAll:
    market: str | None


@dataclass(frozen=True, slots=True)
class Ping:
    pass


def decode(raw: bytes | str):
    try:
        msg = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"not valid JSON: {exc}", code=Reason.BAD_JSON) from None
    if not isinstance(msg, dict):
        raise ProtocolError("a message is a JSON object", code=Reason.NOT_OBJECT)
    kind = msg.get("type")
    handler = _DECODERS.get(kind) if isinstance(kind, str) else None
    if handler is None:
        raise ProtocolError(f"unknown message type {kind!r}", code=Reason.UNKNOWN_TYPE,
                            field="type")
    return handler(msg)


def _str(msg: dict, name: str, *, required: bool = True, limit: int = MAX_ID_LEN) -> str | None:
    value = msg.get(name)
    if value is None:
        if required:
            raise BadField(f"{name} is required", code=Reason.MISSING_FIELD, field=name)
        return None
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise BadField(f"{name} must be a string of 1 to {limit} characters", field=name)
    return value


def _choice(msg: dict, name: str, allowed: tuple[str, ...], default: str | None) -> str:
    value = msg.get(name, default)
    if value is None:
        raise BadField(f"{name} is required", code=Reason.MISSING_FIELD, field=name)
    if value not in allowed:
        raise BadField(f"{name} must be one of {', '.join(allowed)}", field=name)
    return value


def _names(msg: dict, one: str, many: str) -> tuple[str, ...]:
    if many in msg:
        values = msg[many]
        if (not isinstance(values, list) or not values
                or not all(isinstance(v, str) and 0 < len(v) <= MAX_ID_LEN for v in values)):
            raise BadField(f"{many} must be a non-empty list of strings", field=many)
        return tuple(values)
    if one in msg:
        return (_str(msg, one),)
    return ()


def _auth(msg: dict) -> Auth:
    return Auth(_str(msg, "api_key", limit=256))


def _subscribe(msg: dict, remove: bool = False) -> Subscribe:
    channels = _names(msg, "channel", "channels")
    if not channels:
        raise BadField("channel or channels is required", code=Reason.MISSING_FIELD,
                       field="channel")
    for channel in channels:
        if channel not in CHANNELS:
            raise BadField(f"unknown channel {channel!r}; channels are {', '.join(CHANNELS)}",
                           code=Reason.UNKNOWN_CHANNEL, field="channel")
    markets = _names(msg, "market", "markets")
    depth = msg.get("depth")
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int)
                              or depth < 1):
        raise BadField("depth must be a positive integer", field="depth")
    return Subscribe(channels, markets, depth, remove)


_SIDES = ("buy", "sell")
_ORDER_TYPES = ("limit", "market", "ioc", "post_only")
_STP_MODES = ("cancel_taker", "cancel_maker", "cancel_both")


def _order(msg: dict) -> PlaceOrder:
    # The common case, checked inline: exactly what the full checks below would accept.
    get = msg.get
    order_id, market = get("order_id"), get("market")
    side, order_type = get("side"), get("order_type", "limit")
    stp, price, qty = get("stp", "cancel_taker"), get("price"), get("qty")
    submit_ns = get("submit_ns")
    if (order_id.__class__ is str and 0 < len(order_id) <= MAX_ID_LEN
            and market.__class__ is str and 0 < len(market) <= MAX_ID_LEN
            and side.__class__ is str and side in _SIDES
            and order_type.__class__ is str and order_type in _ORDER_TYPES
            and stp.__class__ is str and stp in _STP_MODES
            and (price is None) == (order_type == "market") and qty is not None
            and (submit_ns is None or submit_ns.__class__ is int)):
        return PlaceOrder(order_id, market, side, order_type, price, qty, stp, submit_ns)
    return _order_checked(msg)


def _order_checked(msg: dict) -> PlaceOrder:
    order_id = _str(msg, "order_id")
    try:
        market = _str(msg, "market")
        side = _choice(msg, "side", _SIDES, None)
        order_type = _choice(msg, "order_type", _ORDER_TYPES, "limit")
        stp = _choice(msg, "stp", _STP_MODES, "cancel_taker")
        price = msg.get("price")
        if order_type == "market":
            if price is not None:
                raise BadField("a market order takes no price", field="price")
        elif price is None:
            raise BadField("price is required", code=Reason.MISSING_FIELD, field="price")
        qty = msg.get("qty")
        if qty is None:
            raise BadField("qty is required", code=Reason.MISSING_FIELD, field="qty")
        submit_ns = msg.get("submit_ns")
        if submit_ns is not None and (isinstance(submit_ns, bool)
                                      or not isinstance(submit_ns, int)):
            raise BadField("submit_ns must be an integer", field="submit_ns")
    except VenueError as exc:
        exc.order_id = order_id
        raise
    return PlaceOrder(order_id, market, side, order_type, price, qty, stp, submit_ns)


def _cancel(msg: dict) -> Cancel:
    return Cancel(_str(msg, "order_id"))


def _cancel_all(msg: dict) -> CancelAll:
    return CancelAll(_str(msg, "market", required=False))


_DECODERS = {
    "auth": _auth,
    "subscribe": _subscribe,
    "unsubscribe": lambda msg: _subscribe(msg, remove=True),
    "order": _order,
    "cancel": _cancel,
    "cancel_all": _cancel_all,
    "ping": lambda msg: Ping(),
}
MESSAGE_TYPES = tuple(_DECODERS)


def bearer_key(value: str | None) -> str | None:
    """The key in an `Authorization: Bearer <key>` header value, if that is what it is."""
    if value and value[:7].lower() == "bearer ":
        return value[7:].strip() or None
    return None


def encode(message: dict) -> bytes:
    return orjson.dumps(message)


def error(code: Reason | str, message: str, **extra) -> bytes:
    return orjson.dumps({"type": "error", "code": str(code), "message": message, **extra})
