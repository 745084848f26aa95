"""The 1 GbE RGMII MAC: the DDR pin layer, the receiver and the transmitter in their clock
domains, behind one set of ports.

docs/mac.md explains the design; host/model/ethernet_mac.py is its reference model.
"""

from amaranth import DomainRenamer, Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hdl.beat import beat_layout
from hdl.mac.gmii_rx import GmiiRx
from hdl.mac.gmii_tx import GmiiTx
from hdl.mac.rgmii_io import RgmiiIo
from host.model.ethernet_mac import COUNTER_BITS, RX_COUNTERS, TX_COUNTERS


class RgmiiMac(wiring.Component):
    """A 1 GbE MAC with RGMII pins.

    Domains: `rx`, clocked by the PHY's RXC (125 MHz); `tx`, the 125 MHz transmit clock.

    - `rxd`, `rx_ctl`: RGMII receive pins. `txd`, `tx_ctl`, `txc`: RGMII transmit pins.
    - `rx` (domain `rx`): received frames, preamble, SFD and FCS stripped, one byte per beat;
      `rx_error`, with the beat that has `last`: the frame is bad. See GmiiRx.
    - `tx` (domain `tx`): frames to send, FCS excluded. See GmiiTx.
    - counters: RX_COUNTERS in domain `rx`, TX_COUNTERS in domain `tx`, each COUNTER_BITS
      wide and wrapping.
    """

    def __init__(self):
        super().__init__({
            "rxd": In(4),
            "rx_ctl": In(1),
            "txd": Out(4),
            "tx_ctl": Out(1),
            "txc": Out(1),
            "rx": Out(stream.Signature(beat_layout(1))),
            "rx_error": Out(1),
            "tx": In(stream.Signature(beat_layout(1))),
            **{name: Out(COUNTER_BITS) for name in (*RX_COUNTERS, *TX_COUNTERS)},
        })

    def elaborate(self, platform):
        m = Module()
        io = m.submodules.io = RgmiiIo()
        receiver = m.submodules.receiver = DomainRenamer("rx")(GmiiRx())
        transmitter = m.submodules.transmitter = DomainRenamer("tx")(GmiiTx())
        m.d.comb += [
            io.rxd.eq(self.rxd),
            io.rx_ctl.eq(self.rx_ctl),
            self.txd.eq(io.txd),
            self.tx_ctl.eq(io.tx_ctl),
            self.txc.eq(io.txc),
            receiver.rx_data.eq(io.rx_data),
            receiver.rx_dv.eq(io.rx_dv),
            receiver.rx_er.eq(io.rx_er),
            io.tx_data.eq(transmitter.tx_data),
            io.tx_en.eq(transmitter.tx_en),
            io.tx_er.eq(transmitter.tx_er),
            self.rx_error.eq(receiver.o_error),
        ]
        wiring.connect(m, receiver.o, wiring.flipped(self.rx))
        wiring.connect(m, wiring.flipped(self.tx), transmitter.i)
        m.d.comb += [getattr(self, name).eq(getattr(receiver, name)) for name in RX_COUNTERS]
        m.d.comb += [getattr(self, name).eq(getattr(transmitter, name)) for name in TX_COUNTERS]
        return m
