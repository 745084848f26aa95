"""`tickwire demo` (and `make demo`): the local venue and the daemon, trading for a while.

The venue runs as its own process with synthetic markets (a BTC spot/perp pair whose perp
lags, so the latency arbitrage has something to catch, and ETH-PERP for the market maker).
The daemon runs here on the software path with `demo.toml` written beside its journal,
prints a progress line every second, and at the end its summary: orders, fills and PnL,
latency percentiles, and risk events.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from host.daemon.config import load_config
from host.daemon.runner import RunOptions
from host.daemon.runner import run as run_daemon

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
        with VenueProcess("--source", "synthetic", "--seed", str(args.seed)) as venue:
            path = folder / "demo.toml"
            path.write_text(DEMO_CONFIG.format(**venue.info))
            os.environ.setdefault("TICKWIRE_API_KEY", TEST_API_KEY)
            config = load_config(str(path))
            print(f"tickwire demo: venue at {venue.info['ws_url']}; the daemon trades "
                  f"BTC-SPOT->BTC-PERP latency arbitrage and an ETH-PERP market maker for "
                  f"{args.seconds:g} s (config {path})", flush=True)
            summary = run_daemon(config, RunOptions(duration_s=args.seconds,
                                                    install_signals=True))
        print(summary.render())
        if args.dir:
            print(f"  journal  {config.daemon.journal}")
    return summary.exit_code
