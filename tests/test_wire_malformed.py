"""Malformed input gets a typed WireError naming the problem: never an IndexError, a
struct.error or a silently wrong value. The batch decoder agrees with the packet decoder."""

from __future__ import annotations

import random

import pytest

from host import wire
from tests.wire_samples import random_packet, random_record

H = wire.PACKET_HEADER_SIZE


def _packet(*messages, count=None) -> bytearray:
    raw = bytearray(wire.encode_packet(list(messages), session=9, sequence=100, send_time=5))
    if count is not None:
        raw[4:6] = count.to_bytes(2, "little")
    return raw


def _book(rng=None):
    return random_record(rng or random.Random(0), wire.BOOK_LEVEL)


def _both_raise(payload, error):
    """decode_packet and decode_batch reject the payload with the same error type."""
    with pytest.raises(error) as one:
        wire.decode_packet(bytes(payload))
    with pytest.raises(error) as batch:
        wire.decode_batch([wire.encode_packet([], session=1, sequence=1, send_time=1),
                           bytes(payload)])
    assert one.value.reason == batch.value.reason == error.reason
    return one.value


@pytest.mark.parametrize("cut", [0, 1, H - 1])
def test_truncated_packet_header(cut):
    err = _both_raise(_packet(_book())[:cut], wire.Truncated)
    assert "PacketHeader" in str(err) or "header" in str(err)


@pytest.mark.parametrize("cut", [H + 1, H + 3, H + 4, H + 31])
def test_truncated_message(cut):
    _both_raise(_packet(_book())[:cut], wire.Truncated)


def test_unknown_template():
    raw = _packet(_book())
    raw[H + 2] = 99
    err = _both_raise(raw, wire.UnknownTemplate)
    assert err.offset == H
    assert "99" in str(err)


def test_order_intent_is_not_a_feed_message():
    raw = _packet(_book())
    raw[H + 2] = wire.TemplateId.ORDER_INTENT
    _both_raise(raw, wire.UnknownTemplate)


@pytest.mark.parametrize("length", [0, 3, 8, 31, 33, 48, 0xFFFF])
def test_length_field_that_lies(length):
    raw = _packet(_book(), _book())
    raw[H:H + 2] = length.to_bytes(2, "little")
    err = _both_raise(raw, wire.LengthMismatch)
    assert f"length {length}" in str(err)


def test_count_larger_than_payload():
    _both_raise(_packet(_book(), _book(), count=3), wire.CountMismatch)


def test_count_smaller_than_payload():
    err = _both_raise(_packet(_book(), _book(), count=1), wire.CountMismatch)
    assert "32 bytes follow" in str(err)


def test_trailing_garbage_after_last_message():
    _both_raise(_packet(_book()) + b"\x00" * 8, wire.CountMismatch)


def test_partial_message_header_at_end():
    _both_raise(_packet(_book(), count=2) + b"\x20\x00", wire.Truncated)


def test_schema_mismatch():
    raw = _packet(_book())
    raw[6:8] = (wire.SCHEMA_VERSION + 1).to_bytes(2, "little")
    _both_raise(raw, wire.SchemaMismatch)


@pytest.mark.parametrize(("field", "value"), [("side", 0), ("side", 3), ("action", 0),
                                              ("action", 4)])
def test_enum_out_of_range(field, value):
    raw = _packet(_book())
    raw[H + wire.BOOK_LEVEL.by_name[field].offset] = value
    err = _both_raise(raw, wire.BadFieldValue)
    assert field in str(err)


def test_trading_status_out_of_range():
    raw = _packet(random_record(random.Random(1), wire.MARKET_STATUS))
    raw[H + wire.MARKET_STATUS.by_name["status"].offset] = 0
    _both_raise(raw, wire.BadFieldValue)


def test_damaged_packet_yields_nothing_from_its_good_messages():
    raw = _packet(_book(), _book())
    raw[H + 32 + 2] = 77  # the second message is bad; the first must not leak out
    with pytest.raises(wire.UnknownTemplate):
        wire.decode_packet(bytes(raw))


def test_encoder_rejects_values_that_do_not_fit():
    book = _book()
    with pytest.raises(wire.BadFieldValue):
        wire.BOOK_LEVEL.encode(book._replace(level=256))
    with pytest.raises(wire.BadFieldValue):
        wire.BOOK_LEVEL.encode(book._replace(price=1 << 63))
    with pytest.raises(wire.BadFieldValue):
        wire.BOOK_LEVEL.encode(book._replace(side=7))
    with pytest.raises(TypeError):
        wire.encode_packet([wire.decode_packet_header(_packet())], session=1, sequence=1,
                           send_time=1)


def test_order_intent_malformed():
    raw = bytearray(wire.encode_order_intent(random_record(random.Random(2),
                                                           wire.ORDER_INTENT)))
    with pytest.raises(wire.Truncated):
        wire.decode_order_intent(bytes(raw[:47]))
    lying = bytearray(raw)
    lying[0] = 40
    with pytest.raises(wire.LengthMismatch):
        wire.decode_order_intent(bytes(lying))
    wrong = bytearray(raw)
    wrong[2] = wire.TemplateId.TRADE
    with pytest.raises(wire.UnknownTemplate):
        wire.decode_order_intent(bytes(wrong))


def test_random_damage_never_escapes_as_another_exception():
    rng = random.Random(8)
    outcomes = {"ok": 0}
    for _ in range(3000):
        payload, _ = random_packet(rng)
        raw = bytearray(payload)
        for _ in range(rng.randint(1, 4)):
            action = rng.random()
            if action < 0.4 and raw:
                raw[rng.randrange(len(raw))] = rng.getrandbits(8)
            elif action < 0.7:
                raw = raw[:rng.randint(0, len(raw))]
            else:
                raw += rng.randbytes(rng.randint(1, 40))
        try:
            wire.decode_packet(bytes(raw))
            outcomes["ok"] += 1
        except wire.WireError as exc:
            outcomes[exc.reason] = outcomes.get(exc.reason, 0) + 1
            with pytest.raises(type(exc)):
                wire.decode_batch([bytes(raw)])
        else:
            assert len(wire.decode_batch([bytes(raw)])) == len(
                wire.decode_packet(bytes(raw)).messages)
    # The mutations must have exercised every packet-level rejection at least once.
    for reason in ("truncated", "unknown_template", "bad_length", "bad_count", "bad_value"):
        assert outcomes.get(reason, 0) > 0, outcomes


# -- frames -------------------------------------------------------------------------------

def _frame(payload=None, **kw) -> bytearray:
    args = dict(dst_mac=1, src_mac=2, src_ip=0x0A000001, dst_ip=0xEF000001, src_port=5,
                dst_port=6)
    args.update(kw)
    return bytearray(wire.build_frame(bytes(_packet(_book())) if payload is None else payload,
                                      **args))


def _fix_ip_checksum(frame, at=14):
    frame[at + 10:at + 12] = b"\0\0"
    frame[at + 10:at + 12] = wire.net.ipv4_checksum(bytes(frame[at:at + 20])).to_bytes(2, "big")


@pytest.mark.parametrize("size", [0, 13, 41, 59])
def test_runt_frame(size):
    with pytest.raises(wire.Runt):
        wire.parse_frame(bytes(_frame()[:size]))


def test_not_ipv4():
    frame = _frame()
    frame[12:14] = b"\x86\xdd"
    with pytest.raises(wire.NotIpv4):
        wire.parse_frame(bytes(frame))
    tagged = _frame(vlan_id=5)
    tagged[16:18] = b"\x08\x06"
    with pytest.raises(wire.NotIpv4):
        wire.parse_frame(bytes(tagged))


def test_not_udp():
    frame = _frame()
    frame[14 + 9] = 6
    _fix_ip_checksum(frame)
    with pytest.raises(wire.NotUdp):
        wire.parse_frame(bytes(frame))


@pytest.mark.parametrize("vlan", [None, 42])
def test_bad_ipv4_checksum(vlan):
    frame = _frame(vlan_id=vlan)
    at = 14 + (4 if vlan else 0)
    frame[at + 8] ^= 0x01  # TTL changes, the checksum does not
    with pytest.raises(wire.BadChecksum):
        wire.parse_frame(bytes(frame))


@pytest.mark.parametrize("total_length", [0, 27, 4000])
def test_ipv4_total_length_that_lies(total_length):
    frame = _frame()
    frame[16:18] = total_length.to_bytes(2, "big")
    _fix_ip_checksum(frame)
    with pytest.raises(wire.LengthMismatch):
        wire.parse_frame(bytes(frame))


def test_udp_length_that_lies():
    frame = _frame()
    frame[34 + 4:34 + 6] = (9).to_bytes(2, "big")
    with pytest.raises(wire.LengthMismatch):
        wire.parse_frame(bytes(frame))


def test_bad_ihl():
    frame = _frame()
    frame[14] = 0x44
    _fix_ip_checksum(frame)
    with pytest.raises(wire.LengthMismatch):
        wire.parse_frame(bytes(frame))


def test_fragment():
    frame = _frame()
    frame[14 + 6] = 0x20  # more fragments
    _fix_ip_checksum(frame)
    with pytest.raises(wire.Fragmented):
        wire.parse_frame(bytes(frame))


def test_padding_after_a_short_datagram_is_not_payload():
    payload = b"\x01" * 10  # 42 bytes of headers + 10 = 52, so the frame is padded to 60
    frame = _frame(payload)
    assert len(frame) == wire.MIN_FRAME
    assert frame[-8:] == bytes(8)
    assert wire.parse_frame(bytes(frame)).payload == payload


def test_random_frame_damage_never_escapes_as_another_exception():
    rng = random.Random(9)
    reasons = set()
    for _ in range(3000):
        frame = _frame(vlan_id=rng.choice((None, 7)))
        for _ in range(rng.randint(1, 3)):
            if rng.random() < 0.6:
                if frame:
                    frame[rng.randrange(min(64, len(frame)))] = rng.getrandbits(8)
            else:
                frame = frame[:rng.randint(0, len(frame))]
        try:
            datagram = wire.parse_frame(bytes(frame))
        except wire.WireError as exc:
            reasons.add(exc.reason)
            continue
        try:
            wire.decode_packet(datagram.payload)
        except wire.WireError as exc:
            reasons.add(exc.reason)
    assert {"runt", "not_ipv4", "bad_checksum", "bad_length"} <= reasons, reasons
