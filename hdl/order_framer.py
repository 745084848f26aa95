"""Order framer: each gated order intent becomes one Ethernet II / IPv4 / UDP frame, a byte per
cycle, for the MAC's transmit side (which adds the preamble, SFD and FCS).

The frame is what host.wire.build_frame makes of the intent's 48 bytes with no UDP checksum
(zero: optional over IPv4) and IPv4 identification 0 with don't-fragment set, TTL 64: 90 bytes,
over the 60-byte minimum, so never padded. The addresses and ports come from the ports below,
read as each byte is loaded, so they must hold still while a frame goes out; the IPv4 header
checksum is folded from them over two registered stages, so it follows a change two cycles
later.

Latency: an intent first offered in cycle t, with the framer idle, has its first byte on `o`
in cycle t+1. The framer keeps no copy of the intent: it reads each byte from `i.payload`,
which the stream holds still until taken, through one byte-wide choice by position, and takes
the intent as its last byte is loaded. So a held order costs no flip-flops here (the 720-bit
shift register this replaced was the widest load of the egress), and a new intent's first byte
follows the last byte of the one before with no gap.
"""

from amaranth import Array, Cat, Const, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hdl.beat import beat_layout
from hdl.layouts import EthernetHeader, Ipv4Header, OrderIntent, UdpHeader
from host.wire import IPV4, ORDER_INTENT, UDP
from host.wire.net import ETHERTYPE_IPV4, IP_PROTO_UDP

LATENCY = 1  # cycles from an intent taken to its frame's first byte on `o`
TTL = 64
FLAGS_DONT_FRAGMENT = 0b010
UDP_LENGTH = UDP.size + ORDER_INTENT.size
IP_TOTAL_LENGTH = IPV4.size + UDP_LENGTH


def _big_endian_bytes(value, size: int) -> list:
    """The wire bytes of a big-endian header held as one integer (host/wire's convention)."""
    return [value[8 * (size - 1 - k):8 * (size - k)] for k in range(size)]


class OrderFramer(wiring.Component):
    i: In(stream.Signature(OrderIntent))
    o: Out(stream.Signature(beat_layout(1)))
    dst_mac: In(48)
    src_mac: In(48)
    src_ip: In(32)
    dst_ip: In(32)
    src_port: In(16)
    dst_port: In(16)

    FRAME_BYTES = 14 + IP_TOTAL_LENGTH

    def elaborate(self, platform):
        m = Module()
        eth = Signal(EthernetHeader)
        ip = Signal(Ipv4Header)
        udp = Signal(UdpHeader)
        m.d.comb += [
            eth.dst_mac.eq(self.dst_mac), eth.src_mac.eq(self.src_mac),
            eth.ethertype.eq(ETHERTYPE_IPV4),
            ip.version.eq(4), ip.ihl.eq(5), ip.total_length.eq(IP_TOTAL_LENGTH),
            ip.flags.eq(FLAGS_DONT_FRAGMENT), ip.ttl.eq(TTL), ip.protocol.eq(IP_PROTO_UDP),
            ip.checksum.eq(self._checksum(m)), ip.src_ip.eq(self.src_ip),
            ip.dst_ip.eq(self.dst_ip),
            udp.src_port.eq(self.src_port), udp.dst_port.eq(self.dst_port),
            udp.length.eq(UDP_LENGTH),
        ]
        intent = self.i.payload.as_value()
        frame = Cat(*_big_endian_bytes(eth.as_value(), 14), *_big_endian_bytes(ip.as_value(), 20),
                    *_big_endian_bytes(udp.as_value(), 8), intent)
        assert len(frame) == 8 * self.FRAME_BYTES

        frame_bytes = Array(frame[8 * k:8 * (k + 1)] for k in range(self.FRAME_BYTES))
        position = Signal(range(self.FRAME_BYTES))  # of the byte to load next
        data = Signal(8)
        last = Signal()
        final = position == self.FRAME_BYTES - 1
        load = ~self.o.valid | self.o.ready  # `data` is free for the next byte
        mid_frame = position != 0
        m.d.comb += [
            self.o.payload.data.eq(data),
            self.o.payload.keep.eq(1),
            self.o.payload.last.eq(last),
            self.i.ready.eq(load & final),
        ]
        with m.If(load):
            m.d.sync += self.o.valid.eq(mid_frame | self.i.valid)
            with m.If(mid_frame | self.i.valid):
                m.d.sync += [
                    data.eq(frame_bytes[position]),
                    last.eq(final),
                    position.eq(Mux(final, 0, position + 1)),
                ]
        return m

    def _checksum(self, m):
        """The IPv4 header checksum: the constant fields' ones'-complement sum plus the four
        address halfwords, then two folds of the carries, then the complement."""
        constant = ((4 << 12) | (5 << 8)) + IP_TOTAL_LENGTH + (FLAGS_DONT_FRAGMENT << 13) \
            + ((TTL << 8) | IP_PROTO_UDP)
        total = Signal(19)
        m.d.sync += total.eq(Const(constant, 19) + self.src_ip[16:] + self.src_ip[:16]
                             + self.dst_ip[16:] + self.dst_ip[:16])
        once = total[:16] + total[16:]
        folded = Signal(16)
        m.d.sync += folded.eq(once[:16] + once[16:])
        return ~folded
