"""The `tickwire` command. Each subcommand is a thin shim over a module that does the work."""

from __future__ import annotations

import argparse
import sys


def _docs(args: argparse.Namespace) -> int:
    from host.fpga import docgen as register_docgen
    from host.wire import docgen as wire_docgen

    stale = 0
    for docgen in (wire_docgen, register_docgen):
        if not args.check:
            docgen.write()
            print(f"wrote {docgen.DOC_PATH}")
        elif docgen.is_fresh():
            print(f"{docgen.DOC_PATH} is up to date")
        else:
            print(f"{docgen.DOC_PATH} is stale: run `tickwire docs`", file=sys.stderr)
            stale += 1
    return 1 if stale else 0


def _demo(args: argparse.Namespace) -> int:
    from host import demo

    return demo.run(args.packets)


def _fpga(args: argparse.Namespace) -> int:
    from host.fpga import cli

    return cli.run(args)


def build_parser() -> argparse.ArgumentParser:
    from host.fpga import cli as fpga_cli

    parser = argparse.ArgumentParser(prog="tickwire", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    docs = sub.add_parser("docs", help="write docs/wire-format.md and docs/register-map.md "
                                       "from their declarations")
    docs.add_argument("--check", action="store_true", help="fail if the file is stale")
    docs.set_defaults(func=_docs)
    demo = sub.add_parser("demo", help="replay the built-in sample feed and summarise it")
    demo.add_argument("--packets", type=int, default=2000)
    demo.set_defaults(func=_demo)
    fpga = sub.add_parser("fpga", help="read the board's kill switch and registers, arm, kill")
    fpga_cli.add_arguments(fpga)
    fpga.set_defaults(func=_fpga)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
