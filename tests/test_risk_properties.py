"""Properties of the circuit breaker and the engine on random input sequences."""

from hypothesis import given, settings
from hypothesis import strategies as st

from host.risk.breaker import WINDOW_NS, Breaker
from host.risk.config import CircuitBreaker
from host.risk.reasons import DenyReason, EventKind, RiskState
from host.strategy.actions import CancelAll
from host.venue_client.events import Side
from tests.risk_fixtures import BTC, CONFIG, MS, PX, T0, check, engine, fill
from tests.risk_fixtures import order as mk

gaps = st.lists(st.integers(0, 400 * MS), min_size=1, max_size=150)


@settings(max_examples=150, deadline=None)
@given(gaps=gaps, top=st.integers(1, 12), low=st.integers(1, 12),
       cool_ms=st.integers(1, 3000))
def test_breaker_never_admits_more_than_its_limits_in_any_window(gaps, top, low, cool_ms):
    low = min(low, top)
    breaker = Breaker(CircuitBreaker(top, low, cool_ms / 1000))
    now, admitted, throttled_admits = 0, [], []
    until = 0  # the reference's own cool-off deadline
    for gap in gaps:
        now += gap
        recent = [t for t in admitted if t > now - WINDOW_NS]
        throttled = now < until
        expect = len(recent) < (low if throttled else top)
        passed, engaged = breaker.admit(now)
        assert passed == expect
        if passed:
            admitted.append(now)
            if throttled:
                throttled_admits.append(now)
        else:
            assert engaged == (not throttled)
            until = now + cool_ms * MS
    for t in admitted:
        assert sum(1 for a in admitted if t - WINDOW_NS < a <= t) <= top
    for t in throttled_admits:
        assert sum(1 for a in admitted if t - WINDOW_NS < a <= t) <= low


ops = st.one_of(
    st.tuples(st.just("check"), st.sampled_from(Side), st.integers(1, 120),
              st.integers(-7_000, 7_000), st.integers(-150, 150), st.integers(0, 60 * MS)),
    st.tuples(st.just("reject"), st.sampled_from(["venue_busy", "order_rate_limited",
                                                  "post_only_would_cross"])),
    st.tuples(st.just("ack")),
    st.tuples(st.just("fill"), st.sampled_from(Side), st.integers(1, 80),
              st.integers(-150_000, 150_000)),
    st.tuples(st.just("mark"), st.integers(-150_000, 300_000)),
    st.tuples(st.just("kill")),
    st.tuples(st.just("resume")),
)


@settings(max_examples=120, deadline=None)
@given(steps=st.lists(st.tuples(st.integers(0, 300 * MS), ops), max_size=60))
def test_engine_invariants_on_random_input(steps):
    eng = engine()
    now = T0
    allowed_at = []
    for gap, op in steps:
        now += gap
        before = eng.state
        name = op[0]
        if name == "check":
            _, side, qty, offset, position, age = op
            verdict = check(eng, mk(side, qty, PX + offset), at=now, age_ns=age,
                            position=position)
            events = list(verdict.events)
            if verdict.allowed:
                allowed_at.append(now)
                assert before is not RiskState.HALTED
                if before is RiskState.REDUCING:
                    after = position + side.sign * qty
                    assert abs(after) < abs(position) and after * position >= 0
            else:
                assert isinstance(verdict.reason, DenyReason) and verdict.detail
        elif name == "reject":
            events = eng.on_reject(op[1], now)
        elif name == "ack":
            events = eng.on_ack(now)
        elif name == "fill":
            events = eng.on_fill(fill(op[1], op[2], PX + op[3]), now)
        elif name == "mark":
            events = eng.on_mark(BTC, PX + op[1], now)
        elif name == "kill":
            events = eng.kill("test", now)
        else:
            events = eng.resume(now)
        after_state = eng.state
        if before is RiskState.HALTED and name != "resume":
            assert after_state is RiskState.HALTED       # only an operator leaves halted
        entered_halt = before is not RiskState.HALTED and after_state is RiskState.HALTED
        cancels = [e for e in events if CancelAll(None, "risk") in e.actions]
        halted_events = [e for e in events if e.kind is EventKind.HALTED]
        if entered_halt:
            assert halted_events and halted_events[0].actions == (CancelAll(None, "risk"),)
            assert sum(1 for e in halted_events if e.actions) == 1
        if before is RiskState.HALTED and name != "kill":   # a kill always cancels
            assert all(not e.actions for e in halted_events)
        for e in cancels:
            assert e.kind in (EventKind.HALTED, EventKind.REDUCING)
        assert eng.status().state is after_state
    limit = CONFIG.circuit_breaker.max_orders_per_s
    for t in allowed_at:
        assert sum(1 for a in allowed_at if t - WINDOW_NS < a <= t) <= limit
