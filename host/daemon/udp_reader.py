"""UDP datagrams into the loop: the colo feed (unicast, or a multicast group) and the order
intents a board or the simulated FPGA sends back. A thin adapter: a non-blocking socket
read whenever the loop says it is readable, every waiting datagram handed on with its
arrival time."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable

RECEIVE_BUFFER = 8 << 20


def open_udp(host: str, port: int, group: str = "") -> socket.socket:
    """A bound, non-blocking UDP socket; joined to `group` on interface `host` if given."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        sock.bind((group or host, port))
        if group:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                            socket.inet_aton(group) + socket.inet_aton(host))
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class UdpReader:
    """Calls `on_datagram(payload, recv_ns)` for every datagram on `sock`, on the loop."""

    def __init__(self, sock: socket.socket, on_datagram: Callable[[bytes, int], None]):
        self.sock = sock
        self.on_datagram = on_datagram
        self.received = 0
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def address(self) -> tuple[str, int]:
        return self.sock.getsockname()

    def start(self) -> UdpReader:
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.sock.fileno(), self._readable)
        return self

    def _readable(self) -> None:
        recv, handle, clock = self.sock.recv, self.on_datagram, time.monotonic_ns
        while True:
            try:
                payload = recv(65536)
            except (BlockingIOError, InterruptedError):
                return
            self.received += 1
            handle(payload, clock())

    def close(self) -> None:
        if self._loop is not None:
            self._loop.remove_reader(self.sock.fileno())
            self._loop = None
        self.sock.close()
