"""A venue on its own event loop in a background thread.

For synchronous callers (pytest, a blocking HTTP client) and for clients that run their own
event loop: the venue and the client then share no loop, as they would share no process.
Anything that touches the venue's state goes through `call`, which runs on the venue's loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future

from sim.venue.app import Venue
from sim.venue.config import VenueConfig

START_TIMEOUT_S = 10.0


class VenueThread:
    def __init__(self, config: VenueConfig | None = None, *, use_uvloop: bool = True):
        self.config = config
        self.use_uvloop = use_uvloop
        self.venue: Venue | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._started: Future = Future()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="tickwire-venue", daemon=True)

    def __enter__(self) -> VenueThread:
        self._thread.start()
        self._started.result(timeout=START_TIMEOUT_S)
        return self

    def __exit__(self, *exc) -> None:
        self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=START_TIMEOUT_S)

    def _main(self) -> None:
        if self.use_uvloop:
            import uvloop

            runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
        else:
            runner = asyncio.Runner()
        with runner:
            runner.run(self._serve())

    async def _serve(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            self.venue = Venue(self.config)
            await self.venue.start()
        except BaseException as exc:
            self._started.set_exception(exc)
            return
        self._started.set_result(None)
        try:
            await self._stop.wait()
        finally:
            await self.venue.stop()

    def call(self, fn: Callable, *args):
        """Run `fn(*args)` on the venue's loop and return its result."""
        done: Future = Future()

        def run() -> None:
            try:
                done.set_result(fn(*args))
            except BaseException as exc:
                done.set_exception(exc)

        self.loop.call_soon_threadsafe(run)
        return done.result(timeout=START_TIMEOUT_S)

    @property
    def ws_url(self) -> str:
        return self.venue.ws_url

    @property
    def rest_url(self) -> str:
        return self.venue.rest_url

    @property
    def feed_addr(self) -> tuple[str, int]:
        return self.venue.feed_addr
