"""A copy of every market's top of book, kept from the book stage's `top` stream, with a
read port for the control link's `tob_*` registers."""

from amaranth import Module
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from hdl.book_top import MARKETS, BookTop


class TopShadow(wiring.Component):
    """Keeps the last BookTop seen on `book` for each market: `index` selects a market, and
    its record appears on `top` one cycle later (a synchronous memory read).

    The book table (hdl/book_table.py) publishes a BookTop whenever level 0 of either side
    of a market changes, and starts, like this copy, with every level empty. So the copy
    always equals level 0 of the book table, without a third read port on the table's wide
    level memories (each read port there is a copy of the RAM) and without touching the
    pipeline's timing. A read of a market updated in the same cycle returns the old record.
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
