"""The OMS outside the state table: order checks, ids, latencies, cancels, memory, queries."""

from __future__ import annotations

from dataclasses import replace

import pytest

from host import cli
from host.oms import BadOrder, ClientIds, FillMismatch, Oms, OrderState, UnknownOrderEvent
from host.oms.ids import BadIdPrefix
from host.strategy.actions import PlaceOrder
from host.venue_client.events import OrderType, Pong, Side
from tests.oms_helpers import MARKETS, ack, cancel_reject, cancelled, fill


def _oms(**kw):
    return Oms(MARKETS, ClientIds(4), **kw)


def test_ids_carry_the_boot_and_recognise_their_own():
    ids = ClientIds(12)
    assert [ids.next() for _ in range(3)] == ["tw12-1", "tw12-2", "tw12-3"]
    assert ids.issued == 3
    assert ids.parse("tw3-77") == (3, 77) and ids.is_ours("tw3-77")
    assert not ids.is_ours("manual-1") and not ids.is_ours("tw3-") and not ids.is_ours("x tw1-1")
    other = ClientIds(1, prefix="mm")
    assert other.next() == "mm1-1" and not other.is_ours("tw1-1")
    for bad in (0, -1, True, "1"):
        with pytest.raises(BadIdPrefix):
            ClientIds(bad)
    with pytest.raises(BadIdPrefix) as err:
        ClientIds(1, prefix="tw-1")
    assert err.value.reason == "bad_id_prefix"


@pytest.mark.parametrize(("req", "reason"), [
    (PlaceOrder("DOGE-PERP", Side.BUY, 1, 1), "unknown_market"),
    (PlaceOrder("BTC-PERP", "buy", 1, 1), "bad_side"),
    (PlaceOrder("BTC-PERP", Side.BUY, 1, 1, "limit"), "bad_order_type"),
    (PlaceOrder("BTC-PERP", Side.BUY, 0, 1), "bad_qty"),
    (PlaceOrder("BTC-PERP", Side.BUY, 1.5, 1), "bad_qty"),
    (PlaceOrder("BTC-PERP", Side.BUY, True, 1), "bad_qty"),
    (PlaceOrder("BTC-PERP", Side.BUY, 1, None), "bad_price"),
    (PlaceOrder("BTC-PERP", Side.BUY, 1, 0), "bad_price"),
    (PlaceOrder("BTC-PERP", Side.BUY, 1, 10.5), "bad_price"),
    (PlaceOrder("BTC-PERP", Side.BUY, 1, 10, OrderType.MARKET), "bad_price"),
])
def test_bad_orders_are_refused_without_using_an_id(req, reason):
    oms = _oms()
    with pytest.raises(BadOrder) as err:
        oms.submit(req, 1)
    assert err.value.reason == reason
    assert oms.ids.issued == 0 and oms.open_orders() == []


def test_latencies_are_recorded_per_order():
    oms = _oms()
    o = oms.submit(PlaceOrder("ETH-PERP", Side.SELL, 4, 300, origin_ns=900), 1_000)
    assert (o.state, o.sent_ns, o.tick_to_order_ns) == (OrderState.PENDING, 1_000, 100)
    oms.on_event(ack(o), 1_250)
    oms.on_event(fill(oms.order(o.order_id), 1), 1_900)
    oms.on_event(fill(oms.order(o.order_id), 3, price=310), 2_500)
    o = oms.order(o.order_id)
    assert (o.ack_latency_ns, o.fill_latency_ns, o.done_ns) == (250, 900, 2_500)
    assert o.avg_fill_price == pytest.approx((300 + 3 * 310) / 4)
    assert o.fees_usd == pytest.approx(0.02)


def test_cancel_requested_only_for_live_orders():
    oms = _oms()
    o = oms.submit(PlaceOrder("BTC-PERP", Side.BUY, 2, 100), 1)
    assert oms.cancel_requested("nope", 2) is None
    assert oms.cancel_requested(o.order_id, 3).cancel_sent_ns == 3
    oms.on_event(ack(o), 4)
    (ev,) = oms.on_event(cancelled(oms.order(o.order_id), "user"), 5)
    assert (ev.old, ev.new, ev.reason) == (OrderState.OPEN, OrderState.CANCELLED, "user")
    assert oms.order(o.order_id).reason == "user"
    assert oms.cancel_requested(o.order_id, 6) is None
    (ev,) = oms.on_event(cancel_reject(o), 7)      # a second cancel raced the first
    assert type(ev).__name__ == "CancelRejected"


def test_unknown_ids_and_non_order_events():
    oms = _oms()
    o = oms.submit(PlaceOrder("BTC-PERP", Side.BUY, 2, 100), 1)
    ev = replace(fill(o, 1), order_id="someone-else")
    (out,) = oms.on_event(ev, 2)
    assert isinstance(out, UnknownOrderEvent) and out.event is ev
    assert out.position == oms.position("BTC-PERP") and out.position.qty == 1
    assert oms.order(o.order_id).filled == 0
    (out,) = oms.on_event(replace(cancelled(o), order_id="someone-else"), 2)
    assert out.position is None
    with pytest.raises(FillMismatch) as err:
        oms.on_event(replace(ev, market="DOGE-PERP"), 2)
    assert err.value.reason == "bad_fill" and oms.position("BTC-PERP").qty == 1
    with pytest.raises(TypeError):
        oms.on_event(Pong(1), 3)


@pytest.mark.parametrize(("change", "reason"), [
    ({"market": "ETH-PERP"}, "market_mismatch"),
    ({"side": Side.SELL}, "side_mismatch"),
    ({"remaining": 5}, "remaining_mismatch"),
    ({"qty": 0, "remaining": 10}, "bad_qty"),
    ({"price": 0}, "bad_price"),
    ({"price": 100.5}, "bad_price"),
])
def test_fills_that_contradict_the_order_change_nothing(change, reason):
    oms = _oms()
    o = oms.submit(PlaceOrder("BTC-PERP", Side.BUY, 10, 100), 1)
    oms.on_event(ack(o), 2)
    before = (oms.open_orders(), oms.positions())
    with pytest.raises(FillMismatch) as err:
        oms.on_event(replace(fill(oms.order(o.order_id), 2), **change), 3)
    assert err.value.reason == reason and err.value.order_id == o.order_id
    assert (oms.open_orders(), oms.positions()) == before


def test_ack_that_is_not_the_order_is_refused():
    oms = _oms()
    o = oms.submit(PlaceOrder("BTC-PERP", Side.BUY, 10, 100), 1)
    with pytest.raises(FillMismatch) as err:
        oms.on_event(replace(ack(o), qty=11), 2)
    assert err.value.reason == "ack_mismatch"
    assert oms.order(o.order_id).state is OrderState.PENDING


def test_closed_orders_are_remembered_up_to_a_limit():
    oms = _oms(closed_memory=3)
    ids = []
    for _ in range(5):
        o = oms.submit(PlaceOrder("BTC-PERP", Side.BUY, 1, 100), 1)
        oms.on_event(fill(o, 1), 2)
        ids.append(o.order_id)
    assert [oms.order(i) is not None for i in ids] == [False, False, True, True, True]
    (ev,) = oms.on_event(cancel_reject(oms.order(ids[0]) or oms.order(ids[4])), 3)
    assert ev.order.order_id == ids[4]


def test_queries_by_market_and_positions():
    oms = _oms()
    a = oms.submit(PlaceOrder("BTC-PERP", Side.BUY, 3, 100), 1)
    b = oms.submit(PlaceOrder("ETH-PERP", Side.SELL, 2, 50), 1)
    assert [o.order_id for o in oms.open_orders("ETH-PERP")] == [b.order_id]
    oms.on_event(fill(a, 3), 2)
    assert oms.open_orders() == [oms.order(b.order_id)]
    assert set(oms.positions()) == {"BTC-PERP"}
    assert oms.position("SOL-PERP").qty == 0
    assert oms.position("BTC-PERP").qty == 3


def test_bench_journal_runs(capsys, tmp_path):
    """Untimed: the command works and says what it measured."""
    argv = ["bench", "journal", "--orders", "30", "--full-orders", "3", "--rate", "0",
            "--dir", str(tmp_path)]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "order_submitted [NORMAL]" in out and "order_submitted [FULL]" in out
