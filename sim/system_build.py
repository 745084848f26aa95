"""The full design (hdl/trading_system.py) as every simulation of it uses it: one Verilator
build, on the 8-bit (1 GbE) datapath, cached under build/sim by a hash of its Verilog.

`build_system()` builds it, or finds the cached build, and returns the build directory.
`run_system(bench_module, ...)` runs any cocotb bench module on that same build (the
scoreboard bench, or a bench that bridges the design to a pty and a UDP socket), so only
the first caller pays for Verilator. `tickwire system build` (or `python -m
sim.system_build`) prints the directory; `tickwire system bench` runs the scoreboard bench
and prints its figures.

The UART runs at DIVISOR cycles per bit so a register access costs about a thousand cycles;
a board at 125 MHz uses 1085 (115200 baud): see hdl/uart_baud.py.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from collections.abc import Mapping
from pathlib import Path

from hdl.trading_system import TradingSystem
from sim.cocotb_runner import build_design, run_bench

DATA_BYTES = 1
DEPTH = 4
CLOCK_HZ = 125e6
CLOCK_NS = 8
DIVISOR = 4
BIT_NS = DIVISOR * CLOCK_NS
# A fixed build id keeps the cached build valid across edits that do not change the design;
# a board gets hdl.build_id.source_build_id() by default.
BUILD_ID = 0x5157_E100
NAME = "trading_system_w1"


def trading_system() -> TradingSystem:
    return TradingSystem(DATA_BYTES, DEPTH, clock_hz=CLOCK_HZ, uart_divisor=DIVISOR,
                         build_id=BUILD_ID)


def build_system() -> Path:
    """The build directory of the Verilated full design (built on first use)."""
    return build_design(trading_system, name=NAME)


def run_system(bench_module: str, *, extra_env: Mapping[str, str] | None = None,
               seed: int | None = None, testcase: str | None = None) -> None:
    """Run a cocotb bench module on the full design's build (see run_bench)."""
    run_bench(trading_system, name=NAME, bench_module=bench_module, extra_env=extra_env,
              seed=seed, testcase=testcase)


def scoreboard(packets: int | None = None, seed: int | None = None) -> dict:
    """Run the scoreboard bench (sim/benches/trading_system.py) and return its report."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        env = {"TICKWIRE_BENCH_REPORT": str(report)}
        if packets is not None:
            env["TICKWIRE_SYSTEM_PACKETS"] = str(packets)
        run_system("sim.benches.trading_system", extra_env=env, seed=seed)
        return json.loads(report.read_text())


def run(args: argparse.Namespace) -> int:
    if args.action == "build":
        print(build_system())
        return 0
    r = scoreboard(args.packets, args.seed)
    lat = r["latencies"]
    print("TradingSystem, 8-bit datapath, under Verilator, driven over its UART by the host "
          "driver (sim/benches/trading_system.py); every figure matched host.model.")
    print(f"orders passed {r['orders_passed']}, intents dropped by the tripped switch "
          f"{r['intents_dropped']}, link requests {r['link_requests']}, "
          f"simulated cycles {r['cycles']}")
    print(f"wire-to-gated-order latency: min {min(lat)} median {statistics.median(lat)} "
          f"max {max(lat)} cycles over {len(lat)} orders")
    return 0


if __name__ == "__main__":
    print(build_system())
