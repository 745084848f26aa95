"""Synthetic market data: simple agents trading on the real engine, reproducible from a seed.

Each market has a fair value. Leaders random-walk with occasional jumps; a follower's fair
value is its leader's from `lag_steps` steps ago (BTC-PERP follows BTC-SPOT 200 ms late by
default), so a latency-arbitrage strategy that watches the leader finds real, exploitable
divergences. Two house agents act per step:

- a market maker quotes a ladder of `levels` prices a side on a grid of `level_step_ticks`
  around the fair value, cancelling prices that left the ladder and refilling empty ones;
- a noise taker sends small market orders now and then, so there are trades.

`Generator.step()` is sans-I/O: the app calls it every `step_ms`. The commands it sends depend
only on the seed and on which of its own orders are still resting, so with no other traders
two runs with one seed produce the same market data.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass

from sim.venue.book import BUY, SELL
from sim.venue.engine import NewOrder


@dataclass(frozen=True)
class SyntheticMarket:
    name: str
    start_price: float  # USDC
    vol_bps: float  # standard deviation of the fair value's log step, basis points
    half_spread_ticks: int
    level_step_ticks: int
    maker_lots: tuple[int, int]
    taker_lots: tuple[int, int]
    taker_prob: float = 0.05  # chance of one market order per step
    levels: int = 12
    follows: str | None = None
    lag_steps: int = 0


DEFAULT_SYNTHETIC: tuple[SyntheticMarket, ...] = (
    SyntheticMarket("BTC-SPOT", 60_000.0, 0.4, 50, 100, (5_000, 200_000), (1_000, 20_000)),
    SyntheticMarket("BTC-PERP", 60_000.0, 0.0, 5, 10, (5, 200), (1, 20), follows="BTC-SPOT",
                    lag_steps=20),
    SyntheticMarket("ETH-PERP", 2_600.0, 0.5, 5, 5, (10, 500), (1, 50)),
    SyntheticMarket("SOL-PERP", 150.0, 0.6, 10, 10, (10, 1_000), (1, 100)),
)


@dataclass(frozen=True)
class GeneratorConfig:
    seed: int = 1
    step_ms: float = 10.0
    markets: tuple[SyntheticMarket, ...] = DEFAULT_SYNTHETIC
    jump_prob: float = 0.01  # per step and leader
    jump_bps: tuple[float, float] = (12.0, 30.0)
    requote_prob: float = 0.05  # per step and market: one level gets a fresh quantity


class _Market:
    __slots__ = ("cfg", "spec", "fair", "history", "quotes")

    def __init__(self, cfg: SyntheticMarket, spec, lag: int):
        self.cfg = cfg
        self.spec = spec
        self.fair = cfg.start_price
        self.history: deque[float] = deque([cfg.start_price] * (lag + 1), maxlen=lag + 1)
        self.quotes: dict[tuple[int, int], str] = {}  # (side, price) -> client id


class Generator:
    def __init__(self, core, config: GeneratorConfig | None = None):
        self.core = core
        self.config = config = config if config is not None else GeneratorConfig()
        self.rng = random.Random(config.seed)
        self.maker = core.house_account("maker")
        self.taker = core.house_account("taker")
        self.steps = 0
        self._ids = 0
        self.markets: dict[str, _Market] = {}
        lags = {m.follows: 0 for m in config.markets if m.follows}
        for m in config.markets:
            if m.follows:
                lags[m.follows] = max(lags[m.follows], m.lag_steps)
        for m in config.markets:
            spec = core.markets.get(m.name)
            if spec is None:
                raise ValueError(f"generator market {m.name} is not a venue market")
            self.markets[m.name] = _Market(m, spec, lags.get(m.name, 0))
        for m in config.markets:
            if m.follows and m.follows not in self.markets:
                raise ValueError(f"{m.name} follows {m.follows}, which is not generated")

    def step(self) -> None:
        self.steps += 1
        rng = self.rng
        for market in self.markets.values():
            cfg = market.cfg
            if cfg.follows is None:
                move = rng.gauss(0.0, cfg.vol_bps)
                if rng.random() < self.config.jump_prob:
                    move += rng.choice((-1, 1)) * rng.uniform(*self.config.jump_bps)
                market.fair *= math.exp(move / 10_000)
                market.history.append(market.fair)
        for market in self.markets.values():
            cfg = market.cfg
            if cfg.follows is not None:
                leader = self.markets[cfg.follows]
                market.fair = leader.history[-1 - cfg.lag_steps]
                market.history.append(market.fair)
            self._quote(market)
            if rng.random() < cfg.taker_prob:
                self._take(market)

    def _next_id(self) -> str:
        self._ids += 1
        return f"g{self._ids}"

    def _quote(self, market: _Market) -> None:
        cfg, spec = market.cfg, market.spec
        fair_ticks = market.fair / spec.price(1)
        step = cfg.level_step_ticks
        best_bid = math.floor((fair_ticks - cfg.half_spread_ticks) / step) * step
        best_ask = math.ceil((fair_ticks + cfg.half_spread_ticks) / step) * step
        wanted = {(BUY, best_bid - k * step) for k in range(cfg.levels)}
        wanted |= {(SELL, best_ask + k * step) for k in range(cfg.levels)}
        live = self.maker.open_orders
        engine = self.core.engine
        for key, client_id in list(market.quotes.items()):
            if client_id not in live:
                del market.quotes[key]
            elif key not in wanted:
                self.core.run(engine.cancel(self.maker, client_id))
                del market.quotes[key]
        if market.quotes and self.rng.random() < self.config.requote_prob:
            key = self.rng.choice(sorted(market.quotes))
            self.core.run(engine.cancel(self.maker, market.quotes.pop(key)))
        # Inside-out, so the best prices are filled first.
        for side, price in sorted(wanted, key=lambda k: (abs(k[1] - fair_ticks), k)):
            if (side, price) in market.quotes or price <= 0:
                continue
            client_id = self._next_id()
            lots = self.rng.randint(*cfg.maker_lots)
            self.core.run(engine.submit(self.maker, NewOrder(
                client_id, spec.market_id, side, "limit", price, lots, "cancel_maker")))
            if client_id in live:
                market.quotes[(side, price)] = client_id

    def _take(self, market: _Market) -> None:
        side = self.rng.choice((BUY, SELL))
        lots = self.rng.randint(*market.cfg.taker_lots)
        self.core.run(self.core.engine.submit(self.taker, NewOrder(
            self._next_id(), market.spec.market_id, side, "market", None, lots)))
