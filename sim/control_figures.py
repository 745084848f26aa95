"""Prints the control link's figures: `python -m sim.control_figures`.

- In simulation (the link bench's `round_trip_figures`): a register read and a 32-register
  batch read, request start to response end, in clock cycles and UART bit times, and the
  design's turnaround (end of request to start of response).
- Over the pty (the real host driver, pyserial, the Verilated design): wall-clock round trips
  of the same reads, which the simulator's speed dominates; and, for scale, what the same
  bytes take on a board's wire at 115200 baud and 3 Mbaud.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from host.fpga.interface import open_fpga
from sim import control_design
from sim.cocotb_runner import run_bench
from sim.pty_session import simulated_board

READS = 200


def _sim_figures(work: Path) -> dict:
    out = work / "figures.json"
    run_bench(control_design.control_top, name=control_design.NAME,
              bench_module="sim.benches.control_link", testcase="round_trip_figures",
              extra_env={"TICKWIRE_FIGURES_FILE": str(out)})
    return json.loads(out.read_text())


def _pty_figures(work: Path) -> dict:
    with simulated_board(work) as path, open_fpga("serial", port=path, timeout=2.0) as fpga:
        names = ["scratch"]
        batch = [w.name for w in _first_words(32)]
        out = {}
        for label, read in (("Read", lambda: fpga.read_many(names)),
                            ("BatchRead", lambda: fpga.read_many(batch))):
            samples = []
            for _ in range(READS if label == "Read" else READS // 4):
                began = time.perf_counter()
                read()
                samples.append((time.perf_counter() - began) * 1e6)
            samples.sort()
            out[label] = {"p50_us": statistics.median(samples),
                          "p99_us": samples[int(len(samples) * 0.99) - 1], "n": len(samples)}
        return out


def _first_words(n: int):
    from host.fpga.registers import REGISTERS
    return REGISTERS.words[:n]


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sim = _sim_figures(work)
        pty = _pty_figures(work / "pty")
    print(f"UART divisor in simulation: {control_design.DIVISOR} cycles per bit")
    for label in ("Read", "BatchRead"):
        s, p = sim[label], pty[label]
        wire = (s["request_bytes"] + s["response_bytes"]) * 10
        print(f"{label}: {s['request_bytes']} bytes out, {s['response_bytes']} back; "
              f"sim round trip {s['round_trip_cycles']} cycles ({s['round_trip_bit_times']} "
              f"bit times), design turnaround {s['turnaround_cycles']} cycles; "
              f"over the pty p50 {p['p50_us']:.0f} us, p99 {p['p99_us']:.0f} us (n={p['n']}); "
              f"on a board's wire {wire / 115200 * 1e6:.0f} us at 115200 baud, "
              f"{wire / 3e6 * 1e6:.1f} us at 3 Mbaud")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
