"""The latency arbitrage strategy: the gateware trigger's decision, and the seed's guards."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from host.config_parse import ConfigError
from host.model.events import Tick, TickKind
from host.model.top_of_book import TopOfBook
from host.model.trigger import Rule, RuleKind, Trigger
from host.strategy.actions import PlaceOrder
from host.strategy.config import LatencyArbConfig
from host.strategy.latency_arb import LatencyArb, grid_factors
from host.venue_client.events import Fill, OrderType, Side
from host.venue_client.markets import MarketSpec, MarketTable
from host.wire import OrderSide
from tests.risk_fixtures import MS, Top

SAME_TICK = MarketTable([MarketSpec("SPOT", 0, "0.1", "0.001"),
                         MarketSpec("PERP", 1, "0.1", "0.001")])
MIXED = MarketTable([MarketSpec("BTC-SPOT", 3, "0.01", "0.000001"),
                     MarketSpec("BTC-PERP", 0, "0.1", "0.001")])
DAY = 20_000 * 86_400 * 10**9


def arb(markets=SAME_TICK, primary="SPOT", secondary="PERP", **kw) -> LatencyArb:
    kw.setdefault("order_size_usd", 1e12)
    kw.setdefault("max_position_usd", 1e15)
    return LatencyArb(LatencyArbConfig("arb", primary, secondary, **kw), markets)


def top(market, bid, ask, qty=10, ts=DAY):
    return Top(market, bid, qty if bid else 0, ask, qty if ask else 0, ts)


def test_fires_at_the_threshold_on_the_edge_only_and_trades_the_secondary_touch():
    a = arb(order_size_usd=6_000.0)                       # 1 lot ~ 10 USD at 10,000
    assert a.on_top(top("PERP", 99_990, 100_010), 1) == []
    assert a.on_top(top("SPOT", 100_069, 100_089), 2) == []   # +7.9 bp
    orders = a.on_top(top("SPOT", 100_070, 100_090), 3)       # +8 bp exactly
    assert orders == [PlaceOrder("PERP", Side.BUY, 599, 100_010, OrderType.IOC, "arb", 3)]
    assert a.on_top(top("SPOT", 100_071, 100_091), 4) == []   # still true: no second order
    [sell] = a.on_top(top("SPOT", 99_910, 99_930), 5)         # -8 bp
    assert (sell.side, sell.price, sell.origin_ns) == (Side.SELL, 99_990, 5)


def test_secondary_updates_never_fire_and_other_markets_are_ignored():
    a = arb()
    a.on_top(top("SPOT", 100_070, 100_090), 1)
    assert a.on_top(top("PERP", 99_990, 100_010), 2) == []
    assert a.on_top(top("ETH", 1, 2), 3) == []


def test_markets_with_different_tick_sizes_compare_on_one_grid():
    assert grid_factors("0.01", "0.1") == (1, 10) and grid_factors("0.5", "0.2") == (5, 2)
    a = arb(MIXED, "BTC-SPOT", "BTC-PERP")
    a.on_top(top("BTC-PERP", 599_990, 600_010), 1)          # 60,000.0 mid
    assert a.on_top(top("BTC-SPOT", 6_004_790, 6_004_800), 2) == []   # +7.99 bp
    [o] = a.on_top(top("BTC-SPOT", 6_004_790, 6_004_810), 3)         # +8 bp
    assert (o.market, o.side, o.price) == ("BTC-PERP", Side.BUY, 600_010)


def test_an_update_older_than_the_staleness_when_handled_is_skipped():
    a = arb()
    a.on_top(top("PERP", 99_990, 100_010), 0)
    assert a.on_top(top("SPOT", 100_070, 100_090), 10 * MS, now_ns=15 * MS + 1) == []
    assert a.counters["stale_skips"] == 1
    # The edge was not consumed: the next fresh update fires.
    assert len(a.on_top(top("SPOT", 100_070, 100_090), 20 * MS, now_ns=25 * MS)) == 1


def test_size_position_and_order_type_guards():
    a = arb(order_size_usd=5.0)                             # under one lot (10 USD)
    a.on_top(top("PERP", 99_990, 100_010), 0)
    assert a.on_top(top("SPOT", 100_070, 100_090), 1) == []
    assert a.counters["size_skips"] == 1
    a = arb(order_size_usd=1_000.0, max_position_usd=1_500.0, order_type="market")
    a.on_top(top("PERP", 99_990, 100_010), 0)
    [o] = a.on_top(top("SPOT", 100_070, 100_090), 1)
    assert (o.qty, o.price, o.order_type) == (99, None, OrderType.MARKET)
    a.on_fill(Fill("x", "PERP", Side.BUY, 99, 100_010, Decimal(0), "taker", 0, 1, DAY))
    a.on_top(top("SPOT", 100_000, 100_000), 2)              # condition off
    assert a.on_top(top("SPOT", 100_070, 100_090), 3) == []  # 198 lots ~ 1,980 USD > 1,500
    assert a.counters["position_skips"] == 1
    assert len(a.on_top(top("SPOT", 99_910, 99_930), 4)) == 1  # selling reduces: allowed


def test_daily_loss_stops_the_strategy_until_resumed():
    a = arb(order_size_usd=10_000.0, max_daily_loss_usd=50.0)
    a.on_top(top("PERP", 99_990, 100_010), 0)
    a.on_fill(Fill("x", "PERP", Side.BUY, 1000, 100_010, Decimal(0), "taker", 0, 1, DAY))
    a.on_top(top("PERP", 99_400, 99_500), 1)                # -5.6 ticks x 1000 lots ~ -56 USD
    assert a.stopped and "daily loss" in a.stopped
    assert a.on_top(top("SPOT", 99_910, 99_930), 2) == []
    assert a.counters["stopped_skips"] == 1
    a.resume()
    a.on_top(top("SPOT", 99_450, 99_450), 3)
    assert len(a.on_top(top("SPOT", 99_300, 99_320), 4)) == 1


def test_a_halted_market_gives_no_signal():
    a = arb()
    a.on_top(top("PERP", 99_990, 100_010), 0)
    a.on_market_status("PERP", True)
    assert a.on_top(top("SPOT", 100_070, 100_090), 1) == []
    a.on_market_status("PERP", False)
    assert len(a.on_top(top("SPOT", 100_070, 100_090), 2)) == 1


def test_unknown_markets_and_bad_settings_are_config_errors():
    with pytest.raises(ConfigError) as err:
        arb(primary="NOPE")
    assert (err.value.key, err.value.reason) == ("strategy.arb.primary", "unknown_market")
    with pytest.raises(ConfigError):
        LatencyArbConfig("arb", "A", "A")
    with pytest.raises(ConfigError):
        LatencyArbConfig("arb", "A", "B", order_type="limit")


prices = st.integers(1, 2_000)
updates = st.lists(st.one_of(
    st.tuples(st.sampled_from([0, 1]), prices, prices, st.integers(0, 2), st.integers(0, 2)),
    st.tuples(st.sampled_from([0, 1]), st.booleans())), max_size=60)


@settings(max_examples=200, deadline=None)
@given(updates=updates, bp=st.integers(0, 300))
def test_same_decisions_as_the_gateware_trigger_model(updates, bp):
    """Random top-of-book and halt sequences through Trigger (the gateware's reference) and
    through the strategy: the same orders, side and price, at the same updates."""
    book, trig = TopOfBook(depth=1, markets=2), Trigger(markets=2)
    trig.write_rule(0, Rule(RuleKind.ARBITRAGE, target=1, threshold_bp=bp, qty=1))
    a = arb(min_spread_bp=bp)
    names = ("SPOT", "PERP")
    seqs = [0, 0]
    for step, update in enumerate(updates):
        market = update[0]
        seqs[market] += 1
        if len(update) == 2:
            book.tick(Tick(TickKind.STATUS, market, seqs[market], status=2 if update[1] else 1))
            a.on_market_status(names[market], update[1])
            continue
        _, p1, p2, bq, aq = update
        bid, ask = min(p1, p2), max(p1, p2)
        book.tick(Tick(TickKind.BBO, market, seqs[market], price0=bid, qty0=bq, price1=ask,
                       qty1=aq))
        ours = a.on_top(Top(names[market], bid if bq else 0, bq, ask if aq else 0, aq, DAY),
                        step)
        if market == 0:
            intent = trig.evaluate(0, seqs[0], book.books)
            theirs = [] if intent is None else [(
                Side.BUY if intent.side == OrderSide.BUY else Side.SELL, intent.price)]
            assert [(o.side, o.price) for o in ours] == theirs
        else:
            assert ours == []
