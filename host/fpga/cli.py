"""`tickwire fpga status|arm|kill|regs`: the FPGA interface from the command line;
`tickwire fpga build`: the bitstream build (host/fpga/build_cli.py)."""

from __future__ import annotations

import argparse
import sys

from host.fpga import build_cli
from host.fpga.errors import FpgaError
from host.fpga.interface import FpgaInterface, KillSwitchStatus, open_fpga
from host.fpga.registers import REGISTERS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("status", "arm", "kill", "regs", "build",
                                                  "release"))
    parser.add_argument("names", nargs="*", help="regs: values or registers to read "
                        "(default: all)")
    parser.add_argument("--port", help="serial port or pyserial URL of the board")
    parser.add_argument("--backend", choices=("serial", "none"), default=None,
                        help="default: serial with --port, else none")
    parser.add_argument("--baud", type=int, default=115200)
    parser.add_argument("--timeout", type=float, default=0.25, help="seconds per attempt")
    parser.add_argument("--retries", type=int, default=3)
    parser.add_argument("--write", action="append", default=[], metavar="NAME=VALUE",
                        help="regs: write these first (VALUE in any Python int syntax)")
    build_cli.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    if args.action == "build":
        return build_cli.run(args)
    if args.action == "release":
        return build_cli.run_release(args)
    backend = args.backend or ("serial" if args.port else "none")
    options = {}
    if backend == "serial":
        if not args.port:
            print("tickwire fpga: the serial backend needs --port", file=sys.stderr)
            return 2
        options = dict(port=args.port, baudrate=args.baud, timeout=args.timeout,
                       retries=args.retries)
    try:
        with open_fpga(backend, **options) as fpga:
            return _ACTIONS[args.action](fpga, args)
    except FpgaError as error:
        print(f"tickwire fpga: {error.reason}: {error}", file=sys.stderr)
        return 1


def _status(fpga: FpgaInterface, args) -> int:
    ident = fpga.read_many(["id_magic", "id_version", "id_map_hash", "id_build"])
    print(f"backend {fpga.name} (fpga: {'yes' if fpga.has_fpga else 'no'})")
    print(f"build {ident['id_build']:#010x}  map hash {ident['id_map_hash']:#010x}  "
          f"version {ident['id_version']:#08x}")
    _print_status(fpga.status())
    return 0


def _print_status(status: KillSwitchStatus) -> None:
    state = "ARMED" if status.armed else "TRIPPED"
    reasons = ", ".join(sorted(status.reasons)) or "none"
    print(f"kill switch {state}  reasons: {reasons}  trip time {status.trip_time}  "
          f"cycle {status.cycle}  kill pin {int(status.kill_pin)}")
    print(f"orders passed {status.passed}  dropped pipeline {status.dropped_pipeline}  "
          f"dropped host {status.dropped_host}  arm failures {status.arm_failures}")


def _arm(fpga: FpgaInterface, args) -> int:
    _print_status(fpga.arm())
    return 0


def _kill(fpga: FpgaInterface, args) -> int:
    fpga.kill()
    _print_status(fpga.status())
    return 0


def _regs(fpga: FpgaInterface, args) -> int:
    for item in args.write:
        name, _, value = item.partition("=")
        try:
            number = int(value, 0)
        except ValueError:
            print(f"tickwire fpga: --write {item!r} is not NAME=INTEGER", file=sys.stderr)
            return 2
        fpga.write(name.strip(), number)
    names = args.names or [w.name for w in REGISTERS.words]
    values = fpga.read_many(names)
    for name in names:
        word = REGISTERS.word.get(name)
        where = f"{word.address:#06x}" if word else "  pair"
        print(f"{where}  {name:<28} {values[name]:#x} ({values[name]})")
    return 0


_ACTIONS = {"status": _status, "arm": _arm, "kill": _kill, "regs": _regs}
