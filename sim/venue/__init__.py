"""A local Purple Flea venue: matching engine, WebSocket and REST APIs, binary colo feed,
synthetic and replayed market data, limits and fault injection. See docs/venue.md.

- engine.py, book.py, accounts.py: the sans-I/O matching engine;
- core.py, session.py, marketdata.py, protocol.py, rest_api.py: the sans-I/O venue;
- ws_server.py, rest_server.py, colo_feed.py, app.py, threaded.py: adapters owning sockets;
- generator.py, replay.py: where market data comes from; faults.py, limits.py: the rules.

Names are imported on first use, so `tickwire --help` does not load the servers.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "Fees": "accounts",
    "Venue": "app",
    "TEST_ACCOUNT": "config", "TEST_AGENT_ID": "config", "TEST_API_KEY": "config",
    "AccountSpec": "config", "FeedConfig": "config", "VenueConfig": "config",
    "VenueCore": "core",
    "Engine": "engine", "NewOrder": "engine",
    "CancelReason": "errors", "Reason": "errors",
    "NO_FAULTS": "faults", "SEED_LATENCY": "faults", "FaultConfig": "faults",
    "Latency": "faults",
    "DEFAULT_SYNTHETIC": "generator", "GeneratorConfig": "generator",
    "SyntheticMarket": "generator",
    "FEED_DEPTH": "level_updates", "apply_update": "level_updates",
    "diff_side": "level_updates",
    "SEED_LIMITS": "limits", "UNLIMITED": "limits", "Limits": "limits",
    "DEFAULT_MARKETS": "markets", "MarketSpec": "markets",
    "ReplayConfig": "replay", "ReplaySource": "replay", "binance_pair": "replay",
    "VenueThread": "threaded", "VenueProcess": "testing",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sim.venue' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"sim.venue.{module}"), name)
    globals()[name] = value
    return value
