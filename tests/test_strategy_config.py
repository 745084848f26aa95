"""TOML config: the example file parses, every bad key is named, defaults are the seed's."""

import tomllib
from pathlib import Path

import pytest

from host.config_parse import ConfigError
from host.risk.config import RiskConfig, parse_risk
from host.strategy.build import build_strategies
from host.strategy.config import (
    LatencyArbConfig,
    MarketMakerConfig,
    load_config,
    parse_strategies,
    table_of,
)
from host.strategy.latency_arb import LatencyArb
from host.strategy.market_maker import MarketMaker
from host.venue_client.markets import MarketSpec, MarketTable

EXAMPLE = Path(__file__).resolve().parents[1] / "tickwire.example.toml"
VENUE_MARKETS = MarketTable([MarketSpec("BTC-PERP", 0, "0.1", "0.001"),
                             MarketSpec("ETH-PERP", 1, "0.01", "0.01"),
                             MarketSpec("BTC-SPOT", 3, "0.01", "0.000001")])


def test_the_example_file_parses_to_the_defaults_and_builds():
    cfg = load_config(EXAMPLE)
    assert cfg.risk == RiskConfig()          # the example documents the defaults
    arb, mm = cfg.strategies
    assert arb == LatencyArbConfig("btc-arb", "BTC-SPOT", "BTC-PERP")
    assert mm == MarketMakerConfig("eth-mm", "ETH-PERP")
    built = build_strategies(cfg.strategies, VENUE_MARKETS)
    assert [type(s) for s in built] == [LatencyArb, MarketMaker]
    doc = tomllib.loads(EXAMPLE.read_text())
    assert set(doc) == {"venue", "daemon", "risk", "strategy"}


def test_tables_round_trip():
    for cfg in load_config(EXAMPLE).strategies:
        assert parse_strategies([table_of(cfg)]) == (cfg,)


@pytest.mark.parametrize("risk, key, reason", [
    ({"max_consecutive_rejects": 0}, "risk.max_consecutive_rejects", "out_of_range"),
    ({"max_consecutive_rejects": "5"}, "risk.max_consecutive_rejects", "wrong_type"),
    ({"max_consecutive_rejects": True}, "risk.max_consecutive_rejects", "wrong_type"),
    ({"stale_market_data_ms": -1}, "risk.stale_market_data_ms", "out_of_range"),
    ({"max_daily_loss_usd": float("nan")}, "risk.max_daily_loss_usd", "out_of_range"),
    ({"max_position": 1}, "risk.max_position", "unknown_key"),
    ({"reject_kill_ignores": "x"}, "risk.reject_kill_ignores", "wrong_type"),
    ({"circuit_breaker": {"max_orders_per_s": 5, "throttled_orders_per_s": 6}},
     "risk.circuit_breaker.throttled_orders_per_s", "out_of_range"),
    ({"circuit_breaker": 3}, "risk.circuit_breaker", "wrong_type"),
    ({"backoff": {"base_s": 2.0, "cap_s": 1.0}}, "risk.backoff.cap_s", "out_of_range"),
    ({"hardware": {"collar_bp": 1 << 16}}, "risk.hardware.collar_bp", "out_of_range"),
    ({"hardware": {"max_qty": 0}}, "risk.hardware.max_qty", "out_of_range"),
    ({"hardware": {"rate_window_ns": 0}}, "risk.hardware.rate_window_ns", "out_of_range"),
    ({"hardware": {"max_rejects": 3}}, "risk.hardware.max_rejects", "inconsistent"),
    ({"hardware": {"rate_window": 3}}, "risk.hardware.rate_window", "unknown_key"),
])
def test_bad_risk_settings_name_their_key(risk, key, reason):
    with pytest.raises(ConfigError) as err:
        parse_risk(risk, "t.toml")
    assert (err.value.path, err.value.key, err.value.reason) == ("t.toml", key, reason)
    assert key in str(err.value) and "t.toml" in str(err.value)


ARB = {"kind": "latency_arb", "name": "a", "primary": "P", "secondary": "S"}


@pytest.mark.parametrize("items, key, reason", [
    ({"kind": "x"}, "strategy", "wrong_type"),
    ([{"name": "a"}], "strategy[0].kind", "missing"),
    ([{"kind": "hodl"}], "strategy[0].kind", "unknown_kind"),
    ([{**ARB, "primary": 3}], "strategy[0].primary", "wrong_type"),
    ([{**ARB, "min_spread": 8}], "strategy[0].min_spread", "unknown_key"),
    ([{**ARB, "min_spread_bp": 70_000}], "strategy[0].min_spread_bp", "out_of_range"),
    ([{**ARB, "secondary": "P"}], "strategy[0].secondary", "out_of_range"),
    ([ARB, {**ARB}], "strategy[1].name", "duplicate"),
    ([ARB, {"kind": "market_maker", "name": "m"}], "strategy[1].market", "missing"),
    ([{"kind": "market_maker", "name": "m", "market": "X", "requote_ticks": 0}],
     "strategy[0].requote_ticks", "out_of_range"),
    (["x"], "strategy[0]", "wrong_type"),
])
def test_bad_strategy_settings_name_their_key(items, key, reason):
    with pytest.raises(ConfigError) as err:
        parse_strategies(items, "t.toml")
    assert (err.value.key, err.value.reason) == (key, reason)


def test_unknown_markets_are_found_when_built():
    [cfg] = parse_strategies([ARB])
    with pytest.raises(ConfigError) as err:
        build_strategies([cfg], VENUE_MARKETS)
    assert (err.value.key, err.value.reason) == ("strategy.a.primary", "unknown_market")


def test_unreadable_files(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "missing.toml")
    assert err.value.reason == "unreadable"
    bad = tmp_path / "bad.toml"
    bad.write_text("[risk\n")
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    assert (err.value.reason, err.value.path) == ("unreadable", str(bad))


def test_every_risk_setting_and_reason_is_in_the_generated_page():
    from dataclasses import fields

    from host.risk import docgen
    from host.risk.config import SETTING_DOCS, Backoff, CircuitBreaker
    from host.risk.reasons import DenyReason, EventKind, RiskState, Trip

    keys = {f.name for f in fields(RiskConfig)} - {"circuit_breaker", "backoff", "hardware"}
    keys |= {f"circuit_breaker.{f.name}" for f in fields(CircuitBreaker)}
    keys |= {f"backoff.{f.name}" for f in fields(Backoff)}
    assert keys | {"hardware.*"} == set(SETTING_DOCS)
    text = docgen.render()
    for member in [*DenyReason, *Trip, *EventKind, *RiskState]:
        assert f"| `{member.value}` |" in text
    for key in tomllib.loads(EXAMPLE.read_text())["risk"]["hardware"]:
        assert f"`hardware.{key}`" in text


def test_bench_risk_runs_and_takes_the_intended_paths():
    from host.bench import risk

    text = risk.report(300, 1, 3)      # raises if a check took an unintended path
    for row in ("RiskEngine.check (allowed)", "RiskEngine.check (denied: stale)",
                "LatencyArb.on_top", "MarketMaker.on_top"):
        assert row in text
