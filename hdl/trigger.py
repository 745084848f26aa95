"""Trigger stage: per-market rules the host writes, evaluated on every applied book message.

The gateware twin of host.model.trigger, whose docstring is the specification.

Pipeline, aligned with the book table's three-cycle tick (hdl/book_table.py):
- A: the book table accepts a tick (`fetch`): read the market's rule from block RAM, and its
  target from a copy in LUT RAM (read at once, so the lookup can start from a register).
- B: the rule is registered; the target market is looked up in the book.
- C: the book table updates; the target's best levels are registered.
- D: the applied event meets its rule and the target's best levels: the arbitrage test's
  sums go into its DSPs' operand registers (a rule against its own market is decided from
  registers: there is no move).
- E: the products of the arbitrage test (hdl/arbitrage_sides.py: DSP multipliers whose
  operand registers stand for D's); the market's edge bits are read (their group of 16 in D).
- F: the arbitrage test's signs, apply the edge, write the intent into the output FIFO.
- G: write the edge bits.
The FIFO holds `fifo_depth` intents; `hold` stops the book table taking a tick unless there is
room for every intent still in flight, so no intent is ever dropped.
"""

from amaranth import Module, Mux, Signal
from amaranth.hdl import signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from hdl.arbitrage_sides import OPERAND_BITS, ArbitrageSides, signed_sum
from hdl.book_table import Applied, Best
from hdl.book_top import MARKETS, PRICE_BITS, QTY_BITS
from hdl.counter_ports import bump, counter_ports
from hdl.layouts import OrderIntent
from host.model.counters import TRIGGER_COUNTERS
from host.model.trigger import RuleKind
from host.wire import ORDER_INTENT, OrderSide, TemplateId, TradingStatus

# Ticks that may still write an intent when the book table accepts another: the new one and
# two older ones (a tick writes in its cycle F, five cycles after A, and ticks are two apart).
IN_FLIGHT = 3
QUEUE_BANKS = 4

# What the intent FIFO and its head keep of an intent: the fields that vary, in the widths the
# trigger makes them. The rest are constants, put back on `o`; that is 143 of the intent's 384
# bits that are neither stored nor carried to the kill switch's multiplexer.
Queued = data.StructLayout({
    "market": 8, "sell": 1, "rule_id": 8, "tick_seq": 32, "price": signed(PRICE_BITS),
    "qty": unsigned(QTY_BITS), "client_order_id": 64, "trigger_time": 64,
})
QUEUED_BITS = Queued.size


class RuleLayout(data.Struct):
    kind: unsigned(2)
    target: unsigned(8)
    threshold_bp: unsigned(16)
    buy_below: signed(PRICE_BITS)
    sell_above: signed(PRICE_BITS)
    qty: unsigned(QTY_BITS)


_Target = data.StructLayout({"trading": 1, "bid_valid": 1, "bid_price": signed(PRICE_BITS),
                             "ask_valid": 1, "ask_price": signed(PRICE_BITS)})


class Trigger(wiring.Component):
    def __init__(self, clock_hz: float = 156.25e6, fifo_depth: int = 8):
        if fifo_depth <= IN_FLIGHT:
            raise ValueError(f"the intent FIFO needs more than {IN_FLIGHT} entries")
        self.fifo_depth = fifo_depth
        self.ns_step_q16 = round(1e9 / clock_hz * 65536)
        super().__init__({
            "applied": In(stream.Signature(Applied, always_ready=True)),
            "fetch_valid": In(1),
            "fetch_market": In(8),
            "lookup_market": Out(8),
            "lookup": In(Best),
            "hold": Out(1),
            "o": Out(stream.Signature(OrderIntent)),
            "next_market": Out(8),
            "rule_write": In(1),
            "rule_index": In(8),
            "rule": In(RuleLayout),
            "client_order_id_base": In(64),
            **counter_ports(TRIGGER_COUNTERS),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.rules = rules = Memory(shape=RuleLayout, depth=MARKETS, init=[])
        write = rules.write_port()
        read = rules.read_port(transparent_for=(write,))
        m.d.comb += [
            write.addr.eq(self.rule_index), write.data.eq(self.rule), write.en.eq(self.rule_write),
            read.addr.eq(self.fetch_market), read.en.eq(self.fetch_valid),
        ]
        # The intent FIFO: LUT RAM with twice the slots it may hold, written at the write
        # pointer in every cycle, so that the late `fire` only moves the pointer: the slot
        # written is never one that holds an intent.
        slots = 1 << (2 * self.fifo_depth - 1).bit_length()
        level = Signal(range(self.fifo_depth + 1))
        push = Signal()
        # `level != 0` in a flip-flop of its own: the head's load enable (~valid | ready)
        # drives the whole head, so it starts from this and `o.ready` alone.
        nonempty = Signal()
        pop = nonempty & self.o.ready
        # It is split in banks, each with its own copy of the pointers, so that no pointer
        # bit drives the address of every LUT-RAM cell of the intent.
        q_write_data, q_read_data = Signal(QUEUED_BITS), Signal(QUEUED_BITS)
        bank_bits = -(-QUEUED_BITS // QUEUE_BANKS)
        for bank in range(QUEUE_BANKS):
            bits = slice(bank * bank_bits, min(QUEUED_BITS, (bank + 1) * bank_bits))
            queue = Memory(shape=len(q_write_data[bits]), depth=slots, init=[])
            m.submodules[f"queue{bank}"] = queue
            q_write, q_read = queue.write_port(), queue.read_port(domain="comb")
            w_ptr = Signal(range(slots), name=f"w_ptr{bank}")
            r_next = Signal(range(slots), init=1, name=f"r_next{bank}")  # the head's + 1
            m.d.comb += [
                q_write.addr.eq(w_ptr), q_write.en.eq(1), q_write.data.eq(q_write_data[bits]),
                q_read.addr.eq(r_next), q_read_data[bits].eq(q_read.data),
            ]
            # The late `push` only picks between values made without it.
            m.d.sync += [w_ptr.eq(Mux(push, w_ptr + 1, w_ptr)), r_next.eq(r_next + pop)]
        # The head is kept in registers, so that what reads `o.payload` (the kill switch's
        # multipliers) starts from a flip-flop rather than a LUT-RAM read. It loads the slot
        # after it on a pop (the slot being written, when that is the one), or, while empty,
        # the slot being written.
        head = Signal(Queued)
        second = Mux(level == 1, q_write_data, q_read_data)
        out = self.o.payload
        m.d.comb += [
            out.length.eq(ORDER_INTENT.size),
            out.template_id.eq(TemplateId.ORDER_INTENT),
            out.market_id.eq(head.market),
            out.side.eq(Mux(head.sell, OrderSide.SELL, OrderSide.BUY)),
            out.rule_id.eq(head.rule_id),
            out.tick_seq.eq(head.tick_seq),
            out.price.eq(head.price),
            out.qty.eq(head.qty),
            out.client_order_id.eq(head.client_order_id),
            out.trigger_time.eq(head.trigger_time),
        ]
        m.d.comb += [
            self.o.valid.eq(nonempty),
            self.hold.eq(level > self.fifo_depth - IN_FLIGHT),
        ]
        m.d.sync += [
            level.eq(Mux(push, level + 1 - pop, level - pop)),
            nonempty.eq(push | ((level - pop) != 0)),
            head.eq(Mux(pop, second, Mux(self.o.valid, head, q_write_data))),
        ]
        # The market of the intent that follows the head (or of the first, when empty), for
        # the kill switch to read its references a cycle early: what `head` loads on a pop.
        after = Mux(level <= 1, q_write_data, q_read_data)
        m.d.comb += self.next_market.eq(Queued(after).market)

        time_q16 = Signal(80)
        m.d.sync += time_q16.eq(time_q16 + self.ns_step_q16)

        # A: the target from the LUT RAM copy, with the rule written in this cycle forwarded
        # (the block RAM's read port is transparent to it).
        # LUT RAM, asked for by name: Yosys would fold target_b into a block RAM's read
        # register, whose slow clock-to-output would then start the book's lookup.
        lut_ram = {"ram_style": "distributed"}
        m.submodules.targets = targets = Memory(shape=8, depth=MARKETS, init=[], attrs=lut_ram)
        t_write = targets.write_port()
        t_read = targets.read_port(domain="comb")
        m.d.comb += [
            t_write.addr.eq(self.rule_index), t_write.data.eq(self.rule.target),
            t_write.en.eq(self.rule_write), t_read.addr.eq(self.fetch_market),
        ]
        # Whether the target is the market itself, kept beside it (compared as the rule is
        # written, so that the read is not followed by a compare). All targets start at 0.
        m.submodules.owns = owns = Memory(shape=1, depth=MARKETS, init=[1], attrs=lut_ram)
        o_write = owns.write_port()
        o_read = owns.read_port(domain="comb")
        own_written = self.rule.target == self.rule_index
        m.d.comb += [
            o_write.addr.eq(self.rule_index), o_write.data.eq(own_written),
            o_write.en.eq(self.rule_write), o_read.addr.eq(self.fetch_market),
        ]
        written_now = self.rule_write & (self.rule_index == self.fetch_market)
        target_a = Mux(written_now, self.rule.target, t_read.data)
        target_b, own_b, own = Signal(8), Signal(), Signal()
        with m.If(self.fetch_valid):
            m.d.sync += [target_b.eq(target_a),
                         own_b.eq(Mux(written_now, own_written, o_read.data))]

        # B: the rule is out of the RAM; look up its target.
        m.d.comb += self.lookup_market.eq(target_b)
        rule = Signal(RuleLayout)
        m.d.sync += [rule.eq(read.data), own.eq(own_b)]

        # D: against the target's levels (the tick's own, if the target is the tick's market:
        # the lookup does not see the tick's own write).
        a = self.applied.payload
        s = Signal(_Target)
        m.d.comb += [
            s.trading.eq(Mux(own, a.trading, self.lookup.status == TradingStatus.TRADING)),
            s.bid_valid.eq(Mux(own, a.bid_valid, self.lookup.bid_valid)),
            s.bid_price.eq(Mux(own, a.bid_price, self.lookup.bid_price)),
            s.ask_valid.eq(Mux(own, a.ask_valid, self.lookup.ask_valid)),
            s.ask_price.eq(Mux(own, a.ask_price, self.lookup.ask_price)),
        ]
        arb = rule.kind == RuleKind.ARBITRAGE
        c = {
            "eval": Signal(), "arb": Signal(), "market": Signal(8), "rpt_seq": Signal(32),
            "traded": Signal(8), "buy_price": Signal(signed(PRICE_BITS)),
            "sell_price": Signal(signed(PRICE_BITS)), "qty": Signal(QTY_BITS),
            "limit_buy": Signal(), "limit_sell": Signal(), "all_valid": Signal(),
            "own": Signal(), "own_holds": Signal(),
        }
        evaluate = self.applied.valid & (rule.kind != RuleKind.NONE)
        m.d.sync += [
            c["eval"].eq(evaluate),
            c["arb"].eq(arb),
            c["market"].eq(a.market),
            c["rpt_seq"].eq(a.rpt_seq),
            c["traded"].eq(Mux(arb, rule.target, a.market)),
            c["buy_price"].eq(Mux(arb, s.ask_price, a.ask_price)),
            c["sell_price"].eq(Mux(arb, s.bid_price, a.bid_price)),
            c["qty"].eq(rule.qty),
            c["limit_buy"].eq(a.trading & a.ask_valid & (a.ask_price <= rule.buy_below)),
            c["limit_sell"].eq(a.trading & a.bid_valid & (a.bid_price >= rule.sell_above)),
            c["all_valid"].eq(a.trading & s.trading & a.bid_valid & a.ask_valid
                              & s.bid_valid & s.ask_valid),
            # A market against itself: no move, so both sides hold when the bar is zero.
            c["own"].eq(own),
            c["own_holds"].eq((rule.threshold_bp == 0)
                              & signed_sum([], [a.bid_price, a.ask_price], OPERAND_BITS)[-1]),
        ]
        # The arbitrage test's operands go straight into its multipliers' own registers, from
        # the lookup's levels alone (`own` is applied after it, from registers).
        m.submodules.sides = sides = ArbitrageSides()
        m.d.comb += [
            sides.p_bid.eq(a.bid_price), sides.p_ask.eq(a.ask_price),
            sides.s_bid.eq(self.lookup.bid_price), sides.s_ask.eq(self.lookup.ask_price),
            sides.threshold_bp.eq(rule.threshold_bp),
        ]
        bump(m, self, "evaluations", evaluate)

        # E: the products, in halves (in `sides`).
        d = {name: Signal.like(sig, name=f"d_{name}") for name, sig in c.items()}
        m.d.sync += [d[name].eq(c[name]) for name in d]
        # Whether a firing rule buys, decided here so that F writes the intent's side and
        # price from registers and only `fire` waits for the comparison. A buy needs
        # move >= bar >= 0 and a sell move <= 0, so the move's sign decides; at a zero move
        # (threshold 0: both hold), as with a limit rule whose two conditions hold, it buys
        # unless the buy edge is set, and a set buy edge leaves only a sell to fire.
        buys = Signal()
        m.d.sync += buys.eq(Mux(c["arb"], c["own"] | ~sides.move_negative, c["limit_buy"]))
        # F's decision is `fixed_x | (use_sides & sides.x)`, its terms made here.
        use_sides, fixed_buy, fixed_sell = Signal(), Signal(), Signal()
        own_arb = c["all_valid"] & c["own"] & c["own_holds"]
        m.d.sync += [
            use_sides.eq(c["arb"] & c["all_valid"] & ~c["own"]),
            fixed_buy.eq(Mux(c["arb"], own_arb, c["limit_buy"])),
            fixed_sell.eq(Mux(c["arb"], own_arb, c["limit_sell"])),
        ]

        # The edge bits (was the rule's buy or sell condition true at its last evaluation) are
        # written in G, so F's late decision does not drive 256 flip-flops, and read in two
        # steps from a copy of the market carried from A, so no market bit fans out to all
        # 512: in D the group of 16 holding the market's bit, in E the bit. A write in D or E
        # (G's, or a rule write, which clears the edge and wins) is forwarded; nothing else
        # writes them between D and E, as ticks are two cycles apart.
        was_buy, was_sell = Signal(MARKETS), Signal(MARKETS)
        g_valid, g_market, g_buy, g_sell = Signal(), Signal(8), Signal(), Signal()
        mk_b, mk_c, mk_d = Signal(8), Signal(8), Signal(8)
        m.d.sync += [mk_b.eq(self.fetch_market), mk_c.eq(mk_b), mk_d.eq(mk_c)]
        group_buy, group_sell = Signal(16), Signal(16)
        d_hit, d_buy, d_sell, d_clear = Signal(), Signal(), Signal(), Signal()
        m.d.sync += [
            group_buy.eq(was_buy.word_select(mk_d[4:], 16)),
            group_sell.eq(was_sell.word_select(mk_d[4:], 16)),
            d_hit.eq(g_valid & (g_market == mk_d)), d_buy.eq(g_buy), d_sell.eq(g_sell),
            d_clear.eq(self.rule_write & (self.rule_index == mk_d)),
        ]
        wb, ws = Signal(), Signal()
        cleared = self.rule_write & (self.rule_index == c["market"])
        pending = g_valid & (g_market == c["market"])
        read_buy = Mux(d_hit, d_buy, group_buy.bit_select(c["market"][:4], 1)) & ~d_clear
        read_sell = Mux(d_hit, d_sell, group_sell.bit_select(c["market"][:4], 1)) & ~d_clear
        wb_e = Mux(pending, g_buy, read_buy) & ~cleared
        ws_e = Mux(pending, g_sell, read_sell) & ~cleared
        m.d.sync += [wb.eq(wb_e), ws.eq(ws_e)]
        # F fires on (buy & ~wb) | (sell & ~ws), with buy = fixed_buy | (use_sides & sides.buy)
        # (and so for sell): all but the two late signs is made here.
        fire_fixed, fire_if_buy, fire_if_sell = Signal(), Signal(), Signal()
        eval_arb = c["eval"] & c["arb"] & c["all_valid"] & ~c["own"]
        m.d.sync += [
            fire_fixed.eq(c["eval"] & ((Mux(c["arb"], own_arb, c["limit_buy"]) & ~wb_e)
                                       | (Mux(c["arb"], own_arb, c["limit_sell"]) & ~ws_e))),
            fire_if_buy.eq(eval_arb & ~wb_e),
            fire_if_sell.eq(eval_arb & ~ws_e),
        ]

        # F: decide, emit, and pass the new edge to G (unless a rule write clears it now).
        buy = fixed_buy | (use_sides & sides.buy)
        sell = fixed_sell | (use_sides & sides.sell)
        fire = fire_fixed | (fire_if_buy & sides.buy) | (fire_if_sell & sides.sell)
        m.d.sync += [
            g_valid.eq(d["eval"] & ~(self.rule_write & (self.rule_index == d["market"]))),
            g_market.eq(d["market"]),
            g_buy.eq(buy),
            g_sell.eq(sell),
        ]
        # G: the edge bits, then a rule write's clear (it wins in the same cycle).
        with m.If(g_valid):
            m.d.sync += [was_buy.bit_select(g_market, 1).eq(g_buy),
                         was_sell.bit_select(g_market, 1).eq(g_sell)]
        with m.If(self.rule_write):
            m.d.sync += [was_buy.bit_select(self.rule_index, 1).eq(0),
                         was_sell.bit_select(self.rule_index, 1).eq(0)]
        issued = Signal(64)
        intent = Signal(Queued)
        m.d.comb += [
            intent.market.eq(d["traded"]),
            intent.sell.eq(~(buys & ~wb)),
            intent.rule_id.eq(d["market"]),
            intent.tick_seq.eq(d["rpt_seq"]),
            intent.price.eq(Mux(buys & ~wb, d["buy_price"], d["sell_price"])),
            intent.qty.eq(d["qty"]),
            intent.client_order_id.eq(self.client_order_id_base + issued),
            intent.trigger_time.eq(time_q16[16:]),
            q_write_data.eq(intent),
            push.eq(fire),
        ]
        # Counted a cycle later (the next intent is two cycles away at least).
        fired = Signal()
        m.d.sync += fired.eq(fire)
        with m.If(fired):
            m.d.sync += issued.eq(issued + 1)
        bump(m, self, "intents", fired)
        return m
