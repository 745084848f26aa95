"""The `tickwire` command. Each subcommand is a thin shim over a module that does the work."""

from __future__ import annotations

import argparse
import importlib
import sys

# `tickwire bench TARGET`: each module has configure(parser) and run(args) -> int.
BENCH_TARGETS = {
    "depth": ("host.bench.depth",
              "real USD-M depth stream: time to decision and whole message, per message"),
    "ticker": ("host.bench.ticker", "bookTicker message to best bid/ask, per message"),
    "feed": ("host.bench.feed", "binary colo-feed packets: the fast and model pipelines "
                                "streamed, and numpy batch decode"),
    "roundtrip": ("host.bench.roundtrip", "order submit to ack over WebSocket to the local "
                                          "venue, beside the websockets and kernel floors"),
    "journal": ("host.journal.bench", "journal cost per order event: insert + commit on a "
                                      "real SQLite file, WAL, synchronous NORMAL vs FULL"),
    "risk": ("host.bench.risk", "RiskEngine.check and each strategy's on_top, per call"),
    "client-decode": ("host.venue_client.decode_bench",
                      "one venue WebSocket frame to a typed event, per message type"),
    "venue": ("sim.venue.bench_cli", "the local venue's capacity: orders matched/s, messages "
                                     "published/s, WebSocket order round trip"),
}


def _docs(args: argparse.Namespace) -> int:
    from host.docs_registry import generators

    stale = 0
    for gen in generators():
        if not args.check:
            gen.write()
            print(f"wrote {gen.DOC_PATH}")
        elif gen.is_fresh():
            print(f"{gen.DOC_PATH} is up to date")
        else:
            print(f"{gen.DOC_PATH} is stale: run `tickwire docs`", file=sys.stderr)
            stale += 1
    return 1 if stale else 0


def _latency(args: argparse.Namespace) -> int:
    from sim import pipeline_latency

    return pipeline_latency.main()


def _feed_demo(args: argparse.Namespace) -> int:
    from host import feed_demo

    return feed_demo.run(args.packets)


def _system(args: argparse.Namespace) -> int:
    from sim import system_build

    return system_build.run(args)


def _mac(args: argparse.Namespace) -> int:
    from sim import mac_figures

    return mac_figures.main()


def _demo(args: argparse.Namespace) -> int:
    from host.daemon import demo

    return demo.run(args)


def _fpga(args: argparse.Namespace) -> int:
    from host.fpga import cli

    return cli.run(args)


# `tickwire bench` with no target: the software figures DESIGN.md judges, in one run.
DESIGN_FIGURES = ("depth", "ticker", "feed", "roundtrip")


def _bench(args: argparse.Namespace) -> int:
    if args.target is None:
        return _bench_all()
    return importlib.import_module(BENCH_TARGETS[args.target][0]).run(args)


def _bench_all() -> int:
    print("tickwire bench: the software path's figures from shared/DESIGN.md, each beside its "
          "references, measured in this process on the same data: the Binance recordings in "
          "shared/data (depth, ticker), the built-in colo-feed capture (feed), and the local "
          "venue in a child process (roundtrip). Run one with `tickwire bench TARGET`.\n")
    worst = 0
    for target in DESIGN_FIGURES:
        module = importlib.import_module(BENCH_TARGETS[target][0])
        parser = argparse.ArgumentParser()
        module.configure(parser)
        worst = max(worst, module.run(parser.parse_args([])))
        print()
    return worst


def _add_bench(sub) -> None:
    bench = sub.add_parser("bench", help="measure a path's latency against its references")
    bench.set_defaults(func=_bench, target=None)
    targets = bench.add_subparsers(dest="target")
    for target, (module, summary) in BENCH_TARGETS.items():
        parser = targets.add_parser(target, help=summary)
        importlib.import_module(module).configure(parser)
        parser.set_defaults(func=_bench)


def _venue(args: argparse.Namespace) -> int:
    from sim.venue import command

    return command.run_venue(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tickwire", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    docs = sub.add_parser("docs", help="write the generated docs/ pages from their declarations")
    docs.add_argument("--check", action="store_true", help="fail if the file is stale")
    docs.set_defaults(func=_docs)
    from host.daemon import cli as daemon_cli
    from host.daemon import demo as daemon_demo

    daemon_cli.add_arguments(sub)
    demo = sub.add_parser("demo", help="start the local venue and the daemon, trade for a "
                                       "while, and summarise")
    daemon_demo.configure(demo)
    demo.set_defaults(func=_demo)
    feed_demo = sub.add_parser("feed-demo", help="replay the built-in sample feed and "
                                                 "summarise it")
    feed_demo.add_argument("--packets", type=int, default=2000)
    feed_demo.set_defaults(func=_feed_demo)
    latency = sub.add_parser("latency", help="simulate the pipeline gateware at both widths "
                                             "and print its wire-to-order latency in cycles")
    latency.set_defaults(func=_latency)
    system = sub.add_parser("system", help="the Verilated full design: build it, or run its "
                                           "scoreboard bench and print its figures")
    system.add_argument("action", choices=("build", "bench"),
                        help="build: print the build directory (building it if need be); "
                             "bench: run the scoreboard bench and print its figures")
    system.add_argument("--packets", type=int, default=None,
                        help="feed packets per trading phase of the bench (default 90)")
    system.add_argument("--seed", type=int, default=None)
    system.set_defaults(func=_system)
    mac = sub.add_parser("mac", help="simulate the RGMII MAC at its pins and print its "
                                     "latency in cycles (docs/mac.md)")
    mac.set_defaults(func=_mac)
    _add_bench(sub)
    from sim.venue import command

    venue = sub.add_parser("venue", help="run the local Purple Flea venue (docs/venue.md)")
    command.add_venue_arguments(venue)
    venue.set_defaults(func=_venue)
    from host.fpga import cli as fpga_cli

    fpga = sub.add_parser("fpga", help="read the board's kill switch and registers, arm, "
                                       "kill; build bitstreams (fpga build)")
    fpga_cli.add_arguments(fpga)
    fpga.set_defaults(func=_fpga)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
