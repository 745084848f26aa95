"""Cut a frame's payload out of its beats and realign it to lane 0, cut-through."""

from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, enum, stream, wiring
from amaranth.lib.wiring import In, Out

from hdl.beat import beat_layout


def marked_beat_layout(data_bytes: int, starts: int) -> data.StructLayout:
    """A frame beat with the lanes of its payload marked.

    - `data`, `last`: as in the frame.
    - `pmask`: lanes holding payload bytes (contiguous; starting at lane 0 except in the beat
      where the payload starts).
    - `decide`: this beat holds the last header byte; the verdict on the frame is presented on
      `forward` in the cycle after the beat is taken.
    - `end`: the payload ends in this beat (its last byte is here, or the frame ends here).
    - `start`: which of the realigner's payload offsets this frame uses (set on `decide`).
    """
    return data.StructLayout({
        "data": 8 * data_bytes,
        "pmask": data_bytes,
        "decide": 1,
        "end": 1,
        "last": 1,
        "start": range(max(starts, 2)),
    })


class _Mode(enum.Enum, shape=2):
    HEADER = 0   # before the decide beat: nothing to send
    DECIDE = 1   # the cycle after the decide beat: `forward` is read
    FORWARD = 2  # sending the payload
    SKIP = 3     # dropped, or past the payload's end: wait for the frame's last beat


class PayloadRealigner(wiring.Component):
    """Forward the marked payload lanes of each frame whose verdict is `forward`, shifted so the
    payload's first byte is lane 0 of the first output beat.

    `starts` are the frame offsets where a payload may start (one per header layout). A payload
    starting at offset P is shifted down by P mod W lanes, a shift fixed for the whole frame, so
    an output beat is the top lanes of one input beat and the bottom lanes of the next: one
    2:1 mux per lane for two starts, never a barrel shifter.

    Timing: a beat leaves one cycle after it is taken. A payload whose last input beat holds
    more bytes than fit after the carried-over lanes needs one more (flush) beat, sent in the
    next cycle while the next beat (padding or the next frame's header) is taken, so the filter
    never stalls its input at full rate. A forwarded payload always ends with `last`; an empty
    one is a single beat with `keep == 0`.
    """

    def __init__(self, data_bytes: int, starts: tuple[int, ...]):
        self.data_bytes = data_bytes
        # The lanes shifted away: an output beat is Cat(previous, current)[shift:shift + W].
        self.shifts = tuple(p % data_bytes or data_bytes for p in starts)
        super().__init__({
            "i": In(stream.Signature(marked_beat_layout(data_bytes, len(starts)))),
            "forward": In(1),
            "o": Out(stream.Signature(beat_layout(data_bytes))),
        })

    def elaborate(self, platform):
        m = Module()
        lanes = self.data_bytes
        cur = self.i.payload

        mode = Signal(_Mode)
        prev_data = Signal(8 * lanes)
        prev_pmask = Signal(lanes)
        start = Signal.like(cur.start)
        # The previous beat ended the payload with lanes left over (or the payload was empty):
        # they go out alone, with `last`.
        flush = Signal()
        decided_last = Signal()  # the decide beat was the frame's last
        decided_end = Signal()  # the payload ended in the decide beat

        def window(prev, current, width):
            """Cat(prev, current) shifted down by the frame's shift, W lanes of `width` bits."""
            options = [Cat(prev, current)[s * width:(s + lanes) * width] for s in self.shifts]
            chosen = options[0]
            for index, option in enumerate(options[1:], start=1):
                chosen = Mux(start == index, option, chosen)
            return chosen

        def leftover(pmask):
            """Whether lanes at or above the shift hold payload: they wait for the next beat."""
            options = [pmask[s:].any() if s < lanes else Const(0) for s in self.shifts]
            chosen = options[0]
            for index, option in enumerate(options[1:], start=1):
                chosen = Mux(start == index, option, chosen)
            return chosen

        resolved = Mux(decided_last, _Mode.HEADER,
                       Mux(~self.forward | decided_end, _Mode.SKIP, _Mode.FORWARD))
        effective = Mux(mode == _Mode.DECIDE, resolved, mode)
        dropped_now = (mode == _Mode.DECIDE) & ~self.forward

        out_free = ~self.o.valid | self.o.ready
        flush_live = flush & ~dropped_now
        flush_go = flush_live & out_free

        win_data = window(prev_data, cur.data, 8)
        win_keep = window(prev_pmask, cur.pmask, 1)
        flush_keep = window(prev_pmask, Const(0, lanes), 1)
        carries = leftover(cur.pmask)
        final = cur.end & ~carries
        emits = (effective == _Mode.FORWARD) & (win_keep.any() | final)
        # prev must not be overwritten before a flush has used it, and there is one output slot.
        blocked = (flush_live & ~flush_go) | (emits & (~out_free | flush_live))
        take = self.i.valid & ~blocked
        m.d.comb += self.i.ready.eq(~blocked)

        with m.If(flush_go):
            m.d.sync += [
                self.o.valid.eq(1),
                self.o.payload.data.eq(win_data),
                self.o.payload.keep.eq(flush_keep),
                self.o.payload.last.eq(1),
            ]
        with m.Elif(take & emits):
            m.d.sync += [
                self.o.valid.eq(1),
                self.o.payload.data.eq(win_data),
                self.o.payload.keep.eq(win_keep),
                self.o.payload.last.eq(final),
            ]
        with m.Elif(self.o.ready):
            m.d.sync += self.o.valid.eq(0)

        m.d.sync += mode.eq(effective)  # DECIDE lasts one cycle
        with m.If(flush_go | dropped_now):
            m.d.sync += flush.eq(0)
        with m.If(take):
            m.d.sync += [prev_data.eq(cur.data), prev_pmask.eq(cur.pmask)]
            with m.Switch(effective):
                with m.Case(_Mode.HEADER), m.If(cur.decide):
                    m.d.sync += [
                        mode.eq(_Mode.DECIDE),
                        start.eq(cur.start),
                        decided_last.eq(cur.last),
                        decided_end.eq(cur.end),
                        flush.eq(cur.end),
                    ]
                with m.Case(_Mode.FORWARD), m.If(cur.end):
                    m.d.sync += [
                        mode.eq(Mux(cur.last, _Mode.HEADER, _Mode.SKIP)),
                        flush.eq(carries),
                    ]
                with m.Case(_Mode.SKIP), m.If(cur.last):
                    m.d.sync += mode.eq(_Mode.HEADER)
        return m
