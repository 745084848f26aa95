"""cocotb benches: test modules run inside the simulator by sim.cocotb_runner.run_bench."""
