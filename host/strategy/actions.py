"""What a strategy asks for. Risk checks these, the OMS turns the allowed ones into orders.

Quantities are lots and prices ticks of the named market (host/venue_client/markets.py).
`origin_ns` is the local monotonic time (time.monotonic_ns) at which the market data that
caused the action arrived, so tick-to-order latency is measured from the wire, not from the
strategy.

The actions are frozen msgspec Structs rather than frozen dataclasses: one is built per
decision on the tick-to-order path, and a Struct is built in C, several times faster than a
frozen dataclass's __init__ (which sets each field through object.__setattr__). They stay
immutable, hashable and equal by value; gc=False because their fields (str, int, enums)
cannot form a reference cycle.
"""

from __future__ import annotations

import msgspec

from host.venue_client.events import OrderType, Side


class PlaceOrder(msgspec.Struct, frozen=True, gc=False):
    market: str
    side: Side
    qty: int
    price: int | None
    order_type: OrderType = OrderType.LIMIT
    tag: str = ""            # the strategy that asked, for the journal and metrics
    origin_ns: int = 0


class CancelOrder(msgspec.Struct, frozen=True, gc=False):
    order_id: str
    tag: str = ""


class CancelAll(msgspec.Struct, frozen=True, gc=False):
    market: str | None = None
    tag: str = ""


StrategyAction = PlaceOrder | CancelOrder | CancelAll
