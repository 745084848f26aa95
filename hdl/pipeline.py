"""The whole receive pipeline: Ethernet frames in, order intents and top-of-book changes out.

HeaderFilter strips and checks Ethernet, 802.1Q, IPv4 and UDP and aligns the payload;
FeedPipeline parses it, keeps the book and runs the trigger. The filter's counters appear with
a `filter_` prefix, beside the parser's, book table's and trigger's.
"""

from amaranth import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hdl.beat import beat_layout
from hdl.counter_ports import COUNTER_BITS
from hdl.feed_pipeline import FeedPipeline
from hdl.forward_ports import forward_ports
from hdl.header_filter import HeaderFilter
from host.model.frame_filter import COUNTERS as FILTER_COUNTERS

FILTER_PREFIX = "filter_"


class Pipeline(wiring.Component):
    def __init__(self, data_bytes: int, depth: int = 4, clock_hz: float = 156.25e6):
        self._filter = HeaderFilter(data_bytes)
        self._feed = FeedPipeline(data_bytes, depth, clock_hz)
        super().__init__({
            "i": In(stream.Signature(beat_layout(data_bytes))),
            "dst_ip": In(32),
            "dst_port": In(16),
            **{FILTER_PREFIX + name: Out(COUNTER_BITS) for name in FILTER_COUNTERS},
            **{name: m for name, m in self._feed.signature.members.items() if name != "i"},
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.filter = filt = self._filter
        m.submodules.feed = feed = self._feed
        wiring.connect(m, wiring.flipped(self.i), filt.i)
        wiring.connect(m, filt.o, feed.i)
        m.d.comb += [filt.dst_ip.eq(self.dst_ip), filt.dst_port.eq(self.dst_port)]
        for name in FILTER_COUNTERS:
            m.d.comb += getattr(self, FILTER_PREFIX + name).eq(getattr(filt, name))
        forward_ports(m, self, feed, [n for n in feed.signature.members if n != "i"])
        return m
