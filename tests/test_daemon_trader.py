"""The daemon's sans-I/O core without a loop or a socket: real OMS, risk, strategies and a
real SQLite journal, driven by hand-made venue events and a fake clock."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

import pytest

from host.daemon.trader import SendCancelAll, SendOrder, Trader
from host.journal.journal import Journal
from host.metrics.registry import Registry
from host.oms.ids import ClientIds
from host.oms.oms import Oms
from host.risk.config import parse_risk
from host.risk.engine import RiskEngine
from host.strategy.build import build_strategies
from host.strategy.config import parse_strategies
from host.venue_client.book import TopOfBook
from host.venue_client.events import Fill, OrderAck, OrderReject, OrderType, Side
from host.venue_client.markets import MarketSpec, MarketTable
from sim.daemon_testing import MAKER

MARKETS = MarketTable([MarketSpec("ETH-PERP", 1, "0.01", "0.01", 50)])
WALL = 1_800_000_000_000_000_000


class Clock:
    def __init__(self):
        self.now = 1_000_000_000

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def rig(tmp_path):
    journal = Journal(tmp_path / "j.sqlite")
    boot = journal.start()
    clock = Clock()
    oms = Oms(MARKETS, ClientIds(boot))
    risk = RiskEngine(parse_risk({}), MARKETS, clock.now, wall_ns=WALL)
    strategies = build_strategies(parse_strategies([MAKER]), MARKETS)
    trader = Trader(MARKETS, oms, risk, strategies, journal, Registry(), clock=clock)
    yield trader, journal, clock
    journal.close()


def _top(bid=260_000, ask=260_010, ts=WALL):
    return TopOfBook("ETH-PERP", bid, 50, ask, 50, ts)


def _journaled_states(journal: Journal) -> dict[str, str]:
    db = sqlite3.connect(journal.path)
    try:
        return dict(db.execute("SELECT order_id, state FROM orders"))
    finally:
        db.close()


def test_a_top_makes_two_post_only_quotes_journaled_before_they_are_returned(rig):
    trader, journal, clock = rig
    commands = trader.on_top(_top(), clock.now - 5_000, WALL + 1_000)
    orders = [c for c in commands if isinstance(c, SendOrder)]
    assert {o.side for o in orders} == {Side.BUY, Side.SELL}
    assert all(o.order_type is OrderType.POST_ONLY for o in orders)
    bid = next(o for o in orders if o.side is Side.BUY)
    ask = next(o for o in orders if o.side is Side.SELL)
    assert bid.price < 260_000 and ask.price > 260_010
    assert _journaled_states(journal) == {o.order_id: "pending" for o in orders}
    assert all(o.origin_ns == clock.now - 5_000 and o.from_tick for o in orders)


def test_ack_and_fill_update_oms_risk_metrics_and_journal(rig):
    trader, journal, clock = rig
    order = next(c for c in trader.on_top(_top(), clock.now, WALL) if isinstance(c, SendOrder))
    clock.now += 80_000
    trader.on_order_event(OrderAck(order.order_id, "ETH-PERP", order.side, order.order_type,
                                   order.price, order.qty, WALL), clock.now, WALL)
    ack = trader.metrics.histogram("ack_seconds")
    assert ack.count == 1 and 80_000 <= ack.percentile(50) <= 80_000 * (1 + 1 / 64)
    clock.now += 1_000_000
    trader.on_order_event(Fill(order.order_id, "ETH-PERP", order.side, order.qty, order.price,
                               Decimal("0.05"), "maker", 0, 1, WALL), clock.now, WALL)
    assert trader.oms.position("ETH-PERP").qty == order.qty * order.side.sign
    assert trader.risk.status().positions == {"ETH-PERP": order.qty * order.side.sign}
    assert trader.metrics.counter("fills_total").value == 1
    assert _journaled_states(journal)[order.order_id] == "filled"


def test_rejects_in_a_row_halt_and_cancel_everything(rig):
    trader, journal, clock = rig
    commands = []
    for _ in range(5):
        orders = [c for c in trader.on_top(_top(), clock.now, WALL) if isinstance(c, SendOrder)]
        for order in orders:
            clock.now += 1_000
            commands += trader.on_order_event(
                OrderReject(order.order_id, "venue_busy", "busy", WALL), clock.now, WALL)
    assert str(trader.risk.state) == "halted"
    assert SendCancelAll() in commands
    assert any(e["reason"] == "consecutive_rejects" for e in trader.risk_log)
    # Halted: a new top asks, risk refuses, nothing goes out.
    assert not [c for c in trader.on_top(_top(259_000, 259_010), clock.now, WALL)
                if isinstance(c, SendOrder)]
    assert trader.metrics.counter("denials_total", reason="halted").value >= 1


def test_stale_top_is_denied_with_its_reason(rig):
    trader, _, clock = rig
    stale = _top(ts=WALL - 200_000_000)
    assert not [c for c in trader.on_top(stale, clock.now, WALL) if isinstance(c, SendOrder)]
    assert trader.metrics.counter("denials_total", reason="stale_market_data").value >= 1


def test_after_stop_trading_nothing_new_goes_out(rig):
    trader, _, clock = rig
    assert trader.stop_trading() == [SendCancelAll()]
    assert not [c for c in trader.on_top(_top(), clock.now, WALL) if isinstance(c, SendOrder)]


def test_manual_kill_halts_and_cancels(rig):
    trader, _, clock = rig
    commands = trader.kill("operator", clock.now)
    assert commands.count(SendCancelAll()) == 1
    assert str(trader.risk.state) == "halted"
    assert trader.risk_log[-1]["reason"] == "manual"
