"""Bench that always fails: proves the harness reports a failure and keeps its waveform."""

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles


@cocotb.test()
async def fails_on_purpose(dut):
    Clock(dut.clk, 10, unit="ns").start()
    await ClockCycles(dut.clk, 10)
    raise AssertionError("this bench fails on purpose")
