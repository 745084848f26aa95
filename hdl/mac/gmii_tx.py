"""The MAC's transmit side: frames in as a byte stream, GMII symbols out with the preamble, SFD,
padding, FCS and inter-frame gap added.

The semantics are host/model/ethernet_mac.py's `tx_symbols`; docs/mac.md explains the design.
"""

import enum

from amaranth import Const, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hdl.beat import beat_layout
from hdl.mac.crc32 import INIT, crc32_next
from host.model.ethernet_mac import (
    COUNTER_BITS,
    FCS_BYTES,
    IFG_CYCLES,
    MIN_DATA,
    PREAMBLE,
    PREAMBLE_BYTES,
    SFD,
    TX_COUNTERS,
)


class _State(enum.Enum):
    IDLE = 0
    PREAMBLE = 1
    DATA = 2
    PAD = 3
    FCS = 4
    GAP = 5
    DISCARD = 6


class GmiiTx(wiring.Component):
    """Send each frame of `i` as soon as it is offered, then keep the minimum gap.

    - `i`: frames, FCS excluded, one byte per beat; a frame's last beat may carry no byte
      (`keep` low). The first beat is taken after the preamble, 8 cycles after it is offered;
      from then on the transmitter takes one beat every cycle and the source must keep up: a
      cycle without a byte ends the frame with TX_ER (the PHY sends an error symbol, so no
      receiver accepts it), counts a `tx_underruns`, and the rest of the frame is taken and
      dropped.
    - `tx_data`, `tx_en`, `tx_er`: one GMII symbol per cycle, registered.
    - `tx_frames`: frames sent whole; both counters wrap at 2**COUNTER_BITS.
    """

    def __init__(self):
        super().__init__({
            "i": In(stream.Signature(beat_layout(1))),
            "tx_data": Out(8),
            "tx_en": Out(1),
            "tx_er": Out(1),
            **{name: Out(COUNTER_BITS) for name in TX_COUNTERS},
        })

    def elaborate(self, platform):
        m = Module()
        beat = self.i.payload
        state = Signal(_State)
        count = Signal(range(max(PREAMBLE_BYTES, IFG_CYCLES, MIN_DATA) + 1))
        crc = Signal(32, init=INIT)

        def send(byte, *, error=0):
            m.d.sync += [self.tx_data.eq(byte), self.tx_en.eq(1), self.tx_er.eq(error)]

        def send_tail():
            """The next byte after the frame's data: padding while short, else the FCS's first
            byte (count is the frame length so far)."""
            with m.If(count < MIN_DATA):
                send(0)
                m.d.sync += [crc.eq(crc32_next(crc, Const(0, 8))), count.eq(count + 1)]
                with m.If(count == MIN_DATA - 1):
                    m.d.sync += [state.eq(_State.FCS), count.eq(0)]
                with m.Else():
                    m.d.sync += state.eq(_State.PAD)
            with m.Else():
                send(~crc[:8])
                m.d.sync += [state.eq(_State.FCS), count.eq(1)]

        m.d.sync += [self.tx_en.eq(0), self.tx_er.eq(0), self.tx_data.eq(0)]
        with m.Switch(state):
            with m.Case(_State.IDLE), m.If(self.i.valid):
                send(PREAMBLE)
                m.d.sync += [state.eq(_State.PREAMBLE), count.eq(1)]
            with m.Case(_State.PREAMBLE):
                with m.If(count == PREAMBLE_BYTES):
                    send(SFD)
                    m.d.sync += [state.eq(_State.DATA), count.eq(0), crc.eq(INIT)]
                with m.Else():
                    send(PREAMBLE)
                    m.d.sync += count.eq(count + 1)
            with m.Case(_State.DATA):
                m.d.comb += self.i.ready.eq(1)
                with m.If(self.i.valid & beat.keep):
                    send(beat.data)
                    m.d.sync += crc.eq(crc32_next(crc, beat.data))
                    with m.If(count < MIN_DATA):
                        m.d.sync += count.eq(count + 1)
                    with m.If(beat.last):
                        # Padding or FCS follows from the next cycle on.
                        m.d.sync += state.eq(_State.PAD)
                with m.Elif(self.i.valid & beat.last):
                    send_tail()
                with m.Else():
                    send(0, error=1)
                    m.d.sync += [self.tx_underruns.eq(self.tx_underruns + 1),
                                 state.eq(_State.DISCARD)]
            with m.Case(_State.PAD):
                send_tail()
            with m.Case(_State.FCS):
                send(~crc.word_select(count[:2], 8))
                m.d.sync += count.eq(count + 1)
                with m.If(count == FCS_BYTES - 1):
                    m.d.sync += [state.eq(_State.GAP), count.eq(0),
                                 self.tx_frames.eq(self.tx_frames + 1)]
            with m.Case(_State.GAP):
                m.d.sync += count.eq(count + 1)
                with m.If(count == IFG_CYCLES - 1):
                    m.d.sync += state.eq(_State.IDLE)
            with m.Case(_State.DISCARD):
                m.d.comb += self.i.ready.eq(1)
                with m.If(self.i.valid & beat.last):
                    m.d.sync += [state.eq(_State.GAP), count.eq(0)]
        return m
