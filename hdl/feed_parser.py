"""Cut-through feed parser: aligned UDP payload beats in, ticks out.

The gateware twin of host.model.feed_parser; its docstring is the specification. Every message
and the packet header are multiples of 8 bytes and the header filter aligns the payload to lane
0, so at either width a beat never straddles two units (header or message): each beat is
written into a 48-byte unit buffer at word `pos // W`, and a unit is decoded from a view of that
buffer with the current beat in place, in the cycle its last byte arrives.
"""

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import enum, stream, wiring
from amaranth.lib.wiring import In, Out

from hdl.beat import beat_layout
from hdl.counter_ports import bump, counter_ports
from hdl.tick import Tick
from host.model.counters import PARSER_COUNTERS
from host.model.events import TickKind
from host.wire import TemplateId
from host.wire.feed import FEED_MESSAGES, PACKET_HEADER, SCHEMA_VERSION

UNIT_BYTES = max(layout.size for layout in FEED_MESSAGES)
HEADER_BYTES = PACKET_HEADER.size
_SIZES = {layout.template_id: layout.size for layout in FEED_MESSAGES}
_KINDS = {TemplateId.MARKET_STATUS: TickKind.STATUS, TemplateId.BOOK_LEVEL: TickKind.BOOK,
          TemplateId.TRADE: TickKind.TRADE, TemplateId.BEST_BID_OFFER: TickKind.BBO}


class _State(enum.Enum, shape=2):
    HEADER = 0
    MESSAGE = 1
    TRAILER = 2   # msg_count messages are in; any further byte is a fault
    SKIP = 3      # a fault ended the packet; wait for `last`


def _byte(view, n):
    return view[8 * n:8 * n + 8]


def _fits_price(v):
    """A little-endian int64 field fits a signed 32-bit price."""
    top = v[31:64]
    return (top == 0) | (top == (1 << 33) - 1)


def _fits_qty(v):
    return v[31:64] == 0


class FeedParser(wiring.Component):
    def __init__(self, data_bytes: int):
        if UNIT_BYTES % data_bytes or HEADER_BYTES % data_bytes:
            raise ValueError(f"a {data_bytes}-byte datapath does not divide the units")
        self.data_bytes = data_bytes
        super().__init__({
            "i": In(stream.Signature(beat_layout(data_bytes))),
            "o": Out(stream.Signature(Tick)),
            **counter_ports(PARSER_COUNTERS),
        })

    def elaborate(self, platform):
        m = Module()
        width = self.data_bytes
        words = UNIT_BYTES // width
        buf = [Signal(8 * width, name=f"buf{j}") for j in range(words)]
        pos = Signal(range(UNIT_BYTES + 1))       # bytes of the current unit already in
        need = Signal(range(UNIT_BYTES + 1))      # size of the current message
        state = Signal(_State)
        msgs_left = Signal(16)
        session = Signal(32)
        next_seq = Signal(64)
        synced = Signal()

        beat = self.i.valid & self.i.ready
        data, keep, last = self.i.p.data, self.i.p.keep, self.i.p.last
        nbytes = Signal(range(width + 1))
        m.d.comb += nbytes.eq(sum(keep[n] for n in range(width)))
        end = Signal(range(UNIT_BYTES + width + 1))
        m.d.comb += end.eq(pos + nbytes)
        word = pos // width if width > 1 else pos
        view = Signal(8 * UNIT_BYTES)
        m.d.comb += view.eq(Cat(*(Mux(word == j, data, buf[j]) for j in range(words))))

        m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
        with m.If(self.o.ready):
            m.d.sync += self.o.valid.eq(0)

        # Packet header fields (little-endian, offsets from the one declaration).
        hdr = {p.field.name: view[8 * p.offset:8 * (p.offset + p.field.bits // 8)]
               for p in PACKET_HEADER.placed}
        new_session = ~synced | (hdr["session"] != session)
        stale = ~new_session & (hdr["sequence"] < next_seq)
        gap = ~new_session & (hdr["sequence"] > next_seq)
        schema_bad = hdr["schema_version"] != SCHEMA_VERSION
        header_done = (state == _State.HEADER) & (end >= HEADER_BYTES)
        header_opens = header_done & ~schema_bad & ~stale

        # Message header: decided in the beat that brings byte 3.
        length, template = view[0:16], _byte(view, 2)
        size = Signal(range(UNIT_BYTES + 1))
        known = Signal()
        with m.Switch(template):
            for tid, nbytes_ in _SIZES.items():
                with m.Case(tid):
                    m.d.comb += [size.eq(nbytes_), known.eq(1)]
        in_message = state == _State.MESSAGE
        header_beat = in_message & (pos < 4) & (end >= 4)
        unknown = header_beat & ~known
        bad_length = header_beat & known & (length != size)
        unit_size = Mux(header_beat, size, need)
        complete = in_message & (end >= 4) & ~unknown & ~bad_length & (end == unit_size)
        last_message = msgs_left == 1

        # Field checks of a complete message.
        market_ok = _byte(view, 5) == 0
        b6, b7 = _byte(view, 6), _byte(view, 7)
        p0, q0, p1, q1 = view[128:192], view[192:256], view[256:320], view[320:384]
        pq0 = _fits_price(p0) & _fits_qty(q0)
        valid = Signal()
        kind = Signal(2)
        with m.Switch(template):
            with m.Case(TemplateId.HEARTBEAT):
                m.d.comb += valid.eq(1)
            with m.Case(TemplateId.MARKET_STATUS):
                m.d.comb += valid.eq(market_ok & (b6 >= 1) & (b6 <= 3))
            with m.Case(TemplateId.BOOK_LEVEL):
                m.d.comb += valid.eq(market_ok & (b6 >= 1) & (b6 <= 2) & (b7 >= 1) & (b7 <= 3)
                                     & pq0)
            with m.Case(TemplateId.TRADE):
                m.d.comb += valid.eq(market_ok & (b6 <= 2) & pq0)
            with m.Case(TemplateId.BEST_BID_OFFER):
                m.d.comb += valid.eq(market_ok & pq0 & _fits_price(p1) & _fits_qty(q1))
        for tid, k in _KINDS.items():
            with m.If(template == tid):
                m.d.comb += kind.eq(k)
        is_tick = template != TemplateId.HEARTBEAT

        with m.If(beat):
            m.d.sync += pos.eq(end)
            for j in range(words):
                with m.If(word == j):
                    m.d.sync += buf[j].eq(data)
            with m.If(header_done):
                bump(m, self, "schema", schema_bad)
                bump(m, self, "stale_packets", ~schema_bad & stale)
                bump(m, self, "packet_gaps", ~schema_bad & gap)
                with m.If(header_opens):
                    m.d.sync += [
                        session.eq(hdr["session"]),
                        synced.eq(1),
                        next_seq.eq(hdr["sequence"] + hdr["msg_count"]),
                        msgs_left.eq(hdr["msg_count"]),
                        pos.eq(0),
                        state.eq(Mux(hdr["msg_count"] == 0, _State.TRAILER, _State.MESSAGE)),
                    ]
                with m.Else():
                    m.d.sync += state.eq(_State.SKIP)
            with m.If(header_beat):
                m.d.sync += need.eq(size)
            bump(m, self, "unknown_template", unknown)
            bump(m, self, "bad_length", bad_length
                 | ((state == _State.TRAILER) & (nbytes != 0)))
            with m.If(unknown | bad_length
                      | ((state == _State.TRAILER) & (nbytes != 0))):
                m.d.sync += state.eq(_State.SKIP)
            with m.If(complete):
                m.d.sync += [
                    msgs_left.eq(msgs_left - 1),
                    pos.eq(0),
                    state.eq(Mux(last_message, _State.TRAILER, _State.MESSAGE)),
                ]
                bump(m, self, "bad_value", ~valid)
                bump(m, self, "messages", valid)
                bump(m, self, "ticks", valid & is_tick)
                with m.If(valid & is_tick):
                    t = self.o.payload
                    is_book = kind == TickKind.BOOK
                    is_bbo = kind == TickKind.BBO
                    m.d.sync += [
                        self.o.valid.eq(1),
                        t.kind.eq(kind),
                        t.market.eq(_byte(view, 4)),
                        t.rpt_seq.eq(view[64:96]),
                        t.side.eq(Mux(is_book, b6[:2], 0)),
                        t.action.eq(Mux(is_book, b7[:2], 0)),
                        t.level.eq(Mux(is_book, _byte(view, 12), 0)),
                        t.status.eq(Mux(kind == TickKind.STATUS, b6[:2], 0)),
                        t.price0.eq(Mux(kind == TickKind.STATUS, 0, p0[:32])),
                        t.qty0.eq(Mux(kind == TickKind.STATUS, 0, q0[:32])),
                        t.price1.eq(Mux(is_bbo, p1[:32], 0)),
                        t.qty1.eq(Mux(is_bbo, q1[:32], 0)),
                    ]
            with m.If(last):
                opened_empty = header_opens & (hdr["msg_count"] == 0)
                short_header = (state == _State.HEADER) & ~(header_done & (~header_opens
                                                                           | opened_empty))
                short_message = in_message & ~unknown & ~bad_length & ~(complete & last_message)
                bump(m, self, "truncated", short_header | short_message)
                bump(m, self, "packets")
                m.d.sync += [state.eq(_State.HEADER), pos.eq(0)]
        return m
