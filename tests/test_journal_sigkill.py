"""SIGKILL mid-stream: a child process journals orders and fills and reports each commit on
stdout; the parent kills it with SIGKILL, restarts it on the same file, kills it again, and
then recovers. Every commit the child reported must be in the journal, and the recovered
positions must equal a replay of every journaled fill."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from host.journal import Journal
from host.oms import ClientIds, Oms
from host.oms.position import Position
from host.venue_client.events import Side
from tests.oms_helpers import MARKETS

ROOT = Path(__file__).resolve().parents[1]
LINES_PER_RUN = 1500


def _run_and_kill(path: Path, seed: int) -> list[list[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.journal_writer", str(path), str(seed)],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line.split())
            if len(lines) >= LINES_PER_RUN:
                break
        os.kill(proc.pid, signal.SIGKILL)   # mid-stream: it is still writing
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    lines += [line.split() for line in proc.stdout.read().splitlines()]
    proc.stdout.close()
    assert len(lines) >= LINES_PER_RUN, "the child died before it was killed"
    return [p for p in lines if p and p[0] in ("order", "event", "fill")]


def test_sigkill_loses_no_reported_commit_and_recovery_matches_replay(tmp_path):
    path = tmp_path / "journal.db"
    reported = []
    for seed in (1, 2, 3):
        reported += _run_and_kill(path, seed)

    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    orders = {oid: state for oid, state in db.execute("SELECT order_id, state FROM orders")}
    trades = {t for (t,) in db.execute("SELECT trade_id FROM fills")}
    seqs = {s for (s,) in db.execute("SELECT seq FROM order_events")}
    for line in reported:
        if line[0] == "order":
            assert line[1] in orders
        elif line[0] == "fill":
            assert int(line[3]) in trades and line[2] in orders
        else:
            assert int(line[1]) in seqs
    # Orders are numbered per boot; a run may have committed one more than it printed.
    assert {oid.split("-")[0] for oid in orders} == {"tw1", "tw2", "tw3"}
    assert len(orders) - sum(p[0] == "order" for p in reported) <= 3

    replay: dict[str, Position] = {}
    for market, side, qty, price, fee in db.execute(
            "SELECT market, side, qty, price, fee FROM fills ORDER BY seq"):
        pos = replay.get(market, Position(market))
        replay[market] = pos.after_fill(Side(side), qty, price, float(fee),
                                        MARKETS[market].notional_unit)
    live = {oid for oid, s in orders.items() if s in ("pending", "open", "partial")}
    db.close()

    with Journal(path) as journal:       # the lock died with the child
        boot = journal.start()
        assert boot == 4
        rec = journal.recover(MARKETS)
        assert {o.order_id for o in rec.open_orders} == live
        assert set(rec.positions) == set(replay)
        for market, pos in rec.positions.items():
            want = replay[market]
            assert pos.qty == want.qty
            assert pos.avg_price == pytest.approx(want.avg_price, rel=1e-12)
            assert pos.realized_usd == pytest.approx(want.realized_usd, rel=1e-9, abs=1e-9)
            assert pos.fees_usd == pytest.approx(want.fees_usd, rel=1e-9)
        oms = Oms(MARKETS, ClientIds(boot))
        oms.restore(rec)
        assert oms.ids.next() not in orders

    # The position each reported fill printed is the one journaled with it, and at most one
    # commit per run went unreported (killed between the commit and the print).
    db = sqlite3.connect(path)
    journaled = {t: (m, q) for t, m, q in db.execute("SELECT trade_id, market, pos_qty FROM fills")}
    db.close()
    printed = {int(p[3]): int(p[4]) for p in reported if p[0] == "fill"}
    assert all(journaled[t][1] == q for t, q in printed.items())
    assert len(set(journaled) - set(printed)) <= 3
