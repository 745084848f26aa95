"""An ECP5 PLL (EHXPLLL) that makes 125 MHz, and the same clock 90 degrees later, from the
ECPIX-5's 100 MHz oscillator.

The VCO runs at 500 MHz (100 / 4 x 5 x 4): inside the 400-800 MHz the part allows, and a VCO
period is exactly a quarter of the 8 ns output period, so the 90-degree output (RGMII transmit
wants its clock centred in the data eye) is one coarse phase step, no fine phase needed.
"""

from amaranth import Instance, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

INPUT_HZ = 100e6
CLKI_DIV, CLKFB_DIV, OUTPUT_DIV = 4, 5, 4
OUTPUT_HZ = INPUT_HZ / CLKI_DIV * CLKFB_DIV  # feedback from CLKOP: 125 MHz
VCO_HZ = OUTPUT_HZ * OUTPUT_DIV

if not 400e6 <= VCO_HZ <= 800e6:
    raise AssertionError(f"VCO at {VCO_HZ / 1e6} MHz is outside the ECP5's 400-800 MHz")


class Ecp5Pll(wiring.Component):
    """`clk_in`: the 100 MHz oscillator; `clk`: 125 MHz; `clk_90`: 125 MHz, 2 ns later;
    `locked`: both outputs are stable (hold the design in reset until it is)."""

    clk_in: In(1)
    clk: Out(1)
    clk_90: Out(1)
    locked: Out(1)

    def elaborate(self, platform):
        m = Module()
        feedback = Signal()
        m.submodules.pll = Instance(
            "EHXPLLL",
            a_FREQUENCY_PIN_CLKI=str(INPUT_HZ / 1e6),
            a_FREQUENCY_PIN_CLKOP=str(OUTPUT_HZ / 1e6),
            a_FREQUENCY_PIN_CLKOS=str(OUTPUT_HZ / 1e6),
            a_ICP_CURRENT="12", a_LPF_RESISTOR="8", a_MFG_ENABLE_FILTEROPAMP="1",
            a_MFG_GMCREF_SEL="2",
            p_PLLRST_ENA="DISABLED", p_INTFB_WAKE="DISABLED", p_STDBY_ENABLE="DISABLED",
            p_DPHASE_SOURCE="DISABLED", p_OUTDIVIDER_MUXA="DIVA", p_OUTDIVIDER_MUXB="DIVB",
            p_CLKOP_ENABLE="ENABLED", p_CLKOS_ENABLE="ENABLED",
            p_CLKI_DIV=CLKI_DIV, p_CLKFB_DIV=CLKFB_DIV, p_FEEDBK_PATH="CLKOP",
            p_CLKOP_DIV=OUTPUT_DIV, p_CLKOP_CPHASE=OUTPUT_DIV - 1, p_CLKOP_FPHASE=0,
            # One VCO period (2 ns, 90 degrees) behind CLKOP.
            p_CLKOS_DIV=OUTPUT_DIV, p_CLKOS_CPHASE=OUTPUT_DIV, p_CLKOS_FPHASE=0,
            i_CLKI=self.clk_in, i_CLKFB=feedback, i_RST=0, i_STDBY=0,
            i_PHASESEL0=0, i_PHASESEL1=0, i_PHASEDIR=0, i_PHASESTEP=0, i_PHASELOADREG=0,
            i_PLLWAKESYNC=0, i_ENCLKOP=0, i_ENCLKOS=0,
            o_CLKOP=feedback, o_CLKOS=self.clk_90, o_LOCK=self.locked,
        )
        m.d.comb += self.clk.eq(feedback)
        return m
