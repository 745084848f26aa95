"""Cut-through feed parser: aligned UDP payload beats in, ticks out.

The gateware twin of host.model.feed_parser; its docstring is the specification. Every message
and the packet header are multiples of 8 bytes and the header filter aligns the payload to lane
0, so at either width a beat never straddles two units (header or message): each beat is
written into a 48-byte unit buffer at word `pos // W`, and a unit is decoded in the cycle its
last byte arrives.

Input contract (the header filter's output): `keep` is contiguous from lane 0, and only a
payload's last beat may carry fewer than W bytes. So "the unit's byte n is in" is one `keep`
bit, never a sum.

Timing: nothing in the cycle of a unit's last byte goes through a position-dependent
multiplexer. A unit's fields are read from a fixed view of the buffer (earlier words from
registers, the last word from the input), one per message size; the packet header's checks
are computed and registered in the beat that brings the sequence number, a beat before the
header is complete; counters count registered strobes, one cycle later.
"""

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import enum, stream, wiring
from amaranth.lib.wiring import In, Out

from hdl.beat import beat_layout
from hdl.counter_ports import counter_ports
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
_HEADER_FIELDS = ("session", "msg_count", "schema_version", "sequence")
COUNTER_LATENCY = 2  # cycles from the beat that decides a count to the counter's new value


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
        state = Signal(_State)
        msgs_left = Signal(16)
        session = Signal(32)
        next_seq = Signal(64)
        synced = Signal()

        beat = self.i.valid & self.i.ready
        data, keep, last = self.i.p.data, self.i.p.keep, self.i.p.last
        full = keep[width - 1]                    # the beat carries W bytes
        word = pos // width if width > 1 else pos

        def view_at(j: int):
            """The unit as it stands in a beat that writes word j: fixed wiring, no mux."""
            return Cat(*(data if k == j else buf[k] for k in range(words)))

        def word_is(j: int):
            return pos == j * width

        m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
        with m.If(self.o.ready):
            m.d.sync += self.o.valid.eq(0)

        # Counters: each beat's increments are registered, then added.
        strobes = {}

        def count(name: str, condition) -> None:
            strobes[name] = strobes.get(name, 0) | condition

        # -- packet header ----------------------------------------------------------------
        # Every field the checks read is in before the header's last beat: the checks are
        # made in the beat that brings the sequence number and registered.
        placed = {p.field.name: p for p in PACKET_HEADER.placed}
        seq_last = max(placed[n].offset + placed[n].field.bits // 8 for n in _HEADER_FIELDS) - 1
        seq_word = seq_last // width
        if (seq_word + 1) * width >= HEADER_BYTES:
            raise ValueError(f"a {width}-byte beat brings the sequence with the header's end")
        early = view_at(seq_word)
        hdr = {name: early[8 * p.offset:8 * (p.offset + p.field.bits // 8)]
               for name, p in placed.items() if name in _HEADER_FIELDS}
        same_session, seq_below, seq_above = Signal(), Signal(), Signal()
        schema_bad = Signal()
        seq_after = Signal(64)
        with m.If(beat & (state == _State.HEADER) & word_is(seq_word)):
            m.d.sync += [
                same_session.eq(hdr["session"] == session),
                seq_below.eq(hdr["sequence"] < next_seq),
                seq_above.eq(hdr["sequence"] > next_seq),
                schema_bad.eq(hdr["schema_version"] != SCHEMA_VERSION),
                seq_after.eq(hdr["sequence"] + hdr["msg_count"]),
            ]
        new_session = ~synced | ~same_session
        stale = ~new_session & seq_below
        gap = ~new_session & seq_above
        # The header's last beat: W bytes at HEADER_BYTES - W.
        header_done = (state == _State.HEADER) & word_is(HEADER_BYTES // width - 1) & full
        header_opens = header_done & ~schema_bad & ~stale
        done_view = view_at(HEADER_BYTES // width - 1)
        msg_count = done_view[8 * placed["msg_count"].offset:][:16]
        late_session = done_view[8 * placed["session"].offset:][:32]

        # -- message header: decided in the beat that brings byte 3 -----------------------
        hb_word = 3 // width
        hb_end = (hb_word + 1) * width            # bytes in after that beat
        in_message = state == _State.MESSAGE
        hb_view = view_at(hb_word)
        length, template = hb_view[0:16], _byte(hb_view, 2)
        header_beat = in_message & word_is(hb_word) & keep[3 - hb_word * width]
        known = Signal()
        size_ok = Signal()                         # the length field is the template's size
        ends_here = Signal()                       # a message that ends in its header beat
        last_at = Signal(range(64), init=63)       # where its last beat starts; 63: nowhere
        with m.Switch(template):
            for tid, size in _SIZES.items():
                with m.Case(tid):
                    # A message that ends in its header beat never matches `last_at`.
                    m.d.comb += [known.eq(1), size_ok.eq(length == size),
                                 last_at.eq(size - width if size != hb_end else 63),
                                 ends_here.eq(size == hb_end)]
                    if size == hb_end and tid != TemplateId.HEARTBEAT:
                        raise ValueError(f"template {tid} would end in its header beat")
        unknown = header_beat & ~known
        bad_length = header_beat & known & ~size_ok
        # The message's template, registered one-hot at its header beat: what its last beat
        # checks and decodes.
        msg_is = {tid: Signal(name=f"msg_is_{TemplateId(tid).name.lower()}") for tid in _SIZES}
        msg_kind = Signal(2)
        msg_last_at = Signal(range(64), init=63)   # 63: no position matches
        with m.If(beat & header_beat):
            m.d.sync += [msg_last_at.eq(last_at), msg_kind.eq(0)]
            m.d.sync += [flag.eq(template == tid) for tid, flag in msg_is.items()]
            for tid, k in _KINDS.items():
                with m.If(template == tid):
                    m.d.sync += msg_kind.eq(k)
        # A heartbeat may end in its header beat (W = 8); every tick message ends later, in
        # the beat that starts at its size - W, with W bytes.
        hb_complete = header_beat & known & size_ok & ends_here
        body_complete = in_message & (pos == msg_last_at) & full
        complete = hb_complete | body_complete
        last_message = msgs_left == 1

        # -- a complete tick message's fields, one fixed view per message size ------------
        views = {tid: view_at((size - 1) // width) for tid, size in _SIZES.items()}
        valid = 0
        for tid, view in views.items():
            if tid == TemplateId.HEARTBEAT:
                continue
            b6, b7 = _byte(view, 6), _byte(view, 7)
            market_ok = _byte(view, 5) == 0
            p0, q0 = view[128:192], view[192:256]
            if tid == TemplateId.MARKET_STATUS:
                ok = market_ok & (b6 >= 1) & (b6 <= 3)
            elif tid == TemplateId.BOOK_LEVEL:
                ok = (market_ok & (b6 >= 1) & (b6 <= 2) & (b7 >= 1) & (b7 <= 3)
                      & _fits_price(p0) & _fits_qty(q0))
            elif tid == TemplateId.TRADE:
                ok = market_ok & (b6 <= 2) & _fits_price(p0) & _fits_qty(q0)
            else:
                p1, q1 = view[256:320], view[320:384]
                ok = (market_ok & _fits_price(p0) & _fits_qty(q0) & _fits_price(p1)
                      & _fits_qty(q1))
            valid = valid | (msg_is[tid] & ok)
        is_tick = body_complete & ~msg_is[TemplateId.HEARTBEAT]
        heartbeat = hb_complete | (body_complete & msg_is[TemplateId.HEARTBEAT])

        # The tick's fields are loaded whenever the output slot is free; `valid` says whether
        # they are a tick. Selected by the registered template, never by `complete`.
        t = self.o.payload
        kind = msg_kind
        is_book, is_bbo, is_status = (msg_is[TemplateId.BOOK_LEVEL],
                                      msg_is[TemplateId.BEST_BID_OFFER],
                                      msg_is[TemplateId.MARKET_STATUS])
        short, book_v, bbo_v = (views[TemplateId.MARKET_STATUS], views[TemplateId.BOOK_LEVEL],
                                views[TemplateId.BEST_BID_OFFER])
        trade_v = views[TemplateId.TRADE]

        def pick(lo: int, hi: int):
            """Bits [lo:hi] of the tick message being completed, whatever its size."""
            value = Mux(is_bbo, bbo_v[lo:hi], Mux(is_book, book_v[lo:hi], trade_v[lo:hi]))
            return Mux(is_status, short[lo:hi], value) if hi <= 128 else value

        with m.If(self.i.ready):
            m.d.sync += [
                t.kind.eq(kind),
                t.market.eq(pick(32, 40)),
                t.rpt_seq.eq(pick(64, 96)),
                t.side.eq(Mux(is_book, book_v[48:50], 0)),
                t.action.eq(Mux(is_book, book_v[56:58], 0)),
                t.level.eq(Mux(is_book, book_v[96:104], 0)),
                t.status.eq(Mux(is_status, short[48:50], 0)),
                t.price0.eq(Mux(is_status, 0, pick(128, 160))),
                t.qty0.eq(Mux(is_status, 0, pick(192, 224))),
                t.price1.eq(Mux(is_bbo, bbo_v[256:288], 0)),
                t.qty1.eq(Mux(is_bbo, bbo_v[320:352], 0)),
            ]

        trailing = (state == _State.TRAILER) & keep[0]
        with m.If(beat):
            m.d.sync += pos.eq(pos + Mux(full, width, 0))
            for j in range(words):
                with m.If(word == j):
                    m.d.sync += buf[j].eq(data)
            with m.If(header_done):
                with m.If(header_opens):
                    m.d.sync += [
                        session.eq(late_session),
                        synced.eq(1),
                        next_seq.eq(seq_after),
                        msgs_left.eq(msg_count),
                        pos.eq(0),
                        state.eq(Mux(msg_count == 0, _State.TRAILER, _State.MESSAGE)),
                    ]
                with m.Else():
                    m.d.sync += state.eq(_State.SKIP)
            with m.If(unknown | bad_length | trailing):
                m.d.sync += state.eq(_State.SKIP)
            with m.If(complete):
                m.d.sync += [
                    msgs_left.eq(msgs_left - 1),
                    pos.eq(0),
                    state.eq(Mux(last_message, _State.TRAILER, _State.MESSAGE)),
                ]
            with m.If(is_tick & valid):
                m.d.sync += self.o.valid.eq(1)
            with m.If(last):
                m.d.sync += [state.eq(_State.HEADER), pos.eq(0)]

        count("schema", header_done & schema_bad)
        count("stale_packets", header_done & ~schema_bad & stale)
        count("packet_gaps", header_done & ~schema_bad & gap)
        count("unknown_template", unknown)
        count("bad_length", bad_length | trailing)
        count("bad_value", is_tick & ~valid)
        count("messages", heartbeat | (is_tick & valid))
        count("ticks", is_tick & valid)
        opened_empty = header_opens & (msg_count == 0)
        short_header = (state == _State.HEADER) & ~(header_done & (~header_opens | opened_empty))
        short_message = in_message & ~unknown & ~bad_length & ~(complete & last_message)
        count("truncated", last & (short_header | short_message))
        count("packets", last)
        for name, condition in strobes.items():
            strobe = Signal(name=f"{name}_strobe")
            m.d.sync += strobe.eq(beat & condition)
            counter = getattr(self, name)
            with m.If(strobe):
                m.d.sync += counter.eq(counter + 1)
        return m
