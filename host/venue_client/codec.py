"""The venue's WebSocket JSON, both ways: the only code in the client that sees JSON.

Out: `encode_auth`, `encode_subscribe`, `encode_unsubscribe`, `encode_order`, `encode_cancel`,
`encode_cancel_all`, `encode_ping` each return one frame's text. Prices and quantities go out
as exact decimal strings built from integer ticks and lots (the venue takes strings).

In: `decode(text, markets)` (or `Decoder(markets).decode(text)`, which skips a cache lookup)
returns one typed event from events.py, with prices in integer ticks and sizes in integer
lots. Anything else raises `ProtocolError` with a reason code; nothing is half-decoded.

Hot path (ticker, book_update, order_ack, fill): orjson, then each JSON number goes through a
per-market cache float -> units, so a price seen before costs one dict lookup. A value not
seen before is converted exactly once: the venue prints `ticks * tick_size` as the shortest
float, so `units = round(value / tick_size)` is accepted only if `units * tick_size`, rounded
once to a float, is that same float (Python's int / int is correctly rounded). Anything off
the grid is `off_grid`, never rounded. No Decimal on this path, except the fee of a fill.
"""

from __future__ import annotations

import dataclasses
import weakref
from decimal import Decimal, InvalidOperation

import orjson

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
from host.venue_client.markets import MarketSpec, MarketTable

CHANNELS = ("orderbook", "ticker", "trades", "orders")
MAX_ORDER_ID = 64
MAX_DEPTH = 100
INT64_MAX = (1 << 63) - 1  # ticks and lots are int64 everywhere downstream (DESIGN 3)
_CACHE_ENTRIES = 1 << 15
_SIDES = {"buy": Side.BUY, "sell": Side.SELL}
_TYPES = {t.value: t for t in OrderType}
_dumps = orjson.dumps
_loads = orjson.loads


# -- units: JSON number <-> integer ticks or lots ------------------------------------------

class Units(dict):
    """float -> integer units of one size (a tick or a lot), validated once per value.

    `positive` refuses 0 (prices); quantities may be 0 (a removed level, nothing left)."""

    __slots__ = ("num", "den", "scale", "positive", "size", "places")

    def __init__(self, size: str, *, positive: bool):
        super().__init__()
        self.size = size
        self.num, self.den = Decimal(size).as_integer_ratio()
        self.scale = self.den / self.num
        self.positive = positive
        # Decimal places of the size, when its denominator is a power of ten (always, for a
        # size written in decimal), for formatting units back into text.
        d = self.den
        places = 0
        while d % 10 == 0:
            d //= 10
            places += 1
        self.places = places if d == 1 else None

    def __missing__(self, value: float) -> int:
        # Only floats are looked up here (see convert); this is their validating conversion.
        units = self.exact_float(value)
        if len(self) >= _CACHE_ENTRIES:
            self.clear()
        self[value] = units
        return units

    def convert(self, value) -> int:
        if value.__class__ is float:
            return self[value]
        return self.exact(value)

    def exact_float(self, value: float) -> int:
        if not -1e19 < value < 1e19:  # NaN and inf fail this too
            raise ValueError(f"{value!r} is not a finite price or size")
        units = round(value * self.scale)
        if (units * self.num) / self.den != value:
            raise _OffGridValue(f"{value!r} is not a multiple of {self.size}")
        return self._checked(units, value)

    def exact(self, value) -> int:
        """Any JSON value: float, int or decimal string. Raises ValueError/_OffGridValue."""
        cls = value.__class__
        if cls is float:
            return self.exact_float(value)
        if cls is int:
            scaled, rem = divmod(value * self.den, self.num)
            if rem:
                raise _OffGridValue(f"{value} is not a multiple of {self.size}")
            return self._checked(scaled, value)
        if cls is str and 0 < len(value) <= 40:
            try:
                d = Decimal(value)
            except InvalidOperation:
                raise ValueError(f"{value!r} is not a decimal") from None
            if not d.is_finite() or not -30 <= d.adjusted() <= 30:
                # Bounded before any arithmetic: '1e400000' must not build a huge integer.
                raise ValueError(f"{value!r} is not a finite price or size")
            n, m = d.as_integer_ratio()  # exact: no context precision involved
            units, rem = divmod(n * self.den, m * self.num)
            if rem:
                raise _OffGridValue(f"{value} is not a multiple of {self.size}")
            return self._checked(units, value)
        raise ValueError(f"{value!r} is not a number")

    def _checked(self, units: int, value) -> int:
        if units < 0 or units > INT64_MAX or (self.positive and units == 0):
            raise ValueError(f"{value!r} is out of range")
        return units

    def text(self, units: int) -> str:
        """Integer units as an exact decimal string: 432501 ticks of 0.1 -> '43250.1'."""
        value = units * self.num
        places = self.places
        if places is None:
            return str(Decimal(value) / self.den)
        if places == 0:
            return str(value)
        whole, frac = divmod(value, 10 ** places)
        return f"{whole}.{frac:0{places}d}"


class _OffGridValue(ValueError):
    pass


class Grid:
    """The price and quantity units of one market."""

    __slots__ = ("spec", "name", "prices", "qtys")

    def __init__(self, spec: MarketSpec):
        self.spec = spec
        self.name = spec.name
        self.prices = Units(spec.tick_size, positive=True)
        self.qtys = Units(spec.lot_size, positive=False)


# -- encoding ------------------------------------------------------------------------------

def _text(message: dict) -> str:
    return _dumps(message).decode()


def encode_auth(key) -> str:
    """`key` is an ApiKey (credentials.py) or a str. The frame is the only place it appears."""
    secret = key.reveal() if hasattr(key, "reveal") else key
    if not isinstance(secret, str) or not secret:
        raise EncodeError("an API key is a non-empty string", "bad_key")
    return _text({"type": "auth", "api_key": secret})


def _subscription(kind: str, channels, markets, depth) -> str:
    channels = [channels] if isinstance(channels, str) else list(channels)
    if not channels or any(c not in CHANNELS for c in channels):
        raise EncodeError(f"channels must be some of {', '.join(CHANNELS)}, not {channels!r}",
                          "unknown_channel")
    message: dict = {"type": kind, "channels": channels}
    markets = [markets] if isinstance(markets, str) else list(markets or ())
    if markets:
        message["markets"] = markets
    elif any(c != "orders" for c in channels):
        raise EncodeError(f"{channels} need at least one market", "missing_market")
    if depth is not None:
        if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= MAX_DEPTH:
            raise EncodeError(f"depth must be 1..{MAX_DEPTH}, not {depth!r}", "bad_depth")
        message["depth"] = depth
    return _text(message)


def encode_subscribe(channels, markets=(), depth: int | None = None) -> str:
    return _subscription("subscribe", channels, markets, depth)


def encode_unsubscribe(channels, markets=(), depth: int | None = None) -> str:
    return _subscription("unsubscribe", channels, markets, depth)


def _order_id(order_id) -> str:
    if not isinstance(order_id, str) or not 0 < len(order_id) <= MAX_ORDER_ID:
        raise EncodeError(f"order_id must be 1..{MAX_ORDER_ID} characters", "bad_order_id")
    return order_id


def encode_order(order_id: str, market: str, spec: MarketSpec | Grid, side: Side,
                 qty_lots: int, price_ticks: int | None, order_type: OrderType,
                 submit_ns: int | None = None) -> str:
    """One order. `spec` is the market's MarketSpec (or its codec Grid, which is faster)."""
    grid = spec if isinstance(spec, Grid) else _grid_of(spec)
    if market != grid.name:
        raise EncodeError(f"spec is for {grid.name}, not {market}", "wrong_market")
    if side.__class__ is not Side:
        side = _enum(Side, side, "bad_side")
    if order_type.__class__ is not OrderType:
        order_type = _enum(OrderType, order_type, "bad_order_type")
    if qty_lots.__class__ is not int or qty_lots <= 0:
        raise EncodeError(f"qty must be a positive number of lots, not {qty_lots!r}",
                          "bad_qty")
    message = {"type": "order", "order_id": _order_id(order_id), "market": market,
               "side": side.value, "order_type": order_type.value,
               "qty": grid.qtys.text(qty_lots)}
    if order_type is OrderType.MARKET:
        if price_ticks is not None:
            raise EncodeError("a market order takes no price", "bad_price")
    else:
        if price_ticks.__class__ is not int or price_ticks <= 0:
            raise EncodeError(f"price must be a positive number of ticks, not {price_ticks!r}",
                              "bad_price")
        message["price"] = grid.prices.text(price_ticks)
    if submit_ns is not None:
        if submit_ns.__class__ is not int:
            raise EncodeError("submit_ns must be an integer", "bad_submit_ns")
        message["submit_ns"] = submit_ns
    return _text(message)


def _enum(cls, value, reason: str):
    try:
        return cls(value)
    except ValueError:
        raise EncodeError(f"{value!r} is not a {cls.__name__}", reason) from None


def encode_cancel(order_id: str) -> str:
    return _text({"type": "cancel", "order_id": _order_id(order_id)})


def encode_cancel_all(market: str | None = None) -> str:
    if market is None:
        return '{"type":"cancel_all"}'
    if not isinstance(market, str) or not market:
        raise EncodeError("market must be a market name", "bad_market")
    return _text({"type": "cancel_all", "market": market})


def encode_ping() -> str:
    return '{"type":"ping"}'


_GRIDS: dict[MarketSpec, Grid] = {}


def _grid_of(spec: MarketSpec) -> Grid:
    grid = _GRIDS.get(spec)
    if grid is None:
        grid = _GRIDS[spec] = Grid(spec)
    return grid


# -- decoding ------------------------------------------------------------------------------

def _fast_constructor(cls):
    """A positional constructor for a frozen slots dataclass that fills the slots directly.

    The generated __init__ of a frozen dataclass goes through object.__setattr__ once per
    field; setting the slot descriptors is about twice as fast, and the result is the same
    object (equal, hashable, still frozen to everyone else)."""
    names = [f.name for f in dataclasses.fields(cls)]
    params = ", ".join(names)
    body = "; ".join(f"_set_{n}(o, {n})" for n in names)
    namespace = {"_new": object.__new__, "_cls": cls,
                 **{f"_set_{n}": cls.__dict__[n].__set__ for n in names}}
    exec(f"def make({params}):\n    o = _new(_cls); {body}; return o", namespace)
    make = namespace["make"]
    make.__qualname__ = f"fast {cls.__name__}"
    return make


_Ticker = _fast_constructor(Ticker)
_BookUpdate = _fast_constructor(BookUpdate)
_BookSnapshot = _fast_constructor(BookSnapshot)
_OrderAck = _fast_constructor(OrderAck)
_Fill = _fast_constructor(Fill)
_Trade = _fast_constructor(Trade)


class Decoder:
    """Decodes frames for one MarketTable. Keeps the per-market unit caches."""

    __slots__ = ("markets", "grids", "_handlers")

    def __init__(self, markets: MarketTable):
        self.markets = markets
        self.grids = {spec.name: Grid(spec) for spec in markets}
        self._handlers = {
            "ticker": self._ticker, "book_update": self._book_update,
            "order_ack": self._order_ack, "fill": self._fill, "orderbook": self._orderbook,
            "trade": self._trade, "cancelled": self._cancelled,
            "order_reject": self._order_reject, "cancel_reject": self._cancel_reject,
            "market_status": self._market_status, "pong": self._pong,
            "auth_ok": self._auth_ok, "subscribed": self._subscribed,
            "unsubscribed": self._unsubscribed, "error": self._error,
        }

    def grid(self, market: str) -> Grid:
        grid = self.grids.get(market)
        if grid is None:
            return self._unknown(market)
        return grid

    def decode(self, text: str | bytes):
        # One try around parse and dispatch keeps the happy path free of checks; what went
        # wrong is worked out afterwards, on the error path only.
        try:
            msg = _loads(text)
            return self._handlers[msg["type"]](msg)
        except ProtocolError as exc:
            exc.kind = msg.get("type")
            raise
        except orjson.JSONDecodeError as exc:
            raise ProtocolError(f"not valid JSON: {exc}", "bad_json") from None
        except _OffGridValue as exc:
            kind = msg.get("type")
            raise ProtocolError(f"{kind}: {exc}", "off_grid", kind=kind,
                                order_id=_order_id_of(msg)) from None
        except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError) as exc:
            raise self._explain(msg, exc) from None

    def _explain(self, msg, exc: Exception) -> ProtocolError:
        if msg.__class__ is not dict:
            return ProtocolError("a venue message is a JSON object", "not_object")
        kind = msg.get("type")
        if kind.__class__ is not str or kind not in self._handlers:
            return ProtocolError(f"unknown message type {kind!r}", "unknown_type", field="type")
        if isinstance(exc, KeyError):
            return _missing(kind, exc.args[0], msg)
        return ProtocolError(f"{kind}: a field has the wrong type or value: {exc}",
                             "bad_field", kind=kind, order_id=_order_id_of(msg))

    # Each handler reads fields with msg[...] (KeyError -> missing_field) and checks types.

    def _unknown(self, market) -> Grid:
        raise ProtocolError(f"unknown market {market!r}", "unknown_market", field="market")

    def _ticker(self, m: dict) -> Ticker:
        grid = self.grids.get(m["market"]) or self._unknown(m["market"])
        p, q = grid.prices, grid.qtys
        bid, bid_qty, ask, ask_qty = m["bid"], m["bid_qty"], m["ask"], m["ask_qty"]
        return _Ticker(grid.name,
                      p[bid] if bid.__class__ is float else p.exact(bid),
                      q[bid_qty] if bid_qty.__class__ is float else q.exact(bid_qty),
                      p[ask] if ask.__class__ is float else p.exact(ask),
                      q[ask_qty] if ask_qty.__class__ is float else q.exact(ask_qty),
                      ts if (ts := m["ts_ns"]).__class__ is int and ts >= 0 else _int(m, "ts_ns"))

    def _levels(self, grid: Grid, levels) -> tuple:
        if levels.__class__ is not list:
            raise TypeError("levels must be a list")
        p, q = grid.prices, grid.qtys
        out = []
        add = out.append
        for level in levels:
            if level.__class__ is not list or len(level) != 2:
                raise TypeError("a level is [price, qty]")
            price, qty = level
            add((p[price] if price.__class__ is float else p.exact(price),
                 q[qty] if qty.__class__ is float else q.exact(qty)))
        return tuple(out)

    def _book_update(self, m: dict) -> BookUpdate:
        grid = self.grids.get(m["market"]) or self._unknown(m["market"])
        return _BookUpdate(grid.name, _int(m, "depth"), _int(m, "sequence"),
                          self._levels(grid, m["bids"]), self._levels(grid, m["asks"]),
                          _int(m, "ts_ns"))

    def _orderbook(self, m: dict) -> BookSnapshot:
        grid = self.grids.get(m["market"]) or self._unknown(m["market"])
        bids = self._levels(grid, m["bids"])
        asks = self._levels(grid, m["asks"])
        if any(qty == 0 for _, qty in bids) or any(qty == 0 for _, qty in asks):
            raise ValueError("a snapshot level has qty 0")
        return _BookSnapshot(grid.name, _int(m, "depth"), _int(m, "sequence"),
                            _int(m, "rpt_seq"), bids, asks, _int(m, "ts_ns"))

    def _order_ack(self, m: dict) -> OrderAck:
        grid = self.grids.get(m["market"]) or self._unknown(m["market"])
        price = m["price"]
        if price is not None:
            price = grid.prices.convert(price)
        return _OrderAck(_str(m, "order_id"), grid.name, _side(m["side"]),
                        _order_type(m["order_type"]), price, grid.qtys.convert(m["qty"]),
                        _int(m, "ts_ns"))

    def _fill(self, m: dict) -> Fill:
        grid = self.grids.get(m["market"]) or self._unknown(m["market"])
        qtys = grid.qtys
        liquidity = m["liquidity"]
        if liquidity != "maker" and liquidity != "taker":
            raise ValueError("liquidity is maker or taker")
        return _Fill(_str(m, "order_id"), grid.name, _side(m["side"]),
                    qtys.convert(m["fill_qty"]), grid.prices.convert(m["price"]),
                    _money(m["fee"]), liquidity, qtys.convert(m["remaining_qty"]),
                    _int(m, "trade_id"), _int(m, "ts_ns"))

    def _trade(self, m: dict) -> Trade:
        grid = self.grids.get(m["market"]) or self._unknown(m["market"])
        side = m["side"]
        return _Trade(grid.name, grid.prices.convert(m["price"]), grid.qtys.convert(m["qty"]),
                     None if side is None else _side(side), _int(m, "trade_id"),
                     _int(m, "ts_ns"))

    def _cancelled(self, m: dict) -> Cancelled:
        grid = self.grids.get(m["market"]) or self._unknown(m["market"])
        return Cancelled(_str(m, "order_id"), grid.name, _str(m, "reason"),
                         grid.qtys.convert(m["remaining_qty"]), _int(m, "ts_ns"))

    def _order_reject(self, m: dict) -> OrderReject:
        return OrderReject(_str(m, "order_id"), _str(m, "reason"), _text_field(m, "message"),
                           _int(m, "ts_ns"))

    def _cancel_reject(self, m: dict) -> CancelReject:
        return CancelReject(_str(m, "order_id"), _str(m, "reason"), _int(m, "ts_ns"))

    def _market_status(self, m: dict) -> MarketStatus:
        grid = self.grids.get(m["market"]) or self._unknown(m["market"])
        status = m["status"]
        if status != "trading" and status != "halted":
            raise ValueError("status is trading or halted")
        reason = m.get("reason", "")
        if reason.__class__ is int:
            reason = str(reason)
        return MarketStatus(grid.name, status == "halted", _text_value(reason),
                            _int(m, "ts_ns"))

    def _pong(self, m: dict) -> Pong:
        return Pong(_int(m, "ts_ns"))

    def _auth_ok(self, m: dict) -> AuthOk:
        account = m["account_id"]  # the venue numbers accounts; kept as text
        if account.__class__ is int and account >= 0:
            account = str(account)
        return AuthOk(_str(m, "agent_id"), _text_value(account))

    def _channel(self, m: dict) -> tuple[str, str | None, int | None]:
        channel = m["channel"]
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}")
        market = m.get("market")
        if market is not None:
            market = self.grid(market).name
        depth = m.get("depth")
        if depth is not None and (depth.__class__ is not int or depth < 1):
            raise ValueError("depth must be a positive integer")
        return channel, market, depth

    def _subscribed(self, m: dict) -> Subscribed:
        return Subscribed(*self._channel(m))

    def _unsubscribed(self, m: dict) -> Unsubscribed:
        return Unsubscribed(*self._channel(m))

    def _error(self, m: dict) -> VenueError:
        field = m.get("field")
        return VenueError(_str(m, "code"), _text_field(m, "message"),
                          None if field is None else _str(m, "field"))


def _int(m: dict, name: str) -> int:
    value = m[name]
    if value.__class__ is not int or value < 0:
        raise ProtocolError(f"{name} must be a non-negative integer", "bad_field", field=name,
                            order_id=_order_id_of(m))
    return value


def _str(m: dict, name: str) -> str:
    value = m[name]
    if value.__class__ is not str or not value:
        raise ProtocolError(f"{name} must be a non-empty string", "bad_field", field=name,
                            order_id=_order_id_of(m))
    return value


def _text_field(m: dict, name: str) -> str:
    return _text_value(m.get(name, ""))


def _text_value(value) -> str:
    if value.__class__ is not str:
        raise TypeError("a text field must be a string")
    return value


def _money(value) -> Decimal:
    cls = value.__class__
    if cls is float:
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("fee must be finite")
        return Decimal(repr(value))  # the shortest repr is the decimal the venue printed
    if cls is int:
        return Decimal(value)
    if cls is str:
        try:
            d = Decimal(value)
        except InvalidOperation:
            raise ValueError("fee is not a decimal") from None
        if d.is_finite():
            return d
    raise ValueError("fee must be a number")


def _side(value) -> Side:
    side = _SIDES.get(value) if value.__class__ is str else None
    if side is None:
        raise ValueError(f"side {value!r} is not buy or sell")
    return side


def _order_type(value) -> OrderType:
    kind = _TYPES.get(value) if value.__class__ is str else None
    if kind is None:
        raise ValueError(f"order_type {value!r} is not one of {', '.join(_TYPES)}")
    return kind


def _order_id_of(m: dict) -> str | None:
    order_id = m.get("order_id")
    return order_id if order_id.__class__ is str else None


def _missing(kind: str, name, m: dict) -> ProtocolError:
    return ProtocolError(f"{kind}: {name} is required", "missing_field", kind=kind,
                         field=name, order_id=_order_id_of(m))


_DECODERS: weakref.WeakKeyDictionary[MarketTable, Decoder] = weakref.WeakKeyDictionary()


def decode(text: str | bytes, markets: MarketTable):
    """One venue frame as a typed event. Raises ProtocolError (with `.reason`)."""
    decoder = _DECODERS.get(markets)
    if decoder is None:
        decoder = _DECODERS[markets] = Decoder(markets)
    return decoder.decode(text)
