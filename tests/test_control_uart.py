"""The UARTs at other divisors than the benches' 8, in Amaranth's simulator: random bytes,
a sender whose bit time is a few percent off, and bad stop bits.

control_top's bench covers divisor 8 under Verilator; these check the divisor is generic.
"""

from __future__ import annotations

import random

import pytest
from amaranth.sim import Simulator

from hdl.uart_rx import UartRx
from hdl.uart_tx import UartTx


def line_bits(byte: int, stop: int = 1) -> list[int]:
    return [0, *((byte >> i) & 1 for i in range(8)), stop]


@pytest.mark.parametrize("divisor,skew", [(4, 1.0), (5, 1.0), (13, 0.97), (13, 1.03),
                                          (33, 1.02)])
def test_receiver_takes_bytes_at_its_divisor_with_some_skew(divisor, skew):
    rng = random.Random(divisor)
    sent = [rng.getrandbits(8) for _ in range(40)]
    bad = {7, 23}  # indices sent with a low stop bit: dropped, one error each
    dut = UartRx(divisor)
    got, errors = [], []

    async def drive(ctx):
        time = 0.0
        for index, byte in enumerate(sent):
            for bit in line_bits(byte, stop=0 if index in bad else 1):
                ctx.set(dut.rx, bit)
                time += divisor * skew
                await ctx.tick().repeat(int(time) - int(time - divisor * skew))
            if index in bad:  # back to idle before the next start bit
                ctx.set(dut.rx, 1)
                await ctx.tick().repeat(divisor)
        ctx.set(dut.rx, 1)
        await ctx.tick().repeat(4 * divisor)

    async def watch(ctx):
        async for _, _, valid, data, error in ctx.tick().sample(
                dut.o.valid, dut.o.payload, dut.framing_error):
            if valid:
                got.append(data)
            if error:
                errors.append(len(got))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(drive)
    sim.add_process(watch)
    sim.run()
    assert got == [b for i, b in enumerate(sent) if i not in bad]
    assert len(errors) == len(bad)


@pytest.mark.parametrize("divisor", [4, 7, 33])
def test_transmitter_sends_back_to_back_frames_of_exact_length(divisor):
    rng = random.Random(divisor)
    sent = [rng.getrandbits(8) for _ in range(12)]
    dut = UartTx(divisor)
    line: list[int] = []

    async def feed(ctx):
        for byte in sent:
            ctx.set(dut.i.payload, byte)
            ctx.set(dut.i.valid, 1)
            await ctx.tick().until(dut.i.ready)
        ctx.set(dut.i.valid, 0)

    async def watch(ctx):
        async for _, _, tx in ctx.tick().sample(dut.tx):
            line.append(tx)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(feed)
    sim.add_process(watch)
    sim.run_until(1e-8 * divisor * 10 * (len(sent) + 2))
    start = line.index(0)
    expected = [bit for byte in sent for bit in line_bits(byte) for _ in range(divisor)]
    assert line[start:start + len(expected)] == expected
    assert all(line[start + len(expected):])  # idle high afterwards
