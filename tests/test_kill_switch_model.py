"""The kill-switch model, rule by rule, at the boundaries of each rule."""

from dataclasses import dataclass, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from host.model.kill_switch import (
    ALL_REASONS,
    MASK32,
    InvalidEvent,
    KillSwitch,
    KillSwitchError,
    LimitOutOfRange,
    Limits,
    OrderSource,
    TimeWentBackwards,
    TripReason,
)

R = TripReason
PIPE, HOST = OrderSource.PIPELINE, OrderSource.HOST
BUY, SELL = 1, 2
OPEN = Limits(heartbeat_timeout=0, rate_tokens=1000, rate_window=1, max_qty=1000,
              max_notional=10**12, collar_bp=100, max_rejects=3, max_position=100)


@dataclass
class Order:
    market_id: int = 0
    side: int = BUY
    price: int = 1000
    qty: int = 1


def armed_switch(limits: Limits = OPEN, now: int = 10) -> KillSwitch:
    """A switch armed at time `now`, with a book of 990 / 1000 in market 0."""
    ks = KillSwitch(limits)
    ks.book_top(0, 990, 1000, now - 3)
    ks.clear(int(ALL_REASONS), now - 2)
    ks.arm(0x1234, now - 1)
    assert ks.arm(~0x1234 & MASK32, now)
    return ks


def test_starts_tripped_and_drops_everything():
    ks = KillSwitch(OPEN, now=5)
    assert not ks.order(Order(), PIPE, 6).passed
    assert not ks.order(Order(), HOST, 7).passed
    s = ks.snapshot(8)
    assert (s.armed, s.reasons, s.trip_time) == (False, R.RESET, 5)
    assert (s.passed, s.dropped_pipeline, s.dropped_host) == (0, 1, 1)


def test_arm_needs_the_complement_next_and_no_reasons():
    ks = KillSwitch(OPEN)
    ks.arm(7, 1)
    assert not ks.arm(~7 & MASK32, 2)  # RESET still latched
    ks.clear(R.RESET, 3)
    ks.arm(7, 4)
    assert not ks.arm(8, 5)  # not the complement; the sequence starts over
    assert not ks.arm(~7 & MASK32, 6)  # this is now a nonce, not a complement
    assert ks.snapshot(7).arm_pending
    assert not ks.arm(5, 8)
    ks.arm(9, 9)
    assert ks.arm(~9 & MASK32, 10)
    assert ks.snapshot(11).arm_failures == 3


def test_trip_time_is_the_first_trip_since_armed():
    ks = armed_switch()
    ks.kill(20)
    ks.order(Order(qty=0), PIPE, 21)
    s = ks.snapshot(22)
    assert (s.trip_time, s.reasons) == (20, R.MANUAL)  # orders are not checked once tripped
    ks.clear(R.MANUAL, 30)
    ks.arm(1, 31)
    ks.arm(~1 & MASK32, 32)
    ks.order(Order(qty=0), HOST, 40)
    assert ks.snapshot(41).trip_time == 40


def test_qty_limits():
    for qty, trips in ((1000, False), (1001, True), (0, True), (-5, True)):
        verdict = armed_switch().order(Order(qty=qty), PIPE, 11)
        assert bool(verdict.tripped & R.QTY) == trips, qty
        assert verdict.passed == (not trips)
    # Beyond the gateware's 31 bits trips even under a 32-bit max_qty.
    verdict = armed_switch(replace(OPEN, max_qty=MASK32)).order(Order(qty=1 << 31), PIPE, 11)
    assert verdict.tripped == R.QTY


def test_notional_uses_the_price_magnitude_and_is_inclusive():
    limits = replace(OPEN, max_notional=1000 * 7, collar_bp=65535)
    ks = armed_switch(limits)
    assert ks.order(Order(price=1000, qty=7), PIPE, 11).passed
    assert ks.order(Order(price=1001, qty=7), PIPE, 12).tripped == R.NOTIONAL
    ks = armed_switch(limits)
    ks.book_top(0, -1000, -1000, 10)
    assert ks.order(Order(price=-1001, qty=7), PIPE, 11).tripped == R.NOTIONAL
    # Out of the gateware's range: QTY or COLLAR says so, NOTIONAL is not evaluated.
    ks = armed_switch(replace(limits, max_notional=0))
    assert ks.order(Order(qty=1 << 31), PIPE, 11).tripped == R.QTY


def test_collar_boundary_and_sides():
    ks = armed_switch()  # bid 990, ask 1000, 100 bp
    assert ks.order(Order(side=BUY, price=1010), PIPE, 11).passed  # 10 x 10000 == 100 x 1000
    assert ks.order(Order(side=SELL, price=981), PIPE, 12).passed  # 9 x 10000 <= 100 x 990
    assert ks.order(Order(side=BUY, price=990), PIPE, 13).passed
    assert ks.order(Order(side=BUY, price=1011), PIPE, 14).tripped == R.COLLAR
    for bad in (Order(side=SELL, price=980), Order(market_id=1), Order(market_id=256),
                Order(side=3), Order(price=1 << 31)):
        ks = armed_switch()
        assert ks.order(bad, PIPE, 11).tripped & R.COLLAR, bad


def test_an_empty_side_or_a_new_collar_leaves_no_reference():
    ks = armed_switch()
    ks.book_top(0, 990, None, 11)
    assert ks.order(Order(side=BUY), PIPE, 11).tripped == R.COLLAR
    ks = armed_switch()
    ks.configure(replace(OPEN, collar_bp=101), 11)
    assert ks.order(Order(side=BUY), PIPE, 11).tripped == R.COLLAR
    ks = armed_switch()
    ks.configure(replace(OPEN, collar_bp=101), 11)
    ks.book_top(0, 990, 1000, 11)
    assert ks.order(Order(side=BUY), PIPE, 11).passed


def test_token_bucket_allows_a_burst_of_n():
    # 2 tokens per 10 time units; the bucket starts empty and is full (2 tokens) by time 10.
    ks = armed_switch(replace(OPEN, rate_tokens=2, rate_window=10), now=22)
    assert ks.order(Order(), PIPE, 23).passed
    assert ks.order(Order(), PIPE, 24).passed
    verdict = ks.order(Order(), PIPE, 25)
    assert (verdict.passed, verdict.tripped) == (False, R.RATE)
    assert ks.snapshot(26).reasons == R.RATE


def test_token_refill_is_exact():
    for when, ok in ((105, False), (106, True)):
        ks = armed_switch(replace(OPEN, rate_tokens=2, rate_window=10), now=100)
        ks.order(Order(), PIPE, 101)
        ks.order(Order(), PIPE, 101)  # the second order at the same time finds 1 token left
        assert ks.order(Order(), PIPE, when).passed == ok  # 2 per unit: 10 takes 5 units


def test_rate_window_zero_disables_and_zero_tokens_blocks():
    assert armed_switch(replace(OPEN, rate_window=0)).order(Order(), PIPE, 11).passed
    ks = armed_switch(replace(OPEN, rate_tokens=0, rate_window=5))
    assert ks.order(Order(), PIPE, 11).tripped == R.RATE


def test_watchdog_deadline_is_exact():
    limits = replace(OPEN, heartbeat_timeout=100)
    ks = armed_switch(limits)
    ks.heartbeat(50)
    ks.heartbeat(150)  # exactly at the deadline: in time
    assert ks.snapshot(250).armed  # the next deadline, 250, is still in the future
    s = ks.snapshot(251)
    assert (s.armed, s.reasons, s.trip_time) == (False, R.WATCHDOG, 250)
    ks.clear(R.WATCHDOG, 300)  # restarts the timer
    assert ks.snapshot(400).reasons == 0
    assert ks.snapshot(401).reasons == R.WATCHDOG


def test_watchdog_enabled_late_trips_at_once_and_zero_disables():
    ks = armed_switch(OPEN)
    assert ks.snapshot(10_000).armed
    ks.configure(replace(OPEN, heartbeat_timeout=5), 10_000)
    s = ks.snapshot(10_001)
    assert (s.reasons, s.trip_time) == (R.WATCHDOG, 10_000)


def test_rejects_run_and_ack():
    ks = armed_switch()
    ks.reject(11)
    ks.reject(12)
    ks.ack(13)
    ks.reject(14)
    ks.reject(15)
    assert ks.snapshot(16).armed
    ks.reject(16)
    s = ks.snapshot(17)
    assert (s.reasons, s.trip_time) == (R.REJECTS, 16)
    ks.clear(R.REJECTS, 18)
    ks.reject(19)
    assert ks.snapshot(20).reasons == 0
    ks = armed_switch(replace(OPEN, max_rejects=0))
    for t in range(11, 30):
        ks.reject(t)
    assert ks.snapshot(30).armed


def test_position_limit_blocks_clearing_until_back_inside():
    ks = armed_switch()
    ks.fill(3, BUY, 100, 11)
    ks.fill(4, SELL, 60, 12)
    assert ks.snapshot(13).armed and ks.position(4) == -60
    ks.fill(4, SELL, 41, 13)
    assert ks.snapshot(14).reasons == R.POSITION
    ks.clear(R.POSITION, 15)
    assert ks.snapshot(16).reasons == R.POSITION
    ks.fill(4, BUY, 1, 16)
    ks.clear(R.POSITION, 17)
    assert ks.snapshot(18).reasons == 0


def test_kill_pin_blocks_clearing_manual():
    ks = armed_switch()
    ks.kill_pin(True, 11)
    assert ks.snapshot(11).armed  # the pin latches when its step ends
    s = ks.snapshot(12)
    assert (s.reasons, s.trip_time) == (R.MANUAL, 11)
    ks.clear(R.MANUAL, 13)
    assert ks.snapshot(14).reasons == R.MANUAL
    ks.kill_pin(False, 14)
    ks.clear(R.MANUAL, 14)
    assert ks.snapshot(15).reasons == 0


def test_same_step_order_then_event():
    ks = armed_switch()
    ks.order(Order(qty=0), PIPE, 11)
    ks.clear(R.QTY, 11)  # the order's trip came first, so the clear clears it
    assert ks.snapshot(12).reasons == 0


def test_bad_inputs_raise_typed_errors_and_change_nothing():
    ks = armed_switch()
    before = ks.snapshot(11)
    for call in (lambda: ks.event(4, 0, BUY, 1, 11), lambda: ks.fill(0, 3, 1, 11),
                 lambda: ks.fill(0, BUY, 1 << 32, 11), lambda: ks.arm(1 << 32, 11),
                 lambda: ks.book_top(256, 1, 2, 11), lambda: ks.book_top(0, 1 << 31, 2, 11)):
        with pytest.raises(KillSwitchError) as err:
            call()
        assert err.value.reason in ("bad_event", "bad_input")
    assert ks.snapshot(11) == before
    with pytest.raises(TimeWentBackwards):
        ks.heartbeat(10)
    with pytest.raises(LimitOutOfRange):
        Limits(max_qty=1 << 32)
    with pytest.raises(InvalidEvent):
        ks.event(0, 0, BUY, 1, 12)


def test_every_reason_has_a_doc():
    assert all(reason.doc for reason in TripReason)
    assert int(ALL_REASONS) == (1 << len(TripReason)) - 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from(
    ["order", "kill", "clear", "arm", "heartbeat", "reject", "fill", "pin"]),
    st.integers(0, MASK32)), max_size=60))
def test_nothing_passes_unless_armed_with_no_reasons(steps):
    ks = armed_switch(replace(OPEN, heartbeat_timeout=7))
    now = 10
    for gap, what, value in steps:
        now += gap
        was = ks.snapshot(now)
        if what == "order":
            verdict = ks.order(Order(price=1000 + value % 7, qty=value % 3), PIPE, now)
            assert not verdict.passed or (was.armed and not was.reasons)
        elif what == "kill":
            ks.kill(now)
        elif what == "clear":
            ks.clear(value & int(ALL_REASONS), now)
        elif what == "arm":
            ks.arm(value if value % 2 else ~was.arm_pending & MASK32, now)
        elif what == "heartbeat":
            ks.heartbeat(now)
        elif what == "reject":
            ks.reject(now)
        elif what == "fill":
            ks.fill(value % 4, BUY if value % 2 else SELL, value % 80, now)
        else:
            ks.kill_pin(bool(value % 2), now)
        s = ks.snapshot(now)
        assert not (s.armed and s.reasons)
