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


def _demo(args: argparse.Namespace) -> int:
    from host import demo

    return demo.run(args.packets)


def _fpga(args: argparse.Namespace) -> int:
    from host.fpga import cli

    return cli.run(args)


def _bench(args: argparse.Namespace) -> int:
    return importlib.import_module(BENCH_TARGETS[args.target][0]).run(args)


def _add_bench(sub) -> None:
    bench = sub.add_parser("bench", help="measure a path's latency against its references")
    targets = bench.add_subparsers(dest="target", required=True)
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
    demo = sub.add_parser("demo", help="replay the built-in sample feed and summarise it")
    demo.add_argument("--packets", type=int, default=2000)
    demo.set_defaults(func=_demo)
    latency = sub.add_parser("latency", help="simulate the pipeline gateware at both widths "
                                             "and print its wire-to-order latency in cycles")
    latency.set_defaults(func=_latency)
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
