"""What the OMS reports: every change is one typed event, journaled as it comes."""

from __future__ import annotations

from dataclasses import dataclass

from host.oms.order import Order
from host.oms.position import Position
from host.oms.states import OrderState
from host.venue_client.events import Fill


@dataclass(frozen=True, slots=True)
class OrderStateChanged:
    order: Order              # after the change
    old: OrderState
    new: OrderState
    reason: str               # the venue's reason, the input, or "reconcile:..."
    now_ns: int


@dataclass(frozen=True, slots=True)
class OrderFilled:
    order: Order              # after the fill
    fill: Fill
    position: Position        # the market's position after the fill
    now_ns: int
    inferred: bool = False    # made up by reconciliation from what the venue reported


@dataclass(frozen=True, slots=True)
class CancelRejected:
    order: Order
    reason: str
    now_ns: int


@dataclass(frozen=True, slots=True)
class OrderAdopted:
    """A venue order with our id prefix that the OMS did not know (reconciliation)."""

    order: Order
    now_ns: int


@dataclass(frozen=True, slots=True)
class PositionReset:
    """Reconciliation set a position to the venue's."""

    previous: Position
    position: Position
    reason: str
    now_ns: int


@dataclass(frozen=True, slots=True)
class UnknownOrderEvent:
    """A venue order event for an id the OMS does not know (another session's order on the
    same key). A fill still moves the key's position at the venue, so the OMS applies it:
    `position` is the market's position after it (None for any other event)."""

    event: object
    now_ns: int
    position: Position | None = None


OmsEvent = (OrderStateChanged | OrderFilled | CancelRejected | OrderAdopted | PositionReset
            | UnknownOrderEvent)
