"""Reconciliation: what the OMS believes against what the venue reports, after a reconnect
or a restart. `reconcile` is pure (it only reads the OMS); `apply` makes the OMS agree.

The venue's REST API lists open orders and positions but no order history, so an order we
think live that the venue no longer lists either filled or was cancelled while we were away.
Which one is inferred from the position: a resting order fills at its own price (the trade
prints at the resting order's price), so if filling exactly one set of the vanished orders
explains the venue's position, those filled at their prices and the others were cancelled.
When nothing or more than one set explains it, all of them are taken as cancelled and the
position difference is reported. Whatever is left over, the venue wins: the quantity and
entry price become the venue's; the realised PnL and fees stay ours (they come from our
fills; the venue's account may be older than the journal).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from itertools import combinations

from host.oms.events import OmsEvent
from host.oms.oms import Oms
from host.oms.order import Order
from host.oms.position import Position
from host.oms.states import OrderState
from host.venue_client.events import VenueOrder, VenuePosition

MAX_SUBSET_SEARCH = 12  # vanished orders per market tried in every combination (4096 sets)
AVG_TOLERANCE = 1e-6    # relative; the venue sends its average entry as a rounded decimal


@dataclass(frozen=True, slots=True)
class GoneOrder:
    """Live at our side, not open at the venue."""

    order: Order
    filled: bool          # its remaining quantity filled at its price (inferred)
    why: str              # reconcile:filled, reconcile:cancelled or reconcile:unexplained


@dataclass(frozen=True, slots=True)
class Behind:
    """Open at both, but the venue is ahead of us: an ack or fills we did not see."""

    order: Order
    venue: VenueOrder
    missed_ack: bool
    missed_fill: int      # lots


@dataclass(frozen=True, slots=True)
class Conflict:
    """Open at the venue and known to us, but the two disagree in a way no missed event
    explains (closed at our side, other side or size, fewer fills): cancel it at the venue."""

    order: Order
    venue: VenueOrder
    why: str


@dataclass(frozen=True, slots=True)
class PositionDiff:
    market: str
    ours: Position            # after the inferred fills
    venue_qty: int
    venue_avg: float          # ticks
    venue_realized: Decimal


@dataclass(frozen=True)
class Reconciliation:
    gone: tuple[GoneOrder, ...] = ()
    behind: tuple[Behind, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    adopt: tuple[VenueOrder, ...] = ()        # ours by id prefix, unknown to the OMS
    foreign: tuple[VenueOrder, ...] = ()      # not ours: cancel them
    positions: tuple[PositionDiff, ...] = ()
    unknown_markets: tuple[str, ...] = ()     # venue data for markets we do not trade

    @property
    def to_cancel(self) -> tuple[VenueOrder, ...]:
        """Venue orders the daemon should cancel."""
        return self.foreign + tuple(c.venue for c in self.conflicts)

    @property
    def clean(self) -> bool:
        return not (self.gone or self.behind or self.conflicts or self.adopt or self.foreign
                    or self.positions)


def reconcile(oms: Oms, venue_orders: list[VenueOrder],
              venue_positions: list[VenuePosition]) -> Reconciliation:
    live = {o.order_id: o for o in oms.open_orders()}
    seen: set[str] = set()
    behind, conflicts, adopt, foreign = [], [], [], []
    unknown_markets: set[str] = set()
    for vo in venue_orders:
        if vo.market not in oms.markets:
            unknown_markets.add(vo.market)
            foreign.append(vo)
            continue
        ours = live.get(vo.order_id)
        if ours is None:
            known = oms.order(vo.order_id)
            if known is not None:
                conflicts.append(Conflict(known, vo, f"{known.state.value} at our side"))
            elif oms.ids.is_ours(vo.order_id):
                adopt.append(vo)
            else:
                foreign.append(vo)
            continue
        seen.add(vo.order_id)
        why = _disagreement(ours, vo)
        if why:
            conflicts.append(Conflict(ours, vo, why))
            continue
        missed_ack = ours.state is OrderState.PENDING
        missed_fill = vo.filled - ours.filled
        if missed_ack or missed_fill:
            behind.append(Behind(ours, vo, missed_ack, missed_fill))
    vanished = [o for oid, o in live.items() if oid not in seen]

    venue_pos = {}
    for vp in venue_positions:
        if vp.market in oms.markets:
            venue_pos[vp.market] = vp
        else:
            unknown_markets.add(vp.market)
    touched = {o.market for o in vanished} | {b.order.market for b in behind}
    expected = {m: oms.position(m) for m in set(oms.positions()) | set(venue_pos) | touched}
    for b in behind:
        if b.missed_fill and b.order.price is not None:
            expected[b.order.market] = _filled(oms, expected[b.order.market], b.order,
                                               b.missed_fill)
    gone: list[GoneOrder] = []
    for market in sorted({o.market for o in vanished}):
        orders = [o for o in vanished if o.market == market]
        vp = venue_pos.get(market)
        delta = (vp.qty if vp else 0) - expected[market].qty
        filled = _explaining_set(orders, delta)
        for o in orders:
            if filled is None:
                gone.append(GoneOrder(o, False, "reconcile:unexplained"))
            elif o.order_id in filled:
                gone.append(GoneOrder(o, True, "reconcile:filled"))
                expected[market] = _filled(oms, expected[market], o, o.remaining)
            else:
                gone.append(GoneOrder(o, False, "reconcile:cancelled"))

    diffs = []
    for market in sorted(expected):
        ours, vp = expected[market], venue_pos.get(market)
        qty = vp.qty if vp else 0
        avg = _venue_avg(oms, vp) if vp and qty else 0.0
        if qty != ours.qty or abs(avg - ours.avg_price) > AVG_TOLERANCE * max(1.0, abs(avg)):
            diffs.append(PositionDiff(market, ours, qty, avg,
                                      vp.realized_pnl if vp else Decimal(0)))
    return Reconciliation(tuple(gone), tuple(behind), tuple(conflicts), tuple(adopt),
                          tuple(foreign), tuple(diffs), tuple(sorted(unknown_markets)))


def apply(oms: Oms, rec: Reconciliation, now_ns: int) -> list[OmsEvent]:
    """Make the OMS agree with the venue; returns the events to journal. The daemon still
    has to cancel `rec.to_cancel` at the venue."""
    out: list[OmsEvent] = []
    for b in rec.behind:
        if b.missed_ack:
            out += oms.mark_acked(b.order.order_id, "reconcile:acked", now_ns)
        if b.missed_fill and b.order.price is not None:
            out += oms.infer_fill(b.order.order_id, b.missed_fill, b.order.price, now_ns)
    for g in rec.gone:
        if g.filled and g.order.price is not None:
            out += oms.infer_fill(g.order.order_id, g.order.remaining, g.order.price, now_ns)
        else:
            out += oms.resolve_gone(g.order.order_id, g.why, now_ns)
    for vo in rec.adopt:
        out += oms.adopt(vo, now_ns)
    for d in rec.positions:
        out += oms.reset_position(d.market, d.venue_qty, d.venue_avg, "reconcile:venue", now_ns)
    return out


def _disagreement(ours: Order, vo: VenueOrder) -> str:
    if vo.side is not ours.side:
        return "side differs"
    if vo.qty != ours.qty or vo.filled + vo.remaining != vo.qty:
        return "size differs"
    if vo.price != ours.price:
        return "price differs"
    if vo.filled < ours.filled:
        return "the venue counts fewer fills"
    return ""


def _filled(oms: Oms, pos: Position, order: Order, lots: int) -> Position:
    unit = oms.markets[order.market].notional_unit
    return pos.after_fill(order.side, lots, order.price, 0.0, unit)


def _explaining_set(orders: list[Order], delta: int) -> set[str] | None:
    """The one set of orders whose remaining quantities, filled, move the position by
    `delta` lots; the empty set when delta is 0; None when none or several do."""
    if delta == 0:
        return set()
    priced = [o for o in orders if o.price is not None]
    if len(priced) > MAX_SUBSET_SEARCH:
        return None
    found = None
    for size in range(1, len(priced) + 1):
        for combo in combinations(priced, size):
            if sum(o.side.sign * o.remaining for o in combo) == delta:
                if found is not None:
                    return None
                found = {o.order_id for o in combo}
    return found


def _venue_avg(oms: Oms, vp: VenuePosition) -> float:
    if vp.entry_price is None:
        return 0.0
    tick = oms.markets[vp.market].price(1)
    return float(Decimal(vp.entry_price) / tick)
