"""Trigger stage: per-market rules the host writes, evaluated on every applied book message.

The gateware twin of host.model.trigger, whose docstring is the specification.

Pipeline, aligned with the book table's two-cycle tick:
- A: the book table accepts a tick (`fetch`): read the market's rule.
- B: the book table updates; the rule's target market is looked up in the same cycle.
- C: the applied event meets its rule and the target's best levels: sums and differences.
- D: the two products of the arbitrage test (DSP multipliers).
- E: compare, apply the edge, write the intent into the output FIFO.
The FIFO holds `fifo_depth` intents; `hold` stops the book table taking a tick unless there is
room for every intent still in flight, so no intent is ever dropped.
"""

from amaranth import Module, Mux, Signal
from amaranth.hdl import signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from hdl.book_table import Applied, Best
from hdl.book_top import MARKETS, PRICE_BITS, QTY_BITS
from hdl.counter_ports import bump, counter_ports
from hdl.layouts import OrderIntent
from host.model.counters import TRIGGER_COUNTERS
from host.model.trigger import RuleKind
from host.wire import ORDER_INTENT, OrderSide, TemplateId

IN_FLIGHT = 3   # ticks that may still write an intent when the book table accepts another


class RuleLayout(data.Struct):
    kind: unsigned(2)
    target: unsigned(8)
    threshold_bp: unsigned(16)
    buy_below: signed(PRICE_BITS)
    sell_above: signed(PRICE_BITS)
    qty: unsigned(QTY_BITS)


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
        m.submodules.fifo = fifo = SyncFIFO(width=ORDER_INTENT.size * 8, depth=self.fifo_depth)
        m.d.comb += [
            self.o.valid.eq(fifo.r_rdy),
            self.o.payload.eq(fifo.r_data),
            fifo.r_en.eq(self.o.ready),
            self.hold.eq(fifo.level > self.fifo_depth - IN_FLIGHT),
        ]
        time_q16 = Signal(80)
        m.d.sync += time_q16.eq(time_q16 + self.ns_step_q16)

        # B: the rule is out of the RAM; look up its target.
        m.d.comb += self.lookup_market.eq(read.data.target)
        rule = Signal(RuleLayout)
        m.d.sync += rule.eq(read.data)

        # C: sums and differences.
        a, s = self.applied.payload, self.lookup
        arb = rule.kind == RuleKind.ARBITRAGE
        c = {
            "eval": Signal(), "arb": Signal(), "market": Signal(8), "rpt_seq": Signal(32),
            "traded": Signal(8), "buy_price": Signal(signed(PRICE_BITS)),
            "sell_price": Signal(signed(PRICE_BITS)), "qty": Signal(QTY_BITS),
            "limit_buy": Signal(), "limit_sell": Signal(), "all_valid": Signal(),
            "diff": Signal(signed(PRICE_BITS + 2)), "sum_s": Signal(signed(PRICE_BITS + 1)),
            "thr": Signal(16),
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
            c["diff"].eq((a.bid_price - s.bid_price) + (a.ask_price - s.ask_price)),
            c["sum_s"].eq(s.bid_price + s.ask_price),
            c["thr"].eq(rule.threshold_bp),
        ]
        bump(m, self, "evaluations", evaluate)

        # D: products.
        d = {name: Signal.like(sig, name=f"d_{name}") for name, sig in c.items()
             if name not in ("diff", "sum_s", "thr")}
        move = Signal(signed(PRICE_BITS + 2 + 14))
        bar = Signal(signed(PRICE_BITS + 1 + 17))
        positive = Signal()
        m.d.sync += [d[name].eq(c[name]) for name in d]
        m.d.sync += [
            move.eq(c["diff"] * 10000),
            bar.eq(c["sum_s"] * c["thr"]),
            positive.eq(c["sum_s"] > 0),
        ]

        # E: decide, apply the edge, emit.
        arb_ok = d["all_valid"] & positive
        buy = Mux(d["arb"], arb_ok & (move >= bar), d["limit_buy"])
        sell = Mux(d["arb"], arb_ok & (-move >= bar), d["limit_sell"])
        was_buy, was_sell = Signal(MARKETS), Signal(MARKETS)
        wb = was_buy.bit_select(d["market"], 1)
        ws = was_sell.bit_select(d["market"], 1)
        fire_buy = d["eval"] & buy & ~wb
        fire_sell = d["eval"] & sell & ~ws & ~fire_buy
        fire = fire_buy | fire_sell
        with m.If(d["eval"]):
            m.d.sync += [wb.eq(buy), ws.eq(sell)]
        with m.If(self.rule_write):
            m.d.sync += [was_buy.bit_select(self.rule_index, 1).eq(0),
                         was_sell.bit_select(self.rule_index, 1).eq(0)]
        issued = Signal(64)
        intent = Signal(OrderIntent)
        m.d.comb += [
            intent.length.eq(ORDER_INTENT.size),
            intent.template_id.eq(TemplateId.ORDER_INTENT),
            intent.market_id.eq(d["traded"]),
            intent.side.eq(Mux(fire_buy, OrderSide.BUY, OrderSide.SELL)),
            intent.rule_id.eq(d["market"]),
            intent.tick_seq.eq(d["rpt_seq"]),
            intent.price.eq(Mux(fire_buy, d["buy_price"], d["sell_price"])),
            intent.qty.eq(d["qty"]),
            intent.client_order_id.eq(self.client_order_id_base + issued),
            intent.trigger_time.eq(time_q16[16:]),
            fifo.w_data.eq(intent),
            fifo.w_en.eq(fire),
        ]
        with m.If(fire):
            m.d.sync += issued.eq(issued + 1)
        bump(m, self, "intents", fire)
        return m
