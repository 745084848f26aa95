"""The sans-I/O venue session, without a loop or a socket: every transition of its table,
every illegal input (a typed error, nothing changed), liveness, backoff and book resync."""

from __future__ import annotations

import itertools
import random

import orjson
import pytest

from host.venue_client.book import SequenceGap, TopOfBook
from host.venue_client.errors import ProtocolError
from host.venue_client.events import AuthOk, OrderType, Pong, Side, Subscribed, Ticker
from host.venue_client.markets import MarketTable, UnknownMarket
from host.venue_client.session import (
    TRANSITIONS,
    Backoff,
    Close,
    ConfigError,
    Connect,
    Deliver,
    IllegalInput,
    Input,
    NotLive,
    ReconnectAfter,
    Resync,
    Send,
    Session,
    SessionConfig,
    State,
    StateChanged,
    Subscription,
)
from sim.venue import DEFAULT_MARKETS, protocol

MARKETS = MarketTable.from_json([spec.describe() for spec in DEFAULT_MARKETS])
KEY = "pf_secret_key_for_tests"
MS = 1_000_000
S = 1_000_000_000
SUBS = (Subscription("orderbook", ("BTC-PERP", "ETH-PERP"), 10),
        Subscription("ticker", ("BTC-PERP",)), Subscription("orders"))
CONFIG = SessionConfig(connect_timeout_s=1, handshake_timeout_s=2, ping_interval_s=5,
                       pong_timeout_s=3, backoff_base_s=0.1, backoff_cap_s=2,
                       backoff_jitter=0.5, healthy_after_s=30, seed=7)


def frame(**fields) -> bytes:
    return orjson.dumps(fields)


AUTH_OK = frame(type="auth_ok", agent_id="a", account_id=1)


def subscribed(channel, market=None, depth=None) -> bytes:
    fields = {"type": "subscribed", "channel": channel}
    if market:
        fields["market"] = market
    if depth:
        fields["depth"] = depth
    return frame(**fields)


ACKS = [subscribed("orderbook", "BTC-PERP", 10), subscribed("orderbook", "ETH-PERP", 10),
        subscribed("ticker", "BTC-PERP"), subscribed("orders")]


def snapshot(market, seq, bid, ask):
    return frame(type="orderbook", market=market, depth=10, sequence=seq, rpt_seq=1,
                 bids=[[bid, 1.0]], asks=[[ask, 1.0]], ts_ns=1)


def update(market, seq, bids=(), asks=()):
    return frame(type="book_update", market=market, depth=10, sequence=seq,
                 bids=[list(b) for b in bids], asks=[list(a) for a in asks], ts_ns=2)


def new_session(subs=SUBS, config=CONFIG) -> Session:
    return Session(KEY, MARKETS, subs, config)


def drive(state: State, subs=SUBS) -> Session:
    """A session brought to `state` through the public inputs; the clock is at 10 ms."""
    s = new_session(subs)
    if state is State.CLOSED:
        return s
    s.start(0)
    if state is State.CONNECTING:
        return s
    if state is State.BACKOFF:
        s.lost("refused", 1 * MS)
        return s
    s.connected(1 * MS)
    if state is State.AUTHENTICATING:
        return s
    s.receive(AUTH_OK, 2 * MS)
    if state is State.SUBSCRIBING:
        return s
    for ack in ACKS:
        s.receive(ack, 3 * MS)
    assert s.state is State.LIVE
    return s


def states(actions):
    return [(a.old, a.new) for a in actions if isinstance(a, StateChanged)]


def of(actions, cls):
    return [a for a in actions if isinstance(a, cls)]


# -- the happy path, action by action ------------------------------------------------------

def test_start_to_live_emits_exactly_these_actions():
    s = new_session()
    assert s.start(0) == [StateChanged(State.CLOSED, State.CONNECTING), Connect()]
    out = s.connected(1 * MS)
    assert out[0] == StateChanged(State.CONNECTING, State.AUTHENTICATING)
    assert isinstance(out[1], Send) and out[1].secret
    assert orjson.loads(out[1].text) == {"type": "auth", "api_key": KEY}
    out = s.receive(AUTH_OK, 2 * MS)
    assert out[:2] == [StateChanged(State.AUTHENTICATING, State.SUBSCRIBING),
                       Deliver(AuthOk("a", "1"))]
    sent = [protocol.decode(a.text) for a in out[2:]]
    assert [(c.channels, c.markets, c.depth) for c in sent] == [
        (("orderbook",), ("BTC-PERP", "ETH-PERP"), 10), (("ticker",), ("BTC-PERP",), None),
        (("orders",), (), None)]
    for ack in ACKS[:-1]:
        assert states(s.receive(ack, 3 * MS)) == []
    out = s.receive(ACKS[-1], 3 * MS)
    assert out == [Deliver(Subscribed("orders", None, None)),
                   StateChanged(State.SUBSCRIBING, State.LIVE)]
    assert s.next_deadline_ns() == 3 * MS + 5 * S  # the first ping


def test_without_subscriptions_auth_ok_goes_straight_to_live():
    s = drive(State.AUTHENTICATING, subs=())
    out = s.receive(AUTH_OK, 2 * MS)
    assert states(out) == [(State.AUTHENTICATING, State.SUBSCRIBING),
                           (State.SUBSCRIBING, State.LIVE)]


# -- the table: external inputs are legal exactly where the table says ---------------------

def _apply(s: Session, event: Input):
    if event is Input.START:
        return s.start(50 * MS)
    if event is Input.CONNECTED:
        return s.connected(50 * MS)
    if event is Input.LOST:
        return s.lost("test", 50 * MS)
    if event is Input.CLOSE:
        return s.close("test")
    if event is Input.TEXT:
        return s.receive(frame(type="pong", ts_ns=1), 50 * MS)
    if event is Input.ORDER:
        return s.order("o1", "BTC-PERP", Side.BUY, 1, 600000, OrderType.LIMIT)
    raise AssertionError(event)


EXTERNAL = (Input.START, Input.CONNECTED, Input.LOST, Input.CLOSE, Input.TEXT, Input.ORDER)


@pytest.mark.parametrize("state, event", list(itertools.product(State, EXTERNAL)),
                         ids=lambda x: x.value)
def test_each_external_input_in_each_state(state, event):
    s = drive(state)
    target = TRANSITIONS.get((state, event))
    if target is None:
        error = NotLive if event is Input.ORDER else IllegalInput
        with pytest.raises(error) as caught:
            _apply(s, event)
        assert (caught.value.state, caught.value.input) == (state, event)
        assert caught.value.reason in ("illegal_input", "not_live")
        assert s.state is state  # nothing changed
    else:
        _apply(s, event)
        assert s.state is target


C, G, A, B, L, K = (State.CLOSED, State.CONNECTING, State.AUTHENTICATING, State.SUBSCRIBING,
                    State.LIVE, State.BACKOFF)
# The specification, written out independently of the module's table.
EXPECTED_EXTERNAL = {
    (C, Input.START): G, (G, Input.CONNECTED): A,
    (G, Input.LOST): K, (A, Input.LOST): K, (B, Input.LOST): K, (L, Input.LOST): K,
    **{(state, Input.CLOSE): C for state in State},
    (A, Input.TEXT): A, (B, Input.TEXT): B, (L, Input.TEXT): L, (L, Input.ORDER): L,
}


def test_the_table_is_the_specification():
    external = {k: v for k, v in TRANSITIONS.items() if k[1] in EXTERNAL}
    assert external == EXPECTED_EXTERNAL
    internal = {k: v for k, v in TRANSITIONS.items() if k[1] not in EXTERNAL}
    assert internal == {
        (A, Input.AUTH_OK): B, (B, Input.SUBSCRIBED_ALL): L, (A, Input.AUTH_REFUSED): C,
        (B, Input.SUBSCRIBE_REFUSED): C, (G, Input.TIMEOUT): K, (A, Input.TIMEOUT): K,
        (B, Input.TIMEOUT): K, (L, Input.PONG_OVERDUE): K, (K, Input.RETRY_DUE): G}


def test_every_state_is_reachable_and_every_transition_is_exercised():
    reached = {s for s, _ in TRANSITIONS} | set(TRANSITIONS.values())
    assert reached == set(State)
    internal = {event for _, event in TRANSITIONS} - set(EXTERNAL)
    # Each of these has its own test below, named after it.
    assert internal == {Input.AUTH_OK, Input.AUTH_REFUSED, Input.SUBSCRIBED_ALL,
                        Input.SUBSCRIBE_REFUSED, Input.TIMEOUT, Input.PONG_OVERDUE,
                        Input.RETRY_DUE}


def test_cancels_are_live_only_too():
    for state in State:
        s = drive(state)
        if state is State.LIVE:
            assert protocol.decode(s.cancel("o1")).order_id == "o1"
            assert protocol.decode(s.cancel_all("BTC-PERP")).market == "BTC-PERP"
            assert protocol.decode(s.cancel_all()).market is None
        else:
            with pytest.raises(NotLive):
                s.cancel("o1")
            with pytest.raises(NotLive):
                s.cancel_all()


# -- internal inputs -----------------------------------------------------------------------

def test_auth_refused_closes_for_good():
    s = drive(State.AUTHENTICATING)
    out = s.receive(frame(type="error", code="bad_api_key", message="unknown API key"), 2 * MS)
    assert states(out) == [(State.AUTHENTICATING, State.CLOSED)]
    assert of(out, Close) == [Close("bad_api_key", fatal=True)]
    assert s.next_deadline_ns() is None
    assert s.timer(100 * S) == []  # no reconnect
    assert states(s.start(200 * S)) == [(State.CLOSED, State.CONNECTING)]  # may start again


def test_other_errors_while_authenticating_are_delivered_only():
    s = drive(State.AUTHENTICATING)
    out = s.receive(frame(type="error", code="bad_json", message="x"), 2 * MS)
    assert states(out) == [] and s.state is State.AUTHENTICATING


def test_subscribe_refused_closes_for_good():
    s = drive(State.SUBSCRIBING)
    out = s.receive(frame(type="error", code="unknown_market", message="no", field="market"),
                    3 * MS)
    assert states(out) == [(State.SUBSCRIBING, State.CLOSED)]
    assert of(out, Close) == [Close("subscribe_refused:unknown_market", fatal=True)]


@pytest.mark.parametrize("state, limit_s, reason", [
    (State.CONNECTING, 1, "connecting_timeout"),
    (State.AUTHENTICATING, 2, "authenticating_timeout"),
    (State.SUBSCRIBING, 2, "subscribing_timeout"),
])
def test_timeout_of_each_handshake_step(state, limit_s, reason):
    s = drive(state)
    started = {State.CONNECTING: 0, State.AUTHENTICATING: 1 * MS, State.SUBSCRIBING: 2 * MS}
    deadline = started[state] + limit_s * S
    assert s.next_deadline_ns() == deadline
    assert s.timer(deadline - 1) == []
    out = s.timer(deadline)
    assert states(out) == [(state, State.BACKOFF)]
    assert of(out, Close) == [Close(reason)]
    (wait,) = of(out, ReconnectAfter)
    assert 0.05 <= wait.delay_s <= 0.1
    assert s.stats.close_reasons == {reason: 1}


def test_ping_pong_and_pong_overdue():
    s = drive(State.LIVE)
    live_at = 3 * MS
    assert s.timer(live_at + 5 * S - 1) == []
    out = s.timer(live_at + 5 * S)
    assert out == [Send('{"type":"ping"}')] and s.stats.pings == 1
    assert s.next_deadline_ns() == live_at + 8 * S  # the pong is due within 3 s
    assert s.timer(live_at + 6 * S) == []  # one ping at a time
    out = s.receive(frame(type="pong", ts_ns=9), live_at + 5 * S + 40_000)
    assert out == [Deliver(Pong(9))] and s.stats.last_rtt_ns == 40_000
    assert s.next_deadline_ns() == live_at + 10 * S
    s.timer(live_at + 10 * S)
    out = s.timer(live_at + 13 * S)
    assert states(out) == [(State.LIVE, State.BACKOFF)]
    assert of(out, Close) == [Close("pong_timeout")]
    assert len(of(out, ReconnectAfter)) == 1


def test_unsolicited_pong_is_only_delivered():
    s = drive(State.LIVE)
    assert s.receive(frame(type="pong", ts_ns=1), 4 * MS) == [Deliver(Pong(1))]
    assert s.stats.last_rtt_ns is None


def test_retry_due_reconnects_after_the_delay():
    s = drive(State.BACKOFF)
    due = s.next_deadline_ns()
    assert s.timer(due - 1) == []
    out = s.timer(due)
    assert out == [StateChanged(State.BACKOFF, State.CONNECTING), Connect()]
    assert s.next_deadline_ns() == due + 1 * S  # the connect timeout


def test_close_from_every_state():
    for state in State:
        s = drive(state)
        out = s.close("operator")
        assert s.state is State.CLOSED
        assert out[-1] == Close("operator", fatal=True)
        assert s.next_deadline_ns() is None


# -- backoff -------------------------------------------------------------------------------

def test_backoff_doubles_up_to_the_cap_without_jitter():
    b = Backoff(0.1, 1.0, 0.0, random.Random(1))
    assert [round(b.next(), 6) for _ in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    b.reset()
    assert b.next() == 0.1


def test_backoff_jitter_stays_within_its_share_and_varies():
    b = Backoff(0.1, 1.0, 0.5, random.Random(2))
    ceilings = [0.1, 0.2, 0.4, 0.8] + [1.0] * 50
    delays = [b.next() for _ in ceilings]
    assert all(c * 0.5 <= d <= c for c, d in zip(ceilings, delays, strict=True))
    assert len({round(d, 9) for d in delays[4:]}) > 40  # not all clients return at once
    for _ in range(1000):
        b.next()  # no overflow however long the venue stays away
    assert b.next() <= 1.0


def test_repeated_failures_back_off_further_and_a_healthy_session_resets():
    s = drive(State.BACKOFF)
    now = 1 * MS
    delays = [s.backoff.attempts]
    for _ in range(5):
        now = s.next_deadline_ns()
        s.timer(now)
        (wait,) = of(s.lost("refused", now), ReconnectAfter)
        delays.append(wait.delay_s)
    assert s.backoff.attempts == 6
    assert delays[-1] >= 1.0  # 2 s cap with up to half of it taken off
    # Reconnect and stay LIVE past healthy_after_s: the next failure starts small again.
    now = s.next_deadline_ns()
    s.timer(now)
    s.connected(now)
    s.receive(AUTH_OK, now)
    for ack in ACKS:
        s.receive(ack, now)
    for k in range(1, 7):  # answer pings so the link stays up for 30 s
        s.timer(now + k * 5 * S)
        s.receive(frame(type="pong", ts_ns=1), now + k * 5 * S + 1)
    (wait,) = of(s.lost("dropped", now + 31 * S), ReconnectAfter)
    assert wait.delay_s <= 0.1 and s.backoff.attempts == 1


def test_a_short_lived_connection_does_not_reset_the_backoff():
    s = drive(State.LIVE)
    s.backoff.attempts = 4
    s.lost("dropped", 5 * MS)
    assert s.backoff.attempts == 5


# -- frames in LIVE ------------------------------------------------------------------------

def _live_with_books() -> Session:
    s = drive(State.LIVE)
    s.receive(snapshot("BTC-PERP", 10, 60000.0, 60000.5), 4 * MS)
    s.receive(snapshot("ETH-PERP", 20, 2600.0, 2600.5), 4 * MS)
    return s


def test_book_messages_deliver_the_message_then_the_new_top():
    s = _live_with_books()
    out = s.receive(update("BTC-PERP", 11, bids=[(60000.1, 2.0)]), 5 * MS)
    assert [type(a.event).__name__ for a in out] == ["BookUpdate", "TopOfBook"]
    assert out[1].event == TopOfBook("BTC-PERP", 600001, 2000, 600005, 1000, 2)
    assert s.top("BTC-PERP") == out[1].event
    out = s.receive(update("BTC-PERP", 12, bids=[(59000.0, 2.0)]), 5 * MS)
    assert [type(a.event).__name__ for a in out] == ["BookUpdate"]  # top unchanged


def test_a_gap_resyncs_that_market_only():
    s = _live_with_books()
    out = s.receive(update("BTC-PERP", 12, bids=[(60000.1, 2.0)]), 5 * MS)  # 11 was lost
    gap, resync = out
    assert isinstance(gap.event, SequenceGap)
    assert (gap.event.market, gap.event.expected, gap.event.got) == ("BTC-PERP", 11, 12)
    assert isinstance(resync, Resync) and resync.market == "BTC-PERP"
    sub = protocol.decode(resync.text)
    assert (sub.channels, sub.markets, sub.depth) == (("orderbook",), ("BTC-PERP",), 10)
    assert s.top("BTC-PERP") is None  # stale until the new snapshot
    assert s.state is State.LIVE and s.stats.gaps == 1
    # ETH goes on as if nothing happened.
    out = s.receive(update("ETH-PERP", 21, asks=[(2600.25, 1.0)]), 5 * MS)
    assert out[-1].event == TopOfBook("ETH-PERP", 260000, 100, 260025, 100, 2)
    # Updates before the new snapshot wait; the snapshot then brings BTC back.
    assert s.receive(update("BTC-PERP", 13, asks=[(60000.4, 3.0)]), 6 * MS)[-1].event.market
    s.receive(subscribed("orderbook", "BTC-PERP", 10), 6 * MS)
    out = s.receive(snapshot("BTC-PERP", 12, 60000.1, 60000.5), 6 * MS)
    assert out[-1].event == TopOfBook("BTC-PERP", 600001, 1000, 600004, 3000, 2)
    assert s.stats.resyncs == 1


def test_books_of_other_depths_or_markets_pass_through():
    s = _live_with_books()
    other = frame(type="book_update", market="SOL-PERP", depth=10, sequence=99, bids=[],
                  asks=[], ts_ns=1)
    assert [type(a.event).__name__ for a in s.receive(other, 5 * MS)] == ["BookUpdate"]


def test_a_malformed_frame_is_delivered_as_its_error_and_the_session_goes_on():
    s = _live_with_books()
    (bad,) = s.receive(b'{"type": "ticker", "market": "BTC-PERP", "bid": "x"', 5 * MS)
    assert isinstance(bad.event, ProtocolError) and bad.event.reason == "bad_json"
    (bad,) = s.receive(frame(type="ticker", market="NOPE"), 5 * MS)
    assert bad.event.reason == "unknown_market"
    tick = frame(type="ticker", market="BTC-PERP", bid=60000.0, bid_qty=1.0, ask=60000.5,
                 ask_qty=1.0, ts_ns=3)
    assert s.receive(tick, 5 * MS) == [Deliver(Ticker("BTC-PERP", 600000, 1000, 600005,
                                                      1000, 3))]
    assert s.stats.malformed == 2 and s.state is State.LIVE


def test_a_reconnect_forgets_the_books_until_new_snapshots():
    s = _live_with_books()
    s.lost("dropped", 5 * MS)
    s.timer(s.next_deadline_ns())
    s.connected(s.next_deadline_ns())
    assert s.top("BTC-PERP") is None and not s.book("ETH-PERP").synced


def test_orders_encode_through_the_market_grid():
    s = drive(State.LIVE)
    text = s.order("tw1-1", "SOL-PERP", Side.SELL, 15, 150013, OrderType.POST_ONLY, 77)
    order = protocol.decode(text)
    assert (order.qty, order.price, order.side, order.order_type, order.submit_ns) == (
        "1.5", "150.013", "sell", "post_only", 77)
    with pytest.raises(UnknownMarket):
        s.order("tw1-2", "XRP-PERP", Side.BUY, 1, 1)
    with pytest.raises(UnknownMarket):
        s.cancel_all("XRP-PERP")


# -- the key and the configuration ---------------------------------------------------------

def test_the_key_never_shows_in_actions_or_the_session():
    s = new_session()
    out = s.start(0) + s.connected(1)
    assert KEY not in repr(out) and KEY not in repr(s.__dict__)
    assert "<auth frame>" in repr(out)


@pytest.mark.parametrize("kwargs", [
    {"ping_interval_s": 0}, {"pong_timeout_s": -1}, {"connect_timeout_s": "5"},
    {"backoff_base_s": 2, "backoff_cap_s": 1}, {"backoff_jitter": 1.5},
    {"healthy_after_s": True},
])
def test_bad_session_config_is_refused(kwargs):
    with pytest.raises(ConfigError) as caught:
        SessionConfig(**kwargs)
    assert caught.value.reason == "config_error"


@pytest.mark.parametrize("make", [
    lambda: Subscription("news", ("BTC-PERP",)),
    lambda: Subscription("ticker"),
    lambda: Subscription("orders", ("BTC-PERP",)),
    lambda: Subscription("orderbook", ("BTC-PERP",), 0),
    lambda: Subscription("ticker", ("BTC-PERP",), 5),
    lambda: Session(KEY, MARKETS, [Subscription("ticker", ("XRP-PERP",))]),
    lambda: Session(KEY, MARKETS, [Subscription("orderbook", ("BTC-PERP",), 10),
                                   Subscription("orderbook", ("BTC-PERP",), 20)]),
    lambda: Session(KEY, MARKETS, ["ticker"]),
])
def test_bad_subscriptions_are_refused(make):
    with pytest.raises(ConfigError):
        make()


def test_a_resync_whose_snapshot_never_comes_is_sent_again():
    s = _live_with_books()
    (_, first) = s.receive(update("BTC-PERP", 12), 5 * MS)
    assert isinstance(first, Resync)
    assert of(s.timer(5 * MS + 2 * S - 1), Resync) == []  # within handshake_timeout_s
    (again,) = of(s.timer(5 * MS + 2 * S), Resync)
    assert again == first and s.stats.resyncs == 2
    s.receive(snapshot("BTC-PERP", 30, 60000.0, 60000.5), 6 * S)
    assert of(s.timer(20 * S), Resync) == [] and s.top("BTC-PERP") is not None
