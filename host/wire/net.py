"""Ethernet II, 802.1Q, IPv4 and UDP: the headers the colo feed rides in.

Network headers are big-endian, with sub-byte fields listed most significant first as in the
RFC diagrams. `parse_frame` is the reference for the gateware header filter: it checks what
the filter checks (runts, EtherType, IPv4 header checksum and lengths, protocol) and nothing
that needs the whole datagram first, so the UDP checksum is not verified on receipt.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from host.wire.declare import Layout, uint
from host.wire.errors import BadChecksum, Fragmented, LengthMismatch, NotIpv4, NotUdp, Runt

ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_VLAN = 0x8100
IP_PROTO_UDP = 17
MIN_FRAME = 60  # Ethernet's 64-byte minimum less the 4-byte FCS, which the MAC strips

ETHERNET = Layout("EthernetHeader", [
    uint("dst_mac", 48, "Destination MAC address."),
    uint("src_mac", 48, "Source MAC address."),
    uint("ethertype", 16, "0x0800 for IPv4, or 0x8100 when an 802.1Q tag follows."),
], byteorder="big", doc="Ethernet II header, FCS excluded (the MAC checks and strips it).")

VLAN_TAG = Layout("VlanTag", [
    uint("pcp", 3, "Priority code point."),
    uint("dei", 1, "Drop eligible indicator."),
    uint("vid", 12, "VLAN id."),
    uint("ethertype", 16, "EtherType of the payload: 0x0800 for IPv4."),
], byteorder="big", doc="802.1Q tag control and inner EtherType, after an outer 0x8100.")

IPV4 = Layout("Ipv4Header", [
    uint("version", 4, "Always 4."),
    uint("ihl", 4, "Header length in 32-bit words, 5 to 15; options are skipped."),
    uint("dscp", 6, "Differentiated services code point."),
    uint("ecn", 2, "Explicit congestion notification."),
    uint("total_length", 16, "Header plus payload, in bytes."),
    uint("identification", 16, "Fragment group id."),
    uint("flags", 3, "Bit 1: don't fragment; bit 0: more fragments."),
    uint("fragment_offset", 13, "Offset of a fragment in 8-byte units."),
    uint("ttl", 8, "Time to live."),
    uint("protocol", 8, "17 for UDP."),
    uint("checksum", 16, "Ones' complement header checksum."),
    uint("src_ip", 32, "Source address."),
    uint("dst_ip", 32, "Destination address."),
], byteorder="big", doc="IPv4 header without options (options, if any, follow it).")

UDP = Layout("UdpHeader", [
    uint("src_port", 16, "Source port."),
    uint("dst_port", 16, "Destination port."),
    uint("length", 16, "Header plus payload, in bytes."),
    uint("checksum", 16, "Over a pseudo-header and the datagram; 0 means none."),
], byteorder="big", doc="UDP header.")

EthernetHeader, VlanTag, Ipv4Header, UdpHeader = (ETHERNET.record, VLAN_TAG.record,
                                                  IPV4.record, UDP.record)
_IPV4_MF = 0x1


class Datagram(NamedTuple):
    ethernet: EthernetHeader
    vlan: VlanTag | None
    ip: Ipv4Header
    udp: UdpHeader
    payload: bytes


_IPV4_HALFWORDS = struct.Struct(f">{IPV4.size // 2}H")


def ones_complement_sum(data: bytes) -> int:
    if len(data) == IPV4.size:
        total = sum(_IPV4_HALFWORDS.unpack(data))
    else:
        if len(data) % 2:
            data += b"\0"
        total = sum(struct.unpack(f">{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def ipv4_checksum(header: bytes) -> int:
    """The checksum to store in an IPv4 header whose checksum field is zero."""
    return ~ones_complement_sum(header) & 0xFFFF


def udp_checksum(src_ip: int, dst_ip: int, segment: bytes) -> int:
    pseudo = (src_ip.to_bytes(4, "big") + dst_ip.to_bytes(4, "big")
              + bytes([0, IP_PROTO_UDP]) + len(segment).to_bytes(2, "big"))
    value = ~ones_complement_sum(pseudo + segment) & 0xFFFF
    return value or 0xFFFF  # zero on the wire means "no checksum"


def build_frame(payload: bytes, *, dst_mac: int, src_mac: int, src_ip: int, dst_ip: int,
                src_port: int, dst_port: int, vlan_id: int | None = None, ttl: int = 64,
                identification: int = 0, with_udp_checksum: bool = True) -> bytes:
    """A complete Ethernet II frame (FCS excluded), zero-padded to the 60-byte minimum."""
    udp_len = UDP.size + len(payload)
    udp_sum = 0
    if with_udp_checksum:
        unsummed = UDP.encode(src_port=src_port, dst_port=dst_port, length=udp_len, checksum=0)
        udp_sum = udp_checksum(src_ip, dst_ip, unsummed + payload)
    udp = UDP.encode(src_port=src_port, dst_port=dst_port, length=udp_len, checksum=udp_sum)
    ip_fields = dict(version=4, ihl=5, dscp=0, ecn=0, total_length=IPV4.size + udp_len,
                     identification=identification, flags=0b010, fragment_offset=0, ttl=ttl,
                     protocol=IP_PROTO_UDP, src_ip=src_ip, dst_ip=dst_ip)
    ip = IPV4.encode(checksum=0, **ip_fields)
    ip = IPV4.encode(checksum=ipv4_checksum(ip), **ip_fields)
    if vlan_id is None:
        l2 = ETHERNET.encode(dst_mac=dst_mac, src_mac=src_mac, ethertype=ETHERTYPE_IPV4)
    else:
        l2 = (ETHERNET.encode(dst_mac=dst_mac, src_mac=src_mac, ethertype=ETHERTYPE_VLAN)
              + VLAN_TAG.encode(pcp=0, dei=0, vid=vlan_id, ethertype=ETHERTYPE_IPV4))
    frame = l2 + ip + udp + payload
    return frame + bytes(max(0, MIN_FRAME - len(frame)))


def parse_frame(frame: bytes | bytearray | memoryview) -> Datagram:
    """Strip Ethernet, an optional VLAN tag, IPv4 and UDP, or raise a typed WireError."""
    if not isinstance(frame, bytes):
        frame = bytes(frame)
    if len(frame) < MIN_FRAME:
        raise Runt(f"frame of {len(frame)} bytes is under the {MIN_FRAME}-byte minimum")
    eth = ETHERNET.decode(frame, 0)
    pos, vlan, ethertype = ETHERNET.size, None, eth.ethertype
    if ethertype == ETHERTYPE_VLAN:
        vlan = VLAN_TAG.decode(frame, pos)
        pos, ethertype = pos + VLAN_TAG.size, vlan.ethertype
    if ethertype != ETHERTYPE_IPV4:
        raise NotIpv4(f"EtherType 0x{ethertype:04x} is not IPv4", offset=pos - 2)
    if len(frame) - pos < IPV4.size:
        raise Runt(f"frame ends inside the IPv4 header ({len(frame) - pos} bytes)", offset=pos)
    ip = IPV4.decode(frame, pos)
    header_len = ip.ihl * 4
    if ip.version != 4 or ip.ihl < 5 or len(frame) - pos < header_len:
        raise LengthMismatch(f"IPv4 version {ip.version} with IHL {ip.ihl} is not a valid "
                             f"header in {len(frame) - pos} bytes", offset=pos)
    if ones_complement_sum(frame[pos:pos + header_len]) != 0xFFFF:
        raise BadChecksum(f"IPv4 header checksum 0x{ip.checksum:04x} does not verify",
                          offset=pos + 10)
    if ip.total_length < header_len + UDP.size or ip.total_length > len(frame) - pos:
        raise LengthMismatch(f"IPv4 total length {ip.total_length} does not fit the "
                             f"{len(frame) - pos} bytes after the Ethernet header", offset=pos)
    if ip.flags & _IPV4_MF or ip.fragment_offset:
        raise Fragmented("IPv4 fragment", offset=pos + 6)
    if ip.protocol != IP_PROTO_UDP:
        raise NotUdp(f"IPv4 protocol {ip.protocol} is not UDP", offset=pos + 9)
    pos += header_len
    udp = UDP.decode(frame, pos)
    if udp.length != ip.total_length - header_len:
        raise LengthMismatch(f"UDP length {udp.length} disagrees with IPv4's "
                             f"{ip.total_length - header_len}", offset=pos + 4)
    return Datagram(eth, vlan, ip, udp, frame[pos + UDP.size:pos + udp.length])
