"""The Ethernet/IPv4/UDP header filter: which frames pass, what of them is forwarded, and the
counters. The gateware (hdl/header_filter.py) is proven equal to this under cocotb.

It follows host.wire.net.parse_frame's checks in parse_frame's order, and differs where a
cut-through filter must:

- IPv4 options are not supported: a version other than 4 or an IHL other than 5 counts as
  `not_ipv4` (parse_frame calls a bad version or IHL < 5 a length error and skips options);
- a frame may also be dropped as `not_for_us` when the configured destination address or port
  differs (zero is a wildcard);
- the payload is forwarded as soon as the headers pass, before the frame's end is seen. A frame
  that then ends early (a runt, or short of the IPv4 total length) is still counted as dropped,
  and its payload, as far as it got, has already been forwarded: `FilterVerdict.payload`
  holds what was forwarded, whatever the reason.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from host.wire.net import (
    ETHERNET,
    ETHERTYPE_IPV4,
    ETHERTYPE_VLAN,
    IP_PROTO_UDP,
    IPV4,
    MIN_FRAME,
    UDP,
    VLAN_TAG,
    ones_complement_sum,
)

COUNTER_BITS = 32  # counters wrap modulo 2**32, as the gateware's do
IPV4_IHL = IPV4.size // 4  # the only header length the filter takes: no options
IPV4_MORE_FRAGMENTS = 0b001  # in the 3-bit flags field


class DropReason(enum.Enum):
    """Why a frame was dropped, highest priority first. Values are host.wire's reason codes."""

    RUNT = "runt"
    NOT_IPV4 = "not_ipv4"
    BAD_CHECKSUM = "bad_checksum"
    BAD_LENGTH = "bad_length"
    FRAGMENTED = "fragmented"
    NOT_UDP = "not_udp"
    NOT_FOR_US = "not_for_us"


# Every counter the filter keeps, in this order: each frame adds one to `frames` and to exactly
# one of the others. The gateware has one output port per name.
COUNTERS: tuple[str, ...] = ("frames", "accepted", *(reason.value for reason in DropReason))


class FilterConfigError(ValueError):
    """A filter setting is outside the range of its register."""

    reason = "bad_config"


@dataclass(frozen=True)
class FilterConfig:
    """Destination matching; zero matches anything."""

    dst_ip: int = 0
    dst_port: int = 0

    def __post_init__(self):
        if not 0 <= self.dst_ip < 1 << 32:
            raise FilterConfigError(f"dst_ip {self.dst_ip} is not a 32-bit address")
        if not 0 <= self.dst_port < 1 << 16:
            raise FilterConfigError(f"dst_port {self.dst_port} is not a 16-bit port")


@dataclass(frozen=True)
class FilterVerdict:
    """What the filter did with one frame.

    `reason` is None for an accepted frame. `payload` is the UDP payload as forwarded: None if
    nothing was, b"" for an empty forward (one beat with no byte), and shorter than the UDP
    length says when the frame ended early (then `reason` says why it counts as dropped).
    """

    reason: DropReason | None
    payload: bytes | None

    @property
    def accepted(self) -> bool:
        return self.reason is None


def classify(frame: bytes, config: FilterConfig = FilterConfig()) -> FilterVerdict:
    """The filter's verdict on one frame (FCS excluded), without side effects."""
    frame = bytes(frame)
    headers = _Headers.parse(frame)
    if headers is None:
        # Every frame that ends inside its headers is shorter than the 60-byte minimum.
        return FilterVerdict(DropReason.RUNT, None)
    ip, udp = headers.ip, headers.udp
    ip_end = headers.ip_at + ip.total_length
    # (reason, failed, judged only at the frame's end), in parse_frame's order.
    checks = (
        (DropReason.NOT_IPV4, headers.ethertype != ETHERTYPE_IPV4 or ip.version != 4
         or ip.ihl != IPV4_IHL, False),
        (DropReason.BAD_CHECKSUM, ones_complement_sum(headers.ip_bytes) != 0xFFFF, False),
        (DropReason.BAD_LENGTH, ip.total_length < IPV4.size + UDP.size, False),
        (DropReason.BAD_LENGTH, len(frame) < ip_end, True),
        (DropReason.FRAGMENTED, bool(ip.flags & IPV4_MORE_FRAGMENTS or ip.fragment_offset),
         False),
        (DropReason.NOT_UDP, ip.protocol != IP_PROTO_UDP, False),
        (DropReason.BAD_LENGTH, udp.length != ip.total_length - IPV4.size, False),
        (DropReason.NOT_FOR_US, config.dst_ip not in (0, ip.dst_ip)
         or config.dst_port not in (0, udp.dst_port), False),
    )
    if len(frame) < MIN_FRAME:
        reason = DropReason.RUNT
    else:
        reason = next((reason for reason, failed, _ in checks if failed), None)
    headers_pass = not any(failed for _, failed, at_end in checks if not at_end)
    payload = frame[headers.payload_at:ip_end] if headers_pass else None
    return FilterVerdict(reason, payload)


@dataclass(frozen=True)
class _Headers:
    """The header fields the filter reads, at the offsets an optional VLAN tag implies."""

    ethertype: int
    ip_at: int
    ip_bytes: bytes
    ip: tuple
    udp: tuple

    @property
    def payload_at(self) -> int:
        return self.ip_at + IPV4.size + UDP.size

    @classmethod
    def parse(cls, frame: bytes) -> _Headers | None:
        """The fields, or None if the frame ends before the UDP header does."""
        if len(frame) < ETHERNET.size:
            return None
        pos, ethertype = ETHERNET.size, ETHERNET.decode(frame, 0).ethertype
        if ethertype == ETHERTYPE_VLAN and len(frame) >= pos + VLAN_TAG.size:
            pos, ethertype = pos + VLAN_TAG.size, VLAN_TAG.decode(frame, pos).ethertype
        if len(frame) < pos + IPV4.size + UDP.size:
            return None
        return cls(ethertype, pos, frame[pos:pos + IPV4.size], IPV4.decode(frame, pos),
                   UDP.decode(frame, pos + IPV4.size))


class FrameFilter:
    """The header filter with its counters: feed it frames in wire order. `config` may be
    replaced between frames, as the gateware's config inputs may be changed between frames."""

    def __init__(self, config: FilterConfig = FilterConfig()):
        self.config = config
        self._counts = dict.fromkeys(COUNTERS, 0)

    def feed(self, frame: bytes) -> FilterVerdict:
        verdict = classify(frame, self.config)
        self._bump("frames")
        self._bump("accepted" if verdict.reason is None else verdict.reason.value)
        return verdict

    @property
    def counters(self) -> dict[str, int]:
        """Every counter by name, in COUNTERS order (a copy)."""
        return dict(self._counts)

    def _bump(self, name: str) -> None:
        self._counts[name] = (self._counts[name] + 1) % (1 << COUNTER_BITS)
