"""Capture the fixed-size feed packet header at the start of each UDP payload."""

from amaranth import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hdl.beat import beat_layout
from hdl.layouts import PacketHeader

HEADER_BYTES = PacketHeader.as_shape().size // 8


class FeedHeaderCapture(wiring.Component):
    """Emit the header of every packet that is at least `HEADER_BYTES` long; skip the rest.

    Packets that end before a whole header arrived are counted in `runts` and produce no
    output. A header waiting on `o` holds off `i`, so no header is ever dropped.
    """

    i: In(stream.Signature(beat_layout(1)))
    o: Out(stream.Signature(PacketHeader))
    packets: Out(32)
    runts: Out(32)

    def elaborate(self, platform):
        m = Module()

        # Bytes enter at the MSB end, so after HEADER_BYTES of them byte 0 sits in bits [7:0]:
        # the register then equals the little-endian header, i.e. PacketHeader's bit layout.
        header = Signal(8 * HEADER_BYTES)
        # Counts header bytes seen in the current packet; saturates at HEADER_BYTES.
        seen = Signal(range(HEADER_BYTES + 1))

        m.d.comb += self.o.payload.eq(header)
        # A full output register may still take a byte when it is being emptied this cycle:
        # that byte cannot complete another header, so `header` is free to shift.
        m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)

        with m.If(self.o.valid & self.o.ready):
            m.d.sync += self.o.valid.eq(0)

        has_byte = self.i.p.keep[0]
        completes = has_byte & (seen == HEADER_BYTES - 1)
        with m.If(self.i.valid & self.i.ready):
            with m.If(has_byte & (seen < HEADER_BYTES)):
                m.d.sync += [
                    header.eq(Cat(header[8:], self.i.p.data)),
                    seen.eq(seen + 1),
                ]
            with m.If(completes):
                m.d.sync += [
                    self.o.valid.eq(1),
                    self.packets.eq(self.packets + 1),
                ]
            with m.If(self.i.p.last):
                m.d.sync += seen.eq(0)
                with m.If(~completes & (seen < HEADER_BYTES)):
                    m.d.sync += self.runts.eq(self.runts + 1)

        return m
