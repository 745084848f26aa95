"""The first stage of the pipeline: Ethernet/802.1Q/IPv4/UDP frames in, UDP payloads out.

The semantics are host/model/frame_filter.py's; docs/header-filter.md explains the design.
"""

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hdl.beat import beat_layout
from hdl.payload_realigner import PayloadRealigner
from host.model.frame_filter import COUNTER_BITS, COUNTERS, IPV4_IHL, IPV4_MORE_FRAGMENTS
from host.wire.declare import Layout
from host.wire.net import (
    ETHERNET,
    ETHERTYPE_IPV4,
    ETHERTYPE_VLAN,
    IP_PROTO_UDP,
    IPV4,
    MIN_FRAME,
    UDP,
    VLAN_TAG,
)

WIDTHS = (1, 2, 4, 8)
# Where the IPv4 header starts: without and with one 802.1Q tag (index = the `vlan` flag).
IP_AT = (ETHERNET.size, ETHERNET.size + VLAN_TAG.size)
PAYLOAD_AT = tuple(at + IPV4.size + UDP.size for at in IP_AT)
# Cycles from taking the input beat that holds a payload's last byte to presenting the output
# beat with `last`, with `o.ready` high. One more when the realigner needs a flush beat, which
# only happens when the payload start is not lane-aligned (W > 1).
LATENCY = 2
FLUSH_LATENCY = 3


def max_latency(data_bytes: int) -> int:
    """The documented bound the bench asserts, in cycles."""
    return LATENCY if all(p % data_bytes == 0 for p in PAYLOAD_AT) else FLUSH_LATENCY


def _span(layout: Layout, name: str) -> tuple[int, int, int, int]:
    """(first byte, last byte, shift, bits) of a big-endian layout's field."""
    placed = layout.by_name[name]
    bits = placed.field.bits
    first = layout.size - 1 - (placed.bit + bits - 1) // 8
    last = layout.size - 1 - placed.bit // 8
    return first, last, placed.bit % 8, bits


class HeaderFilter(wiring.Component):
    """Check each frame's headers, forward the UDP payload of those that pass (cut-through,
    realigned to lane 0) and count every frame by verdict.

    - `i`: frames, FCS stripped; every beat but a frame's last carries W bytes (the last may
      carry none). `o`: payloads; see PayloadRealigner.
    - `dst_ip`, `dst_port`: the destination to accept; zero matches anything. A change applies
      to frames whose headers complete after it.
    - one 32-bit wrapping counter per name in host.model.frame_filter.COUNTERS, updated
      `COUNTER_LATENCY` cycles after a frame's last beat is taken.
    """

    COUNTER_LATENCY = 3

    def __init__(self, data_bytes: int):
        if data_bytes not in WIDTHS:
            # Powers of two: lane and beat come from the datagram end's low and high bits. Up to
            # 8 lanes the IPv4 header ends at least one beat before the UDP header does, which
            # the checksum pipeline needs, and a frame's header beats send nothing, which the
            # realigner's flush beat needs.
            raise ValueError(f"data_bytes must be one of {WIDTHS}, not {data_bytes}")
        self.data_bytes = data_bytes
        super().__init__({
            "i": In(stream.Signature(beat_layout(data_bytes))),
            "o": Out(stream.Signature(beat_layout(data_bytes))),
            "dst_ip": In(32),
            "dst_port": In(16),
            **{name: Out(COUNTER_BITS) for name in COUNTERS},
        })

    def elaborate(self, platform):
        m = Module()
        lanes = self.data_bytes
        beat = self.i.payload
        accept = self.i.valid & self.i.ready

        # Beats of the current frame taken so far. `hk` saturates just past the headers and
        # the 60-byte minimum; `k` just past the longest IPv4 datagram.
        hk_max = max(MIN_FRAME, PAYLOAD_AT[1]) // lanes + 1
        hk = Signal(range(hk_max + 1))
        k_max = (IP_AT[1] + (1 << 16)) // lanes + 1
        k = Signal(range(k_max + 1))
        with m.If(accept):
            m.d.sync += [
                hk.eq(Mux(beat.last, 0, Mux(hk == hk_max, hk, hk + 1))),
                k.eq(Mux(beat.last, 0, Mux(k == k_max, k, k + 1))),
            ]

        def reaches(offset: int):
            """This beat holds frame byte `offset` or a later one (keep is contiguous)."""
            at = offset // lanes
            return (hk > at) | ((hk == at) & beat.keep[offset % lanes])

        # Capture the header bytes the checks read, at both IP offsets.
        captured: dict[int, Signal] = {}

        def byte(offset: int) -> Signal:
            if offset not in captured:
                captured[offset] = Signal(8, name=f"hdr_{offset}")
                with m.If(accept & (hk == offset // lanes)):
                    m.d.sync += captured[offset].eq(beat.data.word_select(offset % lanes, 8))
            return captured[offset]

        def field_at(base: int, layout: Layout, name: str):
            first, last, shift, bits = _span(layout, name)
            word = Cat(*(byte(base + n) for n in range(last, first - 1, -1)))
            return word[shift:shift + bits]

        # vlan: the frame carries one 802.1Q tag. Registered from the captured EtherType; it is
        # settled long before any field it selects is read.
        ethertype = field_at(0, ETHERNET, "ethertype")
        inner_ethertype = field_at(ETHERNET.size, VLAN_TAG, "ethertype")
        vlan = Signal()
        m.d.sync += vlan.eq(ethertype == ETHERTYPE_VLAN)

        def ip(name):
            return Mux(vlan, field_at(IP_AT[1], IPV4, name), field_at(IP_AT[0], IPV4, name))

        def udp(name):
            return Mux(vlan, field_at(IP_AT[1] + IPV4.size, UDP, name),
                       field_at(IP_AT[0] + IPV4.size, UDP, name))

        # Each check is one register stage from the captured bytes, recomputed every cycle.
        total_length = ip("total_length")
        udp_expected = Signal(16)  # total_length - 20, one stage ahead of the compare
        ip_end_m1 = Signal(range(IP_AT[1] + (1 << 16)))  # offset of the datagram's last byte
        ok = {name: Signal(name=f"{name}_ok") for name in (
            "ethertype", "version", "length", "fragment", "protocol", "udp_length", "dst")}
        m.d.sync += [
            ok["ethertype"].eq((ethertype == ETHERTYPE_IPV4) | (
                (ethertype == ETHERTYPE_VLAN) & (inner_ethertype == ETHERTYPE_IPV4))),
            ok["version"].eq((ip("version") == 4) & (ip("ihl") == IPV4_IHL)),
            ok["length"].eq(total_length >= IPV4.size + UDP.size),
            ok["fragment"].eq(((ip("flags") & IPV4_MORE_FRAGMENTS) == 0)
                              & (ip("fragment_offset") == 0)),
            ok["protocol"].eq(ip("protocol") == IP_PROTO_UDP),
            udp_expected.eq(total_length - IPV4.size),
            ok["udp_length"].eq(udp("length") == udp_expected),
            ok["dst"].eq(((self.dst_ip == 0) | (ip("dst_ip") == self.dst_ip))
                         & ((self.dst_port == 0) | (udp("dst_port") == self.dst_port))),
            ip_end_m1.eq(total_length + Mux(vlan, IP_AT[1] - 1, IP_AT[0] - 1)),
        ]
        checksum_ok = self._checksum(m, hk, accept)
        ok["checksum"] = Mux(vlan, checksum_ok[1], checksum_ok[0])

        # Where this beat stands against the end of the IPv4 datagram.
        last_beat = ip_end_m1[(lanes - 1).bit_length():]
        last_lane = ip_end_m1[:(lanes - 1).bit_length()] if lanes > 1 else 0
        before_end = k < last_beat
        at_end = k == last_beat

        # The payload lanes of this beat, were the frame to be forwarded.
        pmask = Signal(lanes)
        for lane in range(lanes):
            starts = [hk >= -(-(at - lane) // lanes) for at in PAYLOAD_AT]
            in_datagram = before_end | (at_end & (lane <= last_lane)) if lanes > 1 else (
                before_end | at_end)
            m.d.comb += pmask[lane].eq(beat.keep[lane] & Mux(vlan, starts[1], starts[0])
                                       & in_datagram)
        holds = [(hk == (at - 1) // lanes) & beat.keep[(at - 1) % lanes] for at in PAYLOAD_AT]
        decide = Mux(vlan, holds[1], holds[0])  # this beat holds the header's last byte

        # S1: the marked beat, one register between the input and the realigner.
        realigner = m.submodules.realigner = PayloadRealigner(lanes, PAYLOAD_AT)
        s1 = realigner.i
        with m.If(accept):
            m.d.sync += [
                s1.valid.eq(1),
                s1.payload.data.eq(beat.data),
                s1.payload.pmask.eq(pmask),
                s1.payload.decide.eq(decide),
                s1.payload.end.eq(at_end | beat.last),
                s1.payload.last.eq(beat.last),
                s1.payload.start.eq(vlan),
            ]
        with m.Elif(s1.ready):
            m.d.sync += s1.valid.eq(0)
        m.d.comb += self.i.ready.eq(~s1.valid | s1.ready)
        wiring.connect(m, realigner.o, wiring.flipped(self.o))

        passed = (ok["ethertype"] & ok["version"] & ok["checksum"] & ok["length"]
                  & ok["fragment"] & ok["protocol"] & ok["udp_length"] & ok["dst"])
        m.d.comb += realigner.forward.eq(passed)

        # The verdict, judged when the frame's last beat is taken; the checks are settled by
        # then for every frame long enough not to be a runt.
        ended = Signal()
        runt = Signal()
        truncated = Signal()
        m.d.sync += [
            ended.eq(accept & beat.last),
            runt.eq(~reaches(MIN_FRAME - 1)),
            truncated.eq(before_end | (at_end & ~beat.keep.bit_select(last_lane, 1))),
        ]
        verdict = {name: Signal(name=f"is_{name}") for name in COUNTERS[1:]}
        first_failure = [
            ("runt", runt),
            ("not_ipv4", ~(ok["ethertype"] & ok["version"])),
            ("bad_checksum", ~ok["checksum"]),
            ("bad_length", ~ok["length"] | truncated),
            ("fragmented", ~ok["fragment"]),
            ("not_udp", ~ok["protocol"]),
            ("bad_length", ~ok["udp_length"]),
            ("not_for_us", ~ok["dst"]),
        ]
        counted = Signal()
        m.d.sync += counted.eq(ended)
        m.d.sync += [flag.eq(0) for flag in verdict.values()]
        with m.If(ended):
            with m.If(first_failure[0][1]):
                m.d.sync += verdict[first_failure[0][0]].eq(1)
            for name, failed in first_failure[1:]:
                with m.Elif(failed):
                    m.d.sync += verdict[name].eq(1)
            with m.Else():
                m.d.sync += verdict["accepted"].eq(1)
        with m.If(counted):
            m.d.sync += self.frames.eq(self.frames + 1)
        for name, flag in verdict.items():
            with m.If(flag):
                counter = getattr(self, name)
                m.d.sync += counter.eq(counter + 1)
        return m

    def _checksum(self, m: Module, hk: Signal, accept) -> tuple[Signal, Signal]:
        """Whether the IPv4 header checksum verifies, without and with a VLAN tag: the header's
        16-bit words are summed as they arrive (pairs of words, then into an accumulator), then
        checked, one register stage each."""
        lanes = self.data_bytes
        beat = self.i.payload
        results = []
        for ip_at in IP_AT:
            # A lane's byte is the high half of its word at an even frame offset.
            terms = []
            for lane in range(lanes):
                first = -(-(ip_at - lane) // lanes)
                last = (ip_at + IPV4.size - 1 - lane) // lanes
                inside = (hk >= first) & (hk <= last)
                value = beat.data.word_select(lane, 8)
                if lanes == 1:
                    high = ~hk[0] if ip_at % 2 == 0 else hk[0]
                else:
                    high = int((lane % 2 == 0) == (ip_at % 2 == 0))
                terms.append(Mux(inside, Mux(high, value << 8, value), 0))
            pairs = [terms[n] + terms[n + 1] if n + 1 < len(terms) else terms[n]
                     for n in range(0, len(terms), 2)]
            held = [Signal(18, name=f"csum{ip_at}_p{n}") for n in range(len(pairs))]
            starts = Signal(name=f"csum{ip_at}_first")
            m.d.sync += [h.eq(Mux(accept, p, 0)) for h, p in zip(held, pairs, strict=True)]
            m.d.sync += starts.eq(accept & (hk == 0))
            total = Signal(20, name=f"csum{ip_at}_sum")
            m.d.sync += total.eq(Mux(starts, 0, total) + sum(held))
            # Folded, the sum is 0xFFFF exactly when low + high == 0xFFFF (high < 16).
            verifies = Signal(name=f"csum{ip_at}_ok")
            m.d.sync += verifies.eq((total[4:16] == 0xFFF) & (total[:4] == ~total[16:20]))
            results.append(verifies)
        return tuple(results)
