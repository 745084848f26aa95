"""The operator's line to a running daemon: a Unix socket speaking one JSON object per line.

`tickwire kill` and `tickwire status` are clients of it. Requests are `{"op": "status"}`,
`{"op": "kill", "reason": "..."}` and `{"op": "resume"}`; answers are `{"ok": true, ...}` or
`{"ok": false, "error": <code>, "message": ...}`. The socket file is created mode 0600, so
only the daemon's user can halt it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import stat
from collections.abc import Awaitable, Callable

MAX_REQUEST = 4096
TIMEOUT_S = 5.0

Handler = Callable[[dict], Awaitable[dict]]


class ControlError(RuntimeError):
    """A control request failed; `reason` is the code."""

    def __init__(self, reason: str, message: str):
        super().__init__(f"{reason}: {message}")
        self.reason = reason


async def serve_control(path: str, handler: Handler) -> asyncio.AbstractServer:
    """Listen on `path`; a stale socket file from a dead daemon is replaced, a live one is
    refused (two daemons must not share one journal's control line)."""
    if os.path.exists(path):
        if not stat.S_ISSOCK(os.stat(path).st_mode):
            raise ControlError("not_a_socket", f"{path} exists and is not a socket")
        try:
            await request(path, {"op": "status"}, timeout_s=1.0)
        except ControlError:
            os.unlink(path)
        else:
            raise ControlError("already_running", f"a daemon already answers on {path}")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(TIMEOUT_S):
                line = await reader.readline()
            answer = await _dispatch(handler, line)
            writer.write(json.dumps(answer).encode() + b"\n")
            async with asyncio.timeout(TIMEOUT_S):
                await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    old_umask = os.umask(0o177)
    try:
        server = await asyncio.start_unix_server(handle, path, limit=MAX_REQUEST)
    finally:
        os.umask(old_umask)
    return server


async def _dispatch(handler: Handler, line: bytes) -> dict:
    try:
        req = json.loads(line)
    except ValueError:
        return {"ok": False, "error": "bad_json", "message": "send one JSON object per line"}
    if not isinstance(req, dict) or not isinstance(req.get("op"), str):
        return {"ok": False, "error": "bad_request", "message": "need {\"op\": ...}"}
    try:
        return {"ok": True, **await handler(req)}
    except ControlError as exc:
        return {"ok": False, "error": exc.reason, "message": str(exc)}


async def request(path: str, req: dict, timeout_s: float = TIMEOUT_S) -> dict:
    """Send one request and return the answer; raise ControlError when nobody answers."""
    try:
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_unix_connection(path)
            writer.write(json.dumps(req).encode() + b"\n")
            await writer.drain()
            line = await reader.readline()
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
    except (FileNotFoundError, ConnectionRefusedError):
        raise ControlError("not_running", f"no daemon answers on {path}") from None
    except TimeoutError:
        raise ControlError("timeout", f"the daemon on {path} did not answer") from None
    try:
        return json.loads(line)
    except ValueError:
        raise ControlError("bad_answer", f"the daemon sent {line[:80]!r}") from None
