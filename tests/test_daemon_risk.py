"""Every risk trip, provoked through the real daemon trading on the real local venue.

Each case configures one rule tight enough to break (or makes the venue break it), waits for
the trip in the daemon's risk log, and checks what must follow: a halt leaves nothing resting
at the venue, and the trip is in the journal with its reason. The manual kill is tested
through the CLI in test_daemon_process.py.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass, field

import pytest

from host.venue_client.events import OrderType, Side
from host.venue_client.rest import RestClient
from sim.daemon_testing import ARB, MAKER, InProcessDaemon, daemon_config, wait_for
from sim.venue import TEST_API_KEY, GeneratorConfig, Venue, VenueConfig
from sim.venue.limits import Limits


@pytest.fixture(autouse=True)
def _api_key(monkeypatch):
    monkeypatch.setenv("TICKWIRE_API_KEY", TEST_API_KEY)


@dataclass(frozen=True)
class Case:
    reason: str                      # the trip (risk event reason) or denial expected
    risk: dict = field(default_factory=dict)
    strategies: tuple = (MAKER,)
    venue_limits: Limits | None = None
    fault: str | None = None         # what the test does to the venue once quoting
    halts: bool = True
    denial: bool = False             # expect a denial with this reason, not a trip


CASES = {
    "consecutive_rejects": Case("consecutive_rejects", {"max_consecutive_rejects": 3},
                                fault="reject_burst"),
    "pnl_drawdown": Case("pnl_drawdown", {"pnl_kill_drawdown_usd": 0.001},
                         strategies=(ARB, MAKER)),
    "daily_loss": Case("daily_loss", {"max_daily_loss_usd": 0.001,
                                      "pnl_kill_drawdown_usd": 1e9},
                       strategies=(ARB, MAKER)),
    "circuit_breaker": Case("circuit_breaker", {"circuit_breaker": {
        "max_orders_per_s": 2, "throttled_orders_per_s": 1, "cool_off_s": 1.0}}, halts=False),
    "rate_limited": Case("rate_limited", {"hardware": {"rate_tokens": 1000}},
                         venue_limits=Limits(orders_per_s=2), halts=False),
    "position_limit": Case("position_limit", {"max_position_usd": 100.0},
                           fault="preload_position", halts=False),
    "stale_market_data": Case("stale_market_data", {"stale_market_data_ms": 50.0},
                              fault="stale", halts=False, denial=True),
    "hw_qty": Case("hw_qty", {"hardware": {"max_qty": 5}}),
    "hw_notional": Case("hw_notional", {"hardware": {"max_notional": 1000}}),
    "hw_collar": Case("hw_collar", {"hardware": {"collar_bp": 1}}),
    "hw_rate": Case("hw_rate", {"hardware": {"rate_tokens": 1}}),
    "hw_position": Case("hw_position", {"hardware": {"max_position": 5}},
                        fault="preload_position"),
}


async def _preload_position(venue: Venue) -> None:
    """Buy 1 ETH at market before the daemon starts: a position it must reconcile."""
    async with RestClient(venue.rest_url, TEST_API_KEY) as rest:
        await rest.request("POST", "/api/v1/orders", {
            "market": "ETH-PERP", "side": str(Side.BUY), "type": str(OrderType.MARKET),
            "qty": "1"})


@pytest.mark.parametrize("name", list(CASES))
def test_risk_trip_through_the_daemon(name, tmp_path):
    case = CASES[name]

    async def scenario():
        config = VenueConfig(source=GeneratorConfig(seed=11),
                             **({"limits": case.venue_limits} if case.venue_limits else {}))
        async with Venue(config) as venue:
            await wait_for(lambda: venue.core.engine.books, 5, "venue books")
            await asyncio.sleep(0.3)          # let the generator build its books
            if case.fault == "preload_position":
                await _preload_position(venue)
            doc = daemon_config(venue.ws_url, venue.rest_url, tmp_path,
                                strategies=case.strategies, risk=case.risk)
            async with InProcessDaemon(doc) as d:
                if case.fault == "reject_burst":
                    await wait_for(lambda: d.counter("orders_total") >= 1, 15, "an order")
                    venue.reject_burst(20)
                elif case.fault == "stale":
                    venue.set_market_data_delay(200)

                def seen():
                    if case.denial:
                        return d.counter("denials_total", reason=case.reason)
                    return any(e["reason"] == case.reason for e in d.trader.risk_log)

                await wait_for(seen, 20, f"the {case.reason} trip")
                state = str(d.trader.risk.state)
                if case.halts:
                    await wait_for(lambda: not d.session.oms.open_orders(), 5,
                                   "every order cancelled after the halt")
                    async with RestClient(venue.rest_url, TEST_API_KEY) as rest:
                        resting = await rest.open_orders(d.session.markets)
                else:
                    resting = []
            return d, state, resting

    d, state, resting = asyncio.run(scenario())
    if case.halts:
        assert state == "halted"
        assert resting == [], "a halt must leave nothing resting at the venue"
    elif case.reason == "position_limit":
        assert state == "reducing"
    db = sqlite3.connect(d.config.daemon.journal)
    kinds = {r for (r,) in db.execute("SELECT reason FROM risk_events")}
    db.close()
    assert case.reason in kinds
