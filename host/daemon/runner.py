"""The daemon's adapter: it owns the loop, the venue connection, the timers and the servers,
and hands everything that happens to the Trader (trader.py), then executes what it returns.

Start-up order matters for "nothing lost": the journal is opened and recovered first, the
venue's view of open orders and positions is fetched over REST and reconciled before the
first market-data message, and only then does the WebSocket session start. On disconnect the
open orders are cancelled over REST (the WebSocket is what went away); after the reconnect,
orders and positions are reconciled again. On shutdown every open order is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import sys
import time
from dataclasses import dataclass, field

from host.daemon.assembly import build_session
from host.daemon.config import DaemonConfig
from host.daemon.control import ControlError, serve_control
from host.daemon.summary import Summary, summarise
from host.daemon.trader import SendCancel, SendCancelAll, SendOrder, Trader
from host.metrics.http_endpoint import serve_metrics
from host.metrics.registry import Registry

RECONCILE_TIMEOUT_S = 10.0
SHUTDOWN_TIMEOUT_S = 5.0


@dataclass
class RunOptions:
    duration_s: float | None = None       # stop by itself after this long
    install_signals: bool = True
    progress: bool = True
    stop: asyncio.Event | None = None
    ready: asyncio.Future | None = field(default=None, repr=False)


class Daemon:
    def __init__(self, config: DaemonConfig, options: RunOptions):
        self.config = config
        self.options = options
        self.metrics = Registry()
        self.stop = options.stop or asyncio.Event()
        self.started_ns = time.monotonic_ns()
        self.stop_reason = "stopped"
        self.stopped_ns = self.started_ns
        self.exit_code = 0
        self.session = None
        self.trader: Trader | None = None
        self._servers: list = []
        self._tasks: list[asyncio.Task] = []
        self._tick_to_order = self.metrics.histogram(
            "tick_to_order_seconds", "Market data in to order handed to the socket.")
        self._event_to_order = self.metrics.histogram(
            "event_to_order_seconds", "Order event in (e.g. a cancel confirmed) to the order "
            "it caused (a requote) handed to the socket.")
        self._link_up = self.metrics.gauge("venue_link_up", "1 while the venue session is live.")
        self._was_live = False
        self._started = False

    async def run(self) -> Summary:
        cfg = self.config
        self.session = await build_session(cfg, self.metrics, self._on_event, self._on_state)
        s = self.session
        self.trader = s.trader
        s.request_reconcile = lambda why: self._tasks.append(
            asyncio.create_task(self._reconcile(why)))
        try:
            await s.connection.start()
            self._started = True
            self._servers.append(await serve_control(cfg.daemon.control_socket, self._control))
            if cfg.daemon.metrics_port:
                server = await serve_metrics(self.metrics, cfg.daemon.metrics_host,
                                             cfg.daemon.metrics_port)
                self._servers.append(server)
                s.metrics_port = server.sockets[0].getsockname()[1]
            if cfg.daemon.gc_freeze:
                gc.collect()
                gc.freeze()
            if cfg.daemon.cpu >= 0:
                os.sched_setaffinity(0, {cfg.daemon.cpu})
            if self.options.install_signals:
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(sig, self._request_stop, sig.name.lower())
            if self.options.progress and cfg.daemon.progress_s > 0:
                self._tasks.append(asyncio.create_task(self._progress()))
            if self.options.ready is not None and not self.options.ready.done():
                self.options.ready.set_result(s)
            if self.options.duration_s is not None:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.options.duration_s):
                        await self.stop.wait()
                if not self.stop.is_set():
                    self.stop_reason = "duration reached"
            else:
                await self.stop.wait()
        finally:
            await self._shutdown()
        return summarise(self)

    # -- events from the venue session -------------------------------------------------------

    def _on_event(self, commands) -> None:
        """The session glue turned one venue message into Trader commands: execute them."""
        self._execute(commands)

    def _on_state(self, live: bool) -> None:
        if live == self._was_live:
            return
        self._was_live = live
        self._link_up.set(1 if live else 0)
        if not live and not self.stop.is_set():
            # The WebSocket is gone: cancel what rests over REST so nothing trades on a
            # market view we no longer have.
            self._tasks.append(asyncio.create_task(self._cancel_over_rest("disconnect")))
        elif live and self.session.connection is not None and self._started:
            self._tasks.append(asyncio.create_task(self._reconcile("reconnect")))

    def _execute(self, commands) -> None:
        conn = self.session.connection
        for cmd in commands:
            if isinstance(cmd, SendOrder):
                conn.send_order(cmd.order_id, cmd.market, cmd.side, cmd.qty, cmd.price,
                                cmd.order_type)
                if cmd.origin_ns:
                    hist = self._tick_to_order if cmd.from_tick else self._event_to_order
                    hist.record(time.monotonic_ns() - cmd.origin_ns)
            elif isinstance(cmd, SendCancel):
                conn.cancel(cmd.order_id)
            elif isinstance(cmd, SendCancelAll):
                conn.cancel_all(cmd.market)

    # -- operator ----------------------------------------------------------------------------

    async def _control(self, req: dict) -> dict:
        op = req["op"]
        if op == "status":
            return self.session.status()
        if op == "kill":
            reason = str(req.get("reason") or "operator")
            self._execute(self.trader.kill(reason, time.monotonic_ns()))
            await self._cancel_over_rest("kill")
            self.exit_code = 3
            self._request_stop(f"killed by operator: {reason}")
            return {"state": "halted", "message": "orders cancelled, daemon stopping"}
        raise ControlError("unknown_op", f"no operation {op!r} (status, kill)")

    def _request_stop(self, reason: str) -> None:
        if not self.stop.is_set():
            self.stop_reason = reason
            self.stop.set()

    # -- background work ---------------------------------------------------------------------

    async def _progress(self) -> None:
        period = self.config.daemon.progress_s
        while True:
            await asyncio.sleep(period)
            print(self.session.progress_line(), file=sys.stderr, flush=True)

    async def _reconcile(self, why: str) -> None:
        try:
            async with asyncio.timeout(RECONCILE_TIMEOUT_S):
                commands = await self.session.reconcile(why)
            self._execute(commands)
        except Exception as exc:  # noqa: BLE001 - a failed reconcile is reported, and retried
            self.session.note(f"reconcile after {why} failed: {type(exc).__name__}: {exc}")

    async def _cancel_over_rest(self, why: str) -> None:
        try:
            async with asyncio.timeout(RECONCILE_TIMEOUT_S):
                await self.session.cancel_all_over_rest(why)
        except Exception as exc:  # noqa: BLE001 - reported; the reconnect reconciles again
            self.session.note(f"cancel-all after {why} failed: {type(exc).__name__}: {exc}")

    async def _shutdown(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        s = self.session
        if s is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(SHUTDOWN_TIMEOUT_S):
                    await s.shutdown()
        for server in self._servers:
            server.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.config.daemon.control_socket)
        gc.unfreeze()
        self.stopped_ns = time.monotonic_ns()


def run(config: DaemonConfig, options: RunOptions | None = None) -> Summary:
    """Run the daemon on uvloop when configured and available; return its summary."""
    options = options or RunOptions()
    factory = None
    if config.daemon.uvloop:
        try:
            import uvloop
            factory = uvloop.new_event_loop
        except ImportError:
            pass
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(Daemon(config, options).run())
