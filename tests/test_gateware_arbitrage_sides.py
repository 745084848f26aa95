"""The arbitrage rule's test (hdl/arbitrage_sides.py: split DSP products, a carry-save sum)
against the model, over the whole price and threshold range."""

from hdl.arbitrage_sides import ArbitrageSides
from sim.cocotb_runner import run_bench


def test_arbitrage_sides_match_model_over_the_full_range():
    run_bench(ArbitrageSides, name="arbitrage_sides", bench_module="sim.benches.arbitrage_sides")
