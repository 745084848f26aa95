"""The control link of control_top under Verilator, scoreboarded against host.fpga's model."""

from sim import control_design
from sim.cocotb_runner import run_bench


def test_control_link_matches_the_board_model():
    run_bench(control_design.control_top, name=control_design.NAME,
              bench_module="sim.benches.control_link")
