"""The rest of DESIGN.md's "to decision" on the depth stream: trigger and risk after the book.

Once the fast path knows the new top, the daemon hands it to a strategy and passes the
resulting order through risk. This stage does the same on the bench's book: a market maker's
`on_top` (the trigger), then `RiskEngine.check` on the order an arbitrage would send at the
touch, every message, so the risk cost is always paid. The limits are set wide so every check
runs to the end (an allowed order is the slow case; a denial stops early).
"""

from __future__ import annotations

import time

from host.risk.config import parse_risk
from host.risk.engine import RiskEngine
from host.strategy.actions import PlaceOrder
from host.strategy.build import build_strategies
from host.strategy.config import parse_strategies
from host.venue_client.book import TopOfBook
from host.venue_client.events import OrderType, Side
from host.venue_client.markets import MarketSpec, MarketTable

MARKET = "BTCUSDT"
# Prices as the bench's book keeps them: 0.01 USDT units (its step of 10 is the 0.1 tick).
MARKETS = MarketTable([MarketSpec(MARKET, 0, "0.01", "0.001", 50)])
WIDE = {"max_position_usd": 1e12, "max_daily_loss_usd": 1e12, "pnl_kill_drawdown_usd": 1e12,
        "stale_market_data_ms": 1e9,
        "circuit_breaker": {"max_orders_per_s": 10_000_000, "throttled_orders_per_s": 1},
        "hardware": {"rate_tokens": 60_000, "rate_window_ns": 1_000,
                     "max_qty": 1_000_000, "max_notional": 1 << 62, "collar_bp": 1000}}
MAKER = {"kind": "market_maker", "name": "bench-mm", "market": MARKET, "quote_lots": 1,
         "half_spread_ticks": 50, "max_inventory_lots": 10, "skew_ticks": 10,
         "requote_ticks": 20}


class DecisionStage:
    """`act(top)`: the strategy's decision and a risk check on the top the book decided."""

    def __init__(self):
        now = time.monotonic_ns()
        self.risk = RiskEngine(parse_risk(WIDE), MARKETS, now, wall_ns=time.time_ns())
        (self.strategy,) = build_strategies(parse_strategies([MAKER]), MARKETS)
        self.checks = self.allowed = 0

    def act(self, top: tuple) -> None:
        bid, bid_qty, ask, ask_qty = top
        if bid is None or ask is None:
            return
        now = time.monotonic_ns()
        wall = time.time_ns()
        view = TopOfBook(MARKET, bid, bid_qty, ask, ask_qty, wall)
        self.risk.on_book(MARKET, bid, ask, now)
        self.strategy.on_top(view, now, now)
        probe = PlaceOrder(MARKET, Side.BUY, 1, ask, OrderType.IOC, "bench", now)
        verdict = self.risk.check(probe, now, wall, wall, 0)
        self.checks += 1
        self.allowed += verdict.allowed


def with_decision(fast, stage: DecisionStage):
    """The fast path's (decide, read_top) with the stage run on each decided top."""
    decide, read_top, act = fast.decide, fast.read_top, stage.act

    def decide_and_act(raw):
        top = decide(raw)
        if top is not None:
            act(top)
        return top

    def read_and_act():
        top = read_top()
        act(top)
        return top

    return decide_and_act, read_and_act
