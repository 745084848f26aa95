"""`tickwire fpga build`: place and route the designs, print Fmax and utilisation, fail when a
clock misses its target; with --release, copy the results into bitstreams/."""

from __future__ import annotations

import argparse
import sys

from hdl.boards.designs import DESIGNS, PARTS
from host.fpga.errors import FpgaError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("build (tickwire fpga build ...)")
    group.add_argument("--board", choices=("ecpix5",), help="build: the board's bitstream")
    group.add_argument("--core64", action="store_true",
                       help="build: the 64-bit core alone, against 156.25 MHz")
    group.add_argument("--all", action="store_true", help="build: every design")
    group.add_argument("--part", choices=tuple(PARTS), action="append", default=[],
                       help="build: one stage alone in the timing harness (repeatable)")
    group.add_argument("--seed", type=int, default=None, help="build: nextpnr's placer seed")
    group.add_argument("--record-failing", action="store_true",
                       help="release: record designs that missed their clock too (marked "
                            "NOT MET in docs/bitstream.md)")
    group.add_argument("--release", action="store_true",
                       help="build: copy the .bit and the reports into bitstreams/; "
                            "`tickwire fpga release` does it from the last builds")


def chosen(args: argparse.Namespace) -> list[str]:
    if args.all:
        return list(DESIGNS)
    names = ([args.board] if args.board else []) + (["core64"] if args.core64 else [])
    return names + args.part if names or args.part else ["ecpix5"]


def run_release(args: argparse.Namespace) -> int:
    """`tickwire fpga release`: release the last build of every design, if it is of the
    current sources and met timing."""
    from host.fpga import bitstream_build, release

    try:
        results = [bitstream_build.load_result(name) for name in DESIGNS]
        for result in results:
            try:
                bitstream_build.check_timing(result)
            except FpgaError as error:
                if not args.record_failing:
                    raise
                print(f"tickwire fpga release: recording anyway: {error}", file=sys.stderr)
        print(f"released into {release.write_release(results)}")
    except FpgaError as error:
        print(f"tickwire fpga release: {error.reason}: {error}", file=sys.stderr)
        return 1
    return 0


def run(args: argparse.Namespace) -> int:
    from host.fpga import bitstream_build, release

    names = chosen(args)
    if args.release and set(names) != set(DESIGNS):
        print("tickwire fpga build: --release needs --all (the release records every design)",
              file=sys.stderr)
        return 2
    seed = bitstream_build.SEED if args.seed is None else args.seed
    results, failed = [], []
    for name in names:
        try:
            result = bitstream_build.build(name, seed=seed)
        except FpgaError as error:
            print(f"tickwire fpga build: {error.reason}: {error}", file=sys.stderr)
            return 1
        results.append(result)
        print(f"{name}: built in {result.seconds:.0f} s"
              + (f", build id {result.build_id:#010x}" if result.build_id is not None else ""))
        for line in result.report.summary_lines():
            print(line)
        try:
            bitstream_build.check_timing(result)
        except FpgaError as error:
            print(f"tickwire fpga build: {error.reason}: {error}", file=sys.stderr)
            failed.append(name)
    if failed:
        print(f"tickwire fpga build: FAILED, timing not met for {', '.join(failed)}",
              file=sys.stderr)
        return 1
    if args.release:
        written = release.write_release(results)
        print(f"released into {written}")
    else:
        print(release.compare_line(results))
    print(f"all {len(results)} design(s) meet timing")
    return 0
