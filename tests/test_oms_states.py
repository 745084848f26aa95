"""The order state table: every declared transition, every undeclared one, through the table
and through the OMS driven by real venue events."""

from __future__ import annotations

import itertools

import pytest

from host.oms import ClientIds, IllegalTransition, Oms, OrderInput, OrderState
from host.oms.states import DECLARATION, TABLE, TERMINAL, transition
from host.strategy.actions import PlaceOrder
from tests.oms_helpers import BUY, MARKETS, ack, cancel_reject, cancelled, fill, reject

S, In = OrderState, OrderInput
ALL_PAIRS = list(itertools.product(OrderState, OrderInput))
ILLEGAL = [p for p in ALL_PAIRS if p not in TABLE]


def test_declaration_has_no_duplicates_and_terminal_states_only_loop():
    assert len({(a, b) for a, b, _, _ in DECLARATION}) == len(DECLARATION)
    for src, _inp, dst, why in DECLARATION:
        assert why
        if src in TERMINAL:
            assert dst is src, "nothing leaves a terminal state"
    assert {S.FILLED, S.CANCELLED, S.REJECTED} == TERMINAL
    assert ILLEGAL, "some inputs must be illegal"


@pytest.mark.parametrize(("src", "inp", "dst"), [(a, b, c) for a, b, c, _ in DECLARATION],
                         ids=lambda v: v.value)
def test_declared_transition(src, inp, dst):
    assert transition("x", src, inp) is dst


@pytest.mark.parametrize(("src", "inp"), ILLEGAL, ids=lambda v: v.value)
def test_undeclared_transition_raises(src, inp):
    with pytest.raises(IllegalTransition) as err:
        transition("tw1-1", src, inp)
    assert err.value.reason == "illegal_transition"
    assert (err.value.order_id, err.value.state, err.value.event) == ("tw1-1", src, inp)


# -- the same, through the OMS: put an order in each state with venue events, then feed it the
# venue event that maps to each input.

def _order_in(state: OrderState, *, implicit: bool = False):
    oms = Oms(MARKETS, ClientIds(1))
    o = oms.submit(PlaceOrder("BTC-PERP", BUY, 10, 1000), now_ns=10)
    steps = {
        S.PENDING: [],
        S.OPEN: [ack],
        S.PARTIAL: [ack, lambda o: fill(o, 3)],
        S.FILLED: [ack, lambda o: fill(o, 10)],
        S.CANCELLED: [ack, cancelled],
        S.REJECTED: [reject],
    }[state]
    if implicit:  # reach the state through a fill that came before any ack
        steps = {S.PARTIAL: [lambda o: fill(o, 3)], S.FILLED: [lambda o: fill(o, 10)],
                 S.CANCELLED: [lambda o: fill(o, 3), cancelled]}[state]
    for n, make in enumerate(steps):
        oms.on_event(make(oms.order(o.order_id)), now_ns=20 + n)
    assert oms.order(o.order_id).state is state
    return oms, o.order_id


def _event_for(inp: OrderInput, order):
    return {
        In.ACK: ack, In.LATE_ACK: ack, In.REJECT: reject,
        In.FILL: lambda o: fill(o, 1),  # on a FILLED order: one lot too many
        In.FILL_LAST: lambda o: fill(o, o.remaining),
        In.CANCELLED: cancelled, In.CANCEL_REJECT: cancel_reject,
    }[inp](order)


def _snapshot(oms):
    return (oms.open_orders(), oms.positions(), [oms.order(f"tw1-{n}") for n in (1, 2)])


# A filled order has nothing left, so no venue fill maps to fill_last there (any fill of it is
# `fill`, one lot too many); the pair is covered at the table level above.
OMS_PAIRS = [p for p in ALL_PAIRS if p != (S.FILLED, In.FILL_LAST)]


@pytest.mark.parametrize(("src", "inp"), OMS_PAIRS, ids=lambda v: v.value)
def test_oms_follows_the_table(src, inp):
    implicit = inp is In.LATE_ACK and src in (S.PARTIAL, S.FILLED, S.CANCELLED)
    oms, oid = _order_in(src, implicit=implicit)
    order = oms.order(oid)
    ev = _event_for(inp, order)
    expected = TABLE.get((src, inp))
    if inp is In.ACK and implicit is False and src in (S.PARTIAL, S.FILLED, S.CANCELLED):
        expected = None  # a second real ack: the OMS maps it to ACK, which is illegal there
    if inp is In.LATE_ACK and not implicit:
        expected = TABLE.get((src, In.ACK))  # without a fill first, an ack is just an ack
    before = _snapshot(oms)
    if expected is None:
        with pytest.raises(IllegalTransition):
            oms.on_event(ev, now_ns=99)
        assert _snapshot(oms) == before, "a refused event changes nothing"
        return
    out = oms.on_event(ev, now_ns=99)
    assert oms.order(oid).state is expected
    assert out, "every accepted event is reported"


def test_fill_before_ack_implies_the_ack_and_a_late_ack_is_recorded():
    oms, oid = _order_in(S.PENDING)
    oms.on_event(fill(oms.order(oid), 4), now_ns=50)
    o = oms.order(oid)
    assert o.state is S.PARTIAL and o.implicit_ack and o.ack_latency_ns is None
    assert o.fill_latency_ns == 40
    (ev,) = oms.on_event(ack(o), now_ns=70)
    assert ev.old is ev.new is S.PARTIAL and ev.reason == "late_ack"
    assert oms.order(oid).ack_latency_ns == 60
    with pytest.raises(IllegalTransition):  # a second ack is not late, it is wrong
        oms.on_event(ack(o), now_ns=80)
