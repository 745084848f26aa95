"""Top-of-book table for 256 markets in block RAM, tracked to a bounded depth.

The gateware twin of host.model.top_of_book, whose docstring is the specification.

A tick goes through three cycles: in cycle A it is accepted and the market's bid, ask and
sequence words are read; in cycle B the block RAMs' outputs are registered (an ECP5 block RAM
takes over 4 ns from clock to data: nothing else fits behind it in a 156.25 MHz cycle); in
cycle C the new words are computed and written back, and the results are registered for the
trigger (`applied`); `top` follows a cycle later, once cycle D has compared the old and new
best levels from registers. The table accepts a tick every other cycle, so the only write a
tick's read can miss is the one of its own cycle A (the previous tick's cycle C): that write is
forwarded. The parser cannot produce ticks faster than that at either width (the smallest
tick message is two 8-byte beats), so the table never slows the wire.

`fetch` announces the market accepted in cycle A so the trigger can start its rule read in
parallel. `lookup` reads another market's best levels: the market given in a tick's cycle B,
the levels registered at the end of its cycle C. No write happens in a cycle B, so the read
sees every earlier tick; it does not see the write of the same tick's cycle C (the trigger
uses the tick's own results when the market is its own).
"""

from amaranth import Module, Mux, Signal
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

LATENCY = 3  # cycles from accepting a tick to `applied`; `top` is one more
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
    """A market's best levels as the trigger's lookup sees them (`status` is the market's
    TradingStatus, compared by the trigger: nothing follows the RAM in the cycle it is read)."""

    status: unsigned(2)
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
        # No read needs the write of its own cycle (see above): the ports are not transparent.
        reads = {name: mem.read_port() for name, mem in
                 (("bids", bids), ("asks", asks), ("states", states))}
        looks = {name: mem.read_port() for name, mem in
                 (("bids", bids), ("asks", asks), ("states", states))}
        layouts = {"bids": side_layout, "asks": side_layout, "states": MarketState}

        busy = Signal()          # a tick was accepted in the previous cycle
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
        # The lookup's words, registered straight off the RAM.
        m.d.sync += [
            self.lookup.status.eq(looks["states"].data.status),
            self.lookup.bid_valid.eq(looks["bids"].data[0].valid),
            self.lookup.bid_price.eq(looks["bids"].data[0].price),
            self.lookup.ask_valid.eq(looks["asks"].data[0].valid),
            self.lookup.ask_price.eq(looks["asks"].data[0].price),
        ]
        m.d.sync += busy.eq(accept)

        # Cycle B: the tick moves on, decoded into flags; the RAM words are registered.
        b_tick, tick = Signal(Tick), Signal(Tick)
        b_valid, busy_c = Signal(), Signal()
        with m.If(accept):
            m.d.sync += b_tick.eq(self.i.payload)
        m.d.sync += [b_valid.eq(accept), busy_c.eq(b_valid), tick.eq(b_tick)]
        flag_names = ("is_status", "is_book", "is_bbo", "is_bid", "in_depth", "act_new",
                      "act_change", "act_delete", "bid_quoted", "ask_quoted")
        f = {name: Signal(name=name) for name in flag_names}
        below = [Signal(name=f"level_above_{j}") for j in range(depth)]  # j < level
        at = [Signal(name=f"level_is_{j}") for j in range(depth)]
        m.d.sync += [
            f["is_status"].eq(b_tick.kind == TickKind.STATUS),
            f["is_book"].eq(b_tick.kind == TickKind.BOOK),
            f["is_bbo"].eq(b_tick.kind == TickKind.BBO),
            f["is_bid"].eq(b_tick.side == Side.BID),
            f["in_depth"].eq(b_tick.level < depth),
            f["act_new"].eq(b_tick.action == BookAction.NEW),
            f["act_change"].eq(b_tick.action == BookAction.CHANGE),
            f["act_delete"].eq(b_tick.action == BookAction.DELETE),
            f["bid_quoted"].eq(b_tick.qty0 != 0),
            f["ask_quoted"].eq(b_tick.qty1 != 0),
            *(below[j].eq(j < b_tick.level) for j in range(depth)),
            *(at[j].eq(j == b_tick.level) for j in range(depth)),
        ]
        got = {name: Signal(layouts[name], name=f"{name}_read") for name in reads}
        m.d.sync += [got[name].eq(port.data) for name, port in reads.items()]

        # Forwarding: the write of a cycle C in which a tick of the same market is accepted.
        written = {name: Signal(layouts[name], name=f"{name}_written") for name in reads}
        wrote = {name: Signal(name=f"{name}_wrote") for name in reads}  # ... and it wrote
        hit_b = Signal()
        hit = {name: Signal(name=f"{name}_hit") for name in reads}
        m.d.sync += hit_b.eq(accept & busy_c & (self.i.payload.market == tick.market))
        m.d.sync += [hit[name].eq(hit_b & wrote[name]) for name in reads]
        old = {name: Signal(layouts[name], name=f"{name}_old") for name in reads}
        m.d.comb += [old[name].eq(Mux(hit[name], written[name], got[name])) for name in reads]

        # Cycle C: sequencing.
        state = old["states"]
        old_bids, old_asks = old["bids"], old["asks"]
        is_status, is_book, is_bbo, is_bid = f["is_status"], f["is_book"], f["is_bbo"], f["is_bid"]
        new_state = Signal(MarketState)
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

        # Cycle C: the level operation on one side, or a snapshot of both. The words are
        # computed from early flags; whether they apply (`in_sync`, late) only drives the
        # RAMs' write enables and the slot-0 results.
        old_side = Signal(side_layout)
        m.d.comb += old_side.eq(Mux(is_bid, old_bids, old_asks))
        level_op = is_book & in_sync & f["in_depth"]
        entry = Signal(Slot)
        m.d.comb += [entry.valid.eq(1), entry.price.eq(tick.price0), entry.qty.eq(tick.qty0)]
        new_side = Signal(side_layout)
        empty = Signal(Slot)
        for j in range(depth):
            above = old_side[j - 1] if j > 0 else empty
            under = old_side[j + 1] if j + 1 < depth else empty
            with m.If(f["act_new"]):
                m.d.comb += new_side[j].eq(Mux(below[j], old_side[j], Mux(at[j], entry, above)))
            with m.Elif(f["act_change"]):
                m.d.comb += new_side[j].eq(Mux(at[j], entry, old_side[j]))
            with m.Else():
                m.d.comb += new_side[j].eq(Mux(below[j], old_side[j], under))
        snap_bid, snap_ask = Signal(side_layout), Signal(side_layout)
        m.d.comb += [
            snap_bid[0].valid.eq(f["bid_quoted"]),
            snap_bid[0].price.eq(Mux(f["bid_quoted"], tick.price0, 0)),
            snap_bid[0].qty.eq(tick.qty0),
            snap_ask[0].valid.eq(f["ask_quoted"]),
            snap_ask[0].price.eq(Mux(f["ask_quoted"], tick.price1, 0)),
            snap_ask[0].qty.eq(tick.qty1),
        ]
        words = {"bids": Signal(side_layout, name="bids_word"),
                 "asks": Signal(side_layout, name="asks_word"), "states": new_state}
        m.d.comb += [words["bids"].eq(Mux(is_bbo, snap_bid, new_side)),
                     words["asks"].eq(Mux(is_bbo, snap_ask, new_side))]
        write = {"bids": busy_c & (is_bbo | (level_op & is_bid)),
                 "asks": busy_c & (is_bbo | (level_op & ~is_bid)), "states": busy_c}
        for name, port in writes.items():
            m.d.comb += [port.addr.eq(tick.market), port.data.eq(words[name]),
                         port.en.eq(write[name])]
            with m.If(busy_c):
                m.d.sync += [written[name].eq(words[name]), wrote[name].eq(write[name])]
        nb0 = Mux(write["bids"], words["bids"][0].as_value(), old_bids[0].as_value())
        na0 = Mux(write["asks"], words["asks"][0].as_value(), old_asks[0].as_value())
        nb, na = Signal(Slot), Signal(Slot)
        m.d.comb += [nb.eq(nb0), na.eq(na0)]

        applied = busy_c & (is_bbo | level_op)
        m.d.sync += [
            self.applied.valid.eq(applied),
            self.applied.payload.market.eq(tick.market),
            self.applied.payload.rpt_seq.eq(tick.rpt_seq),
            self.applied.payload.trading.eq(new_state.status == TradingStatus.TRADING),
            self.applied.payload.bid_valid.eq(nb.valid),
            self.applied.payload.bid_price.eq(nb.price),
            self.applied.payload.ask_valid.eq(na.valid),
            self.applied.payload.ask_price.eq(na.price),
        ]
        # Cycle D: whether the top changed is judged from registers, a cycle after `applied`.
        d_applied, d_market = Signal(), Signal(8)
        d_old, d_new = Signal(data.ArrayLayout(Slot, 2)), Signal(data.ArrayLayout(Slot, 2))
        m.d.sync += [
            d_applied.eq(applied), d_market.eq(tick.market),
            d_old[0].eq(old_bids[0]), d_old[1].eq(old_asks[0]),
            d_new[0].eq(nb), d_new[1].eq(na),
        ]
        m.d.sync += [
            self.top.valid.eq(d_applied & (d_old.as_value() != d_new.as_value())),
            self.top.payload.market.eq(d_market),
            self.top.payload.bid_valid.eq(d_new[0].valid),
            self.top.payload.bid_price.eq(d_new[0].price),
            self.top.payload.bid_qty.eq(d_new[0].qty),
            self.top.payload.ask_valid.eq(d_new[1].valid),
            self.top.payload.ask_price.eq(d_new[1].price),
            self.top.payload.ask_qty.eq(d_new[1].qty),
        ]
        bump(m, self, "market_gaps", busy_c & gap)
        bump(m, self, "stale_drops", busy_c & stale_drop)
        bump(m, self, "beyond_depth", busy_c & is_book & in_sync & ~f["in_depth"])
        bump(m, self, "depth_exhausted", busy_c & level_op & f["act_delete"]
             & old_side[depth - 1].valid)
        return m
