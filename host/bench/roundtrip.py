"""`tickwire bench roundtrip`: an order's round trip to the local venue on loopback.

Submit to acknowledgement, one order in flight, through the daemon's own session code
(host/venue_client: codec, session, websockets adapter): the figure DESIGN.md judges. Beside
it, in the same process and interleaved in rounds so they share the machine's noise:
- the websockets floor: a ping frame answered by a pong on a second connection to the venue;
- the kernel floor: 64 bytes echoed by a raw TCP server in its own process;
- the seed's way: a REST POST on a new HTTP connection per order, as its arbitrage agent
  does with a fresh aiohttp session per order (fewer samples: it is slow).
The venue runs as its own process (`tickwire venue --source none --no-limits`), so the venue
and the client do not share a GIL. Orders are post-only far below the market: they rest, no
trade happens, and only the order path is timed.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import subprocess
import sys
import time
from urllib.parse import urlparse

import uvloop
import websockets

from host.bench.stats import Summary, quiet_gc, ratios, table
from host.venue_client.events import OrderAck, OrderType, Side

GOAL = "DESIGN.md goal for submit to ack over WebSocket: p50 <= 60 µs, p99 <= 150 µs"
MARKET = "BTC-PERP"
FAR_PRICE = 10_000          # ticks: 1,000.0 USDC, far below any BTC-PERP market


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--orders", type=int, default=3000, help="orders through tickwire")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds")
    parser.add_argument("--rest-orders", type=int, default=300,
                        help="orders the seed's REST way")
    parser.add_argument("--svg", help="also draw the latency histograms into this SVG file")


class _Echo:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "host.bench.echo_server"],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("echo ready "):
            self.proc.kill()
            raise RuntimeError("the echo server did not start")
        self.port = int(line.split()[2])

    def close(self):
        self.proc.kill()
        self.proc.wait()


async def _tcp_floor(port: int, n: int) -> list[int]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(6, 1, 1)  # TCP_NODELAY
    payload = b"x" * 64
    out = []
    for _ in range(n):
        start = time.perf_counter_ns()
        writer.write(payload)
        got = 0
        while got < len(payload):
            got += len(await reader.read(64 - got))
        out.append(time.perf_counter_ns() - start)
    writer.close()
    return out


async def _ws_floor(ws_url: str, n: int) -> list[int]:
    out = []
    async with websockets.connect(ws_url, compression=None) as ws:
        for _ in range(n):
            start = time.perf_counter_ns()
            waiter = await ws.ping()
            await waiter
            out.append(time.perf_counter_ns() - start)
    return out


def _rest_seed(rest_url: str, key: str, n: int) -> list[int]:
    url = urlparse(rest_url)
    out = []
    body = json.dumps({"market": MARKET, "side": "buy", "type": "post_only", "qty": 0.001,
                       "price": 1000.0})
    for i in range(n):
        start = time.perf_counter_ns()
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
        conn.request("POST", "/trading/orders", body=body.replace("}", f', "client_id": '
                                                                 f'"rest{os.getpid()}-{i}"}}'),
                     headers={"Authorization": f"Bearer {key}",
                              "Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        conn.close()
        out.append(time.perf_counter_ns() - start)
        if resp.status != 200:
            raise RuntimeError(f"REST order answered {resp.status}")
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    conn.request("DELETE", "/api/v1/orders", headers={"Authorization": f"Bearer {key}"})
    conn.getresponse().read()
    return out


class _TickwireOrders:
    """Orders through the daemon's session: VenueConnection.send_order to its OrderAck."""

    def __init__(self, info: dict):
        self.info = info
        self.conn = None
        self._ack: asyncio.Future | None = None
        self._count = 0

    async def start(self):
        from host.venue_client.markets import MarketTable
        from host.venue_client.rest import RestClient
        from host.venue_client.ws_adapter import VenueConnection

        rest = RestClient(self.info["rest_url"], self.info["api_key"])
        markets = await rest.markets()
        self.conn = VenueConnection(self.info["ws_url"], self.info["api_key"], markets,
                                    subscriptions=(), on_event=self._on_event)
        await self.conn.start()
        assert isinstance(markets, MarketTable)

    def _on_event(self, event, recv_ns: int) -> None:
        if isinstance(event, OrderAck) and self._ack is not None and not self._ack.done():
            self._ack.set_result(recv_ns)

    async def run(self, n: int) -> list[int]:
        out = []
        loop = asyncio.get_running_loop()
        for _ in range(n):
            self._count += 1
            self._ack = loop.create_future()
            start = time.perf_counter_ns()
            self.conn.send_order(f"rt-{self._count}", MARKET, Side.BUY, 1, FAR_PRICE,
                                 OrderType.POST_ONLY)
            await asyncio.wait_for(self._ack, 5)
            out.append(time.perf_counter_ns() - start)
        self.conn.cancel_all(MARKET)
        return out

    async def close(self):
        await self.conn.close()


async def _measure(info: dict, echo_port: int, args) -> dict[str, list[int]]:
    samples: dict[str, list[int]] = {"tickwire": [], "ws": [], "tcp": []}
    ours = _TickwireOrders(info)
    await ours.start()
    per_round = max(1, args.orders // args.rounds)
    try:
        await ours.run(200)                     # warm-up: connections, caches, JIT-free paths
        with quiet_gc():
            for _ in range(args.rounds):
                samples["tickwire"] += await ours.run(per_round)
                samples["ws"] += await _ws_floor(info["ws_url"], per_round)
                samples["tcp"] += await _tcp_floor(echo_port, per_round)
    finally:
        await ours.close()
    loop = asyncio.get_running_loop()
    samples["rest"] = await loop.run_in_executor(
        None, _rest_seed, info["rest_url"], info["api_key"], args.rest_orders)
    return samples


def run(args: argparse.Namespace) -> int:
    from sim.venue.testing import VenueProcess

    echo = _Echo()
    try:
        with (VenueProcess("--source", "none", "--no-limits") as venue,
              asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner):
            samples = runner.run(_measure(venue.info, echo.port, args))
    finally:
        echo.close()
    names = {"tickwire": "tickwire: send_order -> OrderAck (venue_client)",
             "ws": "websockets floor: ping -> pong",
             "tcp": "kernel floor: raw TCP echo, 64 B",
             "rest": "seed's way: REST POST, new connection each"}
    summaries = {k: Summary.of(v) for k, v in samples.items()}
    print("tickwire bench roundtrip: one order in flight to the local venue on loopback "
          "(venue in its own process, client on uvloop)")
    print(table([(names[k], summaries[k]) for k in names], unit_note="µs per round trip"))
    print("  the seed's REST way against tickwire: "
          f"{ratios(summaries['tickwire'], summaries['rest'])}")
    print(f"  tickwire above the websockets floor: "
          f"p50 +{summaries['tickwire'].us('p50') - summaries['ws'].us('p50'):.1f} µs")
    print(f"  {GOAL}")
    print("  (client and venue share this machine's 2 cores; figures vary by about ±15 %)")
    if args.svg:
        from host.bench.svg_plot import histogram_svg

        with open(args.svg, "w") as f:
            f.write(histogram_svg("Order round trip to the local venue on loopback",
                                  [(names[k], samples[k]) for k in names]))
    return 0
