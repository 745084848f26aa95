"""Shared builders for the risk and strategy tests: markets, a permissive config, orders."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from host.risk.config import CircuitBreaker, RiskConfig
from host.risk.engine import RiskEngine
from host.strategy.actions import PlaceOrder
from host.venue_client.events import Fill, OrderType, Side
from host.venue_client.markets import MarketSpec, MarketTable

MARKETS = MarketTable([MarketSpec("BTC-PERP", 0, "0.1", "0.001"),
                       MarketSpec("ETH-PERP", 1, "0.01", "0.01"),
                       MarketSpec("BTC-SPOT", 3, "0.01", "0.000001")])
BTC = "BTC-PERP"
PX = 600_000              # 60,000.0 USD in 0.1 ticks; one lot (0.001 BTC) is 60 USD
T0 = 1_000_000_000_000    # local monotonic ns
WALL = 1_790_000_000 * 10**9 + 3_600 * 10**9  # some wall-clock ns, an hour into a UTC day
MS = 1_000_000
S = 1_000_000_000

CONFIG = RiskConfig(
    max_consecutive_rejects=5, pnl_kill_drawdown_usd=1_000.0, max_position_usd=6_000.0,
    max_daily_loss_usd=500.0, stale_market_data_ms=50.0,
    circuit_breaker=CircuitBreaker(max_orders_per_s=20, throttled_orders_per_s=4,
                                   cool_off_s=2.0),
    hardware=replace(RiskConfig().hardware, rate_tokens=1_000, max_qty=1_000, collar_bp=100,
                     max_position=1_000))


@dataclass(frozen=True)
class Top:
    """A stand-in for host.venue_client.book.TopOfBook until that lands on main."""

    market: str
    bid: int
    bid_qty: int
    ask: int
    ask_qty: int
    ts_ns: int


def engine(config: RiskConfig = CONFIG, **kw) -> RiskEngine:
    eng = RiskEngine(config, MARKETS, T0, wall_ns=WALL, **kw)
    eng.on_book(BTC, PX - 10, PX + 10, T0)
    eng.on_mark(BTC, PX, T0)
    return eng


def order(side: Side = Side.BUY, qty: int = 1, price: int | None = PX + 10,
          market: str = BTC, order_type: OrderType = OrderType.LIMIT) -> PlaceOrder:
    return PlaceOrder(market, side, qty, price, order_type, tag="t")


def check(eng: RiskEngine, req: PlaceOrder | None = None, at: int = T0, age_ns: int = 1 * MS,
          position: int = 0):
    """check() at local time `at`, with market data `age_ns` old by the wall clock."""
    wall = WALL + (at - T0)
    return eng.check(req or order(), at, wall - age_ns, wall, position)


def fill(side: Side, qty: int, price: int = PX, market: str = BTC, fee: str = "0",
         order_id: str = "o1") -> Fill:
    return Fill(order_id, market, side, qty, price, Decimal(fee), "taker", 0, 1, WALL)
