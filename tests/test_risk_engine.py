"""The risk engine: each denial reason, each trip, the states and the ways out of them."""

from dataclasses import replace
from pathlib import Path

import pytest

from host.risk.config import Backoff, RiskConfig
from host.risk.engine import RiskEngine
from host.risk.outcomes import ALLOW
from host.risk.reasons import DenyReason, EventKind, RiskState, Trip
from host.strategy.actions import CancelAll, PlaceOrder
from host.venue_client.events import OrderType, Side
from host.venue_client.markets import UnknownMarket
from tests.risk_fixtures import BTC, CONFIG, MARKETS, MS, PX, T0, WALL, S, check, engine, fill
from tests.risk_fixtures import order as mk

D, K = DenyReason, EventKind
HALT_ALL = (CancelAll(None, "risk"),)


def kinds(events):
    return [(e.kind, e.reason) for e in events]


def test_a_plain_order_passes_with_no_events():
    eng = engine()
    assert check(eng) is ALLOW
    s = eng.status()
    assert (s.state, s.checks, s.allowed, s.denied) == (RiskState.ACTIVE, 1, 1, {})


@pytest.mark.parametrize("req, reason", [
    (mk(market="DOGE-PERP"), D.UNKNOWN_MARKET),
    (mk(qty=0), D.INVALID_ORDER),
    (mk(qty=-3), D.INVALID_ORDER),
    (mk(qty=1.5), D.INVALID_ORDER),
    (mk(price=None), D.INVALID_ORDER),             # a limit order needs a price
    (mk(price=0, order_type=OrderType.POST_ONLY), D.INVALID_ORDER),
    (mk(price=None, order_type=OrderType.IOC), D.INVALID_ORDER),
    (PlaceOrder(BTC, "buy", 1, PX), D.INVALID_ORDER),          # a str, not a Side
])
def test_malformed_orders_are_denied_not_raised(req, reason):
    eng = engine()
    verdict = check(eng, req)
    assert not verdict.allowed and verdict.reason is reason and verdict.detail
    assert eng.state is RiskState.ACTIVE and check(eng) is ALLOW  # nothing else harmed


def test_stale_market_data_is_denied_past_the_threshold_only():
    eng = engine()
    assert check(eng, age_ns=50 * MS) is ALLOW
    verdict = check(eng, age_ns=50 * MS + 1)
    assert verdict.reason is D.STALE_MARKET_DATA
    assert check(eng, age_ns=10**18).reason is D.STALE_MARKET_DATA  # never had data
    tight = engine(replace(CONFIG, stale_market_data_ms=5.0))
    assert check(tight, age_ns=5 * MS + 1).reason is D.STALE_MARKET_DATA
    assert eng.state is RiskState.ACTIVE


def test_rate_limit_reject_backs_off_exponentially_up_to_the_cap_and_an_ack_resets_it():
    eng = engine(replace(CONFIG, backoff=Backoff(base_s=0.1, cap_s=0.3)))
    ev = eng.on_reject("order_rate_limited", T0)
    assert kinds(ev) == [(K.BACKOFF, Trip.RATE_LIMITED)] and ev[0].detail["delay_ns"] == 100 * MS
    assert check(eng, at=T0 + 100 * MS - 1).reason is D.RATE_LIMIT_BACKOFF
    assert check(eng, at=T0 + 100 * MS) is ALLOW
    t = T0 + 200 * MS
    assert eng.on_reject("order_rate_limited", t)[0].detail["delay_ns"] == 200 * MS
    assert eng.on_reject("order_rate_limited", t)[0].detail["delay_ns"] == 300 * MS  # capped
    assert check(eng, at=t + 300 * MS - 1).reason is D.RATE_LIMIT_BACKOFF
    assert eng.status().backoff_until_ns == t + 300 * MS
    eng.on_ack(t + 300 * MS)
    assert eng.on_reject("order_rate_limited", t + 301 * MS)[0].detail["delay_ns"] == 100 * MS


def test_http_429_honours_retry_after_when_longer():
    eng = engine()
    ev = eng.on_http_429(2.0, T0)
    assert ev[0].detail["delay_ns"] == 2 * S
    assert check(eng, at=T0 + 2 * S - 1).reason is D.RATE_LIMIT_BACKOFF
    assert check(eng, at=T0 + 2 * S) is ALLOW
    assert eng.on_http_429(None, T0 + 3 * S)[0].detail["delay_ns"] == 200 * MS  # 2nd in a row


def test_consecutive_rejects_halt_at_n_and_an_ack_ends_the_run():
    eng = engine()
    for _ in range(4):
        assert eng.on_reject("insufficient_margin", T0) == []
    eng.on_ack(T0 + 1)
    for _ in range(4):
        assert eng.on_reject("venue_busy", T0 + 2) == []
    assert eng.status().consecutive_rejects == 4
    # The ignored code neither counts nor ends the run.
    assert eng.on_reject("post_only_would_cross", T0 + 3) == []
    ev = eng.on_reject("market_halted", T0 + 4)
    assert kinds(ev) == [(K.HALTED, Trip.CONSECUTIVE_REJECTS)]
    assert ev[0].actions == HALT_ALL and ev[0].detail["last_code"] == "market_halted"
    assert check(eng, at=T0 + 5).reason is D.HALTED
    assert eng.status().halt_reasons == ("consecutive_rejects",)


def test_pre_trade_position_limit_denies_growth_but_not_reduction():
    eng = engine()
    assert check(eng, mk(qty=99)) is ALLOW                # 99 lots ~ 5,940 USD
    assert check(eng, mk(qty=100)).reason is D.POSITION_LIMIT  # 6,000.1 USD
    assert check(eng, mk(qty=10), position=95).reason is D.POSITION_LIMIT
    assert check(eng, mk(Side.SELL, qty=10, price=PX - 10), position=150) is ALLOW
    assert check(eng, mk(Side.SELL, qty=10, price=PX - 10), position=-95).reason is \
        D.POSITION_LIMIT
    assert eng.state is RiskState.ACTIVE


def test_reducing_after_a_fill_over_the_limit_and_back_to_active_when_under():
    eng = engine()
    ev = eng.on_fill(fill(Side.BUY, 101), T0 + 1)          # 6,060 USD at the mark
    assert kinds(ev) == [(K.REDUCING, Trip.POSITION_LIMIT)] and ev[0].actions == HALT_ALL
    assert eng.state is RiskState.REDUCING and eng.status().reducing_markets == (BTC,)
    assert check(eng, mk(qty=1), position=101).reason is D.REDUCE_ONLY
    # Selling more than the position would flip it: that is not reducing.
    assert check(eng, mk(Side.SELL, 102, PX - 10), position=101).reason is D.REDUCE_ONLY
    # Another market is blocked too, unless its order reduces there.
    assert check(eng, mk(market="ETH-PERP", price=300_000), position=0).reason is D.REDUCE_ONLY
    assert check(eng, mk(Side.SELL, 2, PX - 10), position=101) is ALLOW
    ev = eng.on_fill(fill(Side.SELL, 2), T0 + 2)
    assert kinds(ev) == [(K.ACTIVE, "position_back_under_limit")]
    assert eng.state is RiskState.ACTIVE and check(eng, mk(qty=1), position=98) is ALLOW


def test_a_mark_move_alone_can_enter_and_leave_reducing():
    eng = engine()
    eng.on_fill(fill(Side.BUY, 90), T0)         # 5,400 USD; +15 % is 6,210 USD, +810 PnL
    assert kinds(eng.on_mark(BTC, PX * 115 // 100, T0 + 1)) == [(K.REDUCING, Trip.POSITION_LIMIT)]
    assert kinds(eng.on_mark(BTC, PX, T0 + 2)) == [(K.ACTIVE, "position_back_under_limit")]


def test_daily_loss_halts_notifies_and_refuses_resume_until_the_day_rolls():
    eng = engine()
    eng.on_fill(fill(Side.BUY, 50), T0)                     # 0.005 USD per tick
    assert eng.on_mark(BTC, PX - 100_000, T0 + 1) == []     # exactly -500: not over
    ev = eng.on_mark(BTC, PX - 100_002, T0 + 2)
    assert kinds(ev) == [(K.HALTED, Trip.DAILY_LOSS)]
    assert ev[0].notify and ev[0].actions == HALT_ALL
    assert ev[0].detail["daily_loss_usd"] == pytest.approx(500.01)
    assert check(eng, at=T0 + 3).reason is D.HALTED
    assert kinds(eng.resume(T0 + 4)) == [(K.RESUME_REFUSED, Trip.DAILY_LOSS)]
    assert eng.state is RiskState.HALTED
    # A new UTC day starts the count over; the halt still waits for the operator.
    next_day = WALL + 86_400 * S
    assert check(eng, at=T0 + 5, age_ns=0).reason is D.HALTED
    ev = eng.resume(T0 + 6, wall_ns=next_day)
    assert [e.kind for e in ev] == [K.DAY_ROLLED, K.ACTIVE]
    assert eng.state is RiskState.ACTIVE


def test_check_notices_a_new_day_from_the_wall_clock():
    eng = engine()
    eng.on_fill(fill(Side.BUY, 50), T0)
    eng.on_mark(BTC, PX - 60_000, T0)                        # -300 today
    verdict = check(eng, at=T0 + 86_400 * S)
    assert verdict.allowed and [e.kind for e in verdict.events] == [K.DAY_ROLLED]
    assert eng.status().daily_pnl_usd == pytest.approx(0.0)
    assert eng.on_mark(BTC, PX - 140_000, T0 + 86_400 * S + 1) == []  # -200 more today


def test_check_judges_the_day_an_operator_set_not_the_one_it_saw_last():
    eng = engine()
    assert check(eng, at=T0 + 1) is ALLOW                    # the engine's day: today
    assert eng.new_day(T0 + 2, WALL + 86_400 * S)[0].kind is K.DAY_ROLLED   # now tomorrow
    verdict = check(eng, at=T0 + 3)                           # the wall clock says today
    assert verdict.allowed and [e.kind for e in verdict.events] == [K.DAY_ROLLED]
    assert verdict.events[0].detail["day"] == WALL // (86_400 * S)
    assert check(eng, at=T0 + 4) is ALLOW


def test_pnl_drawdown_from_the_high_water_mark_halts_and_resume_restarts_the_mark():
    eng = engine()
    eng.on_fill(fill(Side.BUY, 50), T0)
    assert eng.on_mark(BTC, PX + 300_000, T0 + 1) == []      # +1,500
    ev = eng.on_mark(BTC, PX + 99_998, T0 + 2)               # +499.99: 1,000.01 below peak
    assert kinds(ev) == [(K.HALTED, Trip.PNL_DRAWDOWN)] and ev[0].actions == HALT_ALL
    assert eng.status().drawdown_usd == pytest.approx(1000.01)
    assert kinds(eng.resume(T0 + 3)) == [(K.ACTIVE, "operator_resume")]
    assert eng.status().drawdown_usd == 0.0 and check(eng, at=T0 + 4) is ALLOW


def test_fees_and_realised_pnl_count_towards_the_daily_loss():
    eng = engine()
    eng.on_fill(fill(Side.BUY, 50, fee="10"), T0)
    ev = eng.on_fill(fill(Side.SELL, 50, price=PX - 98_000, fee="10"), T0 + 1)  # -490 - 20
    assert kinds(ev) == [(K.HALTED, Trip.DAILY_LOSS)]
    s = eng.status()
    assert s.realized_usd == pytest.approx(-510.0) and s.positions == {BTC: 0}


def test_circuit_breaker_throttles_then_cools_off():
    eng = engine()
    for i in range(20):
        assert check(eng, at=T0 + i * MS) is ALLOW
    verdict = check(eng, at=T0 + 20 * MS)
    assert verdict.reason is D.CIRCUIT_BREAKER
    assert kinds(verdict.events) == [(K.THROTTLED, Trip.CIRCUIT_BREAKER)]
    assert eng.status().throttled and eng.state is RiskState.ACTIVE
    # Throttled: the window must drain to under 4 before anything passes.
    t = T0 + S + 20 * MS
    assert [check(eng, at=t + i).allowed for i in range(5)] == [True] * 4 + [False]
    # The 5th refusal restarted the 2 s cool-off; 1 s later the limit is still 4.
    t2 = t + 4 + S
    assert [check(eng, at=t2 + i).allowed for i in range(5)] == [True] * 4 + [False]
    # 2 s after the last refusal: the full rate again, and the end is reported once.
    t3 = t2 + 4 + 2 * S
    verdict = check(eng, at=t3)
    assert verdict.allowed and kinds(verdict.events) == [(K.THROTTLE_ENDED, "circuit_breaker")]
    assert all(check(eng, at=t3 + 1 + i).allowed for i in range(19))


@pytest.mark.parametrize("hardware, req, position, reason", [
    (dict(), mk(Side.SELL, 1_001, PX - 10), 2_000, D.HW_QTY),
    (dict(), mk(price=PX + 10 + 6_001), 0, D.HW_COLLAR),
    (dict(), mk(Side.SELL, price=PX - 10 - 6_001), 0, D.HW_COLLAR),
    (dict(max_notional=(PX + 10) * 5), mk(qty=6), 0, D.HW_NOTIONAL),
    (dict(collar_bp=100), mk(market="ETH-PERP", price=300_000), 0, D.HW_COLLAR),  # no book
])
def test_hardware_rules_deny_and_halt_as_the_kill_switch_latches(hardware, req, position,
                                                                 reason):
    config = replace(CONFIG, max_position_usd=1e12, hardware=replace(CONFIG.hardware,
                                                                     **hardware))
    eng = engine(config)
    assert check(eng, mk(qty=5)) is ALLOW                    # the boundary case passes
    verdict = check(eng, req, at=T0 + 1, position=position)
    assert verdict.reason is reason
    assert kinds(verdict.events) == [(K.HALTED, Trip(str(reason)))]
    assert verdict.events[0].actions == HALT_ALL
    assert check(eng, at=T0 + 2).reason is D.HALTED
    assert kinds(eng.resume(T0 + 3)) == [(K.ACTIVE, "operator_resume")]
    assert check(eng, at=T0 + 4) is ALLOW


def test_hardware_rate_trips_when_the_breaker_is_set_above_it():
    config = replace(CONFIG, hardware=replace(CONFIG.hardware, rate_tokens=3))
    eng = engine(config)
    assert [check(eng, at=T0 + i).allowed for i in range(3)] == [True] * 3
    verdict = check(eng, at=T0 + 3)
    assert verdict.reason is D.HW_RATE and kinds(verdict.events) == [(K.HALTED, Trip.HW_RATE)]


def test_hardware_position_in_lots_halts_and_resume_waits_until_back_inside():
    config = replace(CONFIG, max_position_usd=1e12)
    eng = engine(config)
    ev = eng.on_fill(fill(Side.BUY, 1_001), T0 + 1)
    assert kinds(ev) == [(K.HALTED, Trip.HW_POSITION)] and ev[0].actions == HALT_ALL
    assert kinds(eng.resume(T0 + 2)) == [(K.RESUME_REFUSED, Trip.HW_POSITION)]
    eng.on_fill(fill(Side.SELL, 2), T0 + 3)
    assert kinds(eng.resume(T0 + 4)) == [(K.ACTIVE, "operator_resume")]


def test_manual_kill_halts_cancels_everything_and_only_resume_leaves():
    eng = engine()
    ev = eng.kill("operator via control socket", T0 + 1)
    assert kinds(ev) == [(K.HALTED, Trip.MANUAL)] and ev[0].actions == HALT_ALL
    assert ev[0].detail == {"by": "operator via control socket"}
    # Nothing but an operator gets it out: time, acks, marks, a new day.
    eng.on_ack(T0 + 2)
    eng.on_mark(BTC, PX, T0 + 3)
    eng.new_day(T0 + 4, WALL + 86_400 * S)
    assert check(eng, at=T0 + 10 * S, age_ns=0).reason is D.HALTED
    assert eng.state is RiskState.HALTED
    assert eng.resume(T0 + 11 * S)[0].kind is K.ACTIVE
    assert check(eng, at=T0 + 11 * S + 1) is ALLOW


def test_a_second_trip_while_halted_is_journaled_without_a_second_cancel_all():
    eng = engine()
    eng.kill("ops", T0)
    for _ in range(4):
        eng.on_reject("venue_busy", T0 + 1)
    ev = eng.on_reject("venue_busy", T0 + 2)
    assert kinds(ev) == [(K.HALTED, Trip.CONSECUTIVE_REJECTS)] and ev[0].actions == ()
    assert eng.status().halt_reasons == ("manual", "consecutive_rejects")
    assert eng.on_reject("venue_busy", T0 + 3) == []      # the same trip is not repeated
    assert eng.resume(T0 + 4)[0].detail == {"cleared": ["manual", "consecutive_rejects"]}


def test_resume_into_reducing_when_a_position_is_still_over():
    eng = engine()
    eng.on_fill(fill(Side.BUY, 101), T0)
    eng.kill("ops", T0 + 1)
    ev = eng.resume(T0 + 2)
    assert [e.kind for e in ev] == [K.ACTIVE, K.REDUCING] and eng.state is RiskState.REDUCING


def test_resume_when_not_halted_does_nothing():
    eng = engine()
    assert eng.resume(T0 + 1) == [] and eng.state is RiskState.ACTIVE


def test_earlier_times_are_taken_as_the_latest_seen():
    eng = engine()
    eng.kill("ops", T0 + 5 * S)
    assert check(eng, at=T0).reason is D.HALTED              # no TimeWentBackwards
    eng.on_ack(T0 + 1)
    assert eng.resume(T0 + 2)[0].now_ns == T0 + 5 * S


def test_market_orders_are_judged_at_the_touch():
    eng = engine()
    assert check(eng, mk(price=None, order_type=OrderType.MARKET)) is ALLOW
    assert check(eng, mk(qty=100, price=None, order_type=OrderType.MARKET)).reason is \
        D.POSITION_LIMIT


def test_unknown_markets_in_inputs_raise_typed_errors():
    eng = engine()
    with pytest.raises(UnknownMarket):
        eng.on_mark("DOGE-PERP", 1, T0)
    with pytest.raises(UnknownMarket):
        eng.on_fill(fill(Side.BUY, 1, market="DOGE-PERP"), T0)
    assert eng.state is RiskState.ACTIVE


def test_restored_positions_count_and_one_over_the_hardware_limit_starts_halted():
    eng = RiskEngine(CONFIG, MARKETS, T0, positions={BTC: 30})
    assert eng.status().positions == {BTC: 30} and eng.startup_events() == []
    eng = RiskEngine(CONFIG, MARKETS, T0, positions={BTC: -1_001})
    ev = eng.startup_events()
    assert eng.state is RiskState.HALTED and kinds(ev) == [(K.HALTED, Trip.HW_POSITION)]


def test_status_is_json_ready():
    eng = engine()
    check(eng, mk(qty=100))
    d = eng.status().as_dict()
    assert d["state"] == "active" and d["denied"] == {"position_limit": 1}
    import json

    json.dumps(d)


def test_every_deny_reason_and_trip_is_exercised_here():
    """A new reason needs a test: this file must name each one."""
    src = Path(__file__).read_text()
    for reason in DenyReason:
        assert f"D.{reason.name}" in src, reason
    for trip in Trip:
        assert f"Trip.{trip.name}" in src or trip.name.startswith("HW_"), trip


def test_config_defaults_are_the_seed_and_issue_values():
    c = RiskConfig()
    assert (c.max_consecutive_rejects, c.stale_market_data_ms, c.max_position_usd,
            c.max_daily_loss_usd) == (5, 50.0, 5_000.0, 500.0)
    assert c.model_limits.max_rejects == 5 and c.model_limits.heartbeat_timeout == 0


def test_a_kill_always_cancels_everything_even_when_already_halted():
    eng = engine()
    eng.kill("first", T0)
    ev = eng.kill("again", T0 + 1)
    assert kinds(ev) == [(K.HALTED, Trip.MANUAL)] and ev[0].actions == HALT_ALL
    for _ in range(5):
        eng.on_reject("venue_busy", T0 + 2)
    eng2 = engine()
    for _ in range(5):
        eng2.on_reject("venue_busy", T0)
    assert eng2.kill("ops", T0 + 1)[0].actions == HALT_ALL


def test_restored_position_over_the_usd_limit_starts_reducing():
    eng = RiskEngine(CONFIG, MARKETS, T0, positions={BTC: _Pos(200, PX)})
    assert eng.state is RiskState.REDUCING
    assert kinds(eng.startup_events()) == [(K.REDUCING, Trip.POSITION_LIMIT)]


class _Pos:
    def __init__(self, qty, avg_price):
        self.qty, self.avg_price = qty, avg_price
