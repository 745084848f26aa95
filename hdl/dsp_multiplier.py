"""One ECP5 sysDSP multiplier whose operand registers are the DSP's own.

Yosys maps a `*` to a MULT18X18D with no register inside it, and nextpnr does not move fabric
flip-flops into the DSP, so a product between two fabric registers pays for a route into the
DSP column, the multiplier and a route out in one cycle. With the operands registered inside
the DSP (REG_INPUTA/REG_INPUTB), the cycle after them holds only the multiplier and the route
out; what loads the operands pays for the route in, a cycle earlier.

Under simulation (no platform) the same registers and product are described in Amaranth, so
Verilator runs this behaviour; for an ECP5 netlist (a platform whose `family` is "ecp5": the
board, or hdl/boards/ecp5_netlist.py for the timing harness) it is the vendor cell. The
operand registers are loaded in every cycle and have no reset (the cell's RST is tied low and
GSR is off), so the two descriptions agree from the first clock edge on.
"""

from amaranth import Const, Module, Signal, signed, unsigned
from amaranth.hdl import ClockSignal, Instance
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

WIDTH = 18  # each operand of a MULT18X18D


class RegisteredMultiplier(wiring.Component):
    """`p` is `a` x `b` as they were one cycle before (`a` and `b` are registered inside the
    DSP; `p` is combinational from those registers)."""

    def __init__(self, a_signed: bool = False, b_signed: bool = False):
        self.a_signed, self.b_signed = a_signed, b_signed
        a_shape = signed(WIDTH) if a_signed else unsigned(WIDTH)
        b_shape = signed(WIDTH) if b_signed else unsigned(WIDTH)
        p_shape = signed(2 * WIDTH) if (a_signed or b_signed) else unsigned(2 * WIDTH)
        super().__init__({"a": In(a_shape), "b": In(b_shape), "p": Out(p_shape)})

    def elaborate(self, platform):
        m = Module()
        if platform is None:
            a_reg = Signal.like(self.a, reset_less=True)
            b_reg = Signal.like(self.b, reset_less=True)
            m.d.sync += [a_reg.eq(self.a), b_reg.eq(self.b)]
            m.d.comb += self.p.eq(a_reg * b_reg)
            return m
        if getattr(platform, "family", None) != "ecp5":
            raise NotImplementedError(f"no DSP cell for the platform {platform!r}")
        ports = {f"i_A{i}": self.a[i] for i in range(WIDTH)}
        ports |= {f"i_B{i}": self.b[i] for i in range(WIDTH)}
        ports |= {f"i_C{i}": Const(0) for i in range(WIDTH)}
        ports |= {f"o_P{i}": self.p[i] for i in range(2 * WIDTH)}
        for n in range(4):
            ports |= {f"i_CLK{n}": ClockSignal() if n == 0 else Const(0),
                      f"i_CE{n}": Const(1), f"i_RST{n}": Const(0)}
        m.submodules.cell = Instance(
            "MULT18X18D",
            p_REG_INPUTA_CLK="CLK0", p_REG_INPUTA_CE="CE0", p_REG_INPUTA_RST="RST0",
            p_REG_INPUTB_CLK="CLK0", p_REG_INPUTB_CE="CE0", p_REG_INPUTB_RST="RST0",
            p_REG_INPUTC_CLK="NONE", p_REG_PIPELINE_CLK="NONE", p_REG_OUTPUT_CLK="NONE",
            p_GSR="DISABLED", p_RESETMODE="SYNC",
            i_SIGNEDA=Const(int(self.a_signed)), i_SIGNEDB=Const(int(self.b_signed)),
            i_SOURCEA=Const(0), i_SOURCEB=Const(0),
            **ports)
        return m
