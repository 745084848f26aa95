"""Streaming COBS encoder: frame bytes in, UART bytes (with the delimiter) out."""

from amaranth import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from hdl.frame_codec.layouts import FrameByte
from host.fpga.protocol import COBS_BLOCK


class CobsEncoder(wiring.Component):
    """Encodes each frame (bytes up to one with `last`) as COBS and ends it with a zero.

    COBS needs to know how far the next zero is before it can send a block's code byte, so
    a block (up to 254 non-zero bytes) is collected in a small memory first, then sent as its
    code byte and its bytes. A frame ends after the block holding its last byte; if that byte
    is a zero, an empty block (code 1) follows it. The rules match host.fpga.protocol's
    `cobs_encode` exactly.
    """

    i: In(stream.Signature(FrameByte))
    o: Out(stream.Signature(8))

    def elaborate(self, platform):
        m = Module()
        m.submodules.block = block = Memory(shape=8, depth=COBS_BLOCK, init=[])
        wr = block.write_port()
        rd = block.read_port(domain="comb")

        count = Signal(range(COBS_BLOCK + 1))  # bytes collected in the block
        sent = Signal(range(COBS_BLOCK + 1))  # bytes of the block sent so far
        ending = Signal()  # the block holds (or was closed by) the frame's last byte
        empty_block_after = Signal()  # the frame's last byte was a zero

        m.d.comb += [wr.addr.eq(count), wr.data.eq(self.i.payload.data), rd.addr.eq(sent)]

        with m.FSM():
            with m.State("COLLECT"):
                m.d.comb += self.i.ready.eq(1)
                with m.If(self.i.valid):
                    last = self.i.payload.last
                    with m.If(self.i.payload.data == 0):
                        m.d.sync += [ending.eq(last), empty_block_after.eq(last)]
                        m.next = "CODE"
                    with m.Else():
                        m.d.comb += wr.en.eq(1)
                        m.d.sync += [count.eq(count + 1), ending.eq(last),
                                     empty_block_after.eq(0)]
                        with m.If(last | (count == COBS_BLOCK - 1)):
                            m.next = "CODE"
            with m.State("CODE"):
                # A full block's code is 0xFF; no zero is implied after it.
                m.d.comb += [self.o.valid.eq(1),
                             self.o.payload.eq(Mux(count == COBS_BLOCK, 0xFF, count + 1))]
                with m.If(self.o.ready):
                    m.d.sync += sent.eq(0)
                    m.next = "DATA"
            with m.State("DATA"):
                with m.If(sent == count):
                    m.d.sync += count.eq(0)
                    with m.If(empty_block_after):
                        m.next = "EMPTY_BLOCK"
                    with m.Elif(ending):
                        m.next = "DELIMITER"
                    with m.Else():
                        m.next = "COLLECT"
                with m.Else():
                    m.d.comb += [self.o.valid.eq(1), self.o.payload.eq(rd.data)]
                    with m.If(self.o.ready):
                        m.d.sync += sent.eq(sent + 1)
            with m.State("EMPTY_BLOCK"):
                m.d.comb += [self.o.valid.eq(1), self.o.payload.eq(1)]
                with m.If(self.o.ready):
                    m.d.sync += empty_block_after.eq(0)
                    m.next = "DELIMITER"
            with m.State("DELIMITER"):
                m.d.comb += [self.o.valid.eq(1), self.o.payload.eq(0)]
                with m.If(self.o.ready):
                    m.d.sync += ending.eq(0)
                    m.next = "COLLECT"
        return m
