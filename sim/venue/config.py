"""Everything a venue run is configured with, as frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass

from sim.venue.accounts import Fees
from sim.venue.faults import NO_FAULTS, FaultConfig
from sim.venue.generator import GeneratorConfig
from sim.venue.limits import SEED_LIMITS, Limits
from sim.venue.markets import DEFAULT_MARKETS, MarketSpec
from sim.venue.replay import ReplayConfig

# Works out of the box against a local venue, and only there (docs/venue.md).
TEST_API_KEY = "pf_test_tickwire_local_key"
TEST_AGENT_ID = "tickwire-local"


@dataclass(frozen=True)
class AccountSpec:
    api_key: str
    agent_id: str
    balance_usdc: float = 100_000.0
    admin: bool = False  # may halt and resume markets over REST


TEST_ACCOUNT = AccountSpec(TEST_API_KEY, TEST_AGENT_ID, admin=True)


@dataclass(frozen=True)
class FeedConfig:
    """Where the colo feed goes. Unicast to (host, port) unless `group` names a multicast
    group, which is then sent to on loopback at `port`. Port 0 picks a free UDP port."""

    host: str = "127.0.0.1"
    port: int = 0
    group: str | None = None
    max_payload: int = 1400
    heartbeat_s: float = 1.0
    session: int | None = None  # None: the start time in seconds, mod 2**32


@dataclass(frozen=True)
class VenueConfig:
    host: str = "127.0.0.1"
    ws_port: int = 0
    rest_port: int = 0
    markets: tuple[MarketSpec, ...] = DEFAULT_MARKETS
    accounts: tuple[AccountSpec, ...] = (TEST_ACCOUNT,)
    register_balance_usdc: float = 100_000.0  # what POST /api/v1/register credits
    fees: Fees = Fees()
    limits: Limits = SEED_LIMITS
    faults: FaultConfig = NO_FAULTS
    feed: FeedConfig = FeedConfig()
    # Where market data comes from besides the clients' own orders.
    source: GeneratorConfig | ReplayConfig | None = None
