"""Per-market net positions from the fills the host reports, and whether any is over its limit.

Fills are off the order path, so they take the cycles timing wants. A fill strobed in cycle s
is read in s+1 (block RAM), registered in s+2, added in s+3, compared and written back in s+4,
and its verdict (`over`) is valid in s+5: the fill's model time in hdl/kill_switch.py. Fills
to the same market in consecutive cycles see each other through forwarding.

Each entry carries the reset generation it was written in; an entry from before the last reset
reads as position 0, not over. So a reset empties the table at once, with no sweep.
"""

from amaranth import Module, Mux, ResetSignal, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from hdl.book_top import MARKETS

GEN_BITS = 16
LATENCY = 5  # cycles from the strobe to `over`

PositionEntry = data.StructLayout({
    "position": signed(64),
    "over": 1,
    "gen": GEN_BITS,
})

Fill = data.StructLayout({
    "valid": 1,
    "market": 8,
    "delta": signed(33),
    "position": signed(64),  # after the fill, from stage 4 on
    "over": 1,  # from stage 5 on
    "old_over": 1,  # from stage 4 on
})


class PositionTable(wiring.Component):
    """`fill` strobes a fill of `qty` lots in `market` (`buy`: adds, else subtracts).

    `max_position` must hold the limit of the fill's model time one cycle early (in cycle
    s+4). `over` pulses in cycle s+5 when the fill left its market beyond +-max_position;
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
        read = table.read_port()
        write = table.write_port()

        rst = ResetSignal()
        rst_prev = Signal(reset_less=True)
        gen = Signal(GEN_BITS, reset_less=True, init=1)
        m.d.sync += [rst_prev.eq(rst), gen.eq(gen + (rst & ~rst_prev))]

        stage = [None] + [Signal(Fill, name=f"stage{i}") for i in range(1, 7)]
        m.d.sync += [
            stage[1].valid.eq(self.fill),
            stage[1].market.eq(self.market),
            stage[1].delta.eq(Mux(self.buy, self.qty, -self.qty)),
        ]
        for i in (2, 3, 5, 6):
            m.d.sync += stage[i].eq(stage[i - 1])
        m.d.comb += read.addr.eq(stage[1].market)
        stored = Signal(PositionEntry)
        m.d.sync += stored.eq(read.data)  # s+2: nothing between the RAM and this register

        # s+2: find which fills still in flight touch the same market (they will be one
        # stage further on in s+3), so that s+3 only selects.
        hits = {i: Signal(name=f"hit{i}") for i in (4, 5, 6)}
        m.d.sync += [hits[i].eq(stage[i - 1].valid & (stage[i - 1].market == stage[2].market))
                     for i in hits]

        # s+3: the position before this fill, from the latest of the fills still in flight.
        over_now = Signal()  # stage 4's verdict, in this cycle
        current = stored.gen == gen
        old_position = Mux(current, stored.position, 0)
        old_over = current & stored.over
        for i in (6, 5, 4):  # the later the stage, the older the fill: newest applied last
            old_position = Mux(hits[i], stage[i].position, old_position)
            old_over = Mux(hits[i], over_now if i == 4 else stage[i].over, old_over)
        m.d.sync += [
            stage[4].valid.eq(stage[3].valid),
            stage[4].market.eq(stage[3].market),
            stage[4].position.eq(old_position + stage[3].delta),
            stage[4].old_over.eq(old_over),
        ]

        # s+4: compare with the limit and write back.
        limit = self.max_position
        position = stage[4].position
        m.d.comb += over_now.eq((position > limit) | (position + limit < 0))
        entry = Signal(PositionEntry)
        m.d.comb += [
            entry.position.eq(position),
            entry.over.eq(over_now),
            entry.gen.eq(gen),
            write.addr.eq(stage[4].market),
            write.data.eq(entry),
            write.en.eq(stage[4].valid),
        ]
        m.d.sync += stage[5].over.eq(over_now)

        # s+5: the verdict, and the count of markets over their limit.
        count = Signal(range(MARKETS + 1))
        f = stage[5]
        with m.If(f.valid & f.over & ~f.old_over):
            m.d.sync += count.eq(count + 1)
        with m.Elif(f.valid & ~f.over & f.old_over):
            m.d.sync += count.eq(count - 1)
        m.d.comb += [
            self.over.eq(f.valid & f.over),
            self.any_over.eq(count != 0),
        ]
        return m
