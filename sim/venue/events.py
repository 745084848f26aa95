"""What the engine says happened. Each engine call returns a list of these, in order."""

from __future__ import annotations

from dataclasses import dataclass

from sim.venue.book import Order
from sim.venue.errors import CancelReason, Reason


@dataclass(slots=True)
class Accepted:
    order: Order


@dataclass(slots=True)
class Rejected:
    account: object
    client_id: str | None
    reason: Reason
    message: str
    origin: object = None


@dataclass(slots=True)
class Filled:
    """One side of one trade, for the order's owner."""

    order: Order
    qty: int
    price: int
    fee: float
    maker: bool
    trade_id: int
    remaining: int  # what the order had left right after this fill


@dataclass(slots=True)
class Cancelled:
    order: Order
    reason: CancelReason
    qty: int  # what was left when it stopped


@dataclass(slots=True)
class CancelRejected:
    account: object
    client_id: str
    reason: Reason
    origin: object = None


@dataclass(slots=True)
class Traded:
    """A print, for market data."""

    market_id: int
    price: int
    qty: int
    aggressor: int  # book.BUY, book.SELL, or 0 when not known (replayed prints)
    trade_id: int


@dataclass(slots=True)
class StatusChanged:
    market_id: int
    status: int  # host.wire.TradingStatus
    reason: int
