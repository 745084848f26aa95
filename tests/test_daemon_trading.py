"""The real daemon against the real local venue over loopback: trading, a dropped connection,
a lost book update. Both run on the test's loop so faults land at a chosen moment."""

from __future__ import annotations

import asyncio
import socket
import sqlite3

import pytest

from host.venue_client.rest import RestClient
from sim.daemon_testing import MAKER, InProcessDaemon, daemon_config, wait_for
from sim.venue import TEST_API_KEY, GeneratorConfig, Venue, VenueConfig


@pytest.fixture(autouse=True)
def _api_key(monkeypatch):
    monkeypatch.setenv("TICKWIRE_API_KEY", TEST_API_KEY)


def _venue(seed: int = 3) -> Venue:
    return Venue(VenueConfig(source=GeneratorConfig(seed=seed)))


async def _venue_state(venue: Venue, markets):
    async with RestClient(venue.rest_url, TEST_API_KEY) as rest:
        return (await rest.open_orders(markets), await rest.positions(markets))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _scrape(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n")
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return answer


def _rows(path, sql):
    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def test_daemon_trades_both_strategies_and_agrees_with_the_venue(tmp_path):
    async def scenario():
        async with _venue() as venue:
            doc = daemon_config(venue.ws_url, venue.rest_url, tmp_path,
                                daemon={"metrics_port": _free_port()})
            async with InProcessDaemon(doc) as d:
                await wait_for(lambda: d.counter("fills_total") >= 3, 30, "three fills")
                await wait_for(lambda: d.counter("strategy_orders_total", strategy="btc-arb"),
                               30, "an arbitrage order")
                scrape = await _scrape(d.session.metrics_port)
            markets = d.session.markets
            venue_orders, venue_positions = await _venue_state(venue, markets)
            return d, venue_orders, venue_positions, scrape

    d, venue_orders, venue_positions, scrape = asyncio.run(scenario())
    assert scrape.startswith(b"HTTP/1.1 200")
    assert b'tickwire_ack_seconds{quantile="0.99"}' in scrape
    assert b"tickwire_venue_link_up 1" in scrape
    assert venue_orders == [], "open orders must be cancelled on shutdown"
    ours = {m: p.qty for m, p in d.session.oms.positions().items() if p.qty}
    theirs = {p.market: p.qty for p in venue_positions if p.qty}
    assert ours == theirs
    journal = d.config.daemon.journal
    fills = _rows(journal, "SELECT count(*) FROM fills")[0][0]
    assert fills == d.counter("fills_total") >= 3
    tags = {t for (t,) in _rows(journal, "SELECT DISTINCT tag FROM orders")}
    assert tags == {"btc-arb", "eth-mm"}
    caused = (d.summary.latency["tick to order"]["count"]
              + d.summary.latency.get("requote to order", {}).get("count", 0))
    assert caused == d.counter("orders_total")
    assert d.summary.latency["tick to order"]["count"] > 0
    assert d.summary.latency["order to ack"]["count"] > 0


def test_dropped_connection_cancels_reconnects_resubscribes_and_reconciles(tmp_path):
    async def scenario():
        async with _venue(seed=5) as venue:
            doc = daemon_config(venue.ws_url, venue.rest_url, tmp_path, strategies=(MAKER,))
            async with InProcessDaemon(doc) as d:
                await wait_for(lambda: d.session.oms.open_orders(), 20, "resting quotes")
                before = d.counter("orders_total")
                assert venue.drop_connections(TEST_API_KEY) >= 1
                await wait_for(lambda: not d.session.link_up(), 5, "the link to go down")
                await wait_for(d.session.link_up, 15, "the link to come back")
                await wait_for(lambda: d.counter("orders_total") > before + 2, 20,
                               "quoting to resume")
                venue_orders, _ = await _venue_state(venue, d.session.markets)
                unknown = [o.order_id for o in venue_orders
                           if d.session.oms.order(o.order_id) is None]
                return d, before, unknown

    d, before, unknown = asyncio.run(scenario())
    journal = d.config.daemon.journal
    reasons = [r for (r,) in _rows(journal, "SELECT reason FROM risk_events "
                                            "WHERE kind IN ('cancel_all', 'reconcile')")]
    assert "disconnect" in reasons and "reconnect" in reasons
    # The quotes resting at the drop were cancelled over REST, and the OMS learnt it.
    states = dict(_rows(journal, "SELECT order_id, state FROM orders"))
    early = [oid for oid, st in states.items() if int(oid.split("-")[1]) <= before]
    assert all(states[oid] in ("cancelled", "filled", "rejected") for oid in early)
    # Everything resting at the venue after the reconnect is an order the OMS knows.
    assert unknown == []


def test_a_lost_book_update_resyncs_that_market_only(tmp_path):
    async def scenario():
        async with _venue(seed=9) as venue:
            doc = daemon_config(venue.ws_url, venue.rest_url, tmp_path)
            async with InProcessDaemon(doc) as d:
                await wait_for(lambda: len(d.trader.tops) == 3, 20, "all three books")
                venue.lose_book_update("ETH-PERP")
                await wait_for(lambda: d.counter("book_resyncs_total") >= 1, 10,
                               "the gap to be seen")
                tops_before = d.counter("book_tops_total")
                await wait_for(lambda: d.counter("book_tops_total") > tops_before + 20, 10,
                               "books to keep updating")
                return d

    d = asyncio.run(scenario())
    journal = d.config.daemon.journal
    gaps = _rows(journal, "SELECT detail FROM risk_events WHERE kind = 'resync'")
    assert len(gaps) == 1 and "ETH-PERP" in gaps[0][0]
    assert d.counter("book_resyncs_total") == 1
    assert d.summary.exit_code == 0
