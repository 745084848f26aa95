"""Wrap a component so that place and route times its own register-to-register paths.

Every input port is driven from one long shift register fed by a single pin, and every output
is registered and folded to a single pin through registered 4-input XORs (one LUT per level).
Nothing is constant, so synthesis keeps all of the design, and no path through the harness is
longer than one LUT: the critical path it reports is the component's.
"""


from amaranth import Cat, Module, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out


class TimingHarness(wiring.Component):
    """`serial_in` feeds every input of `dut`; `serial_out` depends on every output."""

    serial_in: In(1)
    serial_out: Out(1)

    def __init__(self, dut: wiring.Component):
        self.dut = dut
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        m.submodules.dut = dut = self.dut
        inputs, outputs = [], []
        for _path, member, value in dut.signature.flatten(dut):
            if isinstance(Value.cast(value), Signal):  # an always-ready `ready` is a constant
                (inputs if member.flow == In else outputs).append(Value.cast(value))
        chain = Signal(max(1, sum(len(v) for v in inputs)))
        m.d.sync += chain.eq(Cat(self.serial_in, chain[:-1]))
        offset = 0
        for value in inputs:
            m.d.comb += value.eq(chain[offset:offset + len(value)])
            offset += len(value)
        level = Signal(max(1, sum(len(v) for v in outputs)))
        m.d.sync += level.eq(Cat(*outputs))
        while len(level) > 1:
            folded = Signal((len(level) + 3) // 4)
            m.d.sync += [folded[i].eq(level[4 * i:4 * i + 4].xor()) for i in range(len(folded))]
            level = folded
        m.d.sync += self.serial_out.eq(level)
        return m
