"""Bench: control_top behind a pseudo-terminal, for a host process to drive with pyserial.

It writes the pty's path to the file named by TICKWIRE_PTY_FILE and bridges bytes until the
file named by TICKWIRE_PTY_STOP appears (tests/test_control_pty.py runs the real host driver
against it). Orders leaving the egress gate are always taken; the gate's own counters, read
over the link, say how many passed.
"""

import os

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles

from sim.control_design import BIT_NS, CLOCK_NS
from sim.pty_bridge import (
    PTY_PATH_ENV,
    PTY_STOP_ENV,
    PTY_WALL_LIMIT_ENV,
    PtyBridge,
    stop_condition,
)


@cocotb.test(timeout_time=20, timeout_unit="sec")
async def bridge_a_host_to_the_design(dut):
    Clock(dut.clk, CLOCK_NS, unit="ns", impl="gpi").start()
    dut.kill_pin.value = 0
    dut.book__valid.value = 0
    dut.pipeline__valid.value = 0
    dut.rst.value = 1
    await ClockCycles(dut.clk, 3)
    dut.rst.value = 0
    dut.orders__ready.value = 1  # watched by no coroutine: one per cycle would slow the sim

    bridge = PtyBridge(dut.rx, dut.tx, BIT_NS)
    path_file = os.environ[PTY_PATH_ENV]
    with open(path_file + ".tmp", "w") as f:
        f.write(bridge.path)
    os.replace(path_file + ".tmp", path_file)  # the host sees the whole path or nothing
    stop_file = os.environ.get(PTY_STOP_ENV)
    wall_limit = float(os.environ.get(PTY_WALL_LIMIT_ENV, "120"))
    try:
        await bridge.run(stop_condition(stop_file, wall_limit))
    finally:
        bridge.close()
    dut._log.info("bridged %d bytes to the design, %d back", bridge.to_design, bridge.to_host)
    assert stop_file and os.path.exists(stop_file), "the host never said it had finished"
