"""The circuit breaker: a sliding one-second window over the orders let through.

Normally at most `max_orders_per_s` orders in any window of one second. The order that would
exceed that engages the breaker: from then on at most `throttled_orders_per_s` per window,
until `cool_off_s` pass without another refused order (each refusal restarts the cool-off).
"""

from __future__ import annotations

from collections import deque

from host.risk.config import NS_PER_S, CircuitBreaker

WINDOW_NS = NS_PER_S


class Breaker:
    __slots__ = ("_max", "_throttled", "_cool_ns", "_sent", "throttle_until")

    def __init__(self, config: CircuitBreaker):
        self._max = config.max_orders_per_s
        self._throttled = config.throttled_orders_per_s
        self._cool_ns = int(config.cool_off_s * NS_PER_S)
        self._sent: deque[int] = deque()
        self.throttle_until = 0  # 0: not throttled

    def throttled(self, now: int) -> bool:
        return now < self.throttle_until

    def admit(self, now: int) -> tuple[bool, bool]:
        """(passes, engaged_now). A passing order is counted at once: call only for an order
        that every other check has passed, or `undo` it."""
        sent = self._sent
        horizon = now - WINDOW_NS
        while sent and sent[0] <= horizon:
            sent.popleft()
        throttled = now < self.throttle_until
        if len(sent) < (self._throttled if throttled else self._max):
            sent.append(now)
            return True, False
        self.throttle_until = now + self._cool_ns
        return False, not throttled

    def undo(self, now: int) -> None:
        """Forget the order just admitted at `now` (a later check refused it)."""
        if self._sent and self._sent[-1] == now:
            self._sent.pop()

    def in_window(self, now: int) -> int:
        return sum(1 for t in self._sent if t > now - WINDOW_NS)
