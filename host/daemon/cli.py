"""`tickwire run`, `tickwire kill` and `tickwire status`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

DEFAULT_CONFIG = "tickwire.toml"


def add_arguments(sub) -> None:
    run = sub.add_parser("run", help="run the trading daemon (docs/daemon.md)")
    run.add_argument("--config", default=DEFAULT_CONFIG, help="the TOML configuration")
    run.add_argument("--fpga", choices=("none", "sim", "serial", "auto"),
                     help="FPGA backend (overrides [daemon] fpga)")
    run.add_argument("--duration", type=float, help="stop after this many seconds")
    run.add_argument("--quiet", action="store_true", help="no progress line")
    run.set_defaults(func=_run)
    for name, helptext in (("kill", "cancel every order and halt a running daemon"),
                           ("status", "show a running daemon's state")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--config", default=DEFAULT_CONFIG,
                       help="the daemon's configuration (names its control socket)")
        p.add_argument("--socket", help="the control socket, instead of --config")
        if name == "kill":
            p.add_argument("--reason", default="operator", help="recorded in the journal")
        else:
            p.add_argument("--json", action="store_true", help="print the raw answer")
        p.set_defaults(func=_kill if name == "kill" else _status)


def _load(path: str):
    from host.daemon.config import DaemonConfigError, load_config

    try:
        return load_config(path)
    except (DaemonConfigError, ValueError) as exc:
        print(f"tickwire: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from host.daemon.runner import RunOptions, run

    config = _load(args.config)
    if args.fpga:
        config = replace(config, daemon=replace(config.daemon, fpga=args.fpga))
    summary = run(config, RunOptions(duration_s=args.duration, progress=not args.quiet))
    print(summary.render())
    return summary.exit_code


def _socket(args: argparse.Namespace) -> str:
    return args.socket or _load(args.config).daemon.control_socket


def _ask(args: argparse.Namespace, req: dict) -> dict | None:
    from host.daemon.control import ControlError, request

    try:
        return asyncio.run(request(_socket(args), req))
    except ControlError as exc:
        print(f"tickwire {req['op']}: {exc}", file=sys.stderr)
        return None


def _kill(args: argparse.Namespace) -> int:
    answer = _ask(args, {"op": "kill", "reason": args.reason})
    if answer is None:
        return 1
    if not answer.get("ok"):
        print(f"tickwire kill: refused: {answer.get('error')}: {answer.get('message')}",
              file=sys.stderr)
        return 1
    print(f"tickwire kill: {answer.get('message')}")
    return 0


def _status(args: argparse.Namespace) -> int:
    answer = _ask(args, {"op": "status"})
    if answer is None:
        return 1
    if args.json:
        print(json.dumps(answer, indent=2, sort_keys=True))
        return 0 if answer.get("ok") else 1
    from host.daemon.summary import render_status

    print(render_status(answer))
    return 0 if answer.get("ok") else 1
