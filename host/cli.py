"""The `tickwire` command. Each subcommand is a thin shim over a module that does the work."""

from __future__ import annotations

import argparse
import importlib
import sys

# `tickwire bench TARGET`: each module has configure(parser) and run(args) -> int.
BENCH_TARGETS = {
    "depth": ("host.bench.depth", "real USD-M depth stream: parse + full-depth book, per message"),
    "ticker": ("host.bench.ticker", "bookTicker message to best bid/ask, per message"),
}


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


def _bench(args: argparse.Namespace) -> int:
    return importlib.import_module(BENCH_TARGETS[args.target][0]).run(args)


def _add_bench(sub) -> None:
    bench = sub.add_parser("bench", help="measure a path's latency against its references")
    targets = bench.add_subparsers(dest="target", required=True)
    for target, (module, summary) in BENCH_TARGETS.items():
        parser = targets.add_parser(target, help=summary)
        importlib.import_module(module).configure(parser)
        parser.set_defaults(func=_bench)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tickwire", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    docs = sub.add_parser("docs", help="write docs/wire-format.md from the wire declaration")
    docs.add_argument("--check", action="store_true", help="fail if the file is stale")
    docs.set_defaults(func=_docs)
    demo = sub.add_parser("demo", help="replay the built-in sample feed and summarise it")
    demo.add_argument("--packets", type=int, default=2000)
    demo.set_defaults(func=_demo)
    _add_bench(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
