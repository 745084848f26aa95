"""Position and PnL from fills: average cost, flips, fees; total equals cash accounting."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from host.risk.pnl import MarketPnl

UNIT = 0.0001  # BTC-PERP: 0.1 USD ticks x 0.001 BTC lots


def test_average_cost_partial_close_and_flip():
    p = MarketPnl("BTC-PERP", UNIT)
    p.fill(+1, 10, 1000)
    p.fill(+1, 10, 1100)
    assert (p.qty, p.avg_price) == (20, 1050)
    assert p.fill(-1, 5, 1150) == pytest.approx(5 * 100 * UNIT)
    assert (p.qty, p.avg_price) == (15, 1050)
    p.fill(-1, 20, 1000, fee_usd=0.5)                 # closes 15, opens 5 short at 1000
    assert (p.qty, p.avg_price) == (-5, 1000)
    assert p.realized_usd == pytest.approx((5 * 100 - 15 * 50) * UNIT - 0.5)
    p.mark = 990.0
    assert p.unrealized_usd() == pytest.approx(5 * 10 * UNIT)
    assert p.exposure_usd() == pytest.approx(5 * 990 * UNIT)
    p.fill(+1, 5, 990)
    assert (p.qty, p.avg_price, p.unrealized_usd()) == (0, 0.0, 0.0)


def test_restored_position_is_marked_at_its_average_until_a_mark_arrives():
    p = MarketPnl("X", 1.0, qty=-3, avg_price=50.0)
    assert (p.unrealized_usd(), p.exposure_usd()) == (0.0, 150.0)


fills = st.lists(st.tuples(st.sampled_from([1, -1]), st.integers(1, 50), st.integers(1, 5000),
                           st.integers(0, 3)), min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(fills=fills, mark=st.integers(1, 5000))
def test_total_pnl_equals_cash_accounting(fills, mark):
    p = MarketPnl("X", UNIT)
    cash, qty = 0.0, 0
    for sign, lots, price, fee in fills:
        p.fill(sign, lots, price, fee_usd=fee / 100)
        cash -= sign * lots * price * UNIT + fee / 100
        qty += sign * lots
    p.mark = float(mark)
    assert p.qty == qty
    assert p.total_usd() == pytest.approx(cash + qty * mark * UNIT, abs=1e-6)
