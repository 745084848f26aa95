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

Cycle C is kept shallow: each slot a side can write is a one-hot AND-OR of registered
sources whose selects (the level operation and the forwarding hit together) are registered in
cycle B; the only late decision is the sequence check against the read word. The status
counters count registered strobes, one cycle after the tick's cycle C.

`fetch` announces the market accepted in cycle A so the trigger can start its rule read in
parallel. `lookup` reads another market's best levels: the market given in a tick's cycle B,
the levels registered at the end of its cycle C. No write happens in a cycle B, so the read
sees every earlier tick; it does not see the write of the same tick's cycle C (the trigger
uses the tick's own results when the market is its own).
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
        # Reads and the tick's registers run every cycle: only the cycle after an accept is
        # used, and `accept` as an enable would fan out to every bit of them.
        for port in reads.values():
            m.d.comb += port.addr.eq(self.i.payload.market)
        for port in looks.values():
            m.d.comb += port.addr.eq(self.lookup_market)
        # The lookup's words, registered straight off the RAM.
        looked = {name: looks[name].data for name in ("bids", "asks")}
        m.d.sync += [
            self.lookup.status.eq(looks["states"].data.status),
            self.lookup.bid_valid.eq(looked["bids"][0].valid),
            self.lookup.bid_price.eq(looked["bids"][0].price),
            self.lookup.ask_valid.eq(looked["asks"][0].valid),
            self.lookup.ask_price.eq(looked["asks"][0].price),
        ]
        m.d.sync += busy.eq(accept)

        # Cycle B: the tick moves on, decoded into flags; the RAM words are registered.
        b_tick, tick = Signal(Tick), Signal(Tick)
        b_valid, busy_c = Signal(), Signal()
        m.d.sync += [b_tick.eq(self.i.payload), b_valid.eq(accept), busy_c.eq(b_valid),
                     tick.eq(b_tick)]
        b_bbo = b_tick.kind == TickKind.BBO
        b_book = b_tick.kind == TickKind.BOOK
        b_bid = b_tick.side == Side.BID
        b_in_depth = b_tick.level < depth
        flags = {
            "is_status": b_tick.kind == TickKind.STATUS, "is_book": b_book, "is_bbo": b_bbo,
            "in_depth": b_in_depth, "act_delete": b_tick.action == BookAction.DELETE,
            # which side's RAM a level operation (if it applies) writes
            "book_bid": b_book & b_in_depth & b_bid, "book_ask": b_book & b_in_depth & ~b_bid,
        }
        f = {name: Signal(name=name) for name in flags}
        m.d.sync += [f[name].eq(value) for name, value in flags.items()]
        got = {name: Signal(layouts[name], name=f"{name}_read") for name in reads}
        m.d.sync += [got[name].eq(port.data) for name, port in reads.items()]

        # Forwarding: the write of a cycle C in which a tick of the same market is accepted.
        # It stays in `written` through the tick's cycles B and C (ticks come every other cycle).
        written = {name: Signal(layouts[name], name=f"{name}_written") for name in reads}
        wrote = {name: Signal(name=f"{name}_wrote") for name in reads}  # ... and it wrote
        hit_b = Signal()
        m.d.sync += hit_b.eq(accept & busy_c & (self.i.payload.market == tick.market))
        b_hit = {name: hit_b & wrote[name] for name in reads}
        hit = {name: Signal(name=f"{name}_hit") for name in reads}
        m.d.sync += [hit[name].eq(b_hit[name]) for name in reads]

        # Each slot a side can write is one of: the old slot above, at or under it (read or
        # forwarded), the tick's own entry, or empty. Which one is decided in cycle B from the
        # tick's flags and the forwarding hit, one select register per (side, slot, source):
        # a select then drives one slot's 64 bits, and cycle C is a flat AND-OR (two LUT
        # levels) instead of forwarding, operation and snapshot multiplexers in series.
        b_level = b_tick.level
        b_new = b_tick.action == BookAction.NEW
        b_change = b_tick.action == BookAction.CHANGE
        words = {}
        ins = {}
        for name, price, qty in (("bids", "price0", "qty0"), ("asks", "price1", "qty1")):
            quoted = getattr(b_tick, qty) != 0
            b_ins = Signal(Slot, name=f"{name}_ins_b")
            with m.If(b_bbo):
                m.d.comb += [b_ins.valid.eq(quoted),
                             b_ins.price.eq(Mux(quoted, getattr(b_tick, price), 0)),
                             b_ins.qty.eq(getattr(b_tick, qty))]
            with m.Else():
                m.d.comb += [b_ins.valid.eq(1), b_ins.price.eq(b_tick.price0),
                             b_ins.qty.eq(b_tick.qty0)]
            ins[name] = Signal(Slot, name=f"{name}_ins")
            m.d.sync += ins[name].eq(b_ins)
            word = Signal(side_layout, name=f"{name}_word")
            for j in range(depth):
                below, at = j < b_level, j == b_level
                keep = ~b_bbo & ((b_new & below) | (b_change & ~at)
                                 | (~b_new & ~b_change & below))
                take = Mux(b_bbo, j == 0, (b_new | b_change) & at)
                above = ~b_bbo & b_new & ~below & ~at
                under = ~b_bbo & ~b_new & ~b_change & ~below
                sources = [(take, ins[name])]
                for k, use in ((j - 1, above), (j, keep), (j + 1, under)):
                    if 0 <= k < depth:
                        sources += [(use & ~b_hit[name], got[name][k]),
                                    (use & b_hit[name], written[name][k])]
                terms = []
                for n, (b_sel, value) in enumerate(sources):
                    sel = Signal(name=f"{name}_sel_{j}_{n}")
                    m.d.sync += sel.eq(b_sel)
                    terms.append(value.as_value() & sel.replicate(len(value.as_value())))
                acc = terms[0]
                for term in terms[1:]:
                    acc = acc | term
                m.d.comb += word[j].eq(acc)
            words[name] = word

        # Cycle C: sequencing. Whether the tick is in sequence is the one late decision (a
        # 32-bit compare with the read word): everything else about it is settled in cycle B,
        # including the whole decision when the word is forwarded.
        w_state, g_state = written["states"], got["states"]
        b_w_ok = w_state.in_sync & (w_state.expected == b_tick.rpt_seq)
        w_ok, w_gap = Signal(), Signal()
        m.d.sync += [w_ok.eq(b_w_ok), w_gap.eq(w_state.in_sync & ~b_w_ok)]
        # `expected` only matters while in sync, and it is rewritten whenever that resumes.
        next_seq = Signal(32)
        m.d.sync += next_seq.eq(b_tick.rpt_seq + 1)
        # A side is written for sure (`sure`), or if the read word is in sync (`if_read`).
        sure = {name: Signal(name=f"{name}_sure") for name in ("bids", "asks")}
        if_read = {name: Signal(name=f"{name}_if_read") for name in ("bids", "asks")}
        for name in ("bids", "asks"):
            ops = flags["book_bid" if name == "bids" else "book_ask"]
            m.d.sync += [
                sure[name].eq(b_valid & (b_bbo | (ops & b_hit["states"] & b_w_ok))),
                if_read[name].eq(b_valid & ops & ~b_hit["states"]),
            ]
        g_match = g_state.expected == tick.rpt_seq
        g_ok = g_state.in_sync & g_match
        in_sync = Mux(hit["states"], w_ok, g_ok)
        gap = Mux(hit["states"], w_gap, g_state.in_sync & ~g_match)
        is_status, is_book, is_bbo = f["is_status"], f["is_book"], f["is_bbo"]
        old_status = Mux(hit["states"], w_state.status, g_state.status)
        new_state = Signal(MarketState)
        m.d.comb += [
            new_state.expected.eq(next_seq),
            new_state.in_sync.eq(in_sync | is_bbo),
            new_state.status.eq(Mux(is_status, tick.status, old_status)),
        ]
        words["states"] = new_state
        old = {name: Signal(Slot, name=f"{name}_old") for name in ("bids", "asks")}
        m.d.comb += [old[name].eq(Mux(hit[name], written[name][0], got[name][0]))
                     for name in ("bids", "asks")]
        write = {name: sure[name] | (if_read[name] & g_ok) for name in ("bids", "asks")}
        write["states"] = busy_c
        for name, port in writes.items():
            m.d.comb += [port.addr.eq(tick.market), port.en.eq(write[name]),
                         port.data.eq(words[name])]
            with m.If(busy_c):
                m.d.sync += [written[name].eq(words[name]), wrote[name].eq(write[name])]
        # Slot 0's price and validity after the tick; its quantity is chosen in cycle D.
        new = {name: Signal(Slot, name=f"{name}_new") for name in ("bids", "asks")}
        for name in ("bids", "asks"):
            m.d.comb += new[name].eq(Mux(write[name], words[name][0], old[name]))
        # a DELETE that empties a filled bottom slot
        bottom = {name: Mux(hit[name], written[name][depth - 1].valid,
                            got[name][depth - 1].valid) for name in ("bids", "asks")}
        exhausted = f["act_delete"] & ((f["book_bid"] & bottom["bids"])
                                       | (f["book_ask"] & bottom["asks"]))

        applied = write["bids"] | write["asks"]  # a snapshot writes both, a level one side
        m.d.sync += [
            self.applied.valid.eq(applied),
            self.applied.payload.market.eq(tick.market),
            self.applied.payload.rpt_seq.eq(tick.rpt_seq),
            self.applied.payload.trading.eq(new_state.status == TradingStatus.TRADING),
            self.applied.payload.bid_valid.eq(new["bids"].valid),
            self.applied.payload.bid_price.eq(new["bids"].price),
            self.applied.payload.ask_valid.eq(new["asks"].valid),
            self.applied.payload.ask_price.eq(new["asks"].price),
        ]
        # Cycle D: whether the top changed is judged from registers, a cycle after `applied`.
        d_applied, d_market = Signal(), Signal(8)
        d_old = {name: Signal(Slot, name=f"d_{name}_old") for name in ("bids", "asks")}
        d_new = {name: Signal(Slot, name=f"d_{name}_new") for name in ("bids", "asks")}
        d_write = {name: Signal(name=f"d_{name}_write") for name in ("bids", "asks")}
        d_qty = {name: Signal(QTY_BITS, name=f"d_{name}_qty") for name in ("bids", "asks")}
        m.d.sync += [d_applied.eq(applied), d_market.eq(tick.market)]
        for name in ("bids", "asks"):
            m.d.sync += [
                d_old[name].eq(old[name]), d_write[name].eq(write[name]),
                d_new[name].valid.eq(new[name].valid), d_new[name].price.eq(new[name].price),
                d_qty[name].eq(words[name][0].qty),
            ]
            m.d.comb += d_new[name].qty.eq(Mux(d_write[name], d_qty[name], d_old[name].qty))
        changed = [d_new[name].as_value() != d_old[name].as_value() for name in ("bids", "asks")]
        m.d.sync += [
            self.top.valid.eq(d_applied & Cat(*changed).any()),
            self.top.payload.market.eq(d_market),
            self.top.payload.bid_valid.eq(d_new["bids"].valid),
            self.top.payload.bid_price.eq(d_new["bids"].price),
            self.top.payload.bid_qty.eq(d_new["bids"].qty),
            self.top.payload.ask_valid.eq(d_new["asks"].valid),
            self.top.payload.ask_price.eq(d_new["asks"].price),
            self.top.payload.ask_qty.eq(d_new["asks"].qty),
        ]
        # The counters count registered strobes, one cycle later: the sequence decision is
        # late and would otherwise drive every counter bit's enable.
        strobes = {
            "market_gaps": busy_c & gap,
            "stale_drops": busy_c & ~in_sync & ~is_status & ~is_bbo,
            "beyond_depth": busy_c & is_book & in_sync & ~f["in_depth"],
            "depth_exhausted": busy_c & in_sync & exhausted,
        }
        for name, condition in strobes.items():
            strobe = Signal(name=f"{name}_strobe")
            m.d.sync += strobe.eq(condition)
            bump(m, self, name, strobe)
        return m
