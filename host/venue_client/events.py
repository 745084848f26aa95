"""Typed events: what every venue message decodes to, in integer ticks and lots.

The codec (codec.py) is the only code that sees JSON; the OMS, risk, strategies and the
daemon take these. Times are the venue's `ts_ns` (wall clock, ns) unless a field says `_ns`
of the local monotonic clock. Fees stay Decimal USDC: they are money, not book keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    LIMIT = "limit"
    MARKET = "market"
    IOC = "ioc"
    POST_ONLY = "post_only"


# A price level: (price in ticks, quantity in lots).
Level = tuple[int, int]


@dataclass(frozen=True, slots=True)
class AuthOk:
    agent_id: str
    account_id: str


@dataclass(frozen=True, slots=True)
class Subscribed:
    channel: str
    market: str | None
    depth: int | None


@dataclass(frozen=True, slots=True)
class Unsubscribed:
    channel: str
    market: str | None
    depth: int | None


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    market: str
    depth: int
    sequence: int          # the last update number folded in: the next update is + 1
    rpt_seq: int           # the colo feed's per-market sequence at the same instant
    bids: tuple[Level, ...]  # best first
    asks: tuple[Level, ...]
    ts_ns: int


@dataclass(frozen=True, slots=True)
class BookUpdate:
    market: str
    depth: int
    sequence: int
    bids: tuple[Level, ...]  # changed levels; qty 0 removes the level
    asks: tuple[Level, ...]
    ts_ns: int


@dataclass(frozen=True, slots=True)
class Ticker:
    market: str
    bid: int
    bid_qty: int
    ask: int
    ask_qty: int
    ts_ns: int


@dataclass(frozen=True, slots=True)
class Trade:
    market: str
    price: int
    qty: int
    side: Side | None      # the aggressor; None for replayed prints
    trade_id: int
    ts_ns: int


@dataclass(frozen=True, slots=True)
class MarketStatus:
    market: str
    halted: bool
    reason: str
    ts_ns: int


@dataclass(frozen=True, slots=True)
class OrderAck:
    order_id: str
    market: str
    side: Side
    order_type: OrderType
    price: int | None
    qty: int
    ts_ns: int


@dataclass(frozen=True, slots=True)
class OrderReject:
    order_id: str
    reason: str            # the venue's code, e.g. "order_rate_limited", "market_halted"
    message: str
    ts_ns: int


@dataclass(frozen=True, slots=True)
class Fill:
    order_id: str
    market: str
    side: Side
    qty: int
    price: int
    fee: Decimal
    liquidity: str         # "maker" or "taker"
    remaining: int
    trade_id: int
    ts_ns: int


@dataclass(frozen=True, slots=True)
class Cancelled:
    order_id: str
    market: str
    reason: str            # user, ioc_remainder, market_remainder, self_trade, ...
    remaining: int
    ts_ns: int


@dataclass(frozen=True, slots=True)
class CancelReject:
    order_id: str
    reason: str
    ts_ns: int


@dataclass(frozen=True, slots=True)
class VenueError:
    code: str
    message: str
    field: str | None


@dataclass(frozen=True, slots=True)
class Pong:
    ts_ns: int


VenueEvent = (AuthOk | Subscribed | Unsubscribed | BookSnapshot | BookUpdate | Ticker | Trade
              | MarketStatus | OrderAck | OrderReject | Fill | Cancelled | CancelReject | VenueError
              | Pong)

ORDER_EVENTS = (OrderAck, OrderReject, Fill, Cancelled, CancelReject)


# What the venue reports over REST about the account: the ground truth for reconciliation.

@dataclass(frozen=True, slots=True)
class VenueOrder:
    """One open order from `GET /api/v1/orders`."""

    order_id: str
    market: str
    side: Side
    order_type: OrderType
    price: int | None
    qty: int
    filled: int
    remaining: int


@dataclass(frozen=True, slots=True)
class VenuePosition:
    """One market from `GET /api/v1/positions`; `qty` is signed lots (long > 0)."""

    market: str
    qty: int
    entry_price: Decimal | None
    realized_pnl: Decimal
    unrealized_pnl: Decimal
