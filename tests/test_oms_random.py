"""Random venue event streams through the OMS, checked against brute-force references.

The reference position walks every fill one lot at a time in exact fractions (a lot adds to
the position at its price, or closes one lot against the average entry); the OMS does it in
floats a fill at a time, and the venue the same way, so the two must agree. Streams include
events the OMS must refuse (illegal, mismatched, unknown) and the refusals must change nothing.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, event, given, settings, target
from hypothesis import strategies as st

from host.oms import ClientIds, FillMismatch, IllegalTransition, Oms, OrderState
from host.oms.position import Position
from host.strategy.actions import PlaceOrder
from host.venue_client.events import Fill, OrderType, Side
from tests.oms_helpers import MARKETS, ack, cancel_reject, cancelled, fill, reject

MARKET_NAMES = ["BTC-PERP", "ETH-PERP"]


class RefPosition:
    """One lot at a time, exact."""

    def __init__(self, unit: float):
        self.unit = Fraction(unit)
        self.qty = 0
        self.avg = Fraction(0)
        self.realized = Fraction(0)
        self.fees = Fraction(0)
        self.cash = Fraction(0)   # what the trades paid or took in, in ticks x lots

    def fill(self, side: Side, lots: int, price: int, fee: Decimal) -> None:
        self.fees += Fraction(fee)
        self.cash -= side.sign * lots * price
        for _ in range(lots):
            if self.qty == 0 or (self.qty > 0) == (side.sign > 0):
                n = abs(self.qty)
                self.avg = (self.avg * n + price) / (n + 1)
            else:
                self.realized += (price - self.avg) * (1 if self.qty > 0 else -1) * self.unit
            self.qty += side.sign
            if self.qty == 0:
                self.avg = Fraction(0)


def _close(a: float, b: Fraction, scale: float = 1.0) -> bool:
    return abs(a - float(b)) <= 1e-9 * max(1.0, abs(float(b)), scale)


def _check_position(pos: Position, ref: RefPosition) -> None:
    assert pos.qty == ref.qty
    assert _close(pos.avg_price, ref.avg)
    scale = float(max(abs(ref.cash), 1) * ref.unit)
    assert _close(pos.realized_usd, ref.realized, scale)
    assert _close(pos.fees_usd, ref.fees)
    # Average cost books realised PnL as cash flow plus the open position at its entry.
    assert _close(pos.realized_usd, (ref.cash + ref.qty * ref.avg) * ref.unit, scale)


step = st.one_of(
    st.tuples(st.just("submit"), st.sampled_from(MARKET_NAMES), st.sampled_from(list(Side)),
              st.integers(1, 12), st.integers(1, 3000), st.sampled_from(list(OrderType))),
    st.tuples(st.sampled_from(["ack", "reject", "cancel", "cancel_reject", "dup_ack",
                               "overfill", "wrong_market", "unknown"]), st.integers(0, 30)),
    st.tuples(st.just("fill"), st.integers(0, 30), st.integers(1, 12), st.integers(1, 3000),
              st.sampled_from(["0", "0.01", "-0.002", "1.5"])),
)


def _snapshot(oms: Oms):
    return (oms.open_orders(), oms.positions())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=60))
def test_random_streams_match_the_references(steps):
    oms = Oms(MARKETS, ClientIds(3))
    refs = {m: RefPosition(MARKETS[m].notional_unit) for m in MARKET_NAMES}
    ids: list[str] = []
    now = accepted = 0
    for s in steps:
        now += 1
        if s[0] == "submit":
            _, market, side, qty, price, otype = s
            req = PlaceOrder(market, side, qty, None if otype is OrderType.MARKET else price,
                             otype)
            ids.append(oms.submit(req, now).order_id)
            continue
        if not ids:
            continue
        o = oms.order(ids[s[1] % len(ids)])
        kind = s[0]
        if kind == "fill":
            qty = min(s[2], max(o.remaining, 1))
            ev = replace(fill(o, qty, price=s[3], fee=s[4]), remaining=o.remaining - qty)
        else:
            ev = {"ack": ack, "dup_ack": ack, "reject": reject, "cancel": cancelled,
                  "cancel_reject": cancel_reject,
                  "overfill": lambda o: replace(fill(o, 1), qty=o.remaining + 1,
                                                remaining=0),
                  "wrong_market": lambda o: replace(fill(o, 1), market="SOL-PERP"),
                  "unknown": lambda o: replace(fill(o, 1), order_id="other-7"),
                  }[kind](o)
        before = _snapshot(oms)
        try:
            out = oms.on_event(ev, now)
        except (IllegalTransition, FillMismatch):
            assert _snapshot(oms) == before
            continue
        if kind == "unknown":
            assert type(out[0]).__name__ == "UnknownOrderEvent"
        if isinstance(ev, Fill):   # another session's fills move the position too
            refs[o.market].fill(o.side, ev.qty, ev.price, ev.fee)
            accepted += 1
        _check_invariants(oms, ids)
        for m in MARKET_NAMES:
            _check_position(oms.position(m), refs[m])
    target(accepted)  # steer towards streams with many fills, where positions flip
    event(f"fills accepted: {min(accepted, 10)}{'+' if accepted >= 10 else ''}")


def _check_invariants(oms: Oms, ids: list[str]) -> None:
    live = {o.order_id for o in oms.open_orders()}
    for oid in ids:
        o = oms.order(oid)
        assert 0 <= o.filled <= o.qty
        assert (oid in live) == (o.state not in (OrderState.FILLED, OrderState.CANCELLED,
                                                 OrderState.REJECTED))
        if o.state in (OrderState.PENDING, OrderState.OPEN, OrderState.REJECTED):
            assert o.filled == 0
        if o.state is OrderState.PARTIAL:
            assert 0 < o.filled < o.qty
        if o.state is OrderState.FILLED:
            assert o.filled == o.qty and o.done_ns is not None


@pytest.mark.parametrize(("fills", "qty", "avg", "realized"), [
    ([("buy", 10, 100), ("sell", 4, 110)], 6, 100.0, 4 * 10),
    ([("buy", 10, 100), ("buy", 10, 200)], 20, 150.0, 0),
    ([("sell", 5, 100), ("buy", 8, 90)], 3, 90.0, 5 * 10),      # flip: the rest opens at 90
    ([("buy", 3, 100), ("sell", 3, 100)], 0, 0.0, 0),
])
def test_position_examples(fills, qty, avg, realized):
    unit = MARKETS["BTC-PERP"].notional_unit      # 0.1 x 0.001 = 0.0001 USDC
    pos = Position("BTC-PERP")
    for side, lots, price in fills:
        pos = pos.after_fill(Side(side), lots, price, 0.5, unit)
    assert (pos.qty, pos.avg_price) == (qty, avg)
    assert pos.realized_usd == pytest.approx(realized * unit)
    assert pos.fees_usd == pytest.approx(0.5 * len(fills))
    assert pos.net_usd == pytest.approx(realized * unit - 0.5 * len(fills))
