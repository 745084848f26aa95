"""The seed article's API limits, and the sliding window that enforces the rate limits."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    orders_per_s: int = 100  # per API key, WebSocket and REST together
    cancels_per_s: int = 200  # per API key; a cancel_all counts as one
    subscriptions_per_connection: int = 50  # one per (channel, market)
    connections_per_key: int = 10  # concurrent authenticated WebSocket connections
    max_open_orders: int = 1000  # per key
    max_message_bytes: int = 64 * 1024  # a bigger WebSocket frame closes the connection (1009)
    max_request_bytes: int = 64 * 1024  # a bigger REST body is answered 413
    max_book_depth: int = 100  # deepest orderbook subscription or REST snapshot


SEED_LIMITS = Limits()
# For capacity benchmarks: nothing but the machine limits the rate.
UNLIMITED = Limits(orders_per_s=1 << 40, cancels_per_s=1 << 40, max_open_orders=1 << 40)


class RateWindow:
    """At most `limit` admitted events in any `window` seconds (a sliding log: exact, and
    O(1) amortised because each timestamp is appended and popped once)."""

    __slots__ = ("limit", "window", "times")

    def __init__(self, limit: int, window: float = 1.0):
        self.limit = limit
        self.window = window
        self.times: deque[float] = deque()

    def allow(self, now: float) -> bool:
        times = self.times
        horizon = now - self.window
        while times and times[0] <= horizon:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        return True
