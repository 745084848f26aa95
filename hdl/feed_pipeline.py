"""Feed parser, top-of-book table and trigger, wired together: UDP payloads in, intents out.

This is everything after the header filter. `top` publishes every top-of-book change (for the
kill switch's price collar and the host's mirror); `o` carries order intents.
"""

from amaranth import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hdl.beat import beat_layout
from hdl.book_table import BookTable
from hdl.book_top import BookTop
from hdl.counter_ports import counter_ports
from hdl.feed_parser import FeedParser
from hdl.layouts import OrderIntent
from hdl.trigger import RuleLayout, Trigger
from host.model.counters import BOOK_COUNTERS, PARSER_COUNTERS, TRIGGER_COUNTERS


class FeedPipeline(wiring.Component):
    def __init__(self, data_bytes: int, depth: int = 4, clock_hz: float = 156.25e6):
        self.data_bytes, self.depth, self.clock_hz = data_bytes, depth, clock_hz
        super().__init__({
            "i": In(stream.Signature(beat_layout(data_bytes))),
            "o": Out(stream.Signature(OrderIntent)),
            "o_next_market": Out(8),
            "top": Out(stream.Signature(BookTop, always_ready=True)),
            "rule_write": In(1),
            "rule_index": In(8),
            "rule": In(RuleLayout),
            "client_order_id_base": In(64),
            **counter_ports(PARSER_COUNTERS + BOOK_COUNTERS + TRIGGER_COUNTERS),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.parser = parser = FeedParser(self.data_bytes)
        m.submodules.book = book = BookTable(self.depth)
        m.submodules.trigger = trigger = Trigger(self.clock_hz)
        wiring.connect(m, wiring.flipped(self.i), parser.i)
        wiring.connect(m, parser.o, book.i)
        wiring.connect(m, book.applied, trigger.applied)
        wiring.connect(m, trigger.o, wiring.flipped(self.o))
        m.d.comb += [
            self.top.valid.eq(book.top.valid),
            self.top.payload.eq(book.top.payload),
            self.o_next_market.eq(trigger.next_market),
            trigger.fetch_valid.eq(book.fetch_valid),
            trigger.fetch_market.eq(book.fetch_market),
            book.lookup_market.eq(trigger.lookup_market),
            trigger.lookup.eq(book.lookup),
            book.hold.eq(trigger.hold),
            trigger.rule_write.eq(self.rule_write),
            trigger.rule_index.eq(self.rule_index),
            trigger.rule.eq(self.rule),
            trigger.client_order_id_base.eq(self.client_order_id_base),
        ]
        for stage, counters in ((parser, PARSER_COUNTERS), (book, BOOK_COUNTERS),
                                (trigger, TRIGGER_COUNTERS)):
            for c in counters:
                m.d.comb += getattr(self, c.name).eq(getattr(stage, c.name))
        return m
