"""The full design (hdl/trading_system.py) as every simulation of it uses it: one Verilator
build, on the 8-bit (1 GbE) datapath, cached under build/sim by a hash of its Verilog.

`build_system()` builds it, or finds the cached build, and returns the build directory.
`run_system(bench_module, ...)` runs any cocotb bench module on that same build (the
scoreboard bench, or a bench that bridges the design to a pty and a UDP socket), so only
the first caller pays for Verilator. `python -m sim.system_build` prints the directory.

The UART runs at DIVISOR cycles per bit so a register access costs about a thousand cycles;
a board at 125 MHz uses 1085 (115200 baud): see hdl/uart_baud.py.
"""

from __future__ import annotations

import sys
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


def main() -> int:
    print(build_system())
    return 0


if __name__ == "__main__":
    sys.exit(main())
