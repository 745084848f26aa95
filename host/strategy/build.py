"""Strategies from their configs, once the venue's market table is known."""

from __future__ import annotations

from collections.abc import Iterable

from host.strategy.base import Strategy
from host.strategy.config import LatencyArbConfig, MarketMakerConfig, StrategyConfig
from host.strategy.latency_arb import LatencyArb
from host.strategy.market_maker import MarketMaker
from host.venue_client.markets import MarketTable


def build_strategies(configs: Iterable[StrategyConfig], markets: MarketTable) -> list[Strategy]:
    """One strategy per config. An unknown market raises ConfigError (`unknown_market`)."""
    out: list[Strategy] = []
    for config in configs:
        if isinstance(config, LatencyArbConfig):
            out.append(LatencyArb(config, markets))
        elif isinstance(config, MarketMakerConfig):
            out.append(MarketMaker(config, markets))
        else:
            raise TypeError(f"not a strategy config: {config!r}")
    return out
