"""What a strategy asks for. Risk checks these, the OMS turns the allowed ones into orders.

Quantities are lots and prices ticks of the named market (host/venue_client/markets.py).
`origin_ns` is the local monotonic time (time.monotonic_ns) at which the market data that
caused the action arrived, so tick-to-order latency is measured from the wire, not from the
strategy.
"""

from __future__ import annotations

from dataclasses import dataclass

from host.venue_client.events import OrderType, Side


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    market: str
    side: Side
    qty: int
    price: int | None
    order_type: OrderType = OrderType.LIMIT
    tag: str = ""            # the strategy that asked, for the journal and metrics
    origin_ns: int = 0


@dataclass(frozen=True, slots=True)
class CancelOrder:
    order_id: str
    tag: str = ""


@dataclass(frozen=True, slots=True)
class CancelAll:
    market: str | None = None
    tag: str = ""


StrategyAction = PlaceOrder | CancelOrder | CancelAll
