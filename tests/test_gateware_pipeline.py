"""The receive pipeline gateware (header filter, parser, book table, trigger) against the
model, at both widths.

Between them the runs push over 100,000 ticks across 256 markets through the Verilated
design as Ethernet frames, with lost, duplicated, malformed and damaged packets, back-to-back
minimum-size frames, idle gaps and backpressure, and compare every top-of-book change, intent
and counter (the filter's included) with host.model.
"""

from hdl.order_framer import LATENCY as FRAMER_LATENCY
from sim.pipeline_latency import run_pipeline_bench

LATENCY_GOAL = 12  # cycles to the first byte of the order frame, DESIGN.md
GATE_GOAL = LATENCY_GOAL - FRAMER_LATENCY  # the order framer's cycle comes after the gate


def test_64_bit_datapath_matches_model_over_many_ticks_at_full_rate():
    report = run_pipeline_bench(8, 7500, ready=1.0, idle=0.0)
    assert report["ticks"] >= 85_000
    assert report["input_stalls"] == 0, "the pipeline slowed the wire"
    assert max(report["latencies"]) <= LATENCY_GOAL
    print(f"64-bit: {report['ticks']} ticks, latency {sorted(set(report['latencies']))} cycles")


def test_8_bit_datapath_at_depth_one_matches_model_with_backpressure():
    report = run_pipeline_bench(1, 400, ready=0.5, idle=0.2, depth=1)
    assert report["ticks"] >= 4_000


def test_8_bit_core_wire_to_gated_order_latency():
    # The whole core: every intent must pass the armed kill switch's gate, inside the goal.
    report = run_pipeline_bench(1, 200, ready=1.0, idle=0.0, gated=True)
    assert report["input_stalls"] == 0
    assert report["intents"] > 0 and max(report["latencies"]) <= GATE_GOAL
    print(f"8-bit core: latency {sorted(set(report['latencies']))} cycles")


def test_64_bit_core_wire_to_gated_order_latency():
    report = run_pipeline_bench(8, 600, ready=1.0, idle=0.0, gated=True)
    assert report["input_stalls"] == 0
    assert report["intents"] > 0 and max(report["latencies"]) <= GATE_GOAL
    print(f"64-bit core: latency {sorted(set(report['latencies']))} cycles")


def test_a_starved_consumer_holds_the_input_and_loses_nothing():
    # The consumer takes nothing until the input is done, so the FIFO must fill and hold it.
    report = run_pipeline_bench(8, 600, ready=-1, idle=0.0)
    assert report["intents"] > 8, "too few intents to fill the FIFO; the test proves nothing"
    assert report["input_stalls"] > 0, "the input never stalled behind a full intent FIFO"
