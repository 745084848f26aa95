"""`tickwire venue`: argument parsing and the foreground runner.

On start the runner prints one line `venue ready {json}` holding ws_url, rest_url,
feed_addr and the test API key, so scripts (and VenueProcess) can find a venue started on
port 0; then it serves until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import signal
import sys
from dataclasses import replace
from pathlib import Path

from sim.venue.faults import PRESETS


def add_venue_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0,
                        help="WebSocket port; REST is port+1 and the feed port+2 "
                             "(0: free ports)")
    parser.add_argument("--feed-group", default=None,
                        help="send the colo feed to this multicast group on loopback")
    parser.add_argument("--source", choices=("synthetic", "replay", "none"),
                        default="synthetic")
    parser.add_argument("--seed", type=int, default=1, help="generator and fault seed")
    parser.add_argument("--step-ms", type=float, default=10.0,
                        help="synthetic: milliseconds between generator steps")
    parser.add_argument("--jump-prob", type=float, default=0.01,
                        help="synthetic: chance per step that a leading market jumps")
    parser.add_argument("--markets", choices=("default", "same-grid"), default="default",
                        help="the market set (sim/venue/presets.py); same-grid puts BTC-SPOT "
                             "and BTC-PERP on one tick grid, for the trigger stage")
    parser.add_argument("--data-dir", default=None,
                        help="replay: folder with the shared/data recordings")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="replay pace: 1 is real time, 0 as fast as possible")
    parser.add_argument("--faults", choices=sorted(PRESETS), default="none",
                        help="added latency: seed-latency is the seed article's table")
    parser.add_argument("--feed-loss", type=float, default=0.0,
                        help="probability that a colo-feed packet is lost")
    parser.add_argument("--feed-reorder", type=float, default=0.0,
                        help="probability that a packet is sent after the next one")
    parser.add_argument("--stale-ms", type=float, default=0.0,
                        help="send market data this late, with its original timestamps")
    parser.add_argument("--drop-every", type=float, default=None, metavar="SECONDS",
                        help="drop each WebSocket connection after ~this long (mean)")
    parser.add_argument("--reject-bursts-every", type=float, default=None, metavar="SECONDS",
                        help="now and then (mean gap) refuse the next 5 orders: venue_busy")
    parser.add_argument("--no-limits", action="store_true",
                        help="lift the rate and open-order limits")


def config_from_args(args: argparse.Namespace):
    from sim.venue.config import FeedConfig, VenueConfig
    from sim.venue.generator import GeneratorConfig
    from sim.venue.limits import UNLIMITED
    from sim.venue.presets import MARKET_PRESETS
    from sim.venue.replay import binance_pair

    base = args.port
    faults = replace(PRESETS[args.faults], seed=args.seed, feed_loss=args.feed_loss,
                     feed_reorder=args.feed_reorder, stale_market_data_ms=args.stale_ms,
                     drop_connection_mean_s=args.drop_every,
                     reject_burst_mean_gap_s=args.reject_bursts_every)
    markets, synthetic = MARKET_PRESETS[args.markets]
    if args.source == "synthetic":
        source = GeneratorConfig(seed=args.seed, markets=synthetic, step_ms=args.step_ms,
                                 jump_prob=args.jump_prob)
    elif args.source == "replay":
        source = binance_pair(find_data_dir(args.data_dir), speed=args.speed)
    else:
        source = None
    config = VenueConfig(host=args.host, ws_port=base, rest_port=base + 1 if base else 0,
                         feed=FeedConfig(host=args.host, port=base + 2 if base else 0,
                                         group=args.feed_group),
                         faults=faults, source=source, markets=markets)
    if args.no_limits:
        config = replace(config, limits=UNLIMITED)
    return config


def find_data_dir(given: str | None) -> Path:
    """shared/data next to the repository, /work/shared/data, or the folder given."""
    repo = Path(__file__).resolve().parents[2]
    candidates = [Path(given)] if given else [repo.parent / "shared" / "data",
                                              repo / ".." / ".." / "shared" / "data",
                                              Path("/work/shared/data")]
    for candidate in candidates:
        if (candidate / "binance-usdm-btcusdt-20240808.gz").exists():
            return candidate.resolve()
    raise FileNotFoundError("no shared/data recordings found (looked in "
                            + ", ".join(str(c) for c in candidates) + ")")


async def _serve(config) -> None:
    from sim.venue.app import Venue
    from sim.venue.config import TEST_API_KEY

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with Venue(config) as venue:
        # Start-up objects live for the whole run: keep the collector from rescanning them.
        gc.collect()
        gc.freeze()
        info = {"ws_url": venue.ws_url, "rest_url": venue.rest_url,
                "feed_addr": list(venue.feed_addr), "api_key": TEST_API_KEY,
                "markets": {m.name: m.market_id for m in config.markets}}
        print("venue ready " + json.dumps(info), flush=True)
        print(f"  WebSocket {venue.ws_url}\n  REST      {venue.rest_url}\n"
              f"  feed      udp://{venue.feed_addr[0]}:{venue.feed_addr[1]}\n"
              f"  test key  {TEST_API_KEY}\n  Ctrl-C stops it.", flush=True)
        await stop.wait()


def run_venue(args: argparse.Namespace) -> int:
    try:
        config = config_from_args(args)
    except FileNotFoundError as exc:
        print(f"tickwire venue: {exc}", file=sys.stderr)
        return 2
    try:
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(_serve(config))
    except KeyboardInterrupt:
        pass
    return 0
