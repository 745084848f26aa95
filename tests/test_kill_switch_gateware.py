"""The kill switch under Verilator, scoreboarded against host.model.kill_switch."""

from hdl.kill_switch import KillSwitch
from sim.cocotb_runner import run_bench


def test_kill_switch_matches_model_on_random_streams():
    run_bench(KillSwitch, name="kill_switch", bench_module="sim.benches.kill_switch")
