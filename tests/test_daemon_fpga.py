"""The daemon trading through the trigger stage, end to end on loopback: the real venue, the
real daemon, and (with `--fpga sim`) the Verilated full design behind a pty and UDP.

One scenario, two modes:
- the latency arbitrage runs as a trigger rule, and its intents become venue orders that
  fill; the market maker trades beside it from the WebSocket books;
- with `--fpga sim`, the gateware's tops are mirrored without a disagreement, then the
  simulated FPGA is killed mid-session: the daemon cancels its open orders, fails over to the
  software path in the same process with the same OMS, and trades on;
- with `--fpga none`, the same scenario runs on the software path from the start.
Afterwards the OMS's positions equal the venue's and nothing rests.
"""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from host.venue_client.rest import RestClient
from sim.daemon_testing import (
    MAKER,
    InProcessDaemon,
    colo_venue_config,
    daemon_config,
    fpga_section,
    wait_for,
)
from sim.venue import TEST_API_KEY, Venue

ARB = {"kind": "latency_arb", "name": "btc-arb", "primary": "BTC-SPOT",
       "secondary": "BTC-PERP", "min_spread_bp": 8, "order_size_usd": 1000.0,
       "max_position_usd": 5000.0, "max_daily_loss_usd": 500.0, "staleness_ms": 50.0}
RISK = {"stale_market_data_ms": 1000.0}


def _venue_config(seed: int):
    """One venue for every mode: a step every 100 ms keeps the colo feed (about 10 kB/s)
    within what the simulated FPGA takes at its 25 kHz pace, a byte a cycle; more frequent
    jumps of the leader keep the arbitrage firing."""
    return colo_venue_config(seed, step_ms=100.0, jump_prob=0.05)


@pytest.fixture(autouse=True)
def _api_key(monkeypatch):
    monkeypatch.setenv("TICKWIRE_API_KEY", TEST_API_KEY)


def filled_intent_orders(d, source: str, since: int = 0) -> list[str]:
    """Orders made from `source` intents ("fpga" or "software") that filled at the venue."""
    trader = d.trader
    ids = [oid for oid, src in list(trader.intent_orders.items())[since:] if src == source]
    return [oid for oid in ids if (o := trader.oms.order(oid)) is not None and o.filled > 0]


async def _venue_state(venue: Venue, markets):
    async with RestClient(venue.rest_url, TEST_API_KEY) as rest:
        return await rest.open_orders(markets), await rest.positions(markets)


def _journal_reasons(path, kind: str) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return [r[0] for r in db.execute(
            "SELECT reason FROM risk_events WHERE kind = ?", (kind,))]
    finally:
        db.close()


async def _agrees_with_venue(d, venue: Venue) -> None:
    open_orders, positions = await _venue_state(venue, d.session.markets)
    assert open_orders == [], "orders rest at the venue after shutdown"
    ours = {m: p.qty for m, p in d.session.oms.positions().items() if p.qty}
    theirs = {p.market: p.qty for p in positions if p.qty}
    assert ours == theirs


def _doc(venue: Venue, tmp_path, mode: str) -> dict:
    return daemon_config(venue.ws_url, venue.rest_url, tmp_path, strategies=(ARB, MAKER),
                         risk=RISK, daemon={"fpga": mode},
                         fpga=fpga_section(venue.feed_addr, tmp_path, heartbeat_ms=100.0,
                                           heartbeat_timeout_ms=1000.0, mirror_ms=250.0))


def test_none_trades_the_trigger_rule_on_the_software_path(tmp_path):
    async def scenario():
        async with Venue(_venue_config(5)) as venue:
            async with InProcessDaemon(_doc(venue, tmp_path, "none")) as d:
                paths = d.daemon.paths
                assert paths.plan.strategies == {"btc-arb"}
                assert paths.path == "software" and paths.link is None
                assert d.trader.strategies["btc-arb"].offloaded
                await wait_for(lambda: len(filled_intent_orders(d, "software")) >= 2, 60,
                               "two filled orders from software-path intents")
                await wait_for(lambda: d.counter("fills_total") > len(
                    filled_intent_orders(d, "software")), 30, "the market maker's fills too")
                assert d.counter("intents_total", source="fpga", outcome="traded") == 0
            await _agrees_with_venue(d, venue)
    asyncio.run(scenario())


def _sim_doc(venue: Venue, tmp_path) -> dict:
    return _doc(venue, tmp_path, "sim")


async def _trades_through_the_gateware(d) -> None:
    paths = d.daemon.paths
    assert paths.mode == "sim" and paths.path == "fpga"
    assert paths.link.switch.armed
    await wait_for(lambda: len(filled_intent_orders(d, "fpga")) >= 2, 120,
                   "two filled orders from gateware intents")
    await wait_for(lambda: paths.link.mirror.compared >= 5, 60, "five mirrored tops")
    assert paths.link.mirror.disagreed == 0, paths.link.status()["mirror"]
    assert d.counter("intents_total", source="software", outcome="traded") == 0


async def _fails_over(d, how) -> dict:
    """Break the FPGA with `how()`; check the failover and that trading goes on."""
    paths, oms = d.daemon.paths, d.trader.oms
    boot, intents_before = d.session.boot, len(d.trader.intent_orders)
    known = filled_intent_orders(d, "fpga")
    how()
    await wait_for(lambda: paths.failover is not None, 20, "the failover")
    assert paths.path == "software" and paths.feed_path.live
    assert paths.link.state in ("lost", "back")
    cancelled = paths.failover["cancelled"]
    await wait_for(lambda: all(oms.order(i).state.terminal for i in cancelled), 15,
                   "every order open at the failover to end")
    await wait_for(lambda: filled_intent_orders(d, "software", intents_before), 90,
                   "a filled order from the software path after the failover")
    # The same process and OMS: the gateware's filled orders are still known, as filled.
    assert d.session.boot == boot
    assert all(oms.order(i) is not None and oms.order(i).filled > 0 for i in known)
    assert d.counter("fpga_failovers_total") == 1
    return paths.failover


def test_sim_trades_through_the_gateware_and_fails_over_when_it_dies(tmp_path):
    from sim.system_build import build_system

    build_system()  # the cached Verilator build, before any clock starts

    async def scenario():
        async with Venue(_venue_config(5)) as venue:
            async with InProcessDaemon(_sim_doc(venue, tmp_path), ready_timeout_s=300) as d:
                await _trades_through_the_gateware(d)
                simulation = d.daemon.paths.link.fpga.backend.simulation
                await _fails_over(d, simulation.kill)
                assert not simulation.alive()
                await asyncio.sleep(2.5)   # the probe finds nothing: a dead FPGA stays lost
                assert d.daemon.paths.link.state == "lost"
            await _agrees_with_venue(d, venue)
        assert "fpga_link_lost" in _journal_reasons(tmp_path / "journal.sqlite", "failover")
    asyncio.run(scenario())


def test_sim_link_loss_trips_the_watchdog_and_the_daemon_does_not_rearm(tmp_path):
    from host.daemon.summary import render_status
    from sim.system_build import build_system

    build_system()

    async def scenario():
        async with Venue(_venue_config(6)) as venue:
            async with InProcessDaemon(_sim_doc(venue, tmp_path), ready_timeout_s=300) as d:
                paths = d.daemon.paths
                await wait_for(lambda: paths.link.mirror.compared >= 2, 60, "mirrored tops")
                simulation = paths.link.fpga.backend.simulation
                await _fails_over(d, simulation.pause_link)
                simulation.resume_link()
                await wait_for(lambda: paths.link.state == "back", 30, "the link to answer")
                switch = paths.link.status()["switch"]
                assert switch["armed"] is False and "watchdog" in switch["reasons"], switch
                await asyncio.sleep(2.0)
                assert paths.path == "software" and paths.link.state == "back"
                text = render_status({"ok": True, **d.daemon.status()})
                assert "link back, switch not armed" in text and "failover from sim" in text
            await _agrees_with_venue(d, venue)
    asyncio.run(scenario())


def test_auto_picks_none_when_no_board_answers_and_says_so(tmp_path, capfd):
    async def scenario():
        async with Venue(_venue_config(7)) as venue:
            doc = _doc(venue, tmp_path, "auto")
            doc["fpga"]["serial_port"] = str(tmp_path / "no-such-tty")
            async with InProcessDaemon(doc) as d:
                paths = d.daemon.paths
                assert (paths.picked, paths.mode, paths.path) == ("none", "none", "software")
                assert d.daemon.status()["trigger"]["picked"] == "none"
    asyncio.run(scenario())
    assert "--fpga auto picked none: no board answered on" in capfd.readouterr().err


def test_auto_picks_serial_when_a_board_answers(tmp_path, capfd):
    """The 'board' is the simulated FPGA, reached only through its pty as `serial`."""
    from sim.fpga_loop import FeedAddress, SimulatedFpga
    from sim.system_build import build_system
    from sim.venue.colo_feed import free_udp_port

    build_system()

    async def scenario():
        async with Venue(_venue_config(8)) as venue:
            intents_port = free_udp_port()
            group, port = venue.feed_addr
            board = SimulatedFpga(tmp_path / "board", FeedAddress("127.0.0.1", port, group),
                                  ("127.0.0.1", intents_port))
            await asyncio.to_thread(board.start)
            try:
                doc = _doc(venue, tmp_path, "auto")
                doc["fpga"].update(serial_port=board.pty_path, intents_port=intents_port,
                                   clock_hz=board.clock_hz, link_timeout_ms=1000.0)
                async with InProcessDaemon(doc, ready_timeout_s=120) as d:
                    paths = d.daemon.paths
                    assert (paths.picked, paths.mode, paths.path) == ("serial", "serial", "fpga")
                    await wait_for(lambda: filled_intent_orders(d, "fpga"), 90,
                                   "a filled order from the board's intents")
                    assert paths.link.switch.armed
            finally:
                await asyncio.to_thread(board.stop)
            await _agrees_with_venue(d, venue)
    asyncio.run(scenario())
    assert "--fpga auto picked serial: a board answered on" in capfd.readouterr().err


def test_sim_a_hardware_trip_drops_the_intent_and_halts_the_daemon(tmp_path):
    """max_qty below the rule's 16 lots: the gateware's switch trips on the first intent and
    drops it; the daemon sees the trip at its next heartbeat, halts and cancels."""
    from host.daemon.summary import render_status
    from sim.system_build import build_system

    build_system()

    async def scenario():
        async with Venue(_venue_config(9)) as venue:
            doc = _sim_doc(venue, tmp_path)
            doc["risk"] = {**RISK, "hardware": {"max_qty": 10}}
            async with InProcessDaemon(doc, ready_timeout_s=120) as d:
                paths = d.daemon.paths
                await wait_for(lambda: paths.link.trips, 90, "the gateware's trip")
                assert "qty" in paths.link.trips[0].reasons
                await wait_for(lambda: str(d.trader.risk.state) == "halted", 10, "the halt")
                assert d.counter("intents_total", source="fpga", outcome="traded") == 0
                assert paths.link.switch.dropped_pipeline >= 1 and not paths.link.switch.armed
                text = render_status({"ok": True, **d.daemon.status()})
                assert "trigger  fpga path, backend sim" in text and "not armed qty" in text
            await _agrees_with_venue(d, venue)
        assert _journal_reasons(tmp_path / "journal.sqlite", "fpga_trip") == ["qty"]
    asyncio.run(scenario())


def test_serial_asked_for_by_name_without_a_board_refuses_to_start(tmp_path):
    from host.fpga.errors import NoFpga

    async def scenario():
        async with Venue(_venue_config(10)) as venue:
            doc = _doc(venue, tmp_path, "serial")
            doc["fpga"]["serial_port"] = str(tmp_path / "no-such-tty")
            with pytest.raises(NoFpga, match="no-such-tty"):
                async with InProcessDaemon(doc):
                    pass
    asyncio.run(scenario())
