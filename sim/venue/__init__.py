"""A local Purple Flea venue: matching engine, WebSocket and REST APIs, binary colo feed,
synthetic and replayed market data, limits and fault injection. See docs/venue.md.

- engine.py, book.py, accounts.py: the sans-I/O matching engine;
- core.py, session.py, marketdata.py, protocol.py, rest_api.py: the sans-I/O venue;
- ws_server.py, rest_server.py, colo_feed.py, app.py: the adapters that own sockets;
- generator.py, replay.py: where market data comes from; faults.py, limits.py: the rules.
"""

from sim.venue.accounts import Fees
from sim.venue.app import Venue
from sim.venue.config import (
    TEST_ACCOUNT,
    TEST_AGENT_ID,
    TEST_API_KEY,
    AccountSpec,
    FeedConfig,
    VenueConfig,
)
from sim.venue.core import VenueCore
from sim.venue.engine import Engine, NewOrder
from sim.venue.errors import CancelReason, Reason
from sim.venue.faults import NO_FAULTS, SEED_LATENCY, FaultConfig, Latency
from sim.venue.generator import DEFAULT_SYNTHETIC, GeneratorConfig, SyntheticMarket
from sim.venue.level_updates import FEED_DEPTH, apply_update, diff_side
from sim.venue.limits import SEED_LIMITS, UNLIMITED, Limits
from sim.venue.markets import DEFAULT_MARKETS, MarketSpec
from sim.venue.replay import ReplayConfig, ReplaySource, binance_pair
