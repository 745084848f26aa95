"""The order framer builds, byte for byte, the frame host.wire.build_frame builds."""

from hdl.order_framer import OrderFramer
from sim.cocotb_runner import run_bench


def test_order_framer_matches_build_frame():
    run_bench(OrderFramer, name="order_framer", bench_module="sim.benches.order_framer")
