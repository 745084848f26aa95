"""The venue assembled: core, WebSocket and REST servers, the colo feed, and a data source.

Embed it in-process (tests, the daemon's tests, `make demo`)::

    async with Venue(VenueConfig(source=GeneratorConfig())) as venue:
        venue.ws_url, venue.rest_url, venue.feed_addr

or run it with `tickwire venue`. Port 0 everywhere picks free ports.
"""

from __future__ import annotations

import asyncio
import logging

from sim.venue.colo_feed import FeedSender, free_udp_port
from sim.venue.config import VenueConfig
from sim.venue.core import VenueCore
from sim.venue.delay_lane import DelayLane, Timer
from sim.venue.generator import Generator, GeneratorConfig
from sim.venue.replay import ReplayConfig, Replayer
from sim.venue.rest_api import RestApi
from sim.venue.rest_server import RestServer
from sim.venue.ws_server import WsServer

log = logging.getLogger("tickwire.venue")
REPLAY_YIELD_EVERY = 64  # records applied between yields when replaying flat out


class Venue:
    def __init__(self, config: VenueConfig | None = None):
        self.config = config = config if config is not None else VenueConfig()
        self.core: VenueCore | None = None
        self.generator: Generator | None = None
        self.replayer: Replayer | None = None
        self.replay_done = asyncio.Event()
        self.feed_addr: tuple[str, int] | None = None
        self._tasks: list[asyncio.Task] = []
        self._flush_pending = False
        self._last_feed = 0.0
        self._feed_lane: DelayLane | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> Venue:
        config = self.config
        self.loop = asyncio.get_running_loop()
        self.core = core = VenueCore(config)
        feed = config.feed
        port = feed.port or free_udp_port(feed.host)
        self.feed_addr = (feed.group or feed.host, port)
        self.feed = FeedSender([self.feed_addr], interface=feed.host)
        self.timer = Timer(self.loop)
        self._feed_lane = DelayLane(self.timer, self.feed.send)
        core.md.on_feed = self._feed_ready
        self.ws = WsServer(core, core.faults, config.host, config.ws_port, self.timer)
        self.rest = RestServer(RestApi(core), core.faults, config.host, config.rest_port,
                               config.limits.max_request_bytes)
        await self.ws.start()
        await self.rest.start()
        self._last_feed = self.loop.time()
        self._spawn(self._heartbeats())
        source = config.source
        if isinstance(source, GeneratorConfig):
            self.generator = Generator(core, source)
            self._spawn(self._run_generator(source))
        elif isinstance(source, ReplayConfig):
            self.replayer = Replayer(core, source)
            self._spawn(self._run_replay(source))
        return self

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.ws.stop()
        await self.rest.stop()
        if self._feed_lane is not None:
            self._feed_lane.cancel()
            self.timer.stop()
        self._flush_feed()
        self.feed.close()

    async def __aenter__(self) -> Venue:
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    def _spawn(self, coro) -> None:
        task = self.loop.create_task(coro)
        task.add_done_callback(_log_failure)
        self._tasks.append(task)

    # -- where clients connect ---------------------------------------------------------------

    @property
    def ws_url(self) -> str:
        return f"ws://{self.config.host}:{self.ws.port}/trading"

    @property
    def rest_url(self) -> str:
        return f"http://{self.config.host}:{self.rest.port}"

    # -- controls for tests and operators ----------------------------------------------------

    def halt(self, market: str, reason: int = 0) -> None:
        self.core.halt(market, reason)

    def resume(self, market: str) -> None:
        self.core.resume(market)

    def drop_connections(self, api_key: str | None = None) -> int:
        """Cut WebSocket connections (all, or one key's) without a close handshake."""
        account = self.core.authenticate(api_key) if api_key is not None else None
        if api_key is not None and account is None:
            return 0
        return self.ws.drop(account)

    def reject_burst(self, count: int) -> None:
        """Reject the next `count` orders with reason venue_busy."""
        self.core.faults.start_reject_burst(count)

    def set_market_data_delay(self, ms: float) -> None:
        """Make market data stale from now on (0 restores it)."""
        self.core.faults.md_delay_s = max(0.0, ms) / 1000.0

    def lose_feed_packets(self, count: int = 1) -> None:
        """Lose the next `count` colo-feed packets: receivers see one sequence gap."""
        self.core.faults.lose_packets(count)

    def lose_book_update(self, market: str) -> None:
        """Lose the next WebSocket book_update of `market` at every depth: subscribers see
        its sequence number skipped and must resync (subscribe again)."""
        self.core.md.lose_next_update.add(self.core.markets[market].market_id)

    def add_feed_target(self, addr: tuple[str, int]) -> None:
        self.feed.add_target(addr)

    # -- the colo feed -----------------------------------------------------------------------

    def _feed_ready(self) -> None:
        # One flush per loop iteration packs the messages of everything handled in it.
        if not self._flush_pending:
            self._flush_pending = True
            self.loop.call_soon(self._flush_feed)

    def _flush_feed(self) -> None:
        self._flush_pending = False
        self._send(self.core.faults.feed_packets(self.core.encoder.flush()))

    def _send(self, packets: list[bytes]) -> None:
        if not packets:
            return
        self._last_feed = self.loop.time()
        delay = self.core.faults.md_delay_s
        lane = self._feed_lane
        for packet in packets:
            if delay > 0 or lane.busy:
                lane.push(delay, packet)
            else:
                self.feed.send(packet)

    async def _heartbeats(self) -> None:
        period = self.config.feed.heartbeat_s
        while True:
            await asyncio.sleep(period / 4)
            if self.loop.time() - self._last_feed >= period:
                faults = self.core.faults
                self.core.encoder.heartbeat()
                self._send(faults.feed_packets(self.core.encoder.flush()) + faults.release_held())

    # -- data sources ------------------------------------------------------------------------

    async def _run_generator(self, config: GeneratorConfig) -> None:
        period = config.step_ms / 1000.0
        due = self.loop.time()
        while True:
            self.generator.step()
            due += period
            delay = due - self.loop.time()
            if delay < -1.0:
                due = self.loop.time()  # far behind (a paused process): skip, don't burst
            await asyncio.sleep(max(0.0, delay))

    async def _run_replay(self, config: ReplayConfig) -> None:
        replayer = self.replayer
        start = self.loop.time()
        first = None
        for count, (ts, market_id, record) in enumerate(replayer.records(), 1):
            if first is None:
                first = ts
            if config.speed > 0:
                delay = start + (ts - first) / 1e9 / config.speed - self.loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            elif count % REPLAY_YIELD_EVERY == 0:
                await asyncio.sleep(0)
            replayer.apply(market_id, record)
        self.replay_done.set()


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("venue task failed", exc_info=task.exception())
