"""`tickwire bench risk`: the cost per call of what sits on the tick-to-order path after the
book: `RiskEngine.check` and each strategy's `on_top`.

Inputs are synthetic and seeded (a random walk of top-of-book updates around 60,000 USD), so
every run sees the same calls. Only the call itself is timed; the bookkeeping a daemon does
around it (giving the market maker its order ids and cancels) happens outside the clock.
"""

from __future__ import annotations

import argparse
import random
import time
from dataclasses import dataclass

from host.bench.stats import Summary, quiet_gc, table, time_each
from host.model.kill_switch import ALL_REASONS, MASK32, KillSwitch, OrderSource
from host.risk.config import RiskConfig
from host.risk.engine import RiskEngine, _Intent
from host.strategy.actions import CancelOrder, PlaceOrder
from host.strategy.config import LatencyArbConfig, MarketMakerConfig
from host.strategy.latency_arb import LatencyArb
from host.strategy.market_maker import MarketMaker
from host.venue_client.events import OrderType, Side
from host.venue_client.markets import MarketSpec, MarketTable

GOAL = "goal (issue 6 brief): a few µs per call"
MARKETS = MarketTable([MarketSpec("BTC-PERP", 0, "0.1", "0.001"),
                       MarketSpec("BTC-SPOT", 3, "0.1", "0.000001")])
WALL0 = 1_790_000_000 * 10**9
GAP_NS = 25_000_000  # 40 orders/s: under the default breaker, so checks take the full path


@dataclass(frozen=True, slots=True)
class Top:
    market: str
    bid: int
    bid_qty: int
    ask: int
    ask_qty: int
    ts_ns: int


def walk(n: int, seed: int, market: str = "BTC-PERP") -> list[Top]:
    rng = random.Random(seed)
    mid, out = 600_000, []
    for i in range(n):
        mid += rng.choice((-3, -1, 0, 0, 1, 3))
        half = rng.choice((1, 2, 5))
        out.append(Top(market, mid - half, rng.randint(1, 50), mid + half, rng.randint(1, 50),
                       WALL0 + i * GAP_NS))
    return out


def bench_check(n: int, seed: int, stale: bool) -> list[int]:
    eng = RiskEngine(RiskConfig(), MARKETS, 0, wall_ns=WALL0)
    tops = walk(n, seed)
    rng = random.Random(seed + 1)
    calls = []
    for i, top in enumerate(tops):
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        price = top.ask if side is Side.BUY else top.bid
        req = PlaceOrder("BTC-PERP", side, rng.randint(1, 5), price, OrderType.IOC, "bench")
        now = 10**12 + i * GAP_NS
        age = 60_000_000 if stale else 200_000
        calls.append((top, req, now, top.ts_ns + age, rng.randint(-20, 20)))
    for top, _req, now, _wall, _pos in calls[:1]:
        eng.on_book("BTC-PERP", top.bid, top.ask, now)

    def one(call, check=eng.check, book=eng.on_book):
        top, req, now, wall, pos = call
        check(req, now, top.ts_ns, wall, pos)

    # The collar needs the book: feed it untimed, then time the checks.
    samples = []
    for call in calls:
        top, *_ = call
        eng.on_book("BTC-PERP", top.bid, top.ask, call[2])
        samples += time_each(one, (call,))
    denied = eng.status().denied
    want = {"stale_market_data"} if stale else set()
    if set(denied) != want:
        raise RuntimeError(f"bench inputs did not take the intended path: {denied}")
    return samples


def bench_model(n: int, seed: int) -> list[int]:
    """The kill-switch model's order() alone: the share of check() that is the hardware
    rules (host/model/kill_switch.py)."""
    limits = RiskConfig().model_limits
    ks = KillSwitch(limits, now=-limits.rate_window)
    ks.clear(int(ALL_REASONS), 0)
    ks.arm(1, 0)
    ks.arm(~1 & MASK32, 0)
    samples = []
    clock = time.perf_counter_ns
    now = 0
    for i, top in enumerate(walk(n, seed)):
        now = 1 + i * GAP_NS
        ks.book_top(0, top.bid, top.ask, now)  # untimed, as in bench_check
        intent = _Intent(0, 1, top.ask, 1)
        start = clock()
        ks.order(intent, OrderSource.HOST, now)
        samples.append(clock() - start)
    if not ks.snapshot(now).armed:
        raise RuntimeError("bench inputs tripped the kill-switch model")
    return samples


def spot_of(perp: list[Top], seed: int) -> list[Top]:
    """The primary: the perp's mid plus an offset that now and then jumps about 10 bp and
    decays back, so the arbitrage rule fires on a fraction of the updates."""
    rng = random.Random(seed)
    out, offset = [], 0
    for top in perp:
        if rng.random() < 0.02:
            offset = rng.choice((-600, 600))
        offset = offset * 9 // 10
        mid = (top.bid + top.ask) // 2 + offset
        out.append(Top("BTC-SPOT", mid - 1, 10, mid + 1, 10, top.ts_ns))
    return out


def bench_arb(n: int, seed: int) -> tuple[list[int], int]:
    arb = LatencyArb(LatencyArbConfig("arb", "BTC-SPOT", "BTC-PERP", order_size_usd=600.0,
                                      max_position_usd=1e12), MARKETS)
    perp = walk(n // 2, seed)
    items = [t for pair in zip(perp, spot_of(perp, seed + 7), strict=True) for t in pair]
    orders = 0

    def one(top, on_top=arb.on_top):
        nonlocal orders
        orders += len(on_top(top, top.ts_ns))

    return time_each(one, items), orders


def bench_mm(n: int, seed: int) -> tuple[list[int], int]:
    mm = MarketMaker(MarketMakerConfig("mm", "BTC-PERP", requote_ticks=3), MARKETS)
    samples, actions, ids = [], 0, 0
    clock = time.perf_counter_ns
    for i, top in enumerate(walk(n, seed)):
        start = clock()
        acts = mm.on_top(top, i)
        samples.append(clock() - start)
        actions += len(acts)
        while acts:  # the daemon's part, untimed: ids for places, confirmed cancels
            act = acts.pop(0)
            if isinstance(act, PlaceOrder):
                ids += 1
                acts += mm.on_submitted(act, f"o{ids}")
            elif isinstance(act, CancelOrder):
                acts += mm.on_order_update(act.order_id, "cancelled")
    return samples, actions


def report(n: int, rounds: int, seed: int) -> str:
    pooled: dict[str, list[int]] = {}
    notes = {}
    for r in range(rounds + 1):
        with quiet_gc():
            runs = {
                "RiskEngine.check (allowed)": bench_check(n, seed + r, stale=False),
                "  of which kill-switch model order()": bench_model(n, seed + r),
                "RiskEngine.check (denied: stale)": bench_check(n, seed + r, stale=True),
            }
            arb, orders = bench_arb(n, seed + r)
            runs["LatencyArb.on_top"] = arb
            mm, actions = bench_mm(n, seed + r)
            runs["MarketMaker.on_top"] = mm
        notes = {"arb orders": orders, "mm actions": actions}
        if r:  # round 0 warms up
            for name, samples in runs.items():
                pooled.setdefault(name, []).extend(samples)
    rows = [(name, Summary.of(samples)) for name, samples in pooled.items()]
    count = rows[0][1].count
    return "\n".join([
        "tickwire bench risk: cost per call on the tick-to-order path after the book",
        f"data: seeded synthetic top-of-book random walk (seed {seed}), {n:,} calls per pass; "
        f"last pass: {notes['arb orders']} arb orders, {notes['mm actions']} mm actions",
        f"method: perf_counter_ns per call, gc frozen and off, 1 warm-up pass + {rounds} "
        f"measured passes pooled ({count:,} samples per row)",
        table(rows, unit_note="µs per call"),
        GOAL,
    ])


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--calls", type=int, default=20_000, help="calls per pass")
    parser.add_argument("--rounds", type=int, default=3, help="measured passes (default 3)")
    parser.add_argument("--seed", type=int, default=1)


def run(args: argparse.Namespace) -> int:
    print(report(max(args.calls, 10), max(args.rounds, 1), args.seed))
    return 0
