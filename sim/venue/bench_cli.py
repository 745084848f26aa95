"""`tickwire bench venue`: its arguments, and a shim over bench.py (imported only to run).

Shaped like a `tickwire bench` target (`configure(parser)`, `run(args)`).
"""

from __future__ import annotations

import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--orders", type=int, default=20_000,
                        help="commands per engine run")
    parser.add_argument("--loopback-orders", type=int, default=5_000,
                        help="orders per loopback run")
    parser.add_argument("--round-trips", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=5)


def run(args: argparse.Namespace) -> int:
    from sim.venue import bench

    return bench.run(orders=args.orders, repeats=args.repeats,
                     loopback_orders=args.loopback_orders, round_trips=args.round_trips)
