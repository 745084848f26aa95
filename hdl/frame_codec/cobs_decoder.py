"""Streaming COBS decoder: UART bytes in, frame bytes and frame ends out."""

from amaranth import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hdl.frame_codec.layouts import DecodedByte


class CobsDecoder(wiring.Component):
    """Decodes COBS frames delimited by zero bytes, one input byte per cycle at most.

    Each code byte `n` announces `n - 1` data bytes; a block other than a full one (code
    0xFF) is followed by an implied zero, which is emitted when the next block's code byte
    arrives, so a frame never ends in an implied zero. A zero byte ends the frame: an end
    beat goes out, with `bad` set if the last block was cut short. Zero bytes between frames
    (empty frames) produce nothing. Neither side can wait: the UART cannot be paused.
    """

    i: In(stream.Signature(8, always_ready=True))
    o: Out(stream.Signature(DecodedByte, always_ready=True))

    def elaborate(self, platform):
        m = Module()

        remaining = Signal(8)  # data bytes still due in the current block
        last_code = Signal(8, init=0xFF)  # 0xFF: no implied zero before the next block
        in_frame = Signal()

        m.d.sync += self.o.valid.eq(0)
        with m.If(self.i.valid):
            byte = self.i.payload
            with m.If(byte == 0):
                with m.If(in_frame):
                    m.d.sync += [
                        self.o.valid.eq(1),
                        self.o.payload.end.eq(1),
                        self.o.payload.bad.eq(remaining != 0),
                    ]
                m.d.sync += [in_frame.eq(0), remaining.eq(0), last_code.eq(0xFF)]
            with m.Else():
                m.d.sync += in_frame.eq(1)
                with m.If(remaining == 0):
                    with m.If(last_code != 0xFF):
                        m.d.sync += [
                            self.o.valid.eq(1),
                            self.o.payload.data.eq(0),
                            self.o.payload.end.eq(0),
                        ]
                    m.d.sync += [last_code.eq(byte), remaining.eq(byte - 1)]
                with m.Else():
                    m.d.sync += [
                        self.o.valid.eq(1),
                        self.o.payload.data.eq(byte),
                        self.o.payload.end.eq(0),
                        remaining.eq(remaining - 1),
                    ]
        return m
