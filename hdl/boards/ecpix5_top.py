"""The ECPIX-5 (LFE5UM5G-85F) board top: clocks, reset, pins, and the design behind them.

- Clock: the PLL (hdl/boards/ecp5_pll.py) turns the 100 MHz oscillator into the 125 MHz `sync`
  domain; the design is held in reset until the PLL locks.
- Control link: the board's USB-UART (FT2232 channel B) at BAUD.
- LEDs (RGB LEDs 0-2): link (green for 250 ms after any UART traffic), armed (green),
  tripped (red).
- Button: the board's only user button (the one amaranth-boards names `rst`, active low)
  is the manual kill input, not a reset: pressing it trips the kill switch (reason MANUAL)
  and keeps it from being armed while held.
"""

from __future__ import annotations

from amaranth import ClockDomain, ClockSignal, Module, ResetSignal, Signal
from amaranth.lib import wiring
from amaranth.lib.cdc import ResetSynchronizer

from hdl.boards.ecp5_pll import OUTPUT_HZ, Ecp5Pll
from hdl.build_id import source_build_id
from hdl.control_top import ControlTop
from hdl.uart_baud import divisor_for

BAUD = 115200
CLOCK_HZ = OUTPUT_HZ
LINK_HOLD_CYCLES = int(CLOCK_HZ // 4)  # the link LED stays lit 250 ms after a request


class Ecpix5Top(wiring.Component):
    """The whole FPGA. `build_id` is what `id_build` reports (default: the source hash)."""

    def __init__(self, build_id: int | None = None):
        self.build_id = source_build_id() if build_id is None else build_id
        super().__init__({})

    def elaborate(self, platform):
        m = Module()
        self._clocks(m, platform)

        uart = platform.request("uart", 0)
        button = platform.request("rst", 0)  # PinsN: `.i` is 1 while pressed
        link_led, armed_led, tripped_led = (platform.request("rgb_led", n) for n in range(3))

        m.submodules.control = control = ControlTop(divisor_for(int(CLOCK_HZ), BAUD),
                                                    build_id=self.build_id)
        m.d.comb += [
            control.rx.eq(uart.rx.i),
            uart.tx.o.eq(control.tx),
            control.kill_pin.eq(button.i),
            armed_led.g.o.eq(control.armed),
            tripped_led.r.o.eq(~control.armed),
            link_led.g.o.eq(self._recent(m, ~uart.rx.i)),
        ]
        return m

    def _clocks(self, m, platform):
        m.submodules.pll = pll = Ecp5Pll()
        m.d.comb += pll.clk_in.eq(platform.request("clk100", 0).i)
        m.domains.sync = ClockDomain("sync")
        m.d.comb += ClockSignal("sync").eq(pll.clk)
        m.submodules.reset_sync = ResetSynchronizer(~pll.locked, domain="sync")
        platform.add_clock_constraint(pll.clk, CLOCK_HZ)
        self.clk_90 = pll.clk_90
        self.reset = ResetSignal("sync")

    def _recent(self, m, event):
        """1 for LINK_HOLD_CYCLES after `event` was last seen."""
        left = Signal(range(LINK_HOLD_CYCLES + 1))
        with m.If(event):
            m.d.sync += left.eq(LINK_HOLD_CYCLES)
        with m.Elif(left != 0):
            m.d.sync += left.eq(left - 1)
        return left != 0
