"""The thin async adapter that owns the WebSocket and drives the sans-I/O `Session`.

    conn = VenueConnection(ws_url, api_key, markets, subscriptions, config,
                           on_event=handle, on_state=state_changed)
    await conn.start()                 # returns once LIVE (raises StartFailed otherwise)
    conn.send_order("tw1-1", "BTC-PERP", Side.BUY, qty=10, price=432501,
                    order_type=OrderType.LIMIT, submit_ns=time.monotonic_ns())
    conn.cancel("tw1-1"); conn.cancel_all("BTC-PERP")
    conn.state                         # session.State; conn.stats, conn.top(market)
    await conn.close()

- `on_event(event, recv_ns)` receives every decoded venue event (events.py), a `TopOfBook`
  after each book message that changed the top, and the errors the session recovered from:
  `ProtocolError` (a malformed frame, discarded) and `SequenceGap` (that market is being
  resynced). `recv_ns` is `time.monotonic_ns()` taken as soon as the frame was read.
- `on_state(state)` is called on every state change (LIVE, BACKOFF, ...). Orders are only
  accepted in LIVE; the venue keeps open orders across a disconnect, so on leaving LIVE the
  daemon decides what to cancel or reconcile.
- `send_order`, `cancel` and `cancel_all` are synchronous: the frame is written to the socket
  buffer at once (no await, no task switch). They raise `NotLive` (session.py) when not LIVE,
  `EncodeError`/`UnknownMarket` for a bad order, `Backpressure` when the socket's write
  buffer is over `max_write_buffer`; nothing is sent then.
- A callback that raises is logged and counted (`stats.callback_errors`); the connection
  goes on.

Sockets: websockets 17 with compression off, TCP_NODELAY set, no proxy, websockets' own
keepalive off (the session pings at the application level, which also proves the venue's
message loop is alive). Every await is bounded: connect by `connect_timeout_s`, reading by
the session's next deadline (ping, pong, handshake), a close by `close_timeout_s`. The read
loop keeps one `asyncio.timeout` open across frames and moves it only when the session's
deadline moves, since entering a new one per frame would cost several µs.

The API key never reaches a log: the session's auth `Send` prints as `<auth frame>`, and the
websockets logger given to the connection redacts it should anyone turn on frame logging.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import broadcast
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.protocol import State as WsState

from host.venue_client.book import L2Book, TopOfBook
from host.venue_client.credentials import ApiKey, as_api_key
from host.venue_client.errors import ClientError
from host.venue_client.events import OrderType, Side
from host.venue_client.markets import MarketTable
from host.venue_client.session import (
    Close,
    ConfigError,
    Connect,
    Deliver,
    ReconnectAfter,
    Resync,
    Send,
    Session,
    SessionConfig,
    SessionStats,
    State,
    StateChanged,
    Subscription,
)

log = logging.getLogger("tickwire.venue_client")
_NS = 1_000_000_000


class VenueConnectionError(ClientError):
    reason = "connection_error"


class StartFailed(VenueConnectionError):
    """`start()` did not reach LIVE: `reason` is e.g. bad_api_key, start_timeout."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


class NotConnected(VenueConnectionError):
    reason = "not_connected"


class Backpressure(VenueConnectionError):
    reason = "backpressure"


@dataclass(frozen=True)
class ConnectionConfig:
    session: SessionConfig = field(default_factory=SessionConfig)
    start_timeout_s: float = 10.0      # start() waits this long for LIVE
    close_timeout_s: float = 2.0
    max_frame_bytes: int = 1 << 20
    max_queue: int = 1024              # frames websockets buffers before it stops reading
    max_write_buffer: int = 1 << 20    # bytes queued on the socket before sends are refused

    def __post_init__(self):
        for name in ("start_timeout_s", "close_timeout_s"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not value > 0:
                raise ConfigError(f"{name} must be a positive number of seconds")
        for name in ("max_frame_bytes", "max_queue", "max_write_buffer"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer")


@dataclass
class ConnectionStats:
    callback_errors: int = 0
    frames_discarded: int = 0  # by the test hook
    sent: int = 0


class _Redact(logging.Filter):
    def __init__(self, secret: str):
        super().__init__()
        self._secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._secret in message:
            record.msg = message.replace(self._secret, "<hidden>")
            record.args = ()
        return True


def _websockets_logger(key: ApiKey) -> logging.Logger:
    logger = logging.getLogger("tickwire.venue_client.websockets")
    if not any(isinstance(f, _Redact) for f in logger.filters):
        logger.addFilter(_Redact(key.reveal()))
    return logger


class VenueConnection:
    def __init__(self, ws_url: str, api_key: ApiKey | str, markets: MarketTable,
                 subscriptions: Iterable[Subscription] = (),
                 config: ConnectionConfig | None = None,
                 on_event: Callable[[object, int], None] | None = None,
                 on_state: Callable[[State], None] | None = None):
        self.ws_url = ws_url
        self.config = config = config if config is not None else ConnectionConfig()
        key = as_api_key(api_key)
        self.session = Session(key, markets, subscriptions, config.session)
        self.on_event = on_event
        self.on_state = on_state
        self.stats = ConnectionStats()
        # Test hook: given each raw frame, returns the frame to process (maybe changed) or
        # None to discard it, as if the network had lost it.
        self.frame_hook: Callable[[bytes], bytes | None] | None = None
        self._ws_logger = _websockets_logger(key)
        self._ws: ClientConnection | None = None
        self._closing: ClientConnection | None = None
        self._want_connect = False
        self._fatal: str | None = None
        self._task: asyncio.Task | None = None
        self._live = asyncio.Event()
        self._was_live = False
        self._stopped = asyncio.Event()

    # -- the public API --------------------------------------------------------------------

    @property
    def state(self) -> State:
        return self.session.state

    @property
    def session_stats(self) -> SessionStats:
        return self.session.stats

    def book(self, market: str) -> L2Book:
        return self.session.book(market)

    def top(self, market: str) -> TopOfBook | None:
        return self.session.top(market)

    async def start(self, wait: bool = True) -> None:
        """Connect, authenticate and subscribe. With `wait`, return once LIVE or raise
        StartFailed (and stop); without, return at once and keep trying in the background."""
        if self._task is not None:
            raise StartFailed("already started", "already_started")
        self._task = asyncio.get_running_loop().create_task(self._run(),
                                                            name="venue-connection")
        if not wait:
            return
        live = asyncio.ensure_future(self._live.wait())
        stopped = asyncio.ensure_future(self._stopped.wait())
        try:
            await asyncio.wait({live, stopped}, timeout=self.config.start_timeout_s,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            live.cancel()
            stopped.cancel()
        if self._was_live:
            return  # it may have dropped again since; it reconnects on its own
        reason = self._fatal or "start_timeout"
        await self.close()
        raise StartFailed(f"the venue session did not become live: {reason}", reason)

    def send_order(self, order_id: str, market: str, side: Side, qty: int, price: int | None,
                   order_type: OrderType = OrderType.LIMIT, submit_ns: int | None = None) -> None:
        """qty in lots, price in ticks (None for a market order)."""
        self._send(self.session.order(order_id, market, side, qty, price, order_type,
                                      submit_ns))

    def cancel(self, order_id: str) -> None:
        self._send(self.session.cancel(order_id))

    def cancel_all(self, market: str | None = None) -> None:
        self._send(self.session.cancel_all(market))

    async def close(self) -> None:
        """Stop for good: close the socket (bounded by close_timeout_s) and the task."""
        if self.session.state is not State.CLOSED:
            self._perform(self.session.close("user"), 0)
        ws = self._closing or self._ws
        self._ws = self._closing = None
        if ws is not None:
            await self._close_ws(ws)
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            try:
                async with asyncio.timeout(self.config.close_timeout_s):
                    await task
            except (asyncio.CancelledError, TimeoutError):
                pass
        self._stopped.set()

    # -- sending ---------------------------------------------------------------------------

    def _send(self, text: str) -> None:
        ws = self._ws
        if ws is None or ws.protocol.state is not WsState.OPEN:
            raise NotConnected("no open connection to the venue")
        if ws.transport.get_write_buffer_size() > self.config.max_write_buffer:
            raise Backpressure("the socket's write buffer is full; the venue is not reading")
        try:
            broadcast((ws,), text, raise_exceptions=True)
        except ExceptionGroup as group:
            raise NotConnected(f"the frame could not be written: {group.exceptions[0]}") \
                from None
        self.stats.sent += 1

    # -- carrying out the session's actions ------------------------------------------------

    def _perform(self, actions: list, recv_ns: int) -> None:
        for action in actions:
            cls = action.__class__
            if cls is Deliver:
                self._callback(self.on_event, action.event, recv_ns)
            elif cls is Send:
                try:
                    self._send(action.text)
                except VenueConnectionError as exc:
                    # The read loop sees the broken connection and reports it.
                    log.debug("send failed: %s", exc.reason)
            elif cls is Resync:
                log.info("%s: book out of sequence, resubscribing", action.market)
                with contextlib.suppress(VenueConnectionError):
                    self._send(action.text)
            elif cls is StateChanged:
                if action.new is State.LIVE:
                    self._was_live = True
                    self._live.set()
                else:
                    self._live.clear()
                log.info("venue session %s -> %s", action.old.value, action.new.value)
                if self.on_state is not None:
                    try:
                        self.on_state(action.new)
                    except Exception:
                        self.stats.callback_errors += 1
                        log.exception("on_state callback failed")
            elif cls is Connect:
                self._want_connect = True
            elif cls is ReconnectAfter:
                log.info("venue connection lost; reconnecting in %.3f s", action.delay_s)
            elif cls is Close:
                self._on_close(action)

    def _callback(self, fn, event, recv_ns: int) -> None:
        if fn is None:
            return
        try:
            fn(event, recv_ns)
        except Exception:
            self.stats.callback_errors += 1
            log.exception("on_event callback failed on %s", type(event).__name__)

    def _on_close(self, action: Close) -> None:
        ws, self._ws = self._ws, None
        if action.fatal:
            self._fatal = action.reason
            self._stopped.set()
            if action.reason != "user":
                log.error("venue session closed: %s", action.reason)
            # Closed with a handshake by the read loop as it returns, or by close().
            self._closing = ws
        elif ws is not None:
            ws.transport.abort()  # a dead link: no close handshake to wait for

    # -- the loop --------------------------------------------------------------------------

    async def _run(self) -> None:
        session = self.session
        try:
            self._perform(session.start(time.monotonic_ns()), 0)
            while session.state is not State.CLOSED:
                if self._want_connect:
                    self._want_connect = False
                    await self._connection()
                else:
                    await self._sleep_until_due()
        finally:
            self._stopped.set()

    async def _sleep_until_due(self) -> None:
        deadline = self.session.next_deadline_ns()
        delay = 1.0 if deadline is None else max(0.0, (deadline - time.monotonic_ns()) / _NS)
        await asyncio.sleep(delay)
        self._perform(self.session.timer(time.monotonic_ns()), 0)

    async def _connection(self) -> None:
        session = self.session
        config = self.config
        try:
            async with asyncio.timeout(config.session.connect_timeout_s):
                ws = await connect(
                    self.ws_url, compression=None, proxy=None, open_timeout=None,
                    ping_interval=None, ping_timeout=None,
                    close_timeout=config.close_timeout_s, max_size=config.max_frame_bytes,
                    max_queue=config.max_queue, logger=self._ws_logger)
        except TimeoutError:
            self._perform(session.lost("connect_timeout", time.monotonic_ns()), 0)
            return
        except (OSError, InvalidHandshake, InvalidURI, ValueError) as exc:
            log.warning("cannot connect to %s: %s", self.ws_url, exc)
            self._perform(session.lost("connect_failed", time.monotonic_ns()), 0)
            return
        sock = ws.transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._ws = ws
        try:
            self._perform(session.connected(time.monotonic_ns()), 0)
            await self._read(ws)
        except Exception:
            log.exception("venue connection failed")
            if self._ws is ws and session.state in (State.AUTHENTICATING, State.SUBSCRIBING,
                                                    State.LIVE):
                self._perform(session.lost("client_error", time.monotonic_ns()), 0)
        finally:
            if self._ws is ws:
                self._ws = None
            await self._close_ws(ws)

    async def _read(self, ws: ClientConnection) -> None:
        session = self.session
        recv = ws.recv
        clock = time.monotonic_ns
        loop = asyncio.get_running_loop()
        while self._ws is ws:
            deadline = session.next_deadline_ns()
            when = None if deadline is None else loop.time() + (deadline - clock()) / _NS
            try:
                async with asyncio.timeout_at(when) as scope:
                    while True:
                        raw = await recv(decode=False)
                        recv_ns = clock()
                        if self._ws is not ws:
                            return  # closed while this frame waited: not ours to handle
                        hook = self.frame_hook
                        if hook is not None:
                            raw = hook(raw)
                            if raw is None:
                                self.stats.frames_discarded += 1
                                continue
                        self._perform(session.receive(raw, recv_ns), recv_ns)
                        if self._ws is not ws:
                            return
                        moved = session.next_deadline_ns()
                        if moved != deadline:
                            deadline = moved
                            scope.reschedule(None if moved is None
                                             else loop.time() + (moved - clock()) / _NS)
            except TimeoutError:
                if scope.expired():
                    self._perform(session.timer(clock()), 0)
                else:
                    raise
            except ConnectionClosed as exc:
                if self._ws is ws and session.state in (State.AUTHENTICATING,
                                                        State.SUBSCRIBING, State.LIVE):
                    reason = f"closed_{exc.rcvd.code}" if exc.rcvd is not None else "dropped"
                    self._perform(session.lost(reason, clock()), 0)
                return

    async def _close_ws(self, ws: ClientConnection) -> None:
        try:
            async with asyncio.timeout(self.config.close_timeout_s):
                await ws.close()
        except (TimeoutError, OSError, ConnectionClosed):
            ws.transport.abort()
