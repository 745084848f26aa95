"""The seed's latency arbitrage, in integers, with the gateware trigger's decision.

A primary market (say BTC-SPOT) moves first; the secondary (BTC-PERP) follows a little later.
On each primary update the two mids are compared as the trigger does
(host.model.trigger.arbitrage_sides: sums of bid and ask, `min_spread_bp` basis points). When
the buy or sell condition turns true (on the edge, as in the gateware), the strategy sends an
IOC order for about `order_size_usd` to the secondary at its touch, before it reprices.

Prices of the two markets are brought to one grid first: the trigger compares raw ticks, so
markets with different tick sizes are scaled by their tick ratio (exact integers).

Skipped, as in the seed: an update older than `staleness_ms` when it is handled (the chance
is gone), an order that would take the position past `max_position_usd`, and everything
after the strategy's own realised + unrealised loss for the UTC day passes
`max_daily_loss_usd` (it stops until `resume`).
"""

from __future__ import annotations

from fractions import Fraction
from math import gcd, lcm

from host.model.trigger import arbitrage_sides
from host.risk.pnl import MarketPnl
from host.strategy.actions import PlaceOrder, StrategyAction
from host.strategy.base import has_both_sides, spec_of
from host.strategy.config import LatencyArbConfig
from host.venue_client.events import Fill, OrderType, Side
from host.venue_client.markets import MarketTable

NS_PER_DAY = 86_400 * 1_000_000_000


def grid_factors(tick_a: str, tick_b: str) -> tuple[int, int]:
    """Integers (fa, fb) with ticks_a x fa and ticks_b x fb in one common unit."""
    a, b = Fraction(tick_a), Fraction(tick_b)
    den = lcm(a.denominator, b.denominator)
    ia, ib = int(a * den), int(b * den)
    g = gcd(ia, ib)
    return ia // g, ib // g


class LatencyArb:
    def __init__(self, config: LatencyArbConfig, markets: MarketTable):
        self.config = config
        self.name = config.name
        self.markets = (config.primary, config.secondary)
        p_spec = spec_of(markets, config.primary, config.name, "primary")
        s_spec = spec_of(markets, config.secondary, config.name, "secondary")
        self._fp, self._fs = grid_factors(p_spec.tick_size, s_spec.tick_size)
        self._unit = s_spec.notional_unit
        self._bp = config.min_spread_bp
        self._stale_ns = int(config.staleness_ms * 1_000_000)
        self._type = OrderType.IOC if config.order_type == "ioc" else OrderType.MARKET
        self._primary = self._secondary = None
        self._halted_markets: set[str] = set()
        self._was_buy = self._was_sell = False
        self._pnl = MarketPnl(config.secondary, s_spec.notional_unit)
        self._day: int | None = None
        self._day_base = 0.0
        self.stopped: str | None = None  # why the strategy stopped trading, if it has
        self.counters = {"evaluations": 0, "signals": 0, "orders": 0, "stale_skips": 0,
                         "position_skips": 0, "size_skips": 0, "stopped_skips": 0}

    # -- market data ------------------------------------------------------------------------

    def on_top(self, top, recv_ns: int, now_ns: int | None = None) -> list[StrategyAction]:
        market = top.market
        if market == self.config.secondary:
            self._secondary = top
            if has_both_sides(top):
                self._pnl.mark = (top.bid + top.ask) / 2
                self._check_loss(top.ts_ns)
            return []
        if market != self.config.primary:
            return []
        self._primary = top
        if now_ns is not None and now_ns - recv_ns > self._stale_ns:
            self.counters["stale_skips"] += 1
            return []
        return self._evaluate(top, recv_ns)

    def _evaluate(self, p, recv_ns: int) -> list[StrategyAction]:
        s = self._secondary
        self.counters["evaluations"] += 1
        if (s is None or self._halted_markets or not has_both_sides(p)
                or not has_both_sides(s)):
            buy = sell = False
        else:
            fp, fs = self._fp, self._fs
            buy, sell = arbitrage_sides(p.bid * fp, p.ask * fp, s.bid * fs, s.ask * fs, self._bp)
        fire_buy = buy and not self._was_buy
        fire_sell = sell and not self._was_sell and not fire_buy
        self._was_buy, self._was_sell = buy, sell
        if not (fire_buy or fire_sell):
            return []
        self.counters["signals"] += 1
        self._roll_day(p.ts_ns)
        if self.stopped:
            self.counters["stopped_skips"] += 1
            return []
        side = Side.BUY if fire_buy else Side.SELL
        price = s.ask if fire_buy else s.bid
        qty = int(self.config.order_size_usd / (price * self._unit))
        if qty < 1:
            self.counters["size_skips"] += 1
            return []
        held = self._pnl.qty
        after = held + side.sign * qty
        if (abs(after) > abs(held)
                and abs(after) * price * self._unit > self.config.max_position_usd):
            self.counters["position_skips"] += 1
            return []
        self.counters["orders"] += 1
        return [PlaceOrder(self.config.secondary, side, qty,
                           price if self._type is OrderType.IOC else None, self._type,
                           tag=self.name, origin_ns=recv_ns)]

    def on_market_status(self, market: str, halted: bool) -> list[StrategyAction]:
        if market in self.markets:
            if halted:
                self._halted_markets.add(market)
            else:
                self._halted_markets.discard(market)
        return []

    # -- orders -----------------------------------------------------------------------------

    def on_submitted(self, req: PlaceOrder, order_id: str) -> list[StrategyAction]:
        return []

    def on_denied(self, req: PlaceOrder, reason: str) -> list[StrategyAction]:
        return []

    def on_order_update(self, order_id: str, state) -> list[StrategyAction]:
        return []  # IOC orders leave nothing resting to manage

    def on_cancel_rejected(self, order_id: str, reason: str) -> list[StrategyAction]:
        return []

    def on_fill(self, fill: Fill) -> list[StrategyAction]:
        if fill.market == self.config.secondary:
            self._pnl.fill(fill.side.sign, fill.qty, fill.price, float(fill.fee))
            self._check_loss(fill.ts_ns)
        return []

    def resume(self) -> None:
        """An operator restarts a strategy its daily loss stopped (the risk engine's own
        limits still apply)."""
        self.stopped = None
        self._day_base = self._pnl.total_usd()

    # -- PnL --------------------------------------------------------------------------------

    def _roll_day(self, ts_ns: int) -> None:
        day = ts_ns // NS_PER_DAY
        if day != self._day:
            if self._day is not None:
                self._day_base = self._pnl.total_usd()
            self._day = day

    def _check_loss(self, ts_ns: int) -> None:
        self._roll_day(ts_ns)
        loss = self._day_base - self._pnl.total_usd()
        if loss > self.config.max_daily_loss_usd and not self.stopped:
            self.stopped = f"daily loss {loss:.2f} USD > {self.config.max_daily_loss_usd}"

    def status(self) -> dict:
        return {"name": self.name, "kind": self.config.kind, "position_lots": self._pnl.qty,
                "pnl_usd": self._pnl.total_usd(), "stopped": self.stopped, **self.counters}
