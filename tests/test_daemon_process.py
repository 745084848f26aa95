"""The daemon as its own process: `tickwire kill` through the CLI, and SIGKILL then restart
with nothing lost. The venue runs in a thread of the test process; the daemon is a child."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import time

import pytest

from host import cli
from host.venue_client.markets import MarketTable
from host.venue_client.rest import RestClient
from sim.daemon_testing import ARB, MAKER, DaemonProcess, daemon_config, toml_text
from sim.venue import TEST_API_KEY, GeneratorConfig, VenueConfig, VenueThread


@pytest.fixture
def venue():
    with VenueThread(VenueConfig(source=GeneratorConfig(seed=21))) as v:
        yield v


def _venue_view(v):
    async def fetch():
        async with RestClient(v.rest_url, TEST_API_KEY) as rest:
            markets: MarketTable = await rest.markets()
            return await rest.open_orders(markets), await rest.positions(markets)
    return asyncio.run(fetch())


def _write(tmp_path, v, **kw):
    path = tmp_path / "tickwire.toml"
    path.write_text(toml_text(daemon_config(v.ws_url, v.rest_url, tmp_path, **kw)))
    return path


def _poll(predicate, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
    return value


def test_tickwire_kill_cancels_everything_and_stops_the_daemon(tmp_path, venue, capsys):
    path = _write(tmp_path, venue, strategies=(MAKER,))
    daemon = DaemonProcess(path, env={"TICKWIRE_API_KEY": TEST_API_KEY}).start()
    try:
        _poll(lambda: daemon.status()["open_orders"] > 0, 20, "resting quotes")
        assert cli.main(["status", "--config", str(path)]) == 0
        assert "risk active" in capsys.readouterr().out
        assert cli.main(["kill", "--config", str(path), "--reason", "test"]) == 0
        code, _, err = daemon.wait()
    finally:
        daemon.stop()
    assert code == 3, err[-2000:]
    open_orders, _ = _venue_view(venue)
    assert open_orders == []
    db = sqlite3.connect(tmp_path / "journal.sqlite")
    manual = db.execute("SELECT kind, reason FROM risk_events WHERE reason = 'manual'").fetchall()
    assert manual and manual[0][0] == "halted"
    # A second kill finds nobody, and says so.
    assert cli.main(["kill", "--config", str(path)]) == 1
    assert "not_running" in capsys.readouterr().err


def test_sigkill_then_restart_recovers_orders_and_position(tmp_path, venue):
    path = _write(tmp_path, venue, strategies=(ARB, MAKER))
    env = {"TICKWIRE_API_KEY": TEST_API_KEY}
    first = DaemonProcess(path, env=env).start()
    try:
        _poll(lambda: (s := first.status())["fills"] >= 2 and s["open_orders"] > 0, 40,
              "fills and resting quotes")
        first.sigkill()
    finally:
        first.stop()
    resting, positions = _venue_view(venue)
    assert resting, "SIGKILL gives the daemon no chance to cancel: orders still rest"
    venue_position = {p.market: p.qty for p in positions if p.qty}

    db = sqlite3.connect(tmp_path / "journal.sqlite")
    journaled = {oid for (oid,) in db.execute("SELECT order_id FROM orders")}
    db.close()
    # Every order the venue holds was journaled before it was sent.
    assert {o.order_id for o in resting} <= journaled

    # Restarted without strategies, so nothing trades between recovery and the check.
    _write(tmp_path, venue, strategies=())
    second = DaemonProcess(path, env=env).start()
    try:
        status = second.status()
    finally:
        second.stop()
    assert status["boot"] == 2
    db = sqlite3.connect(tmp_path / "journal.sqlite")
    startup = db.execute("SELECT reason, detail FROM risk_events WHERE kind = 'reconcile' "
                         "ORDER BY seq").fetchall()
    marks = ",".join("?" * len(resting))
    states = dict(db.execute(f"SELECT order_id, state FROM orders WHERE order_id IN ({marks})",
                             [o.order_id for o in resting]))
    db.close()
    restart = [json.loads(detail) for reason, detail in startup if reason == "start-up"][-1]
    # (The market may fill a resting quote between the kill and the restart.)
    assert restart["venue_open"] + restart["gone"] + restart["behind"] > 0
    assert restart["cancelled_unknown"] == 0 and restart["adopted"] == 0
    # The orders the killed run left resting were recovered, then cancelled on restart.
    assert set(states.values()) <= {"cancelled", "filled"}
    # The position recovered from the journal and reconciled is the venue's, lot for lot.
    # (Quotes still resting after the kill may have filled before the restart.)
    recovered = {m: p["qty"] for m, p in status["positions"].items() if p["qty"]}
    _, positions_now = _venue_view(venue)
    assert recovered == {p.market: p.qty for p in positions_now if p.qty}
    assert recovered.keys() | venue_position.keys()


def test_run_refuses_a_bad_config_with_the_key_at_fault(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[daemon]\nmetrics_prot = 1\n')
    proc = subprocess.run([sys.executable, "-m", "host.cli", "run", "--config", str(path)],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "daemon.metrics_prot" in proc.stderr
