"""Top-of-book table for 256 markets in block RAM, tracked to a bounded depth.

The gateware twin of host.model.top_of_book, whose docstring is the specification.

Each tick takes two cycles: in cycle A it is accepted and the market's bid, ask and sequence
words are read; in cycle B the new words are computed and written back, and the results are
registered for the trigger and the `top` stream. The table accepts a tick every other cycle,
so a tick's read always sees the previous tick's write: no forwarding is needed. The parser
cannot produce ticks faster than that at either width (the smallest tick message is two 8-byte
beats), so the table never slows the wire.

`fetch` announces the market accepted in cycle A so the trigger can start its rule read in
parallel; `lookup` reads another market's best levels with one cycle of latency, seeing the
write of the same cycle.
"""

from amaranth import Cat, Module, Mux, Signal
from amaranth.hdl import signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from hdl.book_top import MARKETS, PRICE_BITS, QTY_BITS, BookTop
from hdl.counter_ports import bump, counter_ports
from hdl.tick import Tick
from host.model.counters import BOOK_COUNTERS
from host.model.events import TickKind
from host.wire import BookAction, Side, TradingStatus

Slot = data.StructLayout({"valid": 1, "price": signed(PRICE_BITS), "qty": unsigned(QTY_BITS)})
MarketState = data.StructLayout({"expected": 32, "in_sync": 1, "status": 2})


class Applied(data.Struct):
    """A book message that was applied: what the trigger evaluates."""

    market: unsigned(8)
    rpt_seq: unsigned(32)
    trading: unsigned(1)
    bid_valid: unsigned(1)
    bid_price: signed(PRICE_BITS)
    ask_valid: unsigned(1)
    ask_price: signed(PRICE_BITS)


class Best(data.Struct):
    """A market's best levels as the trigger's lookup sees them."""

    trading: unsigned(1)
    bid_valid: unsigned(1)
    bid_price: signed(PRICE_BITS)
    ask_valid: unsigned(1)
    ask_price: signed(PRICE_BITS)


class BookTable(wiring.Component):
    def __init__(self, depth: int = 4):
        if depth < 1:
            raise ValueError(f"depth must be at least 1, not {depth}")
        self.depth = depth
        super().__init__({
            "i": In(stream.Signature(Tick)),
            "top": Out(stream.Signature(BookTop, always_ready=True)),
            "applied": Out(stream.Signature(Applied, always_ready=True)),
            "fetch_valid": Out(1),
            "fetch_market": Out(8),
            "lookup_market": In(8),
            "lookup": Out(Best),
            "hold": In(1),     # downstream has no room for another tick's intent
            **counter_ports(BOOK_COUNTERS),
        })

    def elaborate(self, platform):
        m = Module()
        depth = self.depth
        side_layout = data.ArrayLayout(Slot, depth)
        init_state = {"expected": 1, "in_sync": 1, "status": int(TradingStatus.TRADING)}
        m.submodules.bids = bids = Memory(shape=side_layout, depth=MARKETS, init=[])
        m.submodules.asks = asks = Memory(shape=side_layout, depth=MARKETS, init=[])
        m.submodules.states = states = Memory(shape=MarketState, depth=MARKETS,
                                              init=[init_state] * MARKETS)
        writes = {name: mem.write_port() for name, mem in
                  (("bids", bids), ("asks", asks), ("states", states))}
        reads = {name: mem.read_port(transparent_for=(writes[name],)) for name, mem in
                 (("bids", bids), ("asks", asks), ("states", states))}
        looks = {name: mem.read_port(transparent_for=(writes[name],)) for name, mem in
                 (("bids", bids), ("asks", asks), ("states", states))}

        busy = Signal()          # a tick is in cycle B
        tick = Signal(Tick)
        accept = self.i.valid & self.i.ready
        m.d.comb += [
            self.i.ready.eq(~busy & ~self.hold),
            self.fetch_valid.eq(accept),
            self.fetch_market.eq(self.i.payload.market),
        ]
        for port in reads.values():
            m.d.comb += [port.addr.eq(self.i.payload.market), port.en.eq(accept)]
        for port in looks.values():
            m.d.comb += port.addr.eq(self.lookup_market)
        m.d.comb += [
            self.lookup.trading.eq(looks["states"].data.status == TradingStatus.TRADING),
            self.lookup.bid_valid.eq(looks["bids"].data[0].valid),
            self.lookup.bid_price.eq(looks["bids"].data[0].price),
            self.lookup.ask_valid.eq(looks["asks"].data[0].valid),
            self.lookup.ask_price.eq(looks["asks"].data[0].price),
        ]
        m.d.sync += busy.eq(accept)
        with m.If(accept):
            m.d.sync += tick.eq(self.i.payload)

        # Cycle B: sequencing.
        state = reads["states"].data
        new_state = Signal(MarketState)
        kind = tick.kind
        is_status, is_book, is_bbo = (kind == TickKind.STATUS, kind == TickKind.BOOK,
                                      kind == TickKind.BBO)
        gap = state.in_sync & (tick.rpt_seq != state.expected)
        in_sync = state.in_sync & ~gap
        stale_drop = ~in_sync & ~is_status & ~is_bbo
        resync = in_sync | is_bbo
        m.d.comb += [
            new_state.eq(state),
            new_state.in_sync.eq(resync),
        ]
        with m.If(resync):
            m.d.comb += new_state.expected.eq(tick.rpt_seq + 1)
        with m.If(is_status):
            m.d.comb += new_state.status.eq(tick.status)

        # Cycle B: the level operation on one side, or a snapshot of both.
        old_bids, old_asks = reads["bids"].data, reads["asks"].data
        is_bid = tick.side == Side.BID
        old_side = Signal(side_layout)
        m.d.comb += old_side.eq(Mux(is_bid, old_bids, old_asks))
        in_depth = tick.level < depth
        level_op = is_book & in_sync & in_depth
        entry = Signal(Slot)
        m.d.comb += [entry.valid.eq(1), entry.price.eq(tick.price0), entry.qty.eq(tick.qty0)]
        new_side = Signal(side_layout)
        empty = Signal(Slot)
        for j in range(depth):
            above = old_side[j - 1] if j > 0 else empty
            below = old_side[j + 1] if j + 1 < depth else empty
            with m.Switch(tick.action):
                with m.Case(BookAction.NEW):
                    m.d.comb += new_side[j].eq(Mux(j < tick.level, old_side[j],
                                                   Mux(j == tick.level, entry, above)))
                with m.Case(BookAction.CHANGE):
                    m.d.comb += new_side[j].eq(Mux(j == tick.level, entry, old_side[j]))
                with m.Default():
                    m.d.comb += new_side[j].eq(Mux(j < tick.level, old_side[j], below))
        snap_bid, snap_ask = Signal(side_layout), Signal(side_layout)
        m.d.comb += [
            snap_bid[0].valid.eq(tick.qty0 != 0),
            snap_bid[0].price.eq(Mux(tick.qty0 != 0, tick.price0, 0)),
            snap_bid[0].qty.eq(tick.qty0),
            snap_ask[0].valid.eq(tick.qty1 != 0),
            snap_ask[0].price.eq(Mux(tick.qty1 != 0, tick.price1, 0)),
            snap_ask[0].qty.eq(tick.qty1),
        ]
        new_bids = Mux(is_bbo, snap_bid, Mux(level_op & is_bid, new_side, old_bids))
        new_asks = Mux(is_bbo, snap_ask, Mux(level_op & ~is_bid, new_side, old_asks))
        nb, na = Signal(side_layout), Signal(side_layout)
        m.d.comb += [nb.eq(new_bids), na.eq(new_asks)]
        for name, value in (("bids", nb), ("asks", na), ("states", new_state)):
            port = writes[name]
            m.d.comb += [port.addr.eq(tick.market), port.data.eq(value), port.en.eq(busy)]

        applied = busy & (is_bbo | level_op)
        changed = Cat(old_bids[0], old_asks[0]) != Cat(nb[0], na[0])
        m.d.sync += [
            self.top.valid.eq(applied & changed),
            self.top.payload.market.eq(tick.market),
            self.top.payload.bid_valid.eq(nb[0].valid),
            self.top.payload.bid_price.eq(nb[0].price),
            self.top.payload.bid_qty.eq(nb[0].qty),
            self.top.payload.ask_valid.eq(na[0].valid),
            self.top.payload.ask_price.eq(na[0].price),
            self.top.payload.ask_qty.eq(na[0].qty),
            self.applied.valid.eq(applied),
            self.applied.payload.market.eq(tick.market),
            self.applied.payload.rpt_seq.eq(tick.rpt_seq),
            self.applied.payload.trading.eq(new_state.status == TradingStatus.TRADING),
            self.applied.payload.bid_valid.eq(nb[0].valid),
            self.applied.payload.bid_price.eq(nb[0].price),
            self.applied.payload.ask_valid.eq(na[0].valid),
            self.applied.payload.ask_price.eq(na[0].price),
        ]
        bump(m, self, "market_gaps", busy & gap)
        bump(m, self, "stale_drops", busy & stale_drop)
        bump(m, self, "beyond_depth", busy & is_book & in_sync & ~in_depth)
        bump(m, self, "depth_exhausted", busy & level_op & (tick.action == BookAction.DELETE)
             & old_side[depth - 1].valid)
        return m
