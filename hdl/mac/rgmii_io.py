"""RGMII's double data rate pins to GMII's one byte per cycle, and back.

On each clock cycle RGMII carries one GMII symbol on 4 data pins and a control pin: on the
rising edge the low nibble and DV (TX_EN), on the falling edge the high nibble and DV XOR ER.

Two implementations with the same ports and the same cycle timing:
- with no platform (simulation under Verilator), plain registers on each clock edge;
- on an ECP5 platform, the I/O cells' IDDRX1F and ODDRX1F.
The board top connects the pins to buffered (non-registered) I/O: `platform.request(...)`
with the default `xdr=0`, so the DDR cells sit right behind the pad buffers.
"""

from amaranth import Cat, ClockDomain, ClockSignal, Const, Instance, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out


class RgmiiIo(wiring.Component):
    """The DDR layer between RGMII pins and the MAC (GMII inside).

    Domains: `rx` is clocked by the PHY's RXC, `tx` by the 125 MHz transmit clock.

    - `rxd`, `rx_ctl`: RGMII receive pins. `rx_data`, `rx_dv`, `rx_er`: one GMII symbol per
      `rx` cycle, shown from the rising edge after the one that took its low nibble.
    - `tx_data`, `tx_en`, `tx_er`: one GMII symbol per `tx` cycle. `txd`, `tx_ctl`: RGMII
      transmit pins, from the rising edge after the one that took the symbol (in simulation;
      ODDRX1F adds pipeline stages of its own). `txc`: the transmit clock for the PHY,
      edge-aligned with the data (the PHY's TX delay, or a phase-shifted clock, must provide
      the RGMII setup time).
    """

    rxd: In(4)
    rx_ctl: In(1)
    rx_data: Out(8)
    rx_dv: Out(1)
    rx_er: Out(1)
    tx_data: In(8)
    tx_en: In(1)
    tx_er: In(1)
    txd: Out(4)
    tx_ctl: Out(1)
    txc: Out(1)

    def elaborate(self, platform):
        if platform is not None and getattr(platform, "family", None) != "ecp5":
            raise NotImplementedError(f"RgmiiIo has no DDR cells for the platform {platform!r}")
        m = Module()
        rx_pins = Cat(self.rxd, self.rx_ctl)
        rise = Signal(5)  # captured on the rising edge: low nibble, DV
        fall = Signal(5)  # on the falling edge: high nibble, DV ^ ER
        tx_rise = Cat(self.tx_data[:4], self.tx_en)
        tx_fall = Cat(self.tx_data[4:], self.tx_en ^ self.tx_er)
        tx_pins = Cat(self.txd, self.tx_ctl)

        if platform is None:
            self._simulated(m, rx_pins, rise, fall, tx_rise, tx_fall, tx_pins)
        else:
            self._ecp5(m, rx_pins, rise, fall, tx_rise, tx_fall, tx_pins)

        m.d.comb += [
            self.rx_data.eq(Cat(rise[:4], fall[:4])),
            self.rx_dv.eq(rise[4]),
            self.rx_er.eq(rise[4] ^ fall[4]),
        ]
        return m

    def _simulated(self, m, rx_pins, rise, fall, tx_rise, tx_fall, tx_pins):
        # As IDDRX1F: each half is captured on its own edge, then both are handed over
        # together on the next rising edge.
        m.domains.rx_fall = ClockDomain("rx_fall", clk_edge="neg", reset_less=True, local=True)
        m.d.comb += ClockSignal("rx_fall").eq(ClockSignal("rx"))
        rise_in = Signal(5, reset_less=True)
        fall_in = Signal(5, reset_less=True)
        m.d.rx += rise_in.eq(rx_pins)
        m.d.rx_fall += fall_in.eq(rx_pins)
        m.d.rx += [rise.eq(rise_in), fall.eq(fall_in)]
        # As ODDRX1F (less its extra pipeline): both halves taken on a rising edge, the first
        # shown while the clock is high, the second while it is low.
        out_rise = Signal(5, reset_less=True)
        out_fall = Signal(5, reset_less=True)
        m.d.tx += [out_rise.eq(tx_rise), out_fall.eq(tx_fall)]
        tx_clock = ClockSignal("tx")
        m.d.comb += [tx_pins.eq(Mux(tx_clock, out_rise, out_fall)), self.txc.eq(tx_clock)]

    def _ecp5(self, m, rx_pins, rise, fall, tx_rise, tx_fall, tx_pins):
        for bit in range(5):
            m.submodules[f"iddr{bit}"] = Instance(
                "IDDRX1F", i_SCLK=ClockSignal("rx"), i_RST=Const(0), i_D=rx_pins[bit],
                o_Q0=rise[bit], o_Q1=fall[bit])
            m.submodules[f"oddr{bit}"] = Instance(
                "ODDRX1F", i_SCLK=ClockSignal("tx"), i_RST=Const(0), i_D0=tx_rise[bit],
                i_D1=tx_fall[bit], o_Q=tx_pins[bit])
        # The forwarded clock goes through the same cell type as the data, so it stays
        # edge-aligned with it whatever the cell's latency.
        m.submodules.oddr_txc = Instance(
            "ODDRX1F", i_SCLK=ClockSignal("tx"), i_RST=Const(0), i_D0=Const(1), i_D1=Const(0),
            o_Q=self.txc)

