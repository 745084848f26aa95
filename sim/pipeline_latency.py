"""Run the FeedPipeline bench at both datapath widths and report tick-to-intent latency.

`tickwire latency` prints the table that docs/pipeline.md records. Cycle counts come from the
Verilated design, so they are exact and repeatable, unlike wall-clock figures.
"""

from __future__ import annotations

import json
import statistics
import tempfile
from pathlib import Path

from hdl.feed_pipeline import FeedPipeline
from sim.cocotb_runner import run_bench


def run_pipeline_bench(width: int, packets: int, *, ready: float = 1.0, idle: float = 0.1,
                       depth: int = 4, seed: int | None = None) -> dict:
    """Simulate the pipeline on `packets` random payloads; the bench's report as a dict."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        run_bench(lambda: FeedPipeline(width, depth=depth), name=f"feed_pipeline_w{width}_d{depth}",
                  bench_module="sim.benches.feed_pipeline", seed=seed,
                  extra_env={"TICKWIRE_PIPE_PACKETS": str(packets),
                             "TICKWIRE_PIPE_READY": str(ready),
                             "TICKWIRE_PIPE_IDLE": str(idle),
                             "TICKWIRE_PIPE_DEPTH": str(depth),
                             "TICKWIRE_BENCH_REPORT": str(report)})
        return json.loads(report.read_text())


def latency_table(packets: dict[int, int] | None = None) -> str:
    packets = packets or {1: 150, 8: 600}
    lines = ["| datapath | ticks | intents | latency min | median | max (cycles) |",
             "|---|---|---|---|---|---|"]
    for width, count in sorted(packets.items()):
        r = run_pipeline_bench(width, count)
        lat = r["latencies"]
        lines.append(f"| {8 * width}-bit | {r['ticks']} | {r['intents']} | {min(lat)} | "
                     f"{statistics.median(lat)} | {max(lat)} |")
    return "\n".join(lines)


def main() -> int:
    print("FeedPipeline (parser, book table, trigger) under Verilator: cycles from the input "
          "beat carrying a triggering message's last byte to the first cycle its order intent "
          "is offered, consumer always ready.")
    print(latency_table())
    return 0
