"""Run the RGMII MAC bench and print its figures: `tickwire mac`.

Cycle counts come from the Verilated design at its pins, so they are exact and repeatable.
docs/mac.md records them.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hdl.mac.rgmii_mac import RgmiiMac
from sim.benches.rgmii_mac import REPORT_ENV
from sim.cocotb_runner import run_bench


def run_mac_bench(seed: int | None = None) -> dict:
    """Simulate RgmiiMac under every test of its bench; the bench's report as a dict."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        run_bench(RgmiiMac, name="rgmii_mac", bench_module="sim.benches.rgmii_mac", seed=seed,
                  extra_env={REPORT_ENV: str(report)})
        return json.loads(report.read_text())


def main() -> int:
    r = run_mac_bench()
    print("RgmiiMac under Verilator, at its RGMII pins (125 MHz: 8 ns a cycle):")
    print(f"- receive: {r['rx_bursts']} bursts, {r['rx_frames']} frames scoreboarded; last data "
          f"byte on the pins (the rx_clk edge taking its low nibble) to last beat out: "
          f"{r['rx_latency_cycles']} cycles = {8 * r['rx_latency_cycles']} ns, of which "
          f"4 are the FCS")
    print(f"- transmit: {r['tx_frames']} frames back to back, gap {r['tx_gap_cycles']} cycles; "
          f"first tx.valid to preamble on the pins: {r['tx_start_latency_cycles']} cycle(s), "
          f"first beat taken 8 cycles after it is offered")
    return 0
