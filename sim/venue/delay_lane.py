"""Delivers items after a delay without ever reordering them.

asyncio timers with equal deadlines fire in no guaranteed order, so one lane keeps its own
FIFO and one timer for its head. Used for injected latency and stale market data.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable


class DelayLane:
    __slots__ = ("loop", "deliver", "items", "handle")

    def __init__(self, loop: asyncio.AbstractEventLoop, deliver: Callable[[object], None]):
        self.loop = loop
        self.deliver = deliver
        self.items: deque[tuple[float, object]] = deque()
        self.handle: asyncio.TimerHandle | None = None

    @property
    def busy(self) -> bool:
        return bool(self.items)

    def push(self, delay: float, item) -> None:
        due = self.loop.time() + delay
        if self.items and due < self.items[-1][0]:
            due = self.items[-1][0]  # never overtake an earlier item
        self.items.append((due, item))
        if self.handle is None:
            self.handle = self.loop.call_at(due, self._fire)

    def _fire(self) -> None:
        self.handle = None
        now = self.loop.time()
        while self.items and self.items[0][0] <= now:
            self.deliver(self.items.popleft()[1])
        if self.items:
            self.handle = self.loop.call_at(self.items[0][0], self._fire)

    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None
        self.items.clear()
