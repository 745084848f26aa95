"""`tickwire bench venue`: the venue's own capacity on this machine.

Three measurements; the first two are repeated and reported as medians:

1. engine: a random order stream (limits near the touch, marketable IOCs, cancels, from two
   keys, against seeded liquidity) through `VenueCore`, no sockets: validation, matching,
   accounting and colo-feed encoding. Orders matched per second.
2. loopback: `tickwire venue` in its own process; two WebSocket clients (two keys, so they
   trade with each other) stream orders, 32 in flight each, while a third connection
   subscribes to the book, ticker and trades and the colo feed goes out over UDP. Messages
   published per second: WebSocket frames received by the three connections plus the feed
   messages the venue sent (its own counter: a receiver on a busy machine drops datagrams).
   The venue's CPU time over the run shows how busy it was, and messages published per
   second of venue CPU is the rate it would sustain if the clients could keep up.
3. round trip: one order in flight over WebSocket, submit to acknowledgement, p50 and p99.

Clients and venue share this machine's cores, so 2 and 3 are floors, not ceilings.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
import urllib.request
from dataclasses import replace

import uvloop

from sim.venue.book import BUY, SELL
from sim.venue.config import TEST_ACCOUNT, TEST_API_KEY, AccountSpec, VenueConfig
from sim.venue.core import VenueCore
from sim.venue.limits import UNLIMITED
from sim.venue.protocol import PlaceOrder
from sim.venue.testing import VenueProcess, WsClient

MARKET = "BTC-PERP"
OTHER_KEY = "pf_bench_other"
ENGINE_CONFIG = VenueConfig(accounts=(
    replace(TEST_ACCOUNT, balance_usdc=1e12), AccountSpec(OTHER_KEY, "bench-other", 1e12)),
    limits=UNLIMITED)


# -- 1. engine ---------------------------------------------------------------------------


def _seed_book(core: VenueCore) -> None:
    house = core.house_account("bench")
    market_id = core.markets[MARKET].market_id
    events: list = []
    for k in range(50):
        events += core.engine.set_level(house, market_id, BUY, 600_000 - k, 1_000_000)
        events += core.engine.set_level(house, market_id, SELL, 600_010 + k, 1_000_000)
    core.run(events)
    core.encoder.flush()


def _order_stream(n: int, seed: int) -> list[tuple]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        side = rng.choice(("buy", "sell"))
        if i > 10 and rng.random() < 0.25:
            out.append(("cancel", rng.randrange(2), f"b{rng.randrange(i)}"))
            continue
        marketable = rng.random() < 0.3
        if side == "buy":
            ticks = 600_010 + rng.randint(0, 3) if marketable else 600_000 + rng.randint(1, 9)
        else:
            ticks = 600_000 - rng.randint(0, 3) if marketable else 600_000 + rng.randint(1, 9)
        out.append(("order", rng.randrange(2), PlaceOrder(
            f"b{i}", MARKET, side, "ioc" if marketable else "limit", f"{ticks / 10:.1f}",
            f"{rng.randint(1, 50) / 1000:.3f}", "cancel_taker", None)))
    return out


def engine_once(n: int, seed: int) -> dict:
    core = VenueCore(ENGINE_CONFIG)
    _seed_book(core)
    accounts = [core.by_key[TEST_API_KEY], core.by_key[OTHER_KEY]]
    stream = _order_stream(n, seed)
    fills = 0
    start = time.perf_counter()
    for op, who, arg in stream:
        if op == "order":
            events = core.place(accounts[who], arg)
            fills += sum(1 for e in events if type(e).__name__ == "Filled") // 2
        else:
            core.cancel(accounts[who], arg)
        core.encoder.flush()
    elapsed = time.perf_counter() - start
    return {"orders matched/s": n / elapsed, "fills/s": fills / elapsed,
            "feed messages built/s": core.encoder.messages_out / elapsed}


# -- 2. loopback -------------------------------------------------------------------------


def _http(method: str, url: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


async def _stream(client: WsClient, n: int, seed: int, window: int) -> int:
    """Send `n` orders keeping `window` unanswered; returns the frames received."""
    rng = random.Random(seed)
    sent = answered = frames = 0
    while answered < n:
        while sent < n and sent - answered < window:
            await client.send(type="order", order_id=f"L{seed}-{sent}", market=MARKET,
                              side=rng.choice(("buy", "sell")),
                              price=60000.0 + rng.randint(-5, 5) / 10, qty=0.001,
                              order_type="ioc" if rng.random() < 0.3 else "limit")
            sent += 1
        message = await client.recv()
        frames += 1
        if message["type"] in ("order_ack", "order_reject"):
            answered += 1
    return frames


async def _loopback(venue: VenueProcess, keys: list[str], n: int, seed: int) -> dict:
    traders = [await WsClient.connect(venue.ws_url, key) for key in keys]
    watcher = await WsClient.connect(venue.ws_url)
    for trader in traders:
        await trader.recv()
    await watcher.send(type="subscribe", channel="orderbook", market=MARKET, depth=10)
    await watcher.send(type="subscribe", channels=["ticker", "trades"], markets=[MARKET])
    await watcher.sync()
    watched = 0

    async def count_watcher():
        nonlocal watched
        async for _ in watcher.ws:
            watched += 1

    counting = asyncio.ensure_future(count_watcher())
    stats = f"{venue.rest_url}/api/v1/stats"
    before = await asyncio.to_thread(_http, "GET", stats)
    start = time.perf_counter()
    frames = await asyncio.gather(*(_stream(t, n // 2, seed * 2 + i, 32)
                                    for i, t in enumerate(traders)))
    elapsed = time.perf_counter() - start
    after = await asyncio.to_thread(_http, "GET", stats)
    feed = after["feed_messages"] - before["feed_messages"]
    cpu = after["cpu_s"] - before["cpu_s"]
    for trader in traders:
        await trader.send(type="cancel_all")
        await trader.sync()
        await trader.close()
    counting.cancel()
    await watcher.close()
    websocket = sum(frames) + watched
    return {"orders acked/s": (n // 2) * 2 / elapsed,
            "messages published/s": (websocket + feed) / elapsed,
            "  WebSocket frames/s": websocket / elapsed, "  feed messages/s": feed / elapsed,
            "venue CPU busy %": 100 * cpu / elapsed,
            "published per venue CPU-s": (websocket + feed) / cpu}


# -- 3. round trip -----------------------------------------------------------------------


async def _round_trips(venue: VenueProcess, n: int) -> list[float]:
    """Submit-to-ack times in microseconds, one order in flight."""
    client = await WsClient.connect(venue.ws_url, TEST_API_KEY)
    await client.recv()
    ws = client.ws
    out = []
    for i in range(n):
        # Post-only far from the touch: no trades, so only the order path is timed.
        message = json.dumps({"type": "order", "order_id": f"rt{i}", "market": MARKET,
                              "side": "buy", "price": 1000.0, "qty": 0.001,
                              "order_type": "post_only"})
        start = time.perf_counter_ns()
        await ws.send(message)
        await ws.recv()
        out.append((time.perf_counter_ns() - start) / 1000)
        if i % 500 == 499:
            await client.send(type="cancel_all")
            await client.sync()
    await client.send(type="cancel_all")
    await client.sync()
    await client.close()
    return out


# -- the command -------------------------------------------------------------------------


def _run(coro):
    """Clients run on uvloop, as the daemon does."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def _median(runs: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def _table(result: dict) -> None:
    for key, value in result.items():
        print(f"    {key:<26}{value:>12,.0f}")


def run(orders: int = 20_000, repeats: int = 5, loopback_orders: int = 5_000,
        round_trips: int = 2_000) -> int:
    print(f"tickwire bench venue: this machine, medians of {repeats} runs")
    print(f"  engine, in process, no sockets: {orders} commands a run (75% orders, 25% "
          "cancels), matching + accounting + colo-feed encoding")
    _table(_median([engine_once(orders, seed) for seed in range(repeats)]))
    with VenueProcess("--source", "none", "--no-limits") as venue:
        other = _http("POST", f"{venue.rest_url}/api/v1/register",
                      {"agent_id": "bench-other"})["api_key"]
        print(f"  loopback, `tickwire venue` in its own process: {loopback_orders} orders a "
              "run from two WebSocket clients (32 in flight each), one book/ticker/trades "
              "subscriber, colo feed over UDP")
        _table(_median([_run(_loopback(venue, [TEST_API_KEY, other], loopback_orders, seed))
                        for seed in range(repeats)]))
        samples = sorted(_run(_round_trips(venue, round_trips)))
    p50, p99 = samples[len(samples) // 2], samples[int(len(samples) * 0.99)]
    print(f"  order round trip over WebSocket, one in flight, {len(samples)} orders: "
          f"p50 {p50:.0f} us, p99 {p99:.0f} us")
    print("  (clients share the machine with the venue: loopback figures are floors)")
    return 0
