"""Reconciliation, pure: each kind of disagreement between the OMS and the venue's snapshot."""

from __future__ import annotations

from decimal import Decimal

import pytest

from host.oms import ClientIds, Oms, OrderState
from host.oms.reconcile import apply, reconcile
from host.strategy.actions import PlaceOrder
from host.venue_client.events import OrderType, Side, VenueOrder, VenuePosition
from tests.oms_helpers import MARKETS, ack, fill

BUY, SELL = Side.BUY, Side.SELL


def _oms_with(*orders, acked=True):
    """An OMS holding the given (market, side, qty, price) orders, acknowledged."""
    oms = Oms(MARKETS, ClientIds(1))
    placed = []
    for market, side, qty, price in orders:
        o = oms.submit(PlaceOrder(market, side, qty, price), 10)
        if acked:
            oms.on_event(ack(o), 20)
        placed.append(oms.order(o.order_id))
    return oms, placed


def _venue_view(o, filled=0):
    return VenueOrder(o.order_id, o.market, o.side, o.order_type, o.price, o.qty, filled,
                      o.qty - filled)


def _pos(market, qty, entry_ticks):
    price = MARKETS[market].price(1) * Decimal(entry_ticks)
    return VenuePosition(market, qty, price, Decimal(0), Decimal(0))


def test_agreeing_views_are_clean():
    oms, (a,) = _oms_with(("BTC-PERP", BUY, 10, 1000))
    rec = reconcile(oms, [_venue_view(a)], [])
    assert rec.clean and rec.to_cancel == ()
    assert apply(oms, rec, 30) == []


def test_vanished_order_that_explains_the_position_filled_at_its_price():
    oms, (a, b) = _oms_with(("BTC-PERP", SELL, 5, 1010), ("BTC-PERP", BUY, 3, 990))
    rec = reconcile(oms, [], [_pos("BTC-PERP", -5, 1010)])
    assert {(g.order.order_id, g.filled, g.why) for g in rec.gone} == {
        (a.order_id, True, "reconcile:filled"), (b.order_id, False, "reconcile:cancelled")}
    assert rec.positions == ()
    events = apply(oms, rec, 30)
    assert oms.order(a.order_id).state is OrderState.FILLED
    assert oms.order(a.order_id).avg_fill_price == 1010
    assert oms.order(b.order_id).state is OrderState.CANCELLED
    assert oms.position("BTC-PERP").qty == -5
    filled = [e for e in events if type(e).__name__ == "OrderFilled"]
    assert len(filled) == 1 and filled[0].inferred and filled[0].fill.liquidity == "inferred"
    assert reconcile(oms, [], [_pos("BTC-PERP", -5, 1010)]).clean


def test_vanished_orders_and_flat_venue_are_cancelled():
    oms, placed = _oms_with(("ETH-PERP", BUY, 5, 100), ("ETH-PERP", SELL, 5, 120))
    rec = reconcile(oms, [], [])
    assert all(not g.filled and g.why == "reconcile:cancelled" for g in rec.gone)
    apply(oms, rec, 30)
    assert oms.open_orders() == []


def test_ambiguous_vanished_orders_are_cancelled_and_the_venue_wins():
    oms, _ = _oms_with(("ETH-PERP", BUY, 5, 100), ("ETH-PERP", BUY, 5, 101))
    rec = reconcile(oms, [], [_pos("ETH-PERP", 5, 100)])
    assert [g.why for g in rec.gone] == ["reconcile:unexplained"] * 2
    (diff,) = rec.positions
    assert (diff.market, diff.ours.qty, diff.venue_qty) == ("ETH-PERP", 0, 5)
    apply(oms, rec, 30)
    assert oms.open_orders() == []
    assert oms.position("ETH-PERP").qty == 5
    assert oms.position("ETH-PERP").avg_price == pytest.approx(100)


def test_pending_order_the_venue_has_is_acked_and_caught_up():
    oms, (a,) = _oms_with(("SOL-PERP", BUY, 20, 100), acked=False)
    rec = reconcile(oms, [_venue_view(a, filled=8)], [_pos("SOL-PERP", 8, 100)])
    (b,) = rec.behind
    assert b.missed_ack and b.missed_fill == 8
    assert rec.positions == ()
    apply(oms, rec, 30)
    o = oms.order(a.order_id)
    assert (o.state, o.filled, o.ack_ns) == (OrderState.PARTIAL, 8, None)


def test_conflicts_adoptions_and_foreign_orders():
    oms, (a, b) = _oms_with(("BTC-PERP", BUY, 10, 1000), ("BTC-PERP", SELL, 4, 1100))
    oms.on_event(fill(b, 4), 25)      # b is FILLED at our side
    wrong_side = VenueOrder(a.order_id, a.market, SELL, a.order_type, a.price, a.qty, 0, a.qty)
    still_open = _venue_view(b)
    lost = VenueOrder("tw1-99", "BTC-PERP", BUY, OrderType.LIMIT, 900, 2, 1, 1)
    manual = VenueOrder("manual-1", "BTC-PERP", BUY, OrderType.LIMIT, 900, 2, 0, 2)
    elsewhere = VenueOrder("x", "DOGE-PERP", BUY, OrderType.LIMIT, 1, 1, 0, 1)
    rec = reconcile(oms, [wrong_side, still_open, lost, manual, elsewhere],
                    [_pos("BTC-PERP", -4, 1100)])
    assert {(c.order.order_id, c.why) for c in rec.conflicts} == {
        (a.order_id, "side differs"), (b.order_id, "filled at our side")}
    assert rec.adopt == (lost,)
    assert rec.foreign == (manual, elsewhere)
    assert set(rec.to_cancel) == {manual, elsewhere, wrong_side, still_open}
    assert rec.unknown_markets == ("DOGE-PERP",)
    apply(oms, rec, 30)
    adopted = oms.order("tw1-99")
    assert (adopted.state, adopted.filled, adopted.tag) == (OrderState.PARTIAL, 1, "adopted")
    assert oms.order(a.order_id).state is OrderState.OPEN  # until the venue's cancel arrives


def test_position_difference_takes_the_venue_quantity_and_keeps_our_pnl():
    oms, (a,) = _oms_with(("BTC-PERP", BUY, 10, 1000))
    oms.on_event(fill(a, 10), 25)
    s = oms.submit(PlaceOrder("BTC-PERP", SELL, 4, 1100), 26)
    oms.on_event(fill(s, 4), 27)
    realized = oms.position("BTC-PERP").realized_usd
    assert realized > 0
    rec = reconcile(oms, [], [_pos("BTC-PERP", 9, 1000)])
    (diff,) = rec.positions
    assert (diff.ours.qty, diff.venue_qty) == (6, 9)
    (ev,) = apply(oms, rec, 30)
    assert (ev.previous.qty, ev.position.qty, ev.reason) == (6, 9, "reconcile:venue")
    pos = oms.position("BTC-PERP")
    assert pos.realized_usd == realized and pos.avg_price == pytest.approx(1000)


# -- property: whatever happened while we were away, after apply() the OMS agrees with the
# venue, and a second reconciliation finds nothing.

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from host.oms.position import Position  # noqa: E402

OUTCOMES = ["open", "part", "filled", "cancelled", "part_cancelled"]
order_case = st.tuples(st.sampled_from(["BTC-PERP", "ETH-PERP"]), st.sampled_from([BUY, SELL]),
                       st.integers(2, 9), st.integers(90, 110), st.sampled_from(OUTCOMES),
                       st.booleans())


@settings(max_examples=150, deadline=None)
@given(st.lists(order_case, min_size=1, max_size=8), st.integers(-5, 5))
def test_after_apply_the_oms_agrees_with_the_venue(cases, stray_lots):
    oms = Oms(MARKETS, ClientIds(1))
    venue_orders, venue_pos = [], {}
    for market, side, qty, price, outcome, acked in cases:
        o = oms.submit(PlaceOrder(market, side, qty, price), 10)
        if acked:
            oms.on_event(ack(o), 20)
        filled = {"open": 0, "part": 1, "filled": qty, "cancelled": 0,
                  "part_cancelled": 1}[outcome]
        if filled:
            unit = MARKETS[market].notional_unit
            pos = venue_pos.get(market, Position(market))
            venue_pos[market] = pos.after_fill(side, filled, price, 0.0, unit)
        if outcome in ("open", "part"):
            venue_orders.append(_venue_view(o, filled))
    if stray_lots:   # a trade of ours we know nothing about
        pos = venue_pos.get("SOL-PERP", Position("SOL-PERP"))
        venue_pos["SOL-PERP"] = pos.after_fill(BUY if stray_lots > 0 else SELL, abs(stray_lots),
                                               100, 0.0, MARKETS["SOL-PERP"].notional_unit)
    positions = [_pos(m, p.qty, Decimal(repr(p.avg_price))) for m, p in venue_pos.items()
                 if p.qty]
    rec = reconcile(oms, venue_orders, positions)
    apply(oms, rec, 30)
    assert {o.order_id: o.filled for o in oms.open_orders()} == {
        v.order_id: v.filled for v in venue_orders}
    for market in ("BTC-PERP", "ETH-PERP", "SOL-PERP"):
        want = venue_pos.get(market, Position(market))
        got = oms.position(market)
        assert got.qty == want.qty
        if want.qty:
            assert got.avg_price == pytest.approx(want.avg_price, rel=1e-9)
    assert reconcile(oms, venue_orders, positions).clean
