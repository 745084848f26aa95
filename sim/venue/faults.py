"""Fault injection, configured per run and reproducible from a seed.

Everything is off by default. `SEED_LATENCY` reproduces the latency table of the seed article
(Purple Flea's published targets): each figure becomes a log-normal delay with that median
and 99th percentile, added between the engine and the socket.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace

_Z99 = 2.3263478740408408  # standard normal 99th percentile


@dataclass(frozen=True)
class Latency:
    """A log-normal delay given by its median and 99th percentile, in milliseconds."""

    p50_ms: float
    p99_ms: float

    def __post_init__(self):
        if not 0 < self.p50_ms <= self.p99_ms:
            raise ValueError("need 0 < p50_ms <= p99_ms")

    def sample(self, rng: random.Random) -> float:
        """One delay, in seconds."""
        sigma = math.log(self.p99_ms / self.p50_ms) / _Z99
        return rng.lognormvariate(math.log(self.p50_ms), sigma) / 1000.0


@dataclass(frozen=True)
class FaultConfig:
    seed: int = 0
    # Added latency, by what is being answered (None: none added).
    ack_latency: Latency | None = None  # order_ack, order_reject, cancelled, cancel_reject
    fill_latency: Latency | None = None  # fill
    snapshot_latency: Latency | None = None  # orderbook snapshot
    rest_order_latency: Latency | None = None  # REST order placement and cancel
    rest_account_latency: Latency | None = None  # every other REST call
    # Each WebSocket connection is dropped (TCP reset, no close frame) after a random
    # lifetime with this mean, in seconds.
    drop_connection_mean_s: float | None = None
    # Reject bursts: at random times with this mean gap, the next `reject_burst_len` orders
    # (any key) are rejected with reason venue_busy.
    reject_burst_mean_gap_s: float | None = None
    reject_burst_len: int = 5
    # The colo feed: probability that a packet is lost, or held back and sent after the next.
    feed_loss: float = 0.0
    feed_reorder: float = 0.0
    # Market data (WebSocket and colo feed) leaves this late, carrying its original timestamps.
    stale_market_data_ms: float = 0.0

    def __post_init__(self):
        for name in ("feed_loss", "feed_reorder"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} is a probability")
        if self.stale_market_data_ms < 0 or self.reject_burst_len < 0:
            raise ValueError("delays and burst lengths are not negative")


NO_FAULTS = FaultConfig()
SEED_LATENCY = FaultConfig(
    ack_latency=Latency(0.8, 3.2),
    fill_latency=Latency(1.1, 4.5),
    snapshot_latency=Latency(2.4, 8.1),
    rest_order_latency=Latency(15.0, 45.0),
    rest_account_latency=Latency(18.0, 52.0),
)
PRESETS = {"none": NO_FAULTS, "seed-latency": SEED_LATENCY}


def with_seed_latency(config: FaultConfig) -> FaultConfig:
    return replace(config, **{k: getattr(SEED_LATENCY, k) for k in (
        "ack_latency", "fill_latency", "snapshot_latency", "rest_order_latency",
        "rest_account_latency")})


class Faults:
    """The run-time side of a FaultConfig: one seeded RNG, burst state, live overrides."""

    def __init__(self, config: FaultConfig = NO_FAULTS):
        self.config = config
        self.rng = random.Random(config.seed)
        self.md_delay_s = config.stale_market_data_ms / 1000.0
        self._burst_left = 0
        self._next_burst: float | None = None
        self.rejected_busy = 0
        self.feed_dropped = 0
        self.feed_reordered = 0
        self._held: bytes | None = None
        self._lose_packets = 0

    def delay(self, latency: Latency | None) -> float:
        return latency.sample(self.rng) if latency is not None else 0.0

    # -- reject bursts -----------------------------------------------------------------------

    def start_reject_burst(self, count: int) -> None:
        self._burst_left += count

    def reject_now(self, now_s: float) -> bool:
        """Called once per order; True when this order falls in a burst."""
        gap = self.config.reject_burst_mean_gap_s
        if gap is not None:
            if self._next_burst is None:
                self._next_burst = now_s + self.rng.expovariate(1.0 / gap)
            elif now_s >= self._next_burst:
                self._burst_left += self.config.reject_burst_len
                self._next_burst = now_s + self.rng.expovariate(1.0 / gap)
        if self._burst_left:
            self._burst_left -= 1
            self.rejected_busy += 1
            return True
        return False

    # -- dropped connections -----------------------------------------------------------------

    def connection_lifetime(self) -> float | None:
        mean = self.config.drop_connection_mean_s
        return self.rng.expovariate(1.0 / mean) if mean else None

    # -- the feed ----------------------------------------------------------------------------

    def lose_packets(self, count: int) -> None:
        """Lose the next `count` feed packets (a deterministic gap)."""
        self._lose_packets += count

    def feed_packets(self, packets: list[bytes]) -> list[bytes]:
        """The packets that go out, in the order they go out, after loss and reordering."""
        loss, reorder = self.config.feed_loss, self.config.feed_reorder
        if not loss and not reorder and self._held is None and not self._lose_packets:
            return packets
        out = []
        for packet in packets:
            if self._lose_packets:
                self._lose_packets -= 1
                self.feed_dropped += 1
                continue
            if loss and self.rng.random() < loss:
                self.feed_dropped += 1
                continue
            if self._held is None and reorder and self.rng.random() < reorder:
                self._held = packet
                self.feed_reordered += 1
                continue
            out.append(packet)
            if self._held is not None:
                out.append(self._held)
                self._held = None
        return out

    def release_held(self) -> list[bytes]:
        """A held packet goes out at the latest with the next flush of an idle feed."""
        held, self._held = self._held, None
        return [held] if held is not None else []
