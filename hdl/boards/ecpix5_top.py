"""The ECPIX-5 (LFE5UM5G-85F) board top: clocks, reset, pins, and the trading system behind
the Ethernet MAC.

- Clocks: the PLL (hdl/boards/ecp5_pll.py) turns the 100 MHz oscillator into the 125 MHz
  `sync` domain, which is also the MAC's transmit clock (`tx`); the receive side runs on the
  PHY's RXC (`rx`). Everything is held in reset until the PLL locks.
- Receive: RGMII pins -> MAC (preamble and SFD stripped, FCS checked and stripped) -> an
  asynchronous FIFO into `sync` -> the trading system (hdl/trading_system.py).
- Transmit: the orders leaving the kill switch -> the order framer (hdl/order_framer.py: an
  Ethernet/IPv4/UDP frame per order) -> the MAC, which adds preamble, SFD and FCS.
- Control link: the board's USB-UART (FT2232 channel B) at 115200 baud.
- LEDs (RGB LEDs 0-2): link (green while frames arrive, 250 ms after the last), armed (green),
  tripped (red: trip reasons are latched).
- Button: the board's only user button (the one amaranth-boards names `rst`, active low) is
  the manual kill input, not a reset: pressing it trips the kill switch (reason MANUAL) and
  keeps it from being armed while held.
"""

from dataclasses import dataclass

from amaranth import ClockDomain, ClockSignal, DomainRenamer, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.cdc import ResetSynchronizer
from amaranth.lib.fifo import AsyncFIFO

from hdl.beat import beat_layout
from hdl.boards.ecp5_pll import OUTPUT_HZ, Ecp5Pll
from hdl.mac.rgmii_mac import RgmiiMac
from hdl.order_framer import OrderFramer
from hdl.trading_system import TradingSystem

CLOCK_HZ = OUTPUT_HZ
LED_HOLD_CYCLES = int(CLOCK_HZ // 4)  # the link LED stays lit 250 ms after a frame
RX_FIFO_DEPTH = 16  # bytes between the PHY's receive clock and `sync`
BEAT_BITS = beat_layout(1).size


@dataclass(frozen=True)
class OrderRoute:
    """Where order frames go: the addresses and ports the framer writes into every frame.
    The defaults are a locally administered source MAC, broadcast, and a private address
    pair; a deployment sets the venue gateway's here."""

    dst_mac: int = 0xFFFF_FFFF_FFFF
    src_mac: int = 0x02_00_00_00_00_01
    src_ip: int = 0xC0A8_0A02  # 192.168.10.2
    dst_ip: int = 0xC0A8_0A01  # 192.168.10.1
    src_port: int = 40000
    dst_port: int = 40001


class Ecpix5Top(wiring.Component):
    """The whole FPGA. `build_id` is what `id_build` reports (default: the source hash)."""

    def __init__(self, build_id: int | None = None, route: OrderRoute = OrderRoute()):
        self.route = route
        self._system = TradingSystem(1, clock_hz=CLOCK_HZ, build_id=build_id)
        self.build_id = self._system.build_id
        super().__init__({})

    def elaborate(self, platform):
        m = Module()
        eth = platform.request("eth_rgmii", 0)
        locked = self._clocks(m, platform, eth)
        m.submodules.system = system = self._system
        # The MAC's transmit side runs on the PLL's clock: `sync`.
        m.submodules.mac = mac = DomainRenamer({"tx": "sync"})(RgmiiMac())
        m.submodules.framer = framer = OrderFramer()
        m.submodules.rx_fifo = rx_fifo = AsyncFIFO(width=BEAT_BITS, depth=RX_FIFO_DEPTH,
                                                   r_domain="sync", w_domain="rx")
        m.d.comb += [
            mac.rxd.eq(eth.rx_data.i), mac.rx_ctl.eq(eth.rx_ctrl.i),
            eth.tx_data.o.eq(mac.txd), eth.tx_ctrl.o.eq(mac.tx_ctl), eth.tx_clk.o.eq(mac.txc),
            eth.rst.o.eq(~locked),  # the PHY leaves reset with the clocks
            rx_fifo.w_en.eq(mac.rx.valid), rx_fifo.w_data.eq(mac.rx.payload),
            mac.rx.ready.eq(rx_fifo.w_rdy),
            system.i.valid.eq(rx_fifo.r_rdy), system.i.payload.eq(rx_fifo.r_data),
            rx_fifo.r_en.eq(system.i.ready),
        ]
        wiring.connect(m, system.o, framer.i)
        wiring.connect(m, framer.o, mac.tx)
        m.d.comb += [getattr(framer, name).eq(getattr(self.route, name))
                     for name in ("dst_mac", "src_mac", "src_ip", "dst_ip", "src_port",
                                  "dst_port")]

        uart = platform.request("uart", 0)
        button = platform.request("rst", 0)  # PinsN: `.i` is 1 while pressed
        link_led, armed_led, tripped_led = (platform.request("rgb_led", n) for n in range(3))
        frame_in = system.i.valid & system.i.ready & system.i.payload.last
        m.d.comb += [
            system.rx.eq(uart.rx.i),
            uart.tx.o.eq(system.tx),
            system.kill_pin.eq(button.i),
            link_led.g.o.eq(self._recent(m, frame_in)),
            armed_led.g.o.eq(system.armed),
            tripped_led.r.o.eq(system.tripped),
        ]
        return m

    def _clocks(self, m, platform, eth):
        m.submodules.pll = pll = Ecp5Pll()
        m.d.comb += pll.clk_in.eq(platform.request("clk100", 0).i)
        m.domains.sync = ClockDomain("sync")
        m.domains.rx = ClockDomain("rx")
        m.d.comb += [ClockSignal("sync").eq(pll.clk), ClockSignal("rx").eq(eth.rx_clk.i)]
        m.submodules.reset_sync = ResetSynchronizer(~pll.locked, domain="sync")
        m.submodules.reset_rx = ResetSynchronizer(~pll.locked, domain="rx")
        platform.add_clock_constraint(pll.clk, CLOCK_HZ)
        platform.add_clock_constraint(eth.rx_clk.i, CLOCK_HZ)
        return pll.locked

    def _recent(self, m, event):
        """1 for LED_HOLD_CYCLES after `event` was last seen."""
        left = Signal(range(LED_HOLD_CYCLES + 1))
        with m.If(event):
            m.d.sync += left.eq(LED_HOLD_CYCLES)
        with m.Elif(left != 0):
            m.d.sync += left.eq(left - 1)
        return left != 0
