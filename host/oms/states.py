"""The order state machine: one table of every legal (state, input) -> state.

Anything not in the table is illegal and raises `IllegalTransition`; the OMS changes nothing
when it does. The table is the specification: docs/oms-and-journal.md is generated from it.
"""

from __future__ import annotations

from enum import StrEnum


class OmsError(Exception):
    """Something the OMS cannot take. `reason` is the machine-readable code."""

    reason = "oms_error"


class OrderState(StrEnum):
    PENDING = "pending"      # journaled and sent, not yet acknowledged
    OPEN = "open"            # acknowledged, nothing filled
    PARTIAL = "partial"      # some filled, the rest working
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({OrderState.FILLED, OrderState.CANCELLED, OrderState.REJECTED})
LIVE = frozenset(OrderState) - TERMINAL


class OrderInput(StrEnum):
    """What moves an order. The OMS derives it from a venue event (or from reconciliation)."""

    ACK = "ack"                      # order_ack
    LATE_ACK = "late_ack"            # order_ack after a fill already implied it
    REJECT = "reject"                # order_reject
    FILL = "fill"                    # a fill that leaves some quantity working
    FILL_LAST = "fill_last"          # a fill that leaves nothing
    CANCELLED = "cancelled"          # cancelled by the venue, or gone at reconciliation
    CANCEL_REJECT = "cancel_reject"  # our cancel was refused (usually: it was already done)


S, In = OrderState, OrderInput

# (from, input, to, why). Self-loops are legal inputs that change no state.
DECLARATION: tuple[tuple[OrderState, OrderInput, OrderState, str], ...] = (
    (S.PENDING, In.ACK, S.OPEN, "the venue accepted the order"),
    (S.PENDING, In.REJECT, S.REJECTED, "the venue refused the order"),
    (S.PENDING, In.FILL, S.PARTIAL,
     "a fill before any ack: the fill implies the ack (ack latency stays unknown)"),
    (S.PENDING, In.FILL_LAST, S.FILLED, "as above, and nothing is left"),
    (S.PENDING, In.CANCELLED, S.CANCELLED,
     "cancelled before an ack reached us, or absent from the venue at reconciliation"),
    (S.PENDING, In.CANCEL_REJECT, S.PENDING, "a cancel sent too early; the order is unchanged"),
    (S.OPEN, In.FILL, S.PARTIAL, "first fill, some left"),
    (S.OPEN, In.FILL_LAST, S.FILLED, "filled at once"),
    (S.OPEN, In.CANCELLED, S.CANCELLED, "cancelled with nothing filled"),
    (S.OPEN, In.CANCEL_REJECT, S.OPEN, "the cancel was refused; the order still works"),
    (S.PARTIAL, In.FILL, S.PARTIAL, "another fill, some left"),
    (S.PARTIAL, In.FILL_LAST, S.FILLED, "the last fill"),
    (S.PARTIAL, In.CANCELLED, S.CANCELLED,
     "the rest cancelled (by us, or an IOC/market remainder)"),
    (S.PARTIAL, In.CANCEL_REJECT, S.PARTIAL, "the cancel was refused; the rest still works"),
    (S.PARTIAL, In.LATE_ACK, S.PARTIAL, "the ack a fill already implied"),
    (S.FILLED, In.LATE_ACK, S.FILLED, "the ack a fill already implied"),
    (S.FILLED, In.CANCEL_REJECT, S.FILLED, "a cancel that crossed the last fill"),
    (S.CANCELLED, In.LATE_ACK, S.CANCELLED, "the ack a fill already implied"),
    (S.CANCELLED, In.CANCEL_REJECT, S.CANCELLED, "a second cancel of a cancelled order"),
    (S.REJECTED, In.CANCEL_REJECT, S.REJECTED, "a cancel sent before the reject arrived"),
)

TABLE: dict[tuple[OrderState, OrderInput], OrderState] = {
    (src, inp): dst for src, inp, dst, _ in DECLARATION}
assert len(TABLE) == len(DECLARATION), "a (state, input) pair is declared twice"


class IllegalTransition(OmsError):
    """An input the table does not allow in the order's current state."""

    reason = "illegal_transition"

    def __init__(self, order_id: str, state: OrderState, event: OrderInput):
        super().__init__(f"order {order_id}: {event.value} is illegal in state {state.value}")
        self.order_id = order_id
        self.state = state
        self.event = event


def transition(order_id: str, state: OrderState, event: OrderInput) -> OrderState:
    try:
        return TABLE[state, event]
    except KeyError:
        raise IllegalTransition(order_id, state, event) from None
