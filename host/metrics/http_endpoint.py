"""The Prometheus endpoint: `GET /metrics` on a small asyncio server, parsed with h11.

It runs on the daemon's own loop and renders on demand, so a scrape costs the trading path
one render every scrape interval and nothing in between.
"""

from __future__ import annotations

import asyncio

import h11

from host.metrics.registry import Registry

_READ_TIMEOUT_S = 5.0


async def serve_metrics(registry: Registry, host: str = "127.0.0.1",
                        port: int = 0) -> asyncio.Server:
    """Start serving; `server.sockets[0].getsockname()[1]` is the port when `port` is 0."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        try:
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    async with asyncio.timeout(_READ_TIMEOUT_S):
                        data = await reader.read(65536)
                    conn.receive_data(data)
                    if not data:
                        break
                    continue
                if isinstance(event, h11.Request):
                    status, body, ctype = _answer(registry, event)
                    headers = [("content-type", ctype), ("content-length", str(len(body))),
                               ("connection", "close")]
                    writer.write(conn.send(h11.Response(status_code=status, headers=headers)))
                    writer.write(conn.send(h11.Data(data=body)))
                    writer.write(conn.send(h11.EndOfMessage()))
                    await writer.drain()
                    break
                if isinstance(event, h11.ConnectionClosed):
                    break
        except (h11.RemoteProtocolError, TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port)


def _answer(registry: Registry, request: h11.Request) -> tuple[int, bytes, str]:
    target = request.target.split(b"?", 1)[0]
    if request.method not in (b"GET", b"HEAD"):
        return 405, b"method not allowed\n", "text/plain"
    if target != b"/metrics":
        return 404, b"not found: try /metrics\n", "text/plain"
    return 200, registry.render().encode(), "text/plain; version=0.0.4; charset=utf-8"
