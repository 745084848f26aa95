"""Random Ethernet frames for the header filter: well-formed feed frames and every kind of
damage the filter must count, each kind named.

Payloads are real colo-feed packets (messages of the built-in sample capture, re-packed a few
at a time so frames stay short enough for a byte-wide simulation) or short random byte
strings, which cover every payload length around the 60-byte minimum.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from host import wire
from host.wire.net import ETHERTYPE_IPV4, ETHERTYPE_VLAN, IP_PROTO_UDP, ipv4_checksum
from sim.sample_feed import FEED_IP, FEED_PORT, GROUP_IP, NIC_MAC, VENUE_MAC, sample_frames

# Destinations a frame is sent to: the feed's, or another. Bench configs pick from these too.
DST_IPS = (GROUP_IP, 0xEF010102)
DST_PORTS = (FEED_PORT, FEED_PORT + 1)
MAX_MESSAGES = 3  # per re-packed feed packet


def feed_payloads(packets: int = 300) -> list[bytes]:
    """Real feed packets of 1 to MAX_MESSAGES messages, from the sample capture."""
    messages = []
    for frame in sample_frames(packets):
        try:
            messages.extend(wire.decode_packet(wire.parse_frame(frame).payload).messages)
        except wire.WireError:
            continue  # the sample's own malformed frames
    rng = random.Random(len(messages))
    payloads, sequence = [], 1
    while messages:
        take = min(len(messages), rng.randint(1, MAX_MESSAGES))
        chunk, messages = messages[:take], messages[take:]
        payloads.append(wire.encode_packet(chunk, session=1, sequence=sequence,
                                           send_time=sequence * 1000))
        sequence += take
    return payloads


class FrameMix:
    """Frames of named kinds, drawn with fixed weights."""

    def __init__(self, rng: random.Random, payloads: list[bytes]):
        self.rng = rng
        self.payloads = payloads
        self._kinds: list[tuple[str, Callable[[], bytes], int]] = [
            ("good", self.good, 30),
            ("padded", self.padded, 5),
            ("short_datagram", self.short_datagram, 4),
            ("empty_payload", lambda: self.good(b""), 3),
            ("minimum", self.minimum, 6),
            ("runt", self.runt, 5),
            ("truncated", self.truncated, 8),
            ("bad_checksum", self.bad_checksum, 5),
            ("ethertype", self.ethertype, 5),
            ("version_ihl", self.version_ihl, 4),
            ("fragment", self.fragment, 4),
            ("not_udp", self.not_udp, 4),
            ("ip_length", self.ip_length, 5),
            ("udp_length", self.udp_length, 5),
            ("garbage", self.garbage, 2),
            ("compound", self.compound, 8),
        ]
        self._weights = [weight for *_, weight in self._kinds]

    def frame(self) -> tuple[str, bytes]:
        name, make, _ = self.rng.choices(self._kinds, self._weights)[0]
        return name, make()

    def payload(self) -> bytes:
        if self.rng.random() < 0.5:
            return self.rng.choice(self.payloads)
        return self.rng.randbytes(self.rng.randint(0, 48))

    def good(self, payload: bytes | None = None) -> bytes:
        rng = self.rng
        return wire.build_frame(
            self.payload() if payload is None else payload, dst_mac=NIC_MAC, src_mac=VENUE_MAC,
            src_ip=FEED_IP, dst_ip=rng.choice(DST_IPS), src_port=rng.getrandbits(16),
            dst_port=rng.choice(DST_PORTS), vlan_id=rng.getrandbits(12) if rng.random() < 0.3
            else None, identification=rng.getrandbits(16),
            with_udp_checksum=rng.random() < 0.5)

    def minimum(self) -> bytes:
        """A well-formed frame of exactly 60 bytes (its payload fits in the minimum)."""
        frame = self.good(self.rng.randbytes(self.rng.randint(0, 14)))
        assert len(frame) == wire.MIN_FRAME
        return frame

    def padded(self) -> bytes:
        return self.good() + self.rng.randbytes(self.rng.randint(1, 24))

    def short_datagram(self) -> bytes:
        """IPv4 and UDP agree on a length shorter than the payload: the rest is padding."""
        frame = self.good()
        ip_at = ip_header_at(frame)
        ip = wire.IPV4.decode(frame, ip_at)
        cut = self.rng.randint(1, max(1, ip.total_length - 28))
        frame = set_ip_fields(frame, total_length=ip.total_length - cut)
        return set_udp_fields(frame, length=ip.total_length - cut - wire.IPV4.size)

    def runt(self) -> bytes:
        return self.good()[:self.rng.randint(0, wire.MIN_FRAME - 1)]

    def truncated(self) -> bytes:
        frame = self.good()
        return frame[:self.rng.randint(1, len(frame) - 1)]

    def bad_checksum(self) -> bytes:
        frame = bytearray(self.good())
        ip_at = ip_header_at(frame)
        at = ip_at + (10 + self.rng.randint(0, 1) if self.rng.random() < 0.7
                      else self.rng.randint(0, wire.IPV4.size - 1))
        frame[at] ^= 1 << self.rng.randint(0, 7)
        return bytes(frame)

    def ethertype(self) -> bytes:
        frame = bytearray(self.good())
        where = 12 if self.rng.random() < 0.5 else ip_header_at(frame) - 2  # outer or inner type
        value = self.rng.choice((0x86DD, 0x0806, ETHERTYPE_VLAN, 0x88A8, 0x0801, 0x0000,
                                 self.rng.getrandbits(16)))
        if value == ETHERTYPE_IPV4:
            value ^= 1
        frame[where:where + 2] = value.to_bytes(2, "big")
        return bytes(frame)

    def version_ihl(self) -> bytes:
        if self.rng.random() < 0.5:
            return set_ip_fields(self.good(), ihl=self.rng.choice([n for n in range(16) if n != 5]))
        return set_ip_fields(self.good(), version=self.rng.choice([n for n in range(16) if n != 4]))

    def fragment(self) -> bytes:
        more, offset = self.rng.choice(((1, 0), (0, self.rng.randint(1, 8191)),
                                        (1, self.rng.randint(1, 8191))))
        return set_ip_fields(self.good(), flags=0b000 | more, fragment_offset=offset)

    def not_udp(self) -> bytes:
        return set_ip_fields(self.good(), protocol=self.rng.choice(
            [6, 1, 0, 255, IP_PROTO_UDP ^ self.rng.randint(1, 255)]))

    def ip_length(self) -> bytes:
        frame = self.good()
        actual = wire.IPV4.decode(frame, ip_header_at(frame)).total_length
        lie = self.rng.choice((self.rng.randint(0, 27), actual + self.rng.randint(1, 16),
                               max(0, actual - self.rng.randint(1, 16)),
                               self.rng.getrandbits(16)))
        return set_ip_fields(frame, total_length=lie)

    def udp_length(self) -> bytes:
        frame = self.good()
        actual = wire.UDP.decode(frame, ip_header_at(frame) + wire.IPV4.size).length
        return set_udp_fields(frame, length=self.rng.choice(
            (actual + 1, actual - 1, 0, 8, self.rng.getrandbits(16))))

    def compound(self) -> bytes:
        """Two to four kinds of damage at once: which one counts is the priority order."""
        rng = self.rng
        damage = [
            lambda f: set_ip_fields(f, protocol=rng.choice((6, 1, 0))),
            lambda f: set_ip_fields(f, flags=1, fragment_offset=rng.randint(0, 3)),
            lambda f: set_ip_fields(f, checksum=rng.getrandbits(16)),
            lambda f: set_ip_fields(f, total_length=rng.choice((20, 27, 2000))),
            lambda f: set_ip_fields(f, ihl=rng.choice((4, 6))),
            lambda f: set_udp_fields(f, length=rng.choice((0, 7, 9, 3000))),
            lambda f: set_ip_fields(f, dst_ip=DST_IPS[1]),
            lambda f: set_udp_fields(f, dst_port=DST_PORTS[1]),
            lambda f: f[:rng.randint(1, len(f) - 1)],
        ]
        frame = self.good()
        for change in rng.sample(damage, rng.randint(2, 4)):
            if len(frame) >= ip_header_at(frame) + wire.IPV4.size + wire.UDP.size:
                frame = change(frame)
        return frame

    def garbage(self) -> bytes:
        return self.rng.randbytes(self.rng.randint(0, 80))


def ip_header_at(frame: bytes) -> int:
    vlan = frame[12:14] == ETHERTYPE_VLAN.to_bytes(2, "big")
    return wire.ETHERNET.size + (wire.VLAN_TAG.size if vlan else 0)


def set_ip_fields(frame: bytes, **changes: int) -> bytes:
    """The frame with IPv4 header fields changed and the header checksum made right again
    (unless `checksum` is one of the changes)."""
    ip_at = ip_header_at(frame)
    ip = wire.IPV4.decode(frame, ip_at)._replace(**changes)
    if "checksum" not in changes:
        ip = ip._replace(checksum=ipv4_checksum(wire.IPV4.encode(ip._replace(checksum=0))))
    return frame[:ip_at] + wire.IPV4.encode(ip) + frame[ip_at + wire.IPV4.size:]


def set_udp_fields(frame: bytes, **changes: int) -> bytes:
    at = ip_header_at(frame) + wire.IPV4.size
    udp = wire.UDP.decode(frame, at)._replace(**changes)
    return frame[:at] + wire.UDP.encode(udp) + frame[at + wire.UDP.size:]
