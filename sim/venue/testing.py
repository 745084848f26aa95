"""Small clients of the venue for tests (this project's and the daemon's).

`FeedBook` is a plain reader of the colo feed: it checks the packet and per-market
sequences, applies BookLevel updates to a 10-deep book per side exactly as docs/venue.md
specifies, and keeps the last BestBidOffer. `FeedSocket` receives the feed on loopback.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

import orjson

from host import wire
from host.wire import MessageFlags, Side
from sim.venue.level_updates import FEED_DEPTH, apply_update

_END = int(MessageFlags.END_OF_EVENT)


@dataclass
class MarketView:
    bids: list = field(default_factory=list)
    asks: list = field(default_factory=list)
    bbo: tuple | None = None
    rpt_seq: int = 0
    trades: list = field(default_factory=list)
    status: int | None = None
    in_event: bool = False  # a message without END_OF_EVENT was seen last
    synced: bool = True  # False after a gap: the book needs a snapshot (docs/venue.md)


@dataclass
class FeedBook:
    session: int | None = None
    next_sequence: int | None = None
    packets: int = 0
    messages: Counter = field(default_factory=Counter)
    packet_gaps: int = 0
    late_packets: int = 0  # sequence lower than expected: reordered or duplicated
    market_gaps: Counter = field(default_factory=Counter)
    markets: dict[int, MarketView] = field(default_factory=dict)
    max_payload: int = 0

    def on_payload(self, payload: bytes) -> None:
        packet = wire.decode_packet(payload)
        header = packet.header
        self.packets += 1
        self.max_payload = max(self.max_payload, len(payload))
        if self.session is None:
            self.session = header.session
        if header.session != self.session:
            raise AssertionError(f"session changed from {self.session} to {header.session}")
        if self.next_sequence is not None and header.sequence != self.next_sequence:
            if header.sequence > self.next_sequence:
                self.packet_gaps += 1
            else:
                self.late_packets += 1
                return  # a real receiver would have to recover; this one just counts
        self.next_sequence = header.sequence + header.msg_count
        for message in packet.messages:
            self._message(message)

    def _message(self, m) -> None:
        name = type(m).__name__
        self.messages[name] += 1
        if name == "Heartbeat":
            return
        view = self.markets.setdefault(m.market_id, MarketView())
        if m.rpt_seq != view.rpt_seq + 1:
            self.market_gaps[m.market_id] += 1
            view.synced = False
            view.bids.clear()
            view.asks.clear()
        view.rpt_seq = m.rpt_seq
        view.in_event = not (m.flags & _END)
        if name == "BookLevel" and view.synced:
            levels = view.bids if m.side == Side.BID else view.asks
            apply_update(levels, m.action, m.level, m.price, m.qty, m.order_count, FEED_DEPTH)
        elif name == "BestBidOffer":
            view.bbo = (m.bid_price, m.bid_qty, m.ask_price, m.ask_qty)
        elif name == "Trade":
            view.trades.append((m.price, m.qty, m.aggressor))
        elif name == "MarketStatus":
            view.status = m.status


class FeedSocket:
    """A UDP receiver for the feed on loopback: unicast, or a multicast group when given."""

    def __init__(self, addr: tuple[str, int], *, group: bool = False):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind(addr)
        if group:
            self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                                 socket.inet_aton(addr[0]) + socket.inet_aton("127.0.0.1"))

    def drain(self, wait_s: float = 0.0, until=None) -> list[bytes]:
        """Every datagram that arrives within `wait_s` (or until `until(payloads)` is true)."""
        out: list[bytes] = []
        deadline = time.monotonic() + wait_s
        while True:
            remaining = deadline - time.monotonic()
            self.sock.settimeout(max(remaining, 0.0) if remaining > 0 else 0.0)
            try:
                out.append(self.sock.recv(65536))
                if until is not None and until(out):
                    return out
            except (BlockingIOError, TimeoutError):
                if remaining <= 0:
                    return out

    def close(self) -> None:
        self.sock.close()


class WsClient:
    """A thin JSON client over a websockets 17 connection, for tests."""

    def __init__(self, ws):
        self.ws = ws
        self.seen: list[dict] = []

    @classmethod
    async def connect(cls, url: str, api_key: str | None = None, **kwargs) -> WsClient:
        from websockets.asyncio.client import connect

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else None
        # No receive-queue limit: a test that stops reading must still be able to close.
        kwargs.setdefault("max_queue", None)
        ws = await connect(url, additional_headers=headers, compression=None, **kwargs)
        return cls(ws)

    async def send(self, **message) -> None:
        await self.ws.send(orjson.dumps(message).decode())

    async def recv(self, timeout: float = 5.0) -> dict:
        message = orjson.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        self.seen.append(message)
        return message

    async def next(self, *types: str, timeout: float = 5.0) -> dict:
        """The next message of one of `types`, skipping others."""
        deadline = time.monotonic() + timeout
        while True:
            message = await self.recv(max(deadline - time.monotonic(), 0.001))
            if message.get("type") in types:
                return message

    async def sync(self, timeout: float = 5.0) -> list[dict]:
        """Everything the venue sent before it answered a ping (connections are FIFO)."""
        await self.send(type="ping")
        out = []
        while True:
            message = await self.recv(timeout)
            if message.get("type") == "pong":
                return out
            out.append(message)

    async def close(self) -> None:
        await self.ws.close()


class VenueProcess:
    """`tickwire venue` in a child process, for clients that must not share a process (and
    a GIL) with the venue: latency measurements, the daemon's integration tests."""

    def __init__(self, *args: str, timeout_s: float = 20.0):
        self.args = ["--port", "0", *args]
        self.timeout_s = timeout_s
        self.proc: subprocess.Popen | None = None
        self.info: dict = {}

    def __enter__(self) -> VenueProcess:
        self.proc = subprocess.Popen([sys.executable, "-m", "host.cli", "venue", *self.args],
                                     stdout=subprocess.PIPE, text=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.startswith("venue ready "):
                self.info = json.loads(line[len("venue ready "):])
                return self
        self.__exit__()
        raise RuntimeError(f"tickwire venue did not start (exit code {self.proc.returncode})")

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(self.timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()

    @property
    def ws_url(self) -> str:
        return self.info["ws_url"]

    @property
    def rest_url(self) -> str:
        return self.info["rest_url"]

    @property
    def feed_addr(self) -> tuple[str, int]:
        return tuple(self.info["feed_addr"])
