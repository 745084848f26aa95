"""Per-market net positions from the fills the host reports, and whether any is over its limit.

A fill strobed in cycle s is read-modified-written over cycles s+1 and s+2 (a fill to the same
market in the next cycle takes the new value by forwarding), and its verdict (`over`) is
valid in cycle s+3: the fill's model time in hdl/kill_switch.py.

Each entry carries the reset generation it was written in; an entry from before the last reset
reads as position 0, not over. So a reset empties the table at once, with no sweep.
"""

from amaranth import Module, Mux, ResetSignal, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from hdl.book_top import MARKETS

GEN_BITS = 16

PositionEntry = data.StructLayout({
    "position": signed(64),
    "over": 1,
    "gen": GEN_BITS,
})


class PositionTable(wiring.Component):
    """`fill` strobes a fill of `qty` lots in `market` (`buy`: adds, else subtracts).

    `max_position` must hold the limit of the fill's model time one cycle early (in cycle
    s+2). `over` pulses in cycle s+3 when the fill left its market beyond +-max_position;
    `any_over` says whether any market was left over its limit by its latest fill.
    """

    fill: In(1)
    market: In(8)
    buy: In(1)
    qty: In(32)
    max_position: In(32)

    over: Out(1)
    any_over: Out(1)

    def elaborate(self, platform):
        m = Module()
        m.submodules.table = table = Memory(shape=PositionEntry, depth=MARKETS, init=[])
        read = table.read_port(domain="comb")
        write = table.write_port()

        rst = ResetSignal()
        rst_prev = Signal(reset_less=True)
        gen = Signal(GEN_BITS, reset_less=True, init=1)
        m.d.sync += [rst_prev.eq(rst), gen.eq(gen + (rst & ~rst_prev))]

        # s+1: read, forward, add.
        f1_valid = Signal()
        f1_market = Signal(8)
        f1_delta = Signal(signed(33))
        m.d.sync += [
            f1_valid.eq(self.fill),
            f1_market.eq(self.market),
            f1_delta.eq(Mux(self.buy, self.qty, -self.qty)),
        ]
        f2_valid = Signal()
        f2_market = Signal(8)
        f2_position = Signal(signed(64))
        f2_old_over = Signal()
        f2_over = Signal()  # combinational, in s+2

        m.d.comb += read.addr.eq(f1_market)
        current = read.data.gen == gen
        forward = f2_valid & (f2_market == f1_market)
        old_position = Mux(forward, f2_position, Mux(current, read.data.position, 0))
        old_over = Mux(forward, f2_over, current & read.data.over)
        m.d.sync += [
            f2_valid.eq(f1_valid),
            f2_market.eq(f1_market),
            f2_position.eq(old_position + f1_delta),
            f2_old_over.eq(old_over),
        ]

        # s+2: compare with the limit, write back.
        limit = self.max_position
        m.d.comb += f2_over.eq((f2_position > limit) | (f2_position + limit < 0))
        entry = Signal(PositionEntry)
        m.d.comb += [
            entry.position.eq(f2_position),
            entry.over.eq(f2_over),
            entry.gen.eq(gen),
            write.addr.eq(f2_market),
            write.data.eq(entry),
            write.en.eq(f2_valid),
        ]
        f3_valid = Signal()
        f3_over = Signal()
        f3_old_over = Signal()
        m.d.sync += [f3_valid.eq(f2_valid), f3_over.eq(f2_over), f3_old_over.eq(f2_old_over)]

        # s+3: the verdict, and the count of markets over their limit.
        count = Signal(range(MARKETS + 1))
        with m.If(f3_valid & f3_over & ~f3_old_over):
            m.d.sync += count.eq(count + 1)
        with m.Elif(f3_valid & ~f3_over & f3_old_over):
            m.d.sync += count.eq(count - 1)
        m.d.comb += [
            self.over.eq(f3_valid & f3_over),
            self.any_over.eq(count != 0),
        ]
        return m
