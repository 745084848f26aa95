"""The `tickwire` command. Each subcommand is a thin shim over a module that does the work."""

from __future__ import annotations

import argparse
import sys


def _docs(args: argparse.Namespace) -> int:
    from host.wire import docgen

    if args.check:
        if docgen.is_fresh():
            print(f"{docgen.DOC_PATH} is up to date")
            return 0
        print(f"{docgen.DOC_PATH} is stale: run `tickwire docs`", file=sys.stderr)
        return 1
    docgen.write()
    print(f"wrote {docgen.DOC_PATH}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from host import demo

    return demo.run(args.packets)


def _venue(args: argparse.Namespace) -> int:
    from sim.venue import command

    return command.run_venue(args)


def _venue_bench(args: argparse.Namespace) -> int:
    from sim.venue import bench_cli

    return bench_cli.run(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tickwire", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    docs = sub.add_parser("docs", help="write docs/wire-format.md from the wire declaration")
    docs.add_argument("--check", action="store_true", help="fail if the file is stale")
    docs.set_defaults(func=_docs)
    demo = sub.add_parser("demo", help="replay the built-in sample feed and summarise it")
    demo.add_argument("--packets", type=int, default=2000)
    demo.set_defaults(func=_demo)
    from sim.venue import bench_cli, command

    venue = sub.add_parser("venue", help="run the local Purple Flea venue (docs/venue.md)")
    command.add_venue_arguments(venue)
    venue.set_defaults(func=_venue)
    venue_bench = sub.add_parser("venue-bench", help="measure the local venue's capacity")
    bench_cli.configure(venue_bench)
    venue_bench.set_defaults(func=_venue_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
