"""What the simulated FPGA's launcher (sim/fpga_loop.py) and its bench
(sim/benches/system_loop.py) agree on, sans-I/O: the work directory's files, the environment,
the feed address, how a datagram becomes an Ethernet frame, and the pacing of simulated time.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from host.wire import build_frame

# The launcher hands the bench its settings through the environment ...
DIR_ENV = "TICKWIRE_LOOP_DIR"
FEED_ENV = "TICKWIRE_LOOP_FEED"
INTENTS_ENV = "TICKWIRE_LOOP_INTENTS"
CLOCK_HZ_ENV = "TICKWIRE_LOOP_CLOCK_HZ"
WALL_LIMIT_ENV = "TICKWIRE_LOOP_WALL_S"
OWNER_ENV = "TICKWIRE_LOOP_OWNER"  # the bench ends when this process does

# ... and they talk through files in the work directory.
READY_FILE = "ready.json"    # the bench: pty path, clock rate, bound feed port (atomic write)
PAUSE_FILE = "pause"         # the launcher: while it exists the control link is cut
PAUSED_FILE = "link-paused"  # the bench: the cut has taken effect (gone once it is mended)
STOP_FILE = "stop"           # the launcher: end in order
REPORT_FILE = "report.json"  # the bench: its counters, written when it ends
RUN_DIR = "sim"              # the simulator's log and results

# Ethernet's 1500-byte payload less the IPv4 and UDP headers: a larger datagram would not fit a
# frame, so the bench counts it and drops it, as a switch would.
MAX_DATAGRAM = 1500 - 20 - 8
FEED_SRC_MAC = 0x02_00_00_00_00_01  # the venue's port
NIC_MAC = 0x02_00_00_00_00_02       # the board's MAC, for unicast feeds


class BadAddress(ValueError):
    """A HOST:PORT[@GROUP] string that does not parse."""

    reason = "bad_address"


@dataclass(frozen=True)
class FeedAddress:
    """Where the venue sends the colo feed: a unicast address to bind, or with `group` the
    interface address on which to join that multicast group. Port 0: any free port (the bench
    reports the one it bound)."""

    host: str
    port: int
    group: str | None = None

    @property
    def dst_ip(self) -> str:
        """The destination the feed's datagrams carry, which the header filter matches."""
        return self.group or self.host

    def __str__(self) -> str:
        return f"{self.host}:{self.port}" + (f"@{self.group}" if self.group else "")

    @classmethod
    def parse(cls, text: str) -> FeedAddress:
        address, _, group = text.partition("@")
        host, port = parse_host_port(address)
        if group:
            try:
                if not ipaddress.IPv4Address(group).is_multicast:
                    raise BadAddress(f"{group} is not a multicast group")
            except ipaddress.AddressValueError as error:
                raise BadAddress(f"bad group in {text!r}: {error}") from None
        return cls(host, port, group or None)


def parse_host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    try:
        ipaddress.IPv4Address(host)
        number = int(port)
    except ValueError:
        raise BadAddress(f"{text!r} is not IPV4:PORT") from None
    if not sep or not 0 <= number < 65536:
        raise BadAddress(f"{text!r} is not IPV4:PORT")
    return host, number


def ip_int(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


def datagram_frame(payload: bytes, *, src: tuple[str, int], dst: tuple[str, int]) -> bytes:
    """The Ethernet II/IPv4/UDP frame a board's MAC would deliver for this datagram (FCS
    stripped); a multicast destination gets its group's MAC."""
    dst_ip = ip_int(dst[0])
    if ipaddress.IPv4Address(dst_ip).is_multicast:
        dst_mac = 0x01_00_5E_00_00_00 | (dst_ip & 0x7F_FFFF)
    else:
        dst_mac = NIC_MAC
    return build_frame(payload, dst_mac=dst_mac, src_mac=FEED_SRC_MAC, src_ip=ip_int(src[0]),
                       dst_ip=dst_ip, src_port=src[1], dst_port=dst[1])


class Pacer:
    """Holds simulated time to at most `clock_hz` cycles per wall-clock second.

    `wait_s(cycle, now)` is how long to sleep before simulating past `cycle`. A simulator that
    falls behind may catch up by at most `slack_s` of wall time: older backlog is forgiven
    (counted in `behind_s`), so it never bursts ahead of the rate for longer than that, and a
    watchdog counting cycles never sees more of them than the host's wall clock allows.
    """

    def __init__(self, clock_hz: float, *, cycle: int, now: float, slack_s: float = 0.01):
        if clock_hz <= 0:
            raise ValueError("clock_hz must be positive")
        self.clock_hz = clock_hz
        self.slack_s = slack_s
        self.origin = now - cycle / clock_hz  # the wall time of cycle 0
        self.behind_s = 0.0

    def wait_s(self, cycle: int, now: float) -> float:
        due = self.origin + cycle / self.clock_hz
        late = now - due - self.slack_s
        if late > 0:
            self.origin += late
            self.behind_s += late
        return max(0.0, due - now)
