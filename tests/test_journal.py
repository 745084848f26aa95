"""The journal on real SQLite files: round trips, recovery, boots, and refusals."""

from __future__ import annotations

import random
import sqlite3

import pytest

from host.journal import (
    Journal,
    JournalClosed,
    JournalCorrupt,
    JournalLocked,
    NotAJournal,
    NotStarted,
    SchemaMismatch,
    SchemaTooNew,
)
from host.journal.schema import SCHEMA_VERSION
from host.oms import ClientIds, FillMismatch, IllegalTransition, Oms, OrderState
from host.strategy.actions import PlaceOrder
from host.venue_client.events import OrderType, Side, VenueOrder
from host.venue_client.markets import MarketSpec, MarketTable
from tests.oms_helpers import MARKETS, ack, cancel_reject, cancelled, fill, reject


def _trade(journal: Journal, oms: Oms, rng: random.Random, steps: int) -> None:
    """Random trading through the OMS, every event journaled as the daemon would."""
    now = 0
    for _ in range(steps):
        now += 1000
        live = oms.open_orders()
        if not live or rng.random() < 0.3:
            otype = rng.choice([OrderType.LIMIT, OrderType.IOC, OrderType.POST_ONLY])
            req = PlaceOrder(rng.choice(["BTC-PERP", "ETH-PERP", "SOL-PERP"]),
                             rng.choice(list(Side)), rng.randint(1, 20), rng.randint(50, 150),
                             otype, tag="t", origin_ns=now - 7)
            journal.order_submitted(oms.submit(req, now))
            continue
        o = rng.choice(live)
        r = rng.random()
        if o.state is OrderState.PENDING:
            ev = reject(o) if r < 0.1 else ack(o)
        elif r < 0.1:
            ev = cancelled(o)
        elif r < 0.15:
            ev = cancel_reject(o)
        else:
            ev = fill(o, rng.randint(1, o.remaining), price=rng.randint(50, 150),
                      fee=rng.choice(["0.001", "0.0125", "-0.0003"]))
        journal.oms_events(oms.on_event(ev, now))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_round_trip_recovers_what_the_oms_had(tmp_path, seed):
    path = tmp_path / "j.db"
    with Journal(path) as journal:
        boot = journal.start()
        oms = Oms(MARKETS, ClientIds(boot))
        _trade(journal, oms, random.Random(seed), 400)
        journal.risk_event("trip", "daily_loss", {"loss_usd": 12.5}, now_ns=5)
    with Journal(path) as journal:
        assert journal.start() == boot + 1
        rec = journal.recover(MARKETS)
        assert rec.boot == boot + 1
        assert list(rec.open_orders) == oms.open_orders()
        assert rec.positions == oms.positions()
        s = journal.summary()
        assert s.boots == 2 and s.orders == oms.ids.issued
        assert s.risk_events == {"trip:daily_loss": 1}
        assert {m.market: m.qty for m in s.markets} == {
            m: p.qty for m, p in oms.positions().items()}
        assert s.realized_usd == pytest.approx(sum(p.realized_usd
                                                   for p in oms.positions().values()))
        lat = journal.latencies()
        acked = [o for o in (oms.order(f"tw1-{n}") for n in range(1, oms.ids.issued + 1))
                 if o is not None and o.ack_ns is not None]
        assert sorted(lat["ack_ns"]) == sorted(o.ack_latency_ns for o in acked)
        tail = journal.tail(3)
        assert [e.kind for e in tail][-1] == "risk_event"
        assert tail[-1].detail == {"kind": "trip", "reason": "daily_loss",
                                   "detail": {"loss_usd": 12.5}}
        assert [e.seq for e in tail] == sorted(e.seq for e in tail)


def test_file_is_wal_and_schema_versioned(tmp_path):
    path = tmp_path / "j.db"
    Journal(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(
        SCHEMA_VERSION)
    db.close()


def test_ids_never_repeat_across_restarts(tmp_path):
    seen = set()
    for _ in range(4):
        with Journal(tmp_path / "j.db") as journal:
            ids = ClientIds(journal.start())
            batch = {ids.next() for _ in range(50)}
            assert not batch & seen
            seen |= batch
    assert len(seen) == 200


def test_latest_of_fill_and_reset_wins(tmp_path):
    with Journal(tmp_path / "j.db") as journal:
        oms = Oms(MARKETS, ClientIds(journal.start()))
        o = oms.submit(PlaceOrder("BTC-PERP", Side.BUY, 10, 100), 1)
        journal.order_submitted(o)
        journal.oms_events(oms.on_event(ack(o), 2))
        journal.oms_events(oms.on_event(fill(oms.order(o.order_id), 4), 3))
        journal.oms_events(oms.reset_position("BTC-PERP", 7, 101.5, "reconcile:venue", 4))
        assert journal.recover(MARKETS).positions["BTC-PERP"].qty == 7
        journal.oms_events(oms.on_event(fill(oms.order(o.order_id), 2), 5))
        pos = journal.recover(MARKETS).positions["BTC-PERP"]
        assert pos == oms.position("BTC-PERP") and pos.qty == 9


def test_adopted_and_unknown_events_are_journaled(tmp_path):
    with Journal(tmp_path / "j.db") as journal:
        oms = Oms(MARKETS, ClientIds(journal.start()))
        vo = VenueOrder("tw1-77", "ETH-PERP", Side.SELL, OrderType.LIMIT, 500, 9, 2, 7)
        journal.oms_events(oms.adopt(vo, 10))
        o = oms.order("tw1-77")
        journal.oms_events(oms.on_event(fill(o, 1), 11))
        journal.oms_events(oms.on_event(_foreign_fill(), 12))
        rec = journal.recover(MARKETS)
        assert [x.order_id for x in rec.open_orders] == ["tw1-77"]
        assert rec.open_orders[0].filled == 3
        kinds = [e.detail["kind"] for e in journal.tail(10) if e.kind == "order_event"]
        assert kinds == ["adopted", "unknown"]
        assert rec.positions == oms.positions()      # the other session's fill counts
        assert rec.positions["BTC-PERP"].qty == 1


def _foreign_fill():
    from dataclasses import replace

    o = Oms(MARKETS, ClientIds(9)).submit(PlaceOrder("BTC-PERP", Side.BUY, 3, 100), 0)
    return replace(fill(o, 1), order_id="manual-1")


def test_recovery_skips_markets_the_venue_no_longer_lists(tmp_path):
    with Journal(tmp_path / "j.db") as journal:
        oms = Oms(MARKETS, ClientIds(journal.start()))
        for market in ("BTC-PERP", "SOL-PERP"):
            o = oms.submit(PlaceOrder(market, Side.BUY, 5, 100), 1)
            journal.order_submitted(o)
            journal.oms_events(oms.on_event(fill(o, 2), 2))
        fewer = MarketTable([MarketSpec("BTC-PERP", 0, "0.1", "0.001", 50)])
        rec = journal.recover(fewer)
        assert rec.skipped_markets == ("SOL-PERP",)
        assert [o.market for o in rec.open_orders] == ["BTC-PERP"]
        assert set(rec.positions) == {"BTC-PERP"}


def test_a_refused_event_leaves_nothing_to_journal(tmp_path):
    with Journal(tmp_path / "j.db") as journal:
        oms = Oms(MARKETS, ClientIds(journal.start()))
        o = oms.submit(PlaceOrder("BTC-PERP", Side.BUY, 5, 100), 1)
        journal.order_submitted(o)
        journal.oms_events(oms.on_event(ack(o), 2))
        with pytest.raises(IllegalTransition):
            oms.on_event(ack(o), 3)
        with pytest.raises(FillMismatch) as err:
            oms.on_event(fill(oms.order(o.order_id), 6), 3)
        assert err.value.reason == "overfill"
        journal.risk_event("oms_error", err.value.reason, {"order_id": o.order_id}, 3)
        assert journal.recover(MARKETS).open_orders[0].state is OrderState.OPEN


# -- refusals ------------------------------------------------------------------------------

def test_second_process_is_locked_out_until_close(tmp_path):
    first = Journal(tmp_path / "j.db")
    with pytest.raises(JournalLocked) as err:
        Journal(tmp_path / "j.db")
    assert err.value.reason == "journal_locked"
    first.close()
    Journal(tmp_path / "j.db").close()


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "j.db"
    Journal(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    db.commit()
    db.close()
    with pytest.raises(SchemaTooNew) as err:
        Journal(path)
    assert (err.value.reason, err.value.found) == ("schema_too_new", 99)
    # The refusal released the lock: the next open gets as far as the schema again.
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value='x' WHERE key='schema_version'")
    db.commit()
    db.close()
    with pytest.raises(SchemaMismatch):
        Journal(path)


def test_other_files_are_refused(tmp_path):
    other = tmp_path / "other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE t (x)")
    db.close()
    with pytest.raises(NotAJournal):
        Journal(other)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"definitely not sqlite " * 100)
    with pytest.raises(JournalCorrupt) as err:
        Journal(junk)
    assert err.value.reason == "journal_corrupt"


def test_use_before_start_and_after_close(tmp_path):
    journal = Journal(tmp_path / "j.db")
    o = Oms(MARKETS, ClientIds(1)).submit(PlaceOrder("BTC-PERP", Side.BUY, 1, 1), 0)
    with pytest.raises(NotStarted):
        journal.order_submitted(o)
    journal.close()
    with pytest.raises(JournalClosed):
        journal.start()
