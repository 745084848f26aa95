"""The whole receive pipeline: Ethernet frames in, order intents and top-of-book changes out.

HeaderFilter strips and checks Ethernet, 802.1Q, IPv4 and UDP and aligns the payload;
FeedPipeline parses it, keeps the book and runs the trigger. The filter's counters appear with
a `filter_` prefix, beside the parser's, book table's and trigger's.
"""

from amaranth import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out
from host.model.frame_filter import COUNTERS as FILTER_COUNTERS

from hdl.beat import beat_layout
from hdl.book_top import BookTop
from hdl.counter_ports import COUNTER_BITS, counter_ports
from hdl.feed_pipeline import FeedPipeline
from hdl.header_filter import HeaderFilter
from hdl.layouts import OrderIntent
from hdl.trigger import RuleLayout
from host.model.counters import PIPELINE_COUNTERS

FILTER_PREFIX = "filter_"


class Pipeline(wiring.Component):
    def __init__(self, data_bytes: int, depth: int = 4, clock_hz: float = 156.25e6):
        self.data_bytes, self.depth, self.clock_hz = data_bytes, depth, clock_hz
        super().__init__({
            "i": In(stream.Signature(beat_layout(data_bytes))),
            "o": Out(stream.Signature(OrderIntent)),
            "top": Out(stream.Signature(BookTop, always_ready=True)),
            "dst_ip": In(32),
            "dst_port": In(16),
            "rule_write": In(1),
            "rule_index": In(8),
            "rule": In(RuleLayout),
            "client_order_id_base": In(64),
            **{FILTER_PREFIX + name: Out(COUNTER_BITS) for name in FILTER_COUNTERS},
            **counter_ports(PIPELINE_COUNTERS),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.filter = filt = HeaderFilter(self.data_bytes)
        m.submodules.feed = feed = FeedPipeline(self.data_bytes, self.depth, self.clock_hz)
        wiring.connect(m, wiring.flipped(self.i), filt.i)
        wiring.connect(m, filt.o, feed.i)
        wiring.connect(m, feed.o, wiring.flipped(self.o))
        m.d.comb += [
            filt.dst_ip.eq(self.dst_ip),
            filt.dst_port.eq(self.dst_port),
            self.top.valid.eq(feed.top.valid),
            self.top.payload.eq(feed.top.payload),
            feed.rule_write.eq(self.rule_write),
            feed.rule_index.eq(self.rule_index),
            feed.rule.eq(self.rule),
            feed.client_order_id_base.eq(self.client_order_id_base),
        ]
        for name in FILTER_COUNTERS:
            m.d.comb += getattr(self, FILTER_PREFIX + name).eq(getattr(filt, name))
        for c in PIPELINE_COUNTERS:
            m.d.comb += getattr(self, c.name).eq(getattr(feed, c.name))
        return m
