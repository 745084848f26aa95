"""Named sets of markets with their synthetic generators, for `tickwire venue --markets`.

- `default`: BTC-PERP, ETH-PERP, SOL-PERP and BTC-SPOT on their usual tick sizes (BTC-SPOT's
  0.01 against BTC-PERP's 0.1), so the latency arbitrage must rescale and runs on the host.
- `same-grid`: BTC-SPOT and BTC-PERP on one 0.1 tick grid, and ETH-PERP, so the trigger
  stage (which compares raw ticks) can run the BTC arbitrage: the gateware's, or its model's.
  BTC-PERP follows BTC-SPOT 20 steps late, as in `default`.
"""

from __future__ import annotations

from sim.venue.generator import DEFAULT_SYNTHETIC, SyntheticMarket
from sim.venue.markets import DEFAULT_MARKETS, MarketSpec

SAME_GRID_MARKETS = (
    MarketSpec("BTC-PERP", 0, tick_size="0.1", lot_size="0.001", max_leverage=50),
    MarketSpec("ETH-PERP", 1, tick_size="0.01", lot_size="0.01", max_leverage=50),
    MarketSpec("BTC-SPOT", 3, tick_size="0.1", lot_size="0.001", max_leverage=50),
)
SAME_GRID_SYNTHETIC = (
    SyntheticMarket("BTC-SPOT", 60_000.0, 0.4, 5, 10, (5, 200), (1, 20)),
    SyntheticMarket("BTC-PERP", 60_000.0, 0.0, 5, 10, (5, 200), (1, 20), follows="BTC-SPOT",
                    lag_steps=20),
    SyntheticMarket("ETH-PERP", 2_600.0, 0.5, 5, 5, (10, 500), (1, 50)),
)

MARKET_PRESETS: dict[str, tuple[tuple[MarketSpec, ...], tuple[SyntheticMarket, ...]]] = {
    "default": (DEFAULT_MARKETS, DEFAULT_SYNTHETIC),
    "same-grid": (SAME_GRID_MARKETS, SAME_GRID_SYNTHETIC),
}
