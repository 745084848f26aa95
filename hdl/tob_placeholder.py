"""PLACEHOLDER for the book stage's top-of-book read port (see TobPlaceholder)."""

from amaranth import Module
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from hdl.book_top import MARKETS, BookTop


class TobPlaceholder(wiring.Component):
    """PLACEHOLDER, to be replaced by the book stage's own read port when it is integrated.

    It keeps the last BookTop seen on `book` for each market, so the `tob_*` registers have
    something true to show in control_top: `index` selects a market, and its record appears
    on the outputs one cycle later (a synchronous memory read).
    """

    book: In(stream.Signature(BookTop, always_ready=True))
    index: In(8)
    top: Out(BookTop)

    def elaborate(self, platform):
        m = Module()
        m.submodules.tops = tops = Memory(shape=BookTop, depth=MARKETS, init=[])
        wr = tops.write_port()
        rd = tops.read_port()
        m.d.comb += [
            wr.en.eq(self.book.valid),
            wr.addr.eq(self.book.payload.market),
            wr.data.eq(self.book.payload),
            rd.addr.eq(self.index),
            self.top.eq(rd.data),
        ]
        return m
