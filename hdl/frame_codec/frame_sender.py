"""Frame sender: response payloads in, COBS-framed UART bytes out."""

from amaranth import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hdl.frame_codec.cobs_encoder import CobsEncoder
from hdl.frame_codec.crc16 import INIT, crc16_next
from hdl.frame_codec.layouts import FrameByte


class FrameSender(wiring.Component):
    """Appends the CRC-16 (most significant byte first) to each payload and COBS-encodes it.

    A payload is the bytes up to and including one with `last`; the bytes on `o` are ready for
    the UART, each frame ending in its zero delimiter.

    Each input byte is registered before the CRC and the encoder see it (a byte every other
    cycle at most, far above any UART rate), so the response buffer's read never shares a
    cycle with the CRC and the encoder's block write: the control link's longest path at
    125 MHz before this stage.
    """

    i: In(stream.Signature(FrameByte))
    o: Out(stream.Signature(8))

    def elaborate(self, platform):
        m = Module()
        m.submodules.cobs = cobs = CobsEncoder()
        wiring.connect(m, cobs.o, wiring.flipped(self.o))

        held = Signal(FrameByte)
        full = Signal()
        taken = Signal()
        m.d.comb += self.i.ready.eq(~full)
        with m.If(self.i.valid & ~full):
            m.d.sync += [held.eq(self.i.payload), full.eq(1)]
        with m.Elif(taken):
            m.d.sync += full.eq(0)

        crc = Signal(16, init=INIT)
        out = cobs.i
        with m.FSM():
            with m.State("PAYLOAD"):
                m.d.comb += [out.valid.eq(full), out.payload.data.eq(held.data),
                             out.payload.last.eq(0), taken.eq(out.ready)]
                with m.If(full & out.ready):
                    m.d.sync += crc.eq(crc16_next(crc, held.data))
                    with m.If(held.last):
                        m.next = "CRC_HIGH"
            with m.State("CRC_HIGH"):
                m.d.comb += [out.valid.eq(1), out.payload.data.eq(crc[8:]),
                             out.payload.last.eq(0)]
                with m.If(out.ready):
                    m.next = "CRC_LOW"
            with m.State("CRC_LOW"):
                m.d.comb += [out.valid.eq(1), out.payload.data.eq(crc[:8]),
                             out.payload.last.eq(1)]
                with m.If(out.ready):
                    m.d.sync += crc.eq(INIT)
                    m.next = "PAYLOAD"
        return m
