"""The egress gate: the order path through the kill switch, two register stages deep.

An order accepted in cycle t is judged in cycle t+1 and, if it passes, is valid on `o` in
cycle t+2 unless orders before it still wait there (an output queue absorbs backpressure, so
judging never waits). The checks are split so that each cycle holds one carry chain of work:

- cycle t-1: the book-reference block RAM is read for the order that will be accepted in t
  (its market comes a cycle early, see below);
- cycle t (from the input ports and the RAM's output): the notional multiplier's four partial
  products, 10000 x price, range checks, and the reference of the order's side;
- cycle t+1 (from registers): the collar and notional comparisons, the token bucket, and the
  verdict, which lands in registers that the switch's update logic reads in cycle t+2.

The references sit in block RAM, read a cycle ahead, because an asynchronous read of 58 Kbit of
LUT RAM in the cycle of acceptance fanned each address bit out to thousands of cells. The
pipeline says a cycle early which market it will offer next (`pipeline_next`); that is a hint,
not a promise: an order whose market is not the one read waits a cycle while its own is read.
A host order always takes a cycle for its read: while one is offered, the cycle after is the
host's (`host_turn`) and the pipeline's order waits for it.

Nothing that depends on a comparison fans out further than one register: the switch latches
trips from `verdict`, a cycle later. The switch drives `armed` with the state the order being
judged must see (its own next state), so consecutive orders see each other's trips.

Time offsets (see hdl/kill_switch.py): an order judged in cycle c has model time c+1; the limits
on `max_qty` must be those of model time c+1 one cycle earlier (in the cycle it is accepted),
the others those of model time c+1 during cycle c; `book_collar_bp` must be the value for a
book update's model time, five cycles early.
"""

from amaranth import Module, Mux, ResetSignal, Signal, Value, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from hdl.book_top import MARKETS, BookTop
from hdl.layouts import OrderIntent, OrderSide
from host.model.kill_switch import BASIS_POINTS, REASON_BITS, TripReason

BOUND_BITS = 49  # 10000 x price +- collar_bp x |price| for 32-bit prices
EPOCH_BITS = 16
QUEUE = 3  # output queue depth: the least that takes an order every cycle with `o` ready

RefEntry = data.StructLayout({
    "hi": signed(BOUND_BITS),
    "lo": signed(BOUND_BITS),
    "epoch": unsigned(EPOCH_BITS),
})
RefPair = data.StructLayout({"bid": RefEntry, "ask": RefEntry})  # one market's word

Verdict = data.StructLayout({
    "fresh": 1,  # an order was judged in the previous cycle
    "checked": 1,  # it arrived while armed, so its failed checks trip the switch
    "passed": 1,
    "host": 1,  # it came in on `host`
    "failed": REASON_BITS,  # RATE, QTY, NOTIONAL and COLLAR bits of TripReason
})


# An order held between judging and leaving, in the widths that can pass: the checks fail a
# market above 255, a side other than BUY or SELL, a price outside 32 bits signed and a
# quantity outside 31 bits, so those are kept narrow and widened again on `o`. The order is
# held four times over (the judged stage and the queue), so this is 80 of its 384 bits, four
# times, off the egress's widest loads.
Held = data.StructLayout({
    "length": 16, "template_id": 8, "flags": 8, "market": 8, "sell": 1, "rule_id": 8,
    "tick_seq": 32, "reserved": 32, "price": signed(32), "qty": 31,
    "client_order_id": 64, "trigger_time": 64,
})
_AS_IS = ("length", "template_id", "flags", "rule_id", "tick_seq", "reserved",
          "client_order_id", "trigger_time")


def _hold(m, order, held) -> None:
    """Drive `held` from an OrderIntent (exact for every order that can pass)."""
    m.d.comb += [getattr(held, name).eq(getattr(order, name)) for name in _AS_IS]
    m.d.comb += [
        held.market.eq(Value.cast(order.market_id)[:8]),
        held.sell.eq(order.side == OrderSide.SELL),
        held.price.eq(Value.cast(order.price)[:32]),
        held.qty.eq(Value.cast(order.qty)[:31]),
    ]


def _release(m, held, order) -> None:
    """Drive an OrderIntent from what `_hold` kept."""
    m.d.comb += [getattr(order, name).eq(getattr(held, name)) for name in _AS_IS]
    m.d.comb += [
        order.market_id.eq(held.market),
        order.side.eq(Mux(held.sell, OrderSide.SELL, OrderSide.BUY)),
        order.price.eq(held.price),
        order.qty.eq(held.qty),
    ]


COMPARE_BITS = 52  # wide enough for 10000 x price - a bound, without overflow


def _products(order):
    """|p| - (p < 0) times q in four 16 x 16 partial products, and 10000 x p in two halves
    (added only inside the collar comparisons, so that no carry chain follows a multiplier in
    the same cycle), for an order's price p and quantity q taken as 32 and 31 bits (wider
    values fail the range checks)."""
    p32 = Value.cast(order.price)[:32].as_signed()
    q31 = Value.cast(order.qty)[:31]
    magnitude = p32.as_unsigned() ^ Mux(p32 < 0, 0xFFFF_FFFF, 0)
    a_lo, a_hi = magnitude[:16], magnitude[16:]
    b_lo, b_hi = q31[:16], q31[16:]
    return [a_lo * b_lo, a_lo * b_hi, a_hi * b_lo, a_hi * b_hi,
            p32[:16] * BASIS_POINTS, p32[16:].as_signed() * BASIS_POINTS]


def _negative(m, plus, minus, name):
    """Whether sum(plus) - sum(minus) < 0, for signed values: each is widened first, a
    subtrahend enters as its complement plus one, one carry-save layer per three terms, then
    a single carry chain."""
    wide = []
    for i, value in enumerate([*plus, *minus]):
        w = Signal(signed(COMPARE_BITS), name=f"{name}_term{i}")
        m.d.comb += w.eq(value)
        wide.append(~w.as_unsigned() if i >= len(plus) else w)
    x, y = carry_save([*wide, len(minus)], COMPARE_BITS)
    return (x + y)[COMPARE_BITS - 1]


def carry_save(terms, width):
    """Reduce unsigned operands to two with the same sum (mod 2**width), one LUT level per
    layer, so that a single carry chain finishes the sum."""
    terms = [Value.cast(t).as_unsigned() for t in terms]
    while len(terms) > 2:
        a, b, c, *rest = terms
        terms = [*rest, (a ^ b ^ c)[:width], (((a & b) | (a & c) | (b & c)) << 1)[:width]]
    return terms


class EgressGate(wiring.Component):
    """Arbitrates the pipeline's and the host's orders (a host order offered in one cycle
    has the next; the pipeline has every other), checks each against the limits and the
    book, and passes it while `armed`."""

    pipeline: In(stream.Signature(OrderIntent))
    pipeline_next: In(8)  # the market `pipeline` offers after its current order (a hint)
    host: In(stream.Signature(OrderIntent))
    o: Out(stream.Signature(OrderIntent))
    book: In(stream.Signature(BookTop, always_ready=True))

    armed: In(1)
    max_qty: In(32)
    max_notional: In(64)
    rate_tokens: In(16)
    rate_window: In(32)
    rate_capacity: In(48)  # rate_tokens x rate_window
    book_collar_bp: In(16)

    verdict: Out(Verdict)

    def elaborate(self, platform):
        m = Module()
        epoch_order = self._epochs(m)
        m.submodules.refs = refs = Memory(shape=RefPair, depth=MARKETS, init=[])
        ref_write = refs.write_port()
        ref_read = refs.read_port(transparent_for=(ref_write,))
        self._book_path(m, ref_write)

        # -- cycle t: accept and prepare -------------------------------------------------
        # The output queue holds up to QUEUE orders, `o` being its head. Taking an order only
        # while the queue has room for it and for the one being judged means every order is
        # judged in the cycle after it is accepted, whatever `o.ready` does.
        s1_valid = Signal()
        queued = Signal(range(QUEUE + 1))
        take = queued + s1_valid < QUEUE
        host_turn = Signal()  # the references read last cycle are the host order's
        read_market = Signal(8)  # whose references `ref_read.data` holds
        pipe_market = Value.cast(self.pipeline.payload.market_id)[:8]
        host_market = Value.cast(self.host.payload.market_id)[:8]
        m.d.comb += [
            self.pipeline.ready.eq(take & ~host_turn & (pipe_market == read_market)),
            self.host.ready.eq(take & host_turn),
        ]
        took_pipe = self.pipeline.valid & self.pipeline.ready
        took_host = self.host.valid & self.host.ready
        accept = took_pipe | took_host
        # A host order offered now is still offered next cycle unless taken now (stream rule),
        # so its references can be read now for then.
        next_host_turn = self.host.valid & ~took_host
        pipe_waits = self.pipeline.valid & ~took_pipe
        next_market = Mux(next_host_turn, host_market,
                          Mux(pipe_waits, pipe_market, self.pipeline_next))
        m.d.comb += [ref_read.addr.eq(next_market), ref_read.en.eq(1)]
        m.d.sync += [host_turn.eq(next_host_turn), read_market.eq(next_market)]
        incoming = OrderIntent(Mux(host_turn, self.host.payload.as_value(),
                                   self.pipeline.payload.as_value()))

        price = Value.cast(incoming.price)
        qty = Value.cast(incoming.qty)
        p32 = price[:32].as_signed()
        q31 = qty[:31]
        price_out = (price[31:] != 0) & (price[31:] != (1 << 33) - 1)
        qty_out = qty[31:] != 0
        market = Value.cast(incoming.market_id)
        side = Value.cast(incoming.side)
        is_sell = side == 2

        s1 = Signal(Held)
        held = Signal(Held)
        _hold(m, incoming, held)
        s1_host = Signal()
        s1_qty_bad = Signal()
        s1_skip_notional = Signal()
        s1_no_ref = Signal()
        s1_neg = Signal()
        s1_q = Signal(31)
        parts = [Signal(32, name=f"notional_part{i}") for i in range(4)]
        ticks_lo = Signal(30)  # 10000 x price = ticks_lo + ticks_hi x 2**16
        ticks_hi = Signal(signed(31))
        s1_ref = Signal(RefEntry)

        products = _products(incoming)
        pair = RefPair(ref_read.data)
        read = Mux(is_sell, pair.bid.as_value(), pair.ask.as_value())

        # Loaded in every cycle, so that `accept` (late: it waits on the market compare)
        # drives one register; they are only looked at when `s1_valid`.
        m.d.sync += [
            s1.eq(held),
            s1_host.eq(host_turn),
            s1_qty_bad.eq(qty_out | (q31 == 0) | (q31 > self.max_qty)),
            s1_skip_notional.eq(qty_out | price_out),
            s1_no_ref.eq(price_out | (market[8:] != 0) | ((side != 1) & ~is_sell)),
            s1_neg.eq(p32 < 0),
            s1_q.eq(q31),
            *[r.eq(v) for r, v in zip([*parts, ticks_lo, ticks_hi], products, strict=True)],
            s1_ref.eq(read),
        ]
        m.d.sync += s1_valid.eq(accept)

        # -- cycle t+1: judge ------------------------------------------------------------
        # |p| x q = (|p| - neg) x q + neg x q, compared with N as the carry out of S + ~N.
        terms = [parts[0], parts[1] << 16, parts[2] << 16, parts[3] << 32,
                 Mux(s1_neg, s1_q, 0), ~self.max_notional]
        x, y = carry_save(terms, 65)
        over_notional = (x + y)[64]  # late: a carry chain
        notional_bad = ~s1_skip_notional & over_notional

        ref = s1_ref
        no_ref = s1_no_ref | (ref.epoch != epoch_order)
        # ticks > hi when hi - ticks < 0; ticks < lo when ticks - lo < 0.
        ticks_hi_16 = ticks_hi << 16
        above = _negative(m, [ref.hi], [ticks_lo, ticks_hi_16], "above")
        below = _negative(m, [ticks_lo, ticks_hi_16], [ref.lo], "below")
        outside = above | below  # late: two carry chains
        collar_bad = no_ref | outside

        level = Signal(48)
        has_token = level >= self.rate_window
        checked = s1_valid & self.armed
        take_token = checked & has_token
        # Both outcomes are capped in parallel, so the late `take_token` only picks one.
        cap = self.rate_capacity
        refill = level + self.rate_tokens
        spent = level - self.rate_window + self.rate_tokens
        m.d.sync += level.eq(Mux(take_token, Mux(spent > cap, cap, spent),
                                 Mux(refill > cap, cap, refill)))

        # The late comparisons meet the early checks in a single gate.
        early_ok = checked & has_token & ~s1_qty_bad & ~no_ref
        late_ok = ~outside & (s1_skip_notional | ~over_notional)
        failed = Signal(REASON_BITS)
        m.d.comb += [
            failed[TripReason.RATE.bit_length() - 1].eq(~has_token),
            failed[TripReason.QTY.bit_length() - 1].eq(s1_qty_bad),
            failed[TripReason.NOTIONAL.bit_length() - 1].eq(notional_bad),
            failed[TripReason.COLLAR.bit_length() - 1].eq(collar_bad),
        ]
        m.d.sync += [
            self.verdict.fresh.eq(s1_valid),
            self.verdict.checked.eq(checked),
            self.verdict.passed.eq(early_ok & late_ok),
            self.verdict.host.eq(s1_host),
            self.verdict.failed.eq(failed),
        ]
        self._queue(m, s1, early_ok & late_ok, queued)
        return m

    def _queue(self, m, order, push, queued):
        """A QUEUE-deep FIFO whose head is `o`. The late `push` only sets a valid bit: the
        payload is written into the free slot whether or not the order passed."""
        slots = [Signal(Held, name=f"queue{i}") for i in range(QUEUE)]
        _release(m, slots[0], self.o.payload)
        valid = [self.o.valid] + [Signal(name=f"queue{i}_valid") for i in range(1, QUEUE)]
        pop = self.o.valid & self.o.ready
        kept = queued - pop  # orders still queued after this cycle's pop
        for i in range(QUEUE):
            shifted = slots[i + 1] if i + 1 < QUEUE else slots[i]
            with m.If(kept == i):
                m.d.sync += [slots[i].eq(order), valid[i].eq(push)]
            with m.Else():
                m.d.sync += [
                    slots[i].eq(Mux(pop, shifted, slots[i])),
                    valid[i].eq(kept > i),
                ]
        m.d.sync += queued.eq(Mux(push, kept + 1, kept))

    def _epochs(self, m):
        """A counter that moves whenever collar_bp changes or the switch is reset; a reference
        written under another epoch is no reference. Returns the epoch an order judged in this
        cycle must find."""
        bp_prev = Signal(16)
        m.d.sync += bp_prev.eq(self.book_collar_bp)
        rst = ResetSignal()
        rst_prev = Signal(reset_less=True)
        epoch = Signal(EPOCH_BITS, reset_less=True, init=1)
        epoch_d = [Signal(EPOCH_BITS, reset_less=True, name=f"epoch_d{i}") for i in (1, 2, 3)]
        m.d.sync += rst_prev.eq(rst)
        # Memory starts all zero (epoch 0); the counter never returns to 0 in practice.
        bump = (rst & ~rst_prev) | (~rst & (self.book_collar_bp != bp_prev))
        m.d.sync += epoch.eq(epoch + bump)
        m.d.sync += [epoch_d[0].eq(epoch), epoch_d[1].eq(epoch_d[0]), epoch_d[2].eq(epoch_d[1])]
        self._book_epoch = epoch
        return epoch_d[2]

    def _book_path(self, m, write_port):
        """Two cycles from a BookTop to its bounds in the reference memory:
        hi = 10000 r + bp |r| and lo = 10000 r - bp |r|, i.e. r x (10000 +- bp)."""
        up = Signal(18)  # 10000 + bp
        down = Signal(signed(18))  # 10000 - bp
        m.d.sync += [
            up.eq(BASIS_POINTS + self.book_collar_bp),
            down.eq(BASIS_POINTS - self.book_collar_bp),
        ]
        b = self.book.payload
        stage_valid = Signal()
        stage_market = Signal(8)
        stage_epoch = Signal(EPOCH_BITS)
        m.d.sync += [
            stage_valid.eq(self.book.valid),
            stage_market.eq(b.market),
            stage_epoch.eq(self._book_epoch),
        ]
        pair = Signal(RefPair)
        for side, valid, price in (("bid", b.bid_valid, b.bid_price),
                                   ("ask", b.ask_valid, b.ask_price)):
            r = Value.cast(price)
            r_lo, r_hi = r[:16], r[16:].as_signed()
            products = [Signal(signed(36), name=f"{side}_p{i}") for i in range(4)]
            side_valid = Signal(name=f"{side}_valid")
            neg = Signal(name=f"{side}_neg")
            m.d.sync += [
                products[0].eq(r_lo * up), products[1].eq(r_hi * up),
                products[2].eq(r_lo * down), products[3].eq(r_hi * down),
                side_valid.eq(valid), neg.eq(r < 0),
            ]
            times_up = products[0] + (products[1] << 16)
            times_down = products[2] + (products[3] << 16)
            entry = getattr(pair, side)
            m.d.comb += entry.epoch.eq(stage_epoch)
            with m.If(~side_valid):
                # An empty side: no price is inside [lo, hi].
                m.d.comb += [entry.hi.eq(-(1 << (BOUND_BITS - 1))),
                             entry.lo.eq((1 << (BOUND_BITS - 1)) - 1)]
            with m.Elif(neg):
                m.d.comb += [entry.hi.eq(times_down), entry.lo.eq(times_up)]
            with m.Else():
                m.d.comb += [entry.hi.eq(times_up), entry.lo.eq(times_down)]
        m.d.comb += [write_port.addr.eq(stage_market), write_port.data.eq(pair),
                     write_port.en.eq(stage_valid)]
