"""The daemon's trigger-stage pieces without a loop: the offload plan, the top-of-book
mirror, the software path (live and shadow), intents through the Trader, and the kill
switch's limits in cycles."""

from __future__ import annotations

from decimal import Decimal

import pytest

from host import wire
from host.daemon.feed_path import FeedPath
from host.daemon.fpga_link import limits_in_cycles
from host.daemon.offload import plan_offload
from host.daemon.top_mirror import TopMirror
from host.daemon.trader import ReportToFpga, SendOrder, Trader
from host.journal.journal import Journal
from host.metrics.registry import Registry
from host.model.events import BookTop
from host.model.kill_switch import EventKind, Limits
from host.model.pipeline import Pipeline, PipelineConfig
from host.model.trigger import RuleKind
from host.oms.ids import ClientIds
from host.oms.oms import Oms
from host.risk.config import parse_risk
from host.risk.engine import RiskEngine
from host.strategy.build import build_strategies
from host.strategy.config import parse_strategies
from host.venue_client.events import Fill, OrderAck, OrderType, Side
from host.venue_client.markets import MarketSpec, MarketTable
from sim.daemon_testing import MAKER

MARKETS = MarketTable([MarketSpec("BTC-PERP", 0, "0.1", "0.001", 50),
                       MarketSpec("ETH-PERP", 1, "0.01", "0.01", 50),
                       MarketSpec("BTC-SPOT", 3, "0.1", "0.001", 50),
                       MarketSpec("BTC-USD", 4, "0.01", "0.001", 50),
                       MarketSpec("BTC-QTR", 5, "0.1", "0.001", 50)])
ARB = {"kind": "latency_arb", "name": "btc-arb", "primary": "BTC-SPOT",
       "secondary": "BTC-PERP", "min_spread_bp": 8, "order_size_usd": 1000.0,
       "max_position_usd": 5000.0, "staleness_ms": 50.0}
WALL = 1_800_000_000_000_000_000


def _configs(*tables):
    return parse_strategies(list(tables))


def test_a_same_grid_arbitrage_becomes_a_rule_and_the_rest_say_why_not():
    configs = _configs(
        ARB, MAKER,
        {**ARB, "name": "mixed", "primary": "BTC-USD"},
        {**ARB, "name": "market", "order_type": "market"},
        {**ARB, "name": "second", "secondary": "BTC-QTR"})
    plan = plan_offload(configs, MARKETS, has_feed=True)
    assert [a.strategy for a in plan.arbs] == ["btc-arb"]
    arb = plan.arbs[0]
    assert (arb.primary_id, arb.secondary_id, arb.threshold_bp) == (3, 0, 8)
    assert plan.kept == {"eth-mm": "not_a_trigger_rule", "mixed": "tick_grids_differ",
                         "market": "market_orders", "second": "rule_slot_taken"}
    assert plan.by_slot(3) is arb and plan.by_slot(0) is None
    assert plan.market_ids == {0, 3}
    # 1000 USD at 60 000.0 (600 000 ticks of 0.1, lots of 0.001): 16 lots, never below 1.
    rule = arb.rule(600_000)
    assert (rule.kind, rule.target, rule.threshold_bp, rule.qty) == (RuleKind.ARBITRAGE, 0, 8, 16)
    assert arb.rule(10**12).qty == 1
    no_feed = plan_offload(_configs(ARB), MARKETS, has_feed=False)
    assert no_feed.arbs == () and no_feed.kept == {"btc-arb": "no_colo_feed"}


def test_the_mirror_agrees_with_any_recent_top_and_counts_the_rest():
    mirror = TopMirror([0, 3], history=3)
    tops = [BookTop(0, 1, 100 + i, 5, 1, 110 + i, 5) for i in range(5)]
    assert mirror.check(BookTop(0, 0, 0, 0, 0, 0, 0)).agrees  # nothing seen: both empty
    for top in tops:
        mirror.record(top)
        mirror.record(top)                   # a repeat is not a change
    assert mirror.check(tops[4]).behind == 0
    assert mirror.check(tops[2]).behind == 2
    old = mirror.check(tops[1])              # older than the history: stuck or diverged
    assert not old.agrees and old.behind == -1 and old.software == tops[4]
    assert not mirror.check(BookTop(0, 1, 100, 6, 1, 110, 5)).agrees
    assert (mirror.compared, mirror.agreed, mirror.disagreed) == (5, 3, 2)
    assert [mirror.next_market() for _ in range(3)] == [0, 3, 0]


def _bbo(market: int, seq: int, bid: int, ask: int):
    return wire.BestBidOffer(flags=0, market_id=market, rpt_seq=seq, bid_price=bid,
                             bid_qty=10, ask_price=ask, ask_qty=10)


def _packets():
    """The secondary (0) at 600 000, then the primary (3) 10 bp above it, then back."""
    msgs = [[_bbo(0, 1, 599_990, 600_010)], [_bbo(3, 1, 599_990, 600_010)],
            [_bbo(3, 2, 600_590, 600_610)], [_bbo(3, 3, 599_990, 600_010)],
            [_bbo(3, 4, 599_390, 599_410)]]
    return [wire.encode_packet(m, session=1, sequence=1 + i, send_time=0)
            for i, m in enumerate(msgs)]


@pytest.mark.parametrize("live", [True, False])
def test_the_software_path_fires_as_the_model_does_and_trades_only_when_live(live):
    plan = plan_offload(_configs(ARB), MARKETS, has_feed=True)
    rule = plan.arbs[0].rule(600_000)
    model = Pipeline(PipelineConfig(rules=((3, rule),)))
    mirror = TopMirror(plan.market_ids)
    path = FeedPath(mirror, live=live)
    path.write_rule(3, rule)
    traded, expected = [], []
    for packet in _packets():
        traded += path.on_payload(packet)
        expected += [e for e in model.payload(packet) if isinstance(e, wire.OrderIntent)]
    assert [(i.side, i.price, i.qty) for i in expected] == [(1, 600_010, 16), (2, 599_990, 16)]
    assert traded == (expected if live else [])
    counted = "intents_traded" if live else "intents_shadow"
    assert path.counters[counted] == 2 and path.counters["payloads"] == 5
    assert mirror.check(path.top(3)).behind == 0 and mirror.check(path.top(0)).agrees


def _trader(tmp_path):
    journal = Journal(tmp_path / "j.sqlite")
    boot = journal.start()
    oms = Oms(MARKETS, ClientIds(boot))
    now = 1_000
    risk = RiskEngine(parse_risk({"stale_market_data_ms": 1e9}), MARKETS, now, wall_ns=WALL)
    strategies = build_strategies(_configs(ARB), MARKETS)
    trader = Trader(MARKETS, oms, risk, strategies, journal, Registry(), clock=lambda: now)
    trader.offload = plan_offload(_configs(ARB), MARKETS, has_feed=True)
    trader.strategies["btc-arb"].offloaded = True
    return trader, journal


def _intent(rule_id=3, market=0, side=1, price=600_010, qty=16):
    return wire.OrderIntent(flags=0, market_id=market, side=side, rule_id=rule_id, tick_seq=2,
                            price=price, qty=qty, client_order_id=7, trigger_time=0)


def test_an_intent_becomes_a_journaled_ioc_order_and_its_events_go_back_to_the_fpga(tmp_path):
    from host.venue_client.book import TopOfBook

    trader, journal = _trader(tmp_path)
    try:
        trader.on_top(TopOfBook("BTC-PERP", 599_990, 10, 600_010, 10, WALL), 1, WALL)
        # The offloaded strategy no longer evaluates tops itself.
        assert trader.on_top(TopOfBook("BTC-SPOT", 700_000, 10, 700_010, 10, WALL), 1,
                             WALL) == []
        [order] = trader.on_intent(_intent(), "fpga", 5, WALL)
        assert isinstance(order, SendOrder)
        assert (order.market, order.side, order.qty, order.price, order.order_type) == (
            "BTC-PERP", Side.BUY, 16, 600_010, OrderType.IOC)
        assert trader.intent_orders == {order.order_id: "fpga"}
        assert trader.oms.order(order.order_id).tag == "btc-arb"
        ack = OrderAck(order.order_id, "BTC-PERP", Side.BUY, OrderType.IOC, 600_010, 16, WALL)
        assert trader.on_order_event(ack, 2_000, WALL) == [
            ReportToFpga(int(EventKind.ACK), 0, 1, 0)]
        fill = Fill(order.order_id, "BTC-PERP", Side.BUY, 16, 600_010, Decimal("0.01"),
                    "taker", 0, 1, WALL)
        assert ReportToFpga(int(EventKind.FILL), 0, 1, 16) in trader.on_order_event(
            fill, 3_000, WALL)
        # An intent no rule of the plan explains is counted and goes nowhere.
        assert trader.on_intent(_intent(rule_id=9), "fpga", 30, WALL) == []
        assert trader.metrics.counter("intents_total", source="fpga",
                                      outcome="unknown_rule").value == 1
    finally:
        journal.close()


def test_limits_turn_from_nanoseconds_into_cycles():
    limits = Limits(heartbeat_timeout=500_000_000, rate_tokens=10, rate_window=1_000_000_000,
                    max_qty=5, max_notional=6, collar_bp=7, max_rejects=3, max_position=9)
    cycles = limits_in_cycles(limits, 125e6)
    assert (cycles.heartbeat_timeout, cycles.rate_window) == (62_500_000, 125_000_000)
    assert cycles.max_qty == 5 and cycles.collar_bp == 7
    slow = limits_in_cycles(limits, 1.0)
    assert (slow.heartbeat_timeout, slow.rate_window) == (1, 1)   # never 0: that turns off
    assert limits_in_cycles(Limits(), 125e6) == Limits()
