"""Every layout round-trips through encode/decode, packets and the numpy dtypes."""

from __future__ import annotations

import random

import numpy as np
import pytest

from host import wire
from tests.wire_samples import random_packet, random_record

ALL_MESSAGES = (*wire.FEED_MESSAGES, wire.ORDER_INTENT)


@pytest.mark.parametrize("layout", wire.ALL_LAYOUTS, ids=lambda layout: layout.name)
def test_encode_decode_round_trip(layout):
    rng = random.Random(layout.name)
    for _ in range(500):
        record = random_record(rng, layout)
        raw = layout.encode(record)
        assert len(raw) == layout.size
        assert layout.decode(raw) == record
        assert layout.decode(b"\xAA" * 3 + raw, 3) == record


@pytest.mark.parametrize("layout", ALL_MESSAGES, ids=lambda layout: layout.name)
def test_message_framing_is_filled_in(layout):
    raw = layout.encode(random_record(random.Random(1), layout))
    assert int.from_bytes(raw[0:2], "little") == layout.size
    assert raw[2] == layout.template_id
    assert layout.size % 8 == 0


def test_reserved_bytes_are_zero_on_send_and_ignored_on_receipt():
    record = random_record(random.Random(2), wire.BOOK_LEVEL)
    raw = bytearray(wire.BOOK_LEVEL.encode(record))
    reserved = wire.BOOK_LEVEL.by_name["reserved"].offset
    assert raw[reserved] == 0
    raw[reserved] = 0x5A
    assert wire.BOOK_LEVEL.decode(bytes(raw)) == record


def test_known_bytes_of_a_book_level_update():
    # Pins the layout itself: a change here is a wire-format change and must be deliberate.
    record = wire.BookLevel(flags=1, market_id=0x0102, side=wire.Side.ASK,
                            action=wire.BookAction.CHANGE, rpt_seq=0x0A0B0C0D, level=3,
                            order_count=0x0405, price=-2, qty=0x1122334455667788)
    assert wire.BOOK_LEVEL.encode(record).hex() == (
        "2000" "03" "01" "0201" "02" "02" "0d0c0b0a" "03" "00" "0504"
        "feffffffffffffff" "8877665544332211")


def test_packets_round_trip():
    rng = random.Random(3)
    for _ in range(300):
        payload, messages = random_packet(rng)
        packet = wire.decode_packet(payload)
        assert list(packet.messages) == messages
        assert packet.header.msg_count == len(messages)
        assert packet.header.schema_version == wire.SCHEMA_VERSION


def test_order_intent_round_trip():
    rng = random.Random(4)
    for _ in range(200):
        intent = random_record(rng, wire.ORDER_INTENT)
        assert wire.decode_order_intent(wire.encode_order_intent(intent)) == intent


@pytest.mark.parametrize("layout", (wire.PACKET_HEADER, *ALL_MESSAGES),
                         ids=lambda layout: layout.name)
def test_numpy_dtype_reads_what_the_codec_writes(layout):
    rng = random.Random(5)
    records = [random_record(rng, layout) for _ in range(64)]
    array = np.frombuffer(b"".join(layout.encode(r) for r in records),
                          dtype=wire.numpy_dtype(layout))
    assert array.dtype.itemsize == layout.size
    for row, record in zip(array, records, strict=True):
        assert {name: int(row[name]) for name in record._fields} == record._asdict()


def test_batch_decode_equals_one_by_one_decode():
    rng = random.Random(6)
    packets = [random_packet(rng) for _ in range(400)]
    payloads = [p for p, _ in packets]
    batch = wire.decode_batch(payloads)
    expected: dict[str, list] = {m.name: [] for m in wire.FEED_MESSAGES}
    for index, payload in enumerate(payloads):
        packet = wire.decode_packet(payload)
        for k, message in enumerate(packet.messages):
            expected[type(message).__name__].append(
                (index, packet.header.sequence + k, message))
    assert len(batch) == sum(len(v) for v in expected.values())
    for m in wire.FEED_MESSAGES:
        got = batch.messages[m.name]
        assert len(got) == len(expected[m.name])
        for i, (index, seq, message) in enumerate(expected[m.name]):
            assert batch.packet[m.name][i] == index
            assert batch.seq[m.name][i] == seq
            assert {f: int(got[f][i]) for f in message._fields} == message._asdict()
    headers = [wire.decode_packet_header(p) for p in payloads]
    assert [int(s) for s in batch.headers["sequence"]] == [h.sequence for h in headers]


def test_batch_of_no_packets():
    batch = wire.decode_batch([])
    assert len(batch) == 0
    assert len(batch.headers) == 0


def test_batch_of_empty_packets():
    payload = wire.encode_packet([], session=1, sequence=1, send_time=0)
    batch = wire.decode_batch([payload, payload])
    assert len(batch) == 0
    assert len(batch.headers) == 2
    assert set(batch.messages) == {m.name for m in wire.FEED_MESSAGES}


def test_frames_round_trip_with_and_without_vlan():
    rng = random.Random(7)
    for vlan in (None, 1, 4094):
        for _ in range(50):
            payload, _ = random_packet(rng, max_messages=rng.choice((0, 3, 30)))
            frame = wire.build_frame(payload, dst_mac=rng.getrandbits(48),
                                     src_mac=rng.getrandbits(48), src_ip=rng.getrandbits(32),
                                     dst_ip=rng.getrandbits(32), src_port=rng.getrandbits(16),
                                     dst_port=rng.getrandbits(16), vlan_id=vlan)
            assert len(frame) >= wire.MIN_FRAME
            datagram = wire.parse_frame(frame)
            assert datagram.payload == payload
            assert (datagram.vlan.vid if datagram.vlan else None) == vlan
            # A receiver that does check: the sum over pseudo-header and segment is all ones.
            ip, udp = datagram.ip, datagram.udp
            pseudo = (ip.src_ip.to_bytes(4, "big") + ip.dst_ip.to_bytes(4, "big")
                      + bytes([0, 17]) + udp.length.to_bytes(2, "big"))
            segment = wire.UDP.encode(udp) + payload
            assert wire.net.ones_complement_sum(pseudo + segment) == 0xFFFF


def test_known_ipv4_header_and_checksum():
    # A well-known worked example of the IPv4 header checksum (192.168.0.1 -> 192.168.0.199).
    raw = bytes.fromhex("450000730000400040110000c0a80001c0a800c7")
    assert wire.net.ipv4_checksum(raw) == 0xB861
    header = wire.IPV4.decode(raw[:10] + b"\xb8\x61" + raw[12:])
    assert (header.version, header.ihl, header.total_length, header.flags, header.ttl,
            header.protocol, header.src_ip, header.dst_ip) == (
        4, 5, 0x73, 0b010, 64, 17, 0xC0A80001, 0xC0A800C7)
    assert wire.IPV4.encode(header) == raw[:10] + b"\xb8\x61" + raw[12:]
