"""The hardware kill switch: latched trip reasons, the arm sequence, the watchdog and counters,
around the egress gate (hdl/egress_gate.py) and the position table (hdl/position_table.py).

host.model.kill_switch defines the behaviour; this is the same machine in cycles. Each input
reaches the model at a fixed *model time*, the cycle whose update applies it: MODEL_TIME below
(docs/risk-rules.md shows it as a table). The status outputs in cycle X show the state after
model time X-1; `trip_time` and `cycle` count cycles from the end of reset.
"""

from amaranth import Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from hdl.book_top import BookTop
from hdl.egress_gate import EgressGate
from hdl.layouts import OrderIntent, OrderSide, amaranth_enum
from hdl.position_table import LATENCY as FILL_LATENCY
from hdl.position_table import PositionTable
from host.model.kill_switch import LIMIT_BITS, REASON_BITS, EventKind, TripReason

LimitsLayout = data.StructLayout(dict(LIMIT_BITS))
EventKindShape = amaranth_enum(EventKind, 8)
LIMIT_DELAY = 6  # cycles from a limit input to the update logic

MODEL_TIME: dict[str, tuple[int, str]] = {
    "order": (2, "an order accepted in cycle t (judged in t+1)"),
    "strobe": (1, "a `heartbeat`, `kill`, `clear`, `arm`, or ACK/REJECT `event` strobed in "
                  "cycle t"),
    "fill": (FILL_LATENCY, "a FILL `event` strobed in cycle t"),
    "kill_pin": (2, "the kill pin changing in cycle t (two synchronising flip-flops)"),
    "limit": (LIMIT_DELAY, "a limit written in cycle t"),
    "book": (4, "a `book` update in cycle t (orders accepted from t+2 on see it)"),
}
"""What each input's model time is, as an offset from the cycle it is seen on the ports."""


def _bit(reason: TripReason) -> int:
    return reason.bit_length() - 1


class KillSwitch(wiring.Component):
    """The switch and its egress gate. Strobes are one-cycle pulses from the register bank,
    at most one per cycle."""

    pipeline: In(stream.Signature(OrderIntent))
    pipeline_next: In(8)  # the market `pipeline` offers after its current order (a hint)
    host: In(stream.Signature(OrderIntent))
    o: Out(stream.Signature(OrderIntent))
    book: In(stream.Signature(BookTop, always_ready=True))

    kill_pin: In(1)
    heartbeat: In(1)
    kill: In(1)
    clear: In(1)
    clear_mask: In(REASON_BITS)
    arm: In(1)
    arm_value: In(32)
    event: In(1)
    event_kind: In(EventKindShape, init=EventKindShape.ACK)
    event_market: In(8)
    event_side: In(OrderSide, init=OrderSide.BUY)
    event_qty: In(32)

    heartbeat_timeout: In(32)
    rate_tokens: In(16)
    rate_window: In(32)
    max_qty: In(32)
    max_notional: In(64)
    collar_bp: In(16)
    max_rejects: In(16)
    max_position: In(32)

    armed: Out(1)
    reasons: Out(REASON_BITS, init=int(TripReason.RESET))
    trip_time: Out(64)
    cycle: Out(64)
    passed: Out(32)
    dropped_pipeline: Out(32)
    dropped_host: Out(32)
    arm_failures: Out(32)
    arm_pending: Out(1)

    def elaborate(self, platform):
        m = Module()
        m.submodules.gate = gate = EgressGate()
        m.submodules.positions = positions = PositionTable()
        wiring.connect(m, wiring.flipped(self.pipeline), gate.pipeline)
        wiring.connect(m, wiring.flipped(self.host), gate.host)
        wiring.connect(m, gate.o, wiring.flipped(self.o))
        wiring.connect(m, wiring.flipped(self.book), gate.book)
        m.d.comb += gate.pipeline_next.eq(self.pipeline_next)

        # -- limits: delayed so every consumer sees the value of its model time ------------
        raw = Signal(LimitsLayout)
        m.d.comb += [getattr(raw, name).eq(getattr(self, name)) for name in LIMIT_BITS]
        delayed = [raw]
        for i in range(1, LIMIT_DELAY):
            stage = Signal(LimitsLayout, name=f"limits_d{i}")
            m.d.sync += stage.eq(delayed[-1])
            delayed.append(stage)
        # What the update reads of the limits, it registers itself from these (the last of
        # the LIMIT_DELAY registers), each as what it needs rather than the limit itself.
        next_limits = delayed[LIMIT_DELAY - 1]  # for the next cycle's update, and the verdict
        window = delayed[3].rate_window
        tokens = delayed[3].rate_tokens
        cap_lo = Signal(32)
        cap_hi = Signal(32)
        capacity = Signal(48)
        m.d.sync += [
            cap_lo.eq(window[:16] * tokens),
            cap_hi.eq(window[16:] * tokens),
            capacity.eq(cap_lo + (cap_hi << 16)),
        ]
        m.d.comb += [
            gate.max_qty.eq(delayed[LIMIT_DELAY - 2].max_qty),
            gate.max_notional.eq(next_limits.max_notional),
            gate.rate_tokens.eq(next_limits.rate_tokens),
            gate.rate_window.eq(next_limits.rate_window),
            gate.rate_capacity.eq(capacity),
            gate.book_collar_bp.eq(delayed[1].collar_bp),
            positions.max_position.eq(next_limits.max_position),
        ]

        # -- host strobes, registered ------------------------------------------------------
        heartbeat, kill, arm = Signal(), Signal(), Signal()
        ack, reject = Signal(), Signal()
        mask = Signal(REASON_BITS)
        arm_value = Signal(32)
        m.d.sync += [
            heartbeat.eq(self.heartbeat),
            kill.eq(self.kill),
            mask.eq(Mux(self.clear, self.clear_mask, 0)),
            arm.eq(self.arm),
            arm_value.eq(self.arm_value),
            ack.eq(self.event & (self.event_kind == EventKindShape.ACK)),
            reject.eq(self.event & (self.event_kind == EventKindShape.REJECT)),
        ]
        good_side = (self.event_side == OrderSide.BUY) | (self.event_side == OrderSide.SELL)
        m.d.comb += [
            positions.fill.eq(self.event & (self.event_kind == EventKindShape.FILL) & good_side),
            positions.market.eq(self.event_market),
            positions.buy.eq(self.event_side == OrderSide.BUY),
            positions.qty.eq(self.event_qty),
        ]
        pin_meta = Signal()
        pin = Signal()
        m.d.sync += [pin_meta.eq(self.kill_pin), pin.eq(pin_meta)]

        # -- the watchdog: `expired` is "age >= timeout", computed a cycle ahead -------------
        age = Signal(32)
        expired = Signal()
        timeout_on = Signal()
        restart = heartbeat | mask[_bit(TripReason.WATCHDOG)]
        next_age = Mux(restart, 1, Mux(age == 0xFFFF_FFFF, age, age + 1))
        m.d.sync += [
            age.eq(next_age),
            expired.eq(next_age >= next_limits.heartbeat_timeout),
            timeout_on.eq(next_limits.heartbeat_timeout != 0),
        ]
        watchdog = timeout_on & expired & ~restart

        # -- consecutive rejects: `at_limit` is "one more reject reaches max_rejects" -------
        run = Signal(16)
        at_limit = Signal()
        next_run = Signal(16)
        with m.If(ack | mask[_bit(TripReason.REJECTS)]):
            m.d.comb += next_run.eq(0)
        with m.Elif(reject & (run != 0xFFFF)):
            m.d.comb += next_run.eq(run + 1)
        with m.Else():
            m.d.comb += next_run.eq(run)
        # `rejects_on` is "now_limits.max_rejects != 0", taken a cycle early from next_limits,
        # so that no comparison sits in front of `next_armed`.
        rejects_on = Signal()
        m.d.sync += [run.eq(next_run), at_limit.eq(next_run + 1 >= next_limits.max_rejects),
                     rejects_on.eq(next_limits.max_rejects != 0)]
        rejects_trip = reject & rejects_on & at_limit

        # -- the arm sequence: compare with the complement as the write is registered -------
        second = self.arm_pending  # the next arm write completes a sequence
        nonce = Signal(32)
        next_nonce = Mux(arm & ~second, arm_value, nonce)
        matches = Signal()
        m.d.sync += [
            nonce.eq(next_nonce),
            matches.eq(self.arm_value == (~next_nonce)[:32]),
        ]
        with m.If(arm):
            m.d.sync += second.eq(~second)

        # -- the update: order trips, then the host event, then the level conditions --------
        verdict = gate.verdict
        order_trips = Mux(verdict.fresh & verdict.checked, verdict.failed, 0)
        reasons_1 = self.reasons | order_trips
        # A checked order fails some check exactly when it did not pass, so whether it
        # tripped the switch is one gate of three verdict bits, not a test of `failed`.
        order_tripped = verdict.fresh & verdict.checked & ~verdict.passed
        armed_1 = self.armed & ~order_tripped
        arm_ok = arm & second & matches & (self.reasons == 0) & ~order_tripped
        blocked = Signal(REASON_BITS)
        m.d.comb += [
            blocked[_bit(TripReason.MANUAL)].eq(pin),
            blocked[_bit(TripReason.POSITION)].eq(positions.any_over),
        ]
        new_trips = Signal(REASON_BITS)
        m.d.comb += [
            new_trips[_bit(TripReason.MANUAL)].eq(kill | pin),
            new_trips[_bit(TripReason.REJECTS)].eq(rejects_trip),
            new_trips[_bit(TripReason.POSITION)].eq(positions.over),
            new_trips[_bit(TripReason.WATCHDOG)].eq(watchdog),
        ]
        next_armed = Signal()
        m.d.comb += next_armed.eq((armed_1 | arm_ok) & (new_trips == 0))
        m.d.comb += gate.armed.eq(next_armed)
        m.d.sync += [
            self.reasons.eq((reasons_1 & ~(mask & ~blocked)) | new_trips),
            self.armed.eq(next_armed),
            self.cycle.eq(self.cycle + 1),
        ]
        with m.If((self.armed | arm_ok) & ~next_armed):
            m.d.sync += self.trip_time.eq(self.cycle)

        fresh = verdict.fresh
        with m.If(fresh & verdict.passed):
            m.d.sync += self.passed.eq(self.passed + 1)
        with m.If(fresh & ~verdict.passed & ~verdict.host):
            m.d.sync += self.dropped_pipeline.eq(self.dropped_pipeline + 1)
        with m.If(fresh & ~verdict.passed & verdict.host):
            m.d.sync += self.dropped_host.eq(self.dropped_host + 1)
        with m.If(arm & second & ~arm_ok):
            m.d.sync += self.arm_failures.eq(self.arm_failures + 1)
        return m
