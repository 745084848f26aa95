"""The full design (hdl/trading_system.py) under Verilator, driven over its UART pins by the
host's real driver while random and malformed feed traffic goes in, scoreboarded against
host.model (sim/benches/trading_system.py)."""

from sim.system_build import run_system


def test_full_design_driven_by_the_host_driver_matches_the_model():
    run_system("sim.benches.trading_system")
