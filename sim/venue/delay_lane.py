"""Delivers items after a delay without ever reordering them, with sub-millisecond accuracy.

Injected latencies are fractions of a millisecond (the seed's ack p50 is 0.8 ms), but
event-loop timers are not that fine: uvloop rounds to whole milliseconds and its clock only
advances once per loop iteration. So `Timer` is one thread that sleeps on a precise
monotonic clock and hands due callbacks back to the loop. Each `DelayLane` keeps its own FIFO
and asks the timer for its head only, so equal deadlines cannot swap items.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable


class Timer:
    """Runs callbacks on `loop` at monotonic times; one background thread per venue."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._running = True
        self._thread: threading.Thread | None = None  # started on first use

    def at(self, due: float, callback: Callable[[], None]) -> None:
        with self._wake:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="tickwire-venue-timer")
                self._thread.start()
            heapq.heappush(self._heap, (due, next(self._order), callback))
            self._wake.notify()

    def stop(self) -> None:
        with self._wake:
            self._running = False
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout=2.0)

    def _run(self) -> None:
        with self._wake:
            while self._running:
                if not self._heap:
                    self._wake.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                _, _, callback = heapq.heappop(self._heap)
                try:
                    self.loop.call_soon_threadsafe(callback)
                except RuntimeError:
                    return  # the loop is closed: the venue has stopped


class DelayLane:
    __slots__ = ("timer", "deliver", "items", "armed")

    def __init__(self, timer: Timer, deliver: Callable[[object], None]):
        self.timer = timer
        self.deliver = deliver
        self.items: deque[tuple[float, object]] = deque()
        self.armed = False

    @property
    def busy(self) -> bool:
        return bool(self.items)

    def push(self, delay: float, item) -> None:
        due = time.monotonic() + delay
        if self.items and due < self.items[-1][0]:
            due = self.items[-1][0]  # never overtake an earlier item
        self.items.append((due, item))
        if not self.armed:
            self.armed = True
            self.timer.at(due, self._fire)

    def _fire(self) -> None:
        self.armed = False
        now = time.monotonic()
        while self.items and self.items[0][0] <= now:
            self.deliver(self.items.popleft()[1])
        if self.items:
            self.armed = True
            self.timer.at(self.items[0][0], self._fire)

    def cancel(self) -> None:
        self.items.clear()
