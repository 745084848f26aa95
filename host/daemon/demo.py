"""`tickwire demo` (and `make demo`): the local venue and the daemon, trading for a while.

The venue runs as its own process with synthetic markets (a BTC spot/perp pair on one tick
grid whose perp lags, so the latency arbitrage has something to catch, and ETH-PERP for the
market maker), its colo feed on a multicast group on loopback. The daemon runs here with
`demo.toml` written beside its journal: the arbitrage runs in the trigger stage (the
software path, or with `--fpga sim` the Verilated gateware), the market maker on the
WebSocket books. It prints a progress line every second, and at the end its summary:
orders, fills and PnL, latency percentiles, risk events, and the trigger's path.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
from pathlib import Path

from host.daemon.config import load_config
from host.daemon.runner import RunOptions
from host.daemon.runner import run as run_daemon

FEED_GROUP = "239.77.0.2"
DEMO_CONFIG = """\
# Written by `tickwire demo`: the daemon against the local venue started for the demo.
[venue]
ws_url = "{ws_url}"
rest_url = "{rest_url}"
api_key_env = "TICKWIRE_API_KEY"

[daemon]
journal = "demo.sqlite"
control_socket = "demo.sock"
metrics_port = 0
fpga = "{fpga}"

[fpga]
sim_dir = "fpga-sim"
# The venue's colo feed, on a multicast group on loopback: the trigger stage runs the
# BTC arbitrage from it (docs/fpga-modes.md).
feed_host = "127.0.0.1"
feed_port = {feed_port}
feed_group = "{feed_group}"

[risk]
max_position_usd = 20000.0
max_daily_loss_usd = 500.0

[[strategy]]
kind = "latency_arb"
name = "btc-arb"
primary = "BTC-SPOT"
secondary = "BTC-PERP"
min_spread_bp = 8
order_size_usd = 1000.0
max_position_usd = 5000.0
max_daily_loss_usd = 500.0
staleness_ms = 5.0

[[strategy]]
kind = "market_maker"
name = "eth-mm"
market = "ETH-PERP"
quote_lots = 10
half_spread_ticks = 60
max_inventory_lots = 50
skew_ticks = 30
requote_ticks = 40
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=20.0, help="how long to trade")
    parser.add_argument("--seed", type=int, default=7, help="the venue's market seed")
    parser.add_argument("--fpga", choices=("none", "sim"), default="none",
                        help="run the trigger on the software path (none) or in the "
                             "Verilated gateware (sim; builds it on first use)")
    parser.add_argument("--kill-fpga-after", type=float, default=None, metavar="SECONDS",
                        help="with --fpga sim: kill the simulated FPGA this long after it "
                             "came up, to watch the daemon fail over to the software path")
    parser.add_argument("--dir", help="keep the config and journal here (default: a "
                                      "temporary folder, removed afterwards)")


def run(args: argparse.Namespace) -> int:
    from sim.venue import TEST_API_KEY
    from sim.venue.testing import VenueProcess

    with tempfile.TemporaryDirectory(prefix="tickwire-demo-") as tmp:
        folder = Path(args.dir or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"tickwire demo: starting the local venue (synthetic markets, seed {args.seed})",
              flush=True)
        # The simulated FPGA takes the feed a byte a cycle at tens of kHz: a slower
        # generator keeps the feed within that (docs/fpga-in-the-loop.md).
        pace = ("--step-ms", "100", "--jump-prob", "0.05") if args.fpga == "sim" else ()
        with VenueProcess("--source", "synthetic", "--seed", str(args.seed), "--markets",
                          "same-grid", "--feed-group", FEED_GROUP, *pace) as venue:
            path = folder / "demo.toml"
            group, port = venue.info["feed_addr"]
            path.write_text(DEMO_CONFIG.format(**venue.info, fpga=args.fpga, feed_port=port,
                                               feed_group=group))
            os.environ.setdefault("TICKWIRE_API_KEY", TEST_API_KEY)
            config = load_config(str(path))
            if args.fpga == "sim" and args.kill_fpga_after is not None:
                _kill_fpga_later(Path(config.fpga.sim_dir), args.kill_fpga_after)
            where = ("in the simulated gateware" if args.fpga == "sim"
                     else "on the software path's trigger")
            print(f"tickwire demo: venue at {venue.info['ws_url']}, colo feed on "
                  f"{group}:{port}; the daemon trades BTC-SPOT->BTC-PERP latency arbitrage "
                  f"{where} and an ETH-PERP market maker for {args.seconds:g} s "
                  f"(config {path})", flush=True)
            summary = run_daemon(config, RunOptions(duration_s=args.seconds,
                                                    install_signals=True))
        print(summary.render())
        if args.dir:
            print(f"  journal  {config.daemon.journal}")
    return summary.exit_code


def _kill_fpga_later(sim_dir: Path, seconds: float) -> None:
    """SIGKILL the simulated FPGA's process group `seconds` after it announced itself, as a
    board that loses power: the daemon must notice on its own (docs/fpga-modes.md)."""
    import json
    import signal
    import threading
    import time

    from sim.loop_shared import READY_FILE

    ready = sim_dir / READY_FILE
    ready.unlink(missing_ok=True)

    def kill() -> None:
        while not ready.exists():
            time.sleep(0.1)
        time.sleep(seconds)
        pid = json.loads(ready.read_text())["pid"]
        print(f"tickwire demo: killing the simulated FPGA (pid {pid}) now", flush=True)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(os.getpgid(pid), signal.SIGKILL)

    threading.Thread(target=kill, name="kill-fpga", daemon=True).start()
