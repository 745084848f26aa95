"""Bench: control_top behind a pseudo-terminal, for a host process to drive with pyserial.

It writes the pty's path to the file named by TICKWIRE_PTY_FILE and bridges bytes until the
file named by TICKWIRE_PTY_STOP appears (tests/test_control_pty.py runs the real host driver
against it). Orders leaving the egress gate are always taken; the gate's own counters, read
over the link, say how many passed.

A stand-in feed sends a top-of-book update for each of markets 0-3 every BOOK_PERIOD cycles
(bid 10000 + 100 x market ticks, ask 10 ticks above, 5 lots each), so the kill switch's
collar has a reference and the `tob_*` registers have something to show.
"""

import os

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, Timer

from hdl.book_top import BookTop
from sim.benches.streams import pack
from sim.control_design import BIT_NS, CLOCK_NS
from sim.pty_bridge import (
    PTY_PATH_ENV,
    PTY_STOP_ENV,
    PTY_WALL_LIMIT_ENV,
    PtyBridge,
    stop_condition,
)

BOOK_PERIOD = 2000
BOOK_MARKETS = 4


def book_top(market: int) -> int:
    bid = 10_000 + 100 * market
    return pack(BookTop, market=market, bid_valid=1, ask_valid=1, bid_price=bid, bid_qty=5,
                ask_price=bid + 10, ask_qty=5)


async def stand_in_feed(dut) -> None:
    while True:
        await Timer(BOOK_PERIOD * CLOCK_NS, unit="ns")
        for market in range(BOOK_MARKETS):
            await FallingEdge(dut.clk)
            dut.book__payload.value = book_top(market)
            dut.book__valid.value = 1
        await FallingEdge(dut.clk)
        dut.book__valid.value = 0


@cocotb.test(timeout_time=20, timeout_unit="sec")
async def bridge_a_host_to_the_design(dut):
    Clock(dut.clk, CLOCK_NS, unit="ns", impl="gpi").start()
    dut.rx.value = 1  # an idle line: low would be a start bit
    dut.kill_pin.value = 0
    dut.book__valid.value = 0
    dut.pipeline__valid.value = 0
    dut.rst.value = 1
    await ClockCycles(dut.clk, 3)
    dut.rst.value = 0
    dut.orders__ready.value = 1  # watched by no coroutine: one per cycle would slow the sim
    cocotb.start_soon(stand_in_feed(dut))

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
