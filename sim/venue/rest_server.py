"""The REST adapter: HTTP/1.1 with keep-alive, parsed by h11 on asyncio streams.

h11 does the protocol; `RestApi` does the meaning. Malformed HTTP gets a JSON 400 and the
connection is closed; a body over the limit gets a JSON 413; an unexpected failure inside a
handler gets a JSON 500 and is logged, and the server carries on.
"""

from __future__ import annotations

import asyncio
import logging

import h11
import orjson

from sim.venue.faults import Faults
from sim.venue.rest_api import Reply, RestApi

MAX_HEADER_BYTES = 16 * 1024
READ_CHUNK = 64 * 1024
IDLE_TIMEOUT_S = 60.0
log = logging.getLogger("tickwire.venue.rest")
_REASONS = {200: b"OK", 400: b"Bad Request", 401: b"Unauthorized", 402: b"Payment Required",
            404: b"Not Found", 413: b"Content Too Large", 429: b"Too Many Requests",
            500: b"Internal Server Error", 503: b"Service Unavailable"}


class _Closed(Exception):
    pass


class RestServer:
    def __init__(self, api: RestApi, faults: Faults, host: str, port: int, max_body: int):
        self.api = api
        self.faults = faults
        self.host = host
        self.port = port
        self.max_body = max_body
        self.server: asyncio.Server | None = None
        self._tasks: dict[asyncio.Task, asyncio.StreamWriter] = {}

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            # Cut open connections rather than cancel their tasks: a cancelled connection
            # task makes asyncio's stream callback log a spurious error.
            for writer in self._tasks.values():
                writer.transport.abort()
            if self._tasks:
                await asyncio.wait(list(self._tasks), timeout=2.0)
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._tasks[task] = writer
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEADER_BYTES)
        try:
            while True:
                request = await self._next(conn, reader)
                if request is None:
                    break
                reply = await self._body_and_reply(conn, reader, request)
                await self._respond(conn, writer, reply)
                if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                    break
                conn.start_next_cycle()
        except h11.RemoteProtocolError as exc:
            if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                reply = Reply(400, {"success": False, "error": "bad_http", "message": str(exc)})
                await self._respond(conn, writer, reply, close=True)
        except (TimeoutError, _Closed, ConnectionError):
            pass
        finally:
            self._tasks.pop(task, None)
            writer.close()

    async def _next(self, conn: h11.Connection, reader: asyncio.StreamReader):
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await asyncio.wait_for(reader.read(READ_CHUNK), IDLE_TIMEOUT_S)
                conn.receive_data(data)
                continue
            if isinstance(event, h11.Request):
                return event
            if isinstance(event, h11.ConnectionClosed):
                return None
            raise _Closed

    async def _body_and_reply(self, conn, reader, request: h11.Request) -> Reply:
        chunks, size = [], 0
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await asyncio.wait_for(reader.read(READ_CHUNK), IDLE_TIMEOUT_S)
                conn.receive_data(data)
                continue
            if isinstance(event, h11.Data):
                size += len(event.data)
                if size <= self.max_body:
                    chunks.append(event.data)
                continue
            if isinstance(event, h11.EndOfMessage):
                break
            raise _Closed
        if size > self.max_body:
            return Reply(413, {"success": False, "error": "body_too_large",
                               "message": f"bodies are at most {self.max_body} bytes"})
        headers = {name.decode("latin-1").lower(): value.decode("latin-1")
                   for name, value in request.headers}
        try:
            reply = self.api.handle(request.method.decode("ascii", "replace"),
                                    request.target.decode("latin-1"), headers, b"".join(chunks))
        except Exception:
            log.exception("REST handler failed")
            reply = Reply(500, {"success": False, "error": "internal",
                                "message": "the venue failed to handle this request"})
        latency = getattr(self.faults.config, f"{reply.latency_kind}_latency", None)
        delay = self.faults.delay(latency)
        if delay > 0:
            await asyncio.sleep(delay)
        return reply

    async def _respond(self, conn, writer, reply: Reply, close: bool = False) -> None:
        body = orjson.dumps(reply.body)
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                   *reply.headers]
        if close:
            headers.append(("Connection", "close"))
        reason = _REASONS.get(reply.status, b"")
        out = conn.send(h11.Response(status_code=reply.status, headers=headers, reason=reason))
        out += conn.send(h11.Data(data=body))
        out += conn.send(h11.EndOfMessage())
        writer.write(out)
        await writer.drain()
