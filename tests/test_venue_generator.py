"""The synthetic generator: reproducible from its seed, the perp lags the spot, and a naive
latency arbitrage on that lag makes money after fees (so the opportunities are real)."""

from __future__ import annotations

from sim.venue import GeneratorConfig, VenueConfig, VenueCore
from sim.venue.accounts import Account
from sim.venue.generator import Generator
from sim.venue.protocol import PlaceOrder


def _clock():
    t = [0]

    def now():
        t[0] += 1
        return t[0]
    return now


def _feed(seed: int, steps: int) -> bytes:
    core = VenueCore(VenueConfig(), clock_ns=_clock())
    generator = Generator(core, GeneratorConfig(seed=seed))
    out = []
    for _ in range(steps):
        generator.step()
        out += core.encoder.flush()
    return b"".join(out)


def test_same_seed_same_market_data():
    assert _feed(5, 200) == _feed(5, 200)
    assert _feed(5, 200) != _feed(6, 200)


def _mid(core, name):
    bid, _, ask, _ = core.engine.books[core.markets[name].market_id].bbo()
    return (bid + ask) / 2 * core.markets[name].price(1)


def test_the_perp_follows_the_spot_late():
    core = VenueCore(VenueConfig())
    generator = Generator(core, GeneratorConfig(seed=2))
    spot, perp = generator.markets["BTC-SPOT"], generator.markets["BTC-PERP"]
    history = []
    for _ in range(400):
        generator.step()
        history.append(spot.fair)
        assert perp.fair == (history[-21] if len(history) > 20 else 60_000.0)
    # every market has a two-sided book near its fair value
    for market in generator.markets.values():
        assert abs(_mid(core, market.cfg.name) / market.fair - 1) < 0.001


def test_latency_arbitrage_on_the_lag_is_profitable_after_fees():
    core = VenueCore(VenueConfig())
    generator = Generator(core, GeneratorConfig(seed=7))
    arb = core.add_account(type(core.config.accounts[0])("pf_arb", "arb", 1_000_000.0))
    open_trades: list[tuple[int, str]] = []
    trades = 0
    for step in range(3000):
        generator.step()
        for due, side in [t for t in open_trades if t[0] == step]:
            _market(core, arb, f"x{step}", "sell" if side == "buy" else "buy")
            open_trades.remove((due, side))
        divergence = _mid(core, "BTC-SPOT") / _mid(core, "BTC-PERP") - 1
        if abs(divergence) >= 0.0008 and not open_trades:  # the seed's MIN_SPREAD_PCT
            side = "buy" if divergence > 0 else "sell"
            _market(core, arb, f"e{step}", side)
            open_trades.append((step + 25, side))
            trades += 1
    position = arb.position(core.markets["BTC-PERP"].market_id)
    assert trades >= 15
    assert position.lots == 0 or open_trades
    assert arb.balance > 1_000_000.0  # realised PnL beat the fees
    assert arb.fees_paid > 0


def _market(core, account: Account, order_id: str, side: str) -> None:
    events = core.place(account, PlaceOrder(order_id, "BTC-PERP", side, "market", None,
                                            "0.050", "cancel_taker", None))
    assert type(events[0]).__name__ == "Accepted"
