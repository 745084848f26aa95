"""The order management system, sans-I/O: orders, their states, positions and latencies.

The daemon calls `submit` for an order risk allowed (then journals it, then sends it),
`cancel_requested` before it sends a cancel, and `on_event` with every venue order event and
the local monotonic time it arrived. Each call returns typed events (host/oms/events.py) for
the journal, metrics and strategies.

Venue events are checked before anything changes: an input the state table forbids raises
`IllegalTransition`, a fill that contradicts the order raises `FillMismatch`, and in both
cases the OMS is left exactly as it was (the daemon journals the error and reconciles). An
event for an id the OMS does not know is returned as `UnknownOrderEvent`, not raised.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace
from decimal import Decimal

from host.oms.events import (
    CancelRejected,
    OmsEvent,
    OrderAdopted,
    OrderFilled,
    OrderStateChanged,
    PositionReset,
    UnknownOrderEvent,
)
from host.oms.ids import ClientIds
from host.oms.order import Order
from host.oms.position import Position
from host.oms.states import OmsError, OrderInput, OrderState, transition
from host.strategy.actions import PlaceOrder
from host.venue_client.events import (
    Cancelled,
    CancelReject,
    Fill,
    OrderAck,
    OrderReject,
    OrderType,
    Side,
    VenueOrder,
)
from host.venue_client.markets import MarketTable

CLOSED_MEMORY = 10_000  # terminal orders kept for late events (cancel rejects, late acks)


class BadOrder(OmsError):
    """A PlaceOrder the OMS cannot turn into an order; `reason` says which field."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class FillMismatch(OmsError):
    """A venue event that contradicts the order it names; nothing was applied."""

    def __init__(self, reason: str, order_id: str, message: str):
        super().__init__(f"order {order_id}: {message}")
        self.reason = reason
        self.order_id = order_id


class OmsNotEmpty(OmsError):
    """restore() on an OMS that already holds orders or positions."""

    reason = "oms_not_empty"


class NotLive(OmsError):
    """Reconciliation named an order that is not live at our side."""

    reason = "not_live"


class AlreadyKnown(OmsError):
    """adopt() of an order id the OMS already has."""

    reason = "already_known"


class Oms:
    def __init__(self, markets: MarketTable, ids: ClientIds, *,
                 closed_memory: int = CLOSED_MEMORY):
        self.markets = markets
        self.ids = ids
        self._live: dict[str, Order] = {}
        self._closed: OrderedDict[str, Order] = OrderedDict()
        self._closed_memory = closed_memory
        self._positions: dict[str, Position] = {}
        self._handlers = {OrderAck: self._on_ack, OrderReject: self._on_reject,
                          Fill: self._on_fill, Cancelled: self._on_cancelled,
                          CancelReject: self._on_cancel_reject}

    # -- orders we place -------------------------------------------------------------------

    def submit(self, req: PlaceOrder, now_ns: int) -> Order:
        """A new PENDING order with a fresh client id, `sent_ns=now_ns`."""
        if req.market not in self.markets:
            raise BadOrder("unknown_market", f"no market {req.market!r}")
        if not isinstance(req.side, Side):
            raise BadOrder("bad_side", f"side {req.side!r} is not a Side")
        if not isinstance(req.order_type, OrderType):
            raise BadOrder("bad_order_type", f"order type {req.order_type!r} is not an OrderType")
        if type(req.qty) is not int or req.qty < 1:
            raise BadOrder("bad_qty", f"qty {req.qty!r} must be a positive int of lots")
        if req.order_type is OrderType.MARKET:
            if req.price is not None:
                raise BadOrder("bad_price", "a market order has no price")
        elif type(req.price) is not int or req.price < 1:
            raise BadOrder("bad_price", f"price {req.price!r} must be a positive int of ticks")
        order = Order(self.ids.next(), req.market, req.side, req.order_type, req.qty, req.price,
                      req.tag, req.origin_ns, now_ns)
        self._live[order.order_id] = order
        return order

    def cancel_requested(self, order_id: str, now_ns: int) -> Order | None:
        """Note a cancel about to be sent. None when there is nothing to cancel."""
        order = self._live.get(order_id)
        if order is None:
            return None
        order = replace(order, cancel_sent_ns=now_ns)
        self._live[order_id] = order
        return order

    # -- venue events ------------------------------------------------------------------------

    def on_event(self, ev, now_ns: int) -> list[OmsEvent]:
        handler = self._handlers.get(type(ev))
        if handler is None:
            raise TypeError(f"the OMS takes order events, not {type(ev).__name__}")
        order = self._live.get(ev.order_id) or self._closed.get(ev.order_id)
        if order is None:
            return [self._unknown(ev, now_ns)]
        return handler(order, ev, now_ns)

    def _unknown(self, ev, now_ns: int) -> UnknownOrderEvent:
        if type(ev) is not Fill:
            return UnknownOrderEvent(ev, now_ns)
        if (ev.market not in self.markets or type(ev.qty) is not int or ev.qty < 1
                or type(ev.price) is not int or ev.price < 1):
            raise FillMismatch("bad_fill", ev.order_id, f"unusable fill {ev!r}")
        old = self._positions.get(ev.market) or Position(ev.market)
        pos = old.after_fill(ev.side, ev.qty, ev.price, float(ev.fee),
                             self.markets[ev.market].notional_unit)
        self._positions[ev.market] = pos
        return UnknownOrderEvent(ev, now_ns, pos)

    def _on_ack(self, order: Order, ev: OrderAck, now_ns: int) -> list[OmsEvent]:
        late = order.implicit_ack and order.ack_ns is None
        new = transition(order.order_id, order.state,
                         OrderInput.LATE_ACK if late else OrderInput.ACK)
        if ev.market != order.market or ev.side is not order.side or ev.qty != order.qty:
            raise FillMismatch("ack_mismatch", order.order_id,
                               f"ack {ev.market} {ev.side} {ev.qty} is not the order's "
                               f"{order.market} {order.side} {order.qty}")
        return self._change(order, new, "late_ack" if late else "ack", now_ns, ack_ns=now_ns)

    def _on_reject(self, order: Order, ev: OrderReject, now_ns: int) -> list[OmsEvent]:
        new = transition(order.order_id, order.state, OrderInput.REJECT)
        return self._change(order, new, ev.reason, now_ns, reason=ev.reason)

    def _on_cancelled(self, order: Order, ev: Cancelled, now_ns: int) -> list[OmsEvent]:
        new = transition(order.order_id, order.state, OrderInput.CANCELLED)
        return self._change(order, new, ev.reason, now_ns, reason=ev.reason)

    def _on_cancel_reject(self, order: Order, ev: CancelReject, now_ns: int) -> list[OmsEvent]:
        transition(order.order_id, order.state, OrderInput.CANCEL_REJECT)
        return [CancelRejected(order, ev.reason, now_ns)]

    def _on_fill(self, order: Order, ev: Fill, now_ns: int) -> list[OmsEvent]:
        if type(ev.qty) is not int or ev.qty < 1:
            raise FillMismatch("bad_qty", order.order_id, f"fill qty {ev.qty!r}")
        if type(ev.price) is not int or ev.price < 1:
            raise FillMismatch("bad_price", order.order_id, f"fill price {ev.price!r}")
        left = order.remaining - ev.qty
        new = transition(order.order_id, order.state,
                         OrderInput.FILL_LAST if left == 0 else OrderInput.FILL)
        if ev.market != order.market:
            raise FillMismatch("market_mismatch", order.order_id,
                               f"fill in {ev.market}, order in {order.market}")
        if ev.side is not order.side:
            raise FillMismatch("side_mismatch", order.order_id,
                               f"fill {ev.side}, order {order.side}")
        if left < 0:
            raise FillMismatch("overfill", order.order_id,
                               f"fill of {ev.qty} with {order.remaining} remaining")
        if ev.remaining != left:
            raise FillMismatch("remaining_mismatch", order.order_id,
                               f"venue says {ev.remaining} remain, we count {left}")
        return self._apply_fill(order, ev, new, now_ns, inferred=False)

    def _apply_fill(self, order: Order, ev: Fill, new: OrderState, now_ns: int,
                    inferred: bool) -> list[OmsEvent]:
        fee = float(ev.fee)
        spec = self.markets[order.market]
        old_pos = self._positions.get(order.market) or Position(order.market)
        pos = old_pos.after_fill(order.side, ev.qty, ev.price, fee, spec.notional_unit)
        self._positions[order.market] = pos
        old = order.state
        order = replace(
            order, state=new, filled=order.filled + ev.qty,
            fill_value=order.fill_value + ev.price * ev.qty, fees_usd=order.fees_usd + fee,
            first_fill_ns=order.first_fill_ns if order.first_fill_ns is not None else now_ns,
            implicit_ack=order.implicit_ack or old is OrderState.PENDING,
            done_ns=now_ns if new.terminal else None)
        self._store(order)
        out: list[OmsEvent] = [OrderFilled(order, ev, pos, now_ns, inferred)]
        if new is not old:
            out.append(OrderStateChanged(order, old, new, "fill", now_ns))
        return out

    def _change(self, order: Order, new: OrderState, why: str, now_ns: int,
                **fields) -> list[OmsEvent]:
        old = order.state
        if new.terminal and order.done_ns is None:
            fields["done_ns"] = now_ns
        order = replace(order, state=new, **fields)
        self._store(order)
        return [OrderStateChanged(order, old, new, why, now_ns)]

    def _store(self, order: Order) -> None:
        oid = order.order_id
        if order.live:
            self._live[oid] = order
            return
        self._live.pop(oid, None)
        self._closed[oid] = order
        self._closed.move_to_end(oid)
        while len(self._closed) > self._closed_memory:
            self._closed.popitem(last=False)

    # -- queries -------------------------------------------------------------------------

    def order(self, order_id: str) -> Order | None:
        return self._live.get(order_id) or self._closed.get(order_id)

    def open_orders(self, market: str | None = None) -> list[Order]:
        """Orders not yet in a terminal state (PENDING, OPEN, PARTIAL), oldest first."""
        return [o for o in self._live.values() if market is None or o.market == market]

    def positions(self) -> dict[str, Position]:
        """Every market that has had a fill (or a recovered position)."""
        return dict(self._positions)

    def position(self, market: str) -> Position:
        return self._positions.get(market) or Position(market)

    # -- restart and reconciliation --------------------------------------------------------

    def restore(self, recovered) -> None:
        """Take the open orders and positions a journal recovered (host/journal/recover.py)."""
        if self._live or self._closed or self._positions:
            raise OmsNotEmpty("restore needs a fresh OMS")
        for order in recovered.open_orders:
            self._live[order.order_id] = order
        self._positions.update(recovered.positions)

    def resolve_gone(self, order_id: str, why: str, now_ns: int) -> list[OmsEvent]:
        """A live order the venue no longer has and that did not fill: cancelled."""
        order = self._require_live(order_id)
        new = transition(order_id, order.state, OrderInput.CANCELLED)
        return self._change(order, new, why, now_ns, reason=why)

    def mark_acked(self, order_id: str, why: str, now_ns: int) -> list[OmsEvent]:
        """A PENDING order the venue has open: its ack was lost (ack latency stays unknown)."""
        order = self._require_live(order_id)
        new = transition(order_id, order.state, OrderInput.ACK)
        return self._change(order, new, why, now_ns)

    def infer_fill(self, order_id: str, qty: int, price: int, now_ns: int) -> list[OmsEvent]:
        """A fill we did not see but the venue's figures prove; fee unknown (0)."""
        order = self._require_live(order_id)
        if not 0 < qty <= order.remaining:
            raise FillMismatch("overfill", order_id,
                               f"inferred fill of {qty} with {order.remaining} remaining")
        left = order.remaining - qty
        new = transition(order_id, order.state,
                         OrderInput.FILL_LAST if left == 0 else OrderInput.FILL)
        fill = Fill(order_id, order.market, order.side, qty, price, Decimal(0), "inferred",
                    left, 0, 0)
        return self._apply_fill(order, fill, new, now_ns, inferred=True)

    def adopt(self, vo: VenueOrder, now_ns: int) -> list[OmsEvent]:
        """Track a venue order with our prefix that we had lost (e.g. a journal restored
        from backup): OPEN or PARTIAL as the venue says, with no latencies."""
        if self.order(vo.order_id) is not None:
            raise AlreadyKnown(f"order {vo.order_id} is already known")
        if vo.market not in self.markets:
            raise BadOrder("unknown_market", f"no market {vo.market!r}")
        state = OrderState.PARTIAL if vo.filled else OrderState.OPEN
        price = vo.price if vo.price is not None else 0
        order = Order(vo.order_id, vo.market, vo.side, vo.order_type, vo.qty, vo.price,
                      "adopted", 0, now_ns, state, vo.filled, price * vo.filled)
        self._live[order.order_id] = order
        return [OrderAdopted(order, now_ns)]

    def reset_position(self, market: str, qty: int, avg_price: float, why: str,
                       now_ns: int) -> list[OmsEvent]:
        """Take the venue's quantity and entry; realised PnL and fees stay ours."""
        if market not in self.markets:
            raise BadOrder("unknown_market", f"no market {market!r}")
        previous = self.position(market)
        pos = Position(market, qty, avg_price if qty else 0.0, previous.realized_usd,
                       previous.fees_usd)
        self._positions[market] = pos
        return [PositionReset(previous, pos, why, now_ns)]

    def _require_live(self, order_id: str) -> Order:
        order = self._live.get(order_id)
        if order is None:
            raise NotLive(f"order {order_id} is not live")
        return order

