"""Frame receiver: UART bytes in, checked frame payloads out."""

from amaranth import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hdl.frame_codec.cobs_decoder import CobsDecoder
from hdl.frame_codec.crc16 import INIT, crc16_next
from hdl.frame_codec.layouts import ReceivedByte, Verdict


class FrameReceiver(wiring.Component):
    """Decodes COBS frames, checks their CRC-16 and passes on their payload bytes.

    Payload bytes leave two bytes behind the decoder, so the two CRC bytes at the end of a
    frame are never passed on. The end beat carries the verdict, in this order of precedence:
    BAD_FRAME (a block cut short, or `poison` raised since the previous delimiter: a UART
    byte with a bad stop bit was lost, and it may have been part of this frame), BAD_LENGTH
    (fewer bytes than a CRC), BAD_CRC, OK. Payload bytes are passed on before the verdict is
    known: the consumer must buffer them and act only on OK.
    """

    i: In(stream.Signature(8, always_ready=True))
    poison: In(1)
    o: Out(stream.Signature(ReceivedByte, always_ready=True))

    def elaborate(self, platform):
        m = Module()
        m.submodules.cobs = cobs = CobsDecoder()
        wiring.connect(m, wiring.flipped(self.i), cobs.i)

        crc = Signal(16, init=INIT)
        held = Signal(range(3))  # bytes waiting in `older` and `newer`
        older = Signal(8)
        newer = Signal(8)
        poisoned = Signal()  # a UART byte was lost since the last delimiter
        frame_poisoned = Signal()  # ... before the delimiter the decoder is ending a frame at

        d = cobs.o
        m.d.sync += self.o.valid.eq(0)
        with m.If(self.poison):
            m.d.sync += poisoned.eq(1)
        # Any delimiter, even one that ends an empty frame, closes the poisoned frame; the
        # decoder's end beat for it follows one cycle later.
        with m.If(self.i.valid & (self.i.payload == 0)):
            m.d.sync += [frame_poisoned.eq(poisoned | self.poison), poisoned.eq(0)]
        with m.If(d.valid & ~d.payload.end):
            m.d.sync += [crc.eq(crc16_next(crc, d.payload.data)),
                         older.eq(newer), newer.eq(d.payload.data)]
            with m.If(held == 2):
                m.d.sync += [self.o.valid.eq(1), self.o.payload.data.eq(older),
                             self.o.payload.end.eq(0)]
            with m.Else():
                m.d.sync += held.eq(held + 1)
        with m.If(d.valid & d.payload.end):
            verdict = self.o.payload.verdict
            with m.If(d.payload.bad | frame_poisoned):
                m.d.sync += verdict.eq(Verdict.BAD_FRAME)
            with m.Elif(held < 2):
                m.d.sync += verdict.eq(Verdict.BAD_LENGTH)
            with m.Elif(crc != 0):
                m.d.sync += verdict.eq(Verdict.BAD_CRC)
            with m.Else():
                m.d.sync += verdict.eq(Verdict.OK)
            m.d.sync += [self.o.valid.eq(1), self.o.payload.end.eq(1),
                         crc.eq(INIT), held.eq(0)]
        return m
