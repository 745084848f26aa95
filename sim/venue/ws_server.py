"""The WebSocket adapter: websockets 17 owns the sockets, `Session` owns the meaning.

Served at `/trading`, compression off, TCP_NODELAY on. A `Bearer` key in the handshake is
checked before the upgrade (401 for an unknown key, 429 past the connection limit, both with
a JSON body). Frames above the size limit close the connection with 1009; a denied `auth`
message closes it with 1008 and the reason code.

Order path: a complete text frame goes from websockets' `data_received` straight to
`Session.on_text` (`_Connection.process_event`), so the acknowledgement is written in the
same event-loop iteration that read the order, with no queue, future or task switch in
between. Anything else (binary, fragmented or invalid UTF-8 frames, and whatever arrives
while such a frame waits) takes websockets' own queue and `recv()`, in arrival order, so the
errors and close codes are websockets' own.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from http import HTTPStatus

import orjson
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode, Opcode
from websockets.protocol import OPEN

from sim.venue.core import VenueCore
from sim.venue.delay_lane import DelayLane, Timer
from sim.venue.errors import Reason
from sim.venue.faults import Faults
from sim.venue.protocol import bearer_key
from sim.venue.session import Session

PATH = "/trading"
SLOW_CONSUMER_BYTES = 8 << 20  # a client this far behind is cut off, not buffered for
log = logging.getLogger("tickwire.venue.ws")
_TEXT, _BINARY = Opcode.TEXT, Opcode.BINARY


def text_frame(payload: bytes) -> bytes:
    """A server's unmasked, unfragmented text frame (RFC 6455 5.2), as websockets builds it."""
    size = len(payload)
    if size < 126:
        return bytes((0x81, size)) + payload
    if size < 65536:
        return b"\x81\x7e" + size.to_bytes(2, "big") + payload
    return b"\x81\x7f" + size.to_bytes(8, "big") + payload


class _Connection(ServerConnection):
    """A server connection that hands complete text frames to its session synchronously."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.session: Session | None = None  # set by the handler: the fast path is on
        self.queued = 0  # messages handed to websockets' queue that recv() has not returned
        self.refused = False  # the session asked to close: nothing more is handled
        self.closing_task: asyncio.Task | None = None

    def process_event(self, event) -> None:
        if self.request is None:  # the handshake request, before any frame
            super().process_event(event)
            return
        session = self.session
        if (session is not None and event.opcode is _TEXT and event.fin
                and not self.queued):
            try:
                text = str(event.data, "utf-8")
            except UnicodeDecodeError:
                pass  # recv() fails the connection with 1007, as websockets does
            else:
                try:
                    close = session.on_text(text)
                except Exception:
                    log.exception("a session failed on a message")
                    close = CloseCode.INTERNAL_ERROR
                if close is not None:
                    self.refuse(close)
                return
        if event.opcode is _TEXT or event.opcode is _BINARY:
            self.queued += 1
        super().process_event(event)

    def refuse(self, reason: Reason | int) -> None:
        """Stop handling messages and close: 1008 with the reason code (1011 on a bug)."""
        self.session = None
        self.refused = True
        if isinstance(reason, Reason):
            closing = self.close(1008, str(reason))
        else:
            closing = self.close(reason)
        self.closing_task = self.loop.create_task(closing)


def _json_response(connection: ServerConnection, status: int, code: Reason, message: str):
    body = orjson.dumps({"error": str(code), "message": message}).decode()
    response = connection.respond(status, body)
    del response.headers["Content-Type"]
    response.headers["Content-Type"] = "application/json"
    return response


class WsServer:
    def __init__(self, core: VenueCore, faults: Faults, host: str, port: int, timer: Timer):
        self.core = core
        self.timer = timer
        self.faults = faults
        self.host = host
        self.port = port
        self.server = None
        self.connections: dict[ServerConnection, Session] = {}
        latency = faults.config
        self._latency = {"ack": latency.ack_latency, "fill": latency.fill_latency,
                         "snapshot": latency.snapshot_latency}

    async def start(self) -> None:
        limits = self.core.limits
        self.server = await serve(
            self._handler, self.host, self.port, compression=None,
            max_size=limits.max_message_bytes, process_request=self._process_request,
            create_connection=_Connection,
            ping_interval=20, ping_timeout=20, close_timeout=2,
            logger=logging.getLogger("tickwire.venue.websockets"))
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    def drop(self, account=None) -> int:
        """Cut connections as a network failure would: no close frame. Returns how many."""
        dropped = 0
        for ws, session in list(self.connections.items()):
            if account is None or session.account is account:
                ws.transport.abort()
                dropped += 1
        return dropped

    def _process_request(self, connection: ServerConnection, request):
        if request.path.split("?", 1)[0] != PATH:
            return _json_response(connection, HTTPStatus.NOT_FOUND, Reason.UNKNOWN_TYPE,
                                  f"the WebSocket API is served at {PATH}")
        header = request.headers.get("Authorization")
        if header is None:
            return None
        key = bearer_key(header)
        account = self.core.authenticate(key)
        if account is None:
            return _json_response(connection, HTTPStatus.UNAUTHORIZED, Reason.BAD_API_KEY,
                                  "unknown API key in the Authorization header")
        if self.core.connection_count(account) >= self.core.limits.connections_per_key:
            return _json_response(connection, HTTPStatus.TOO_MANY_REQUESTS,
                                  Reason.TOO_MANY_CONNECTIONS,
                                  f"at most {self.core.limits.connections_per_key} "
                                  "connections per API key")
        connection.tickwire_key = key
        return None

    async def _handler(self, ws: _Connection) -> None:
        sock = ws.transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        session = Session(self.core, self._sender(ws))
        self.connections[ws] = session
        loop = asyncio.get_running_loop()
        lifetime = self.faults.connection_lifetime()
        killer = loop.call_later(lifetime, ws.transport.abort) if lifetime else None
        try:
            key = getattr(ws, "tickwire_key", None)
            if key is not None and session.on_text(orjson.dumps(
                    {"type": "auth", "api_key": key})) is not None:
                await ws.close(1008, str(Reason.TOO_MANY_CONNECTIONS))
                return
            ws.session = session
            # Only what the fast path left in websockets' queue comes through here.
            while True:
                message = await ws.recv()
                ws.queued -= 1
                if ws.refused:
                    continue  # closing: recv() raises ConnectionClosed once it has closed
                if isinstance(message, str):
                    close = session.on_text(message)
                    if close is not None:
                        ws.session = None
                        await ws.close(1008, str(close))
                        return
                else:
                    session.on_binary()
        except ConnectionClosed:
            pass
        finally:
            if killer is not None:
                killer.cancel()
            session.close()
            del self.connections[ws]

    def _sender(self, ws: ServerConnection):
        faults = self.faults
        latency = self._latency
        lanes: dict[str, DelayLane] = {}
        protocol, transport = ws.protocol, ws.transport

        def deliver(payload: bytes) -> None:
            # What broadcast() does for one connection, minus its generality: a frame goes
            # out only while the connection is open, and never a fragment (the venue sends
            # none).
            if protocol.state is OPEN:
                transport.write(text_frame(payload))

        def send(payload: bytes, kind: str) -> None:
            if kind == "md":
                delay = faults.md_delay_s
                if ws.transport.get_write_buffer_size() > SLOW_CONSUMER_BYTES:
                    log.warning("cutting off a slow consumer")
                    ws.transport.abort()
                    return
            else:
                lat = latency.get(kind)
                delay = faults.delay(lat) if lat is not None else 0.0
            # Market data and private messages are separate lanes: stale market data does
            # not hold back acknowledgements.
            name = "md" if kind == "md" else "private"
            lane = lanes.get(name)
            if delay <= 0.0 and (lane is None or not lane.items):
                deliver(payload)
                return
            if lane is None:
                lane = lanes[name] = DelayLane(self.timer, deliver)
            lane.push(delay, payload)

        return send
