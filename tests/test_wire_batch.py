"""decode_batch on batches mixing good and malformed payloads: it raises exactly what
decode_packet raises for the first malformed payload (type, reason, offset, message), and on
good batches returns what decode_packet returns, message for message."""

from __future__ import annotations

import random

import pytest

from host import wire
from tests.wire_samples import random_packet

H = wire.PACKET_HEADER_SIZE


def _damaged(rng: random.Random, payload: bytes) -> bytes:
    raw = bytearray(payload)
    action = rng.random()
    if action < 0.3 and raw:
        raw[rng.randrange(len(raw))] = rng.getrandbits(8)
    elif action < 0.5:
        raw = raw[:rng.randint(0, len(raw))]
    elif action < 0.6:
        raw += rng.randbytes(rng.randint(1, 40))
    elif action < 0.7:
        raw[4:6] = rng.getrandbits(16).to_bytes(2, "little")        # msg_count
    elif action < 0.8 and len(raw) > H + 3:
        starts, at = [], H
        while at + 4 <= len(raw):
            starts.append(at)
            at += int.from_bytes(raw[at:at + 2], "little")
        at = rng.choice(starts)                                      # any message's
        raw[at + rng.randrange(3)] = rng.getrandbits(8)              # length or template
    elif action < 0.9 and len(raw) > 6:
        raw[6] = rng.getrandbits(8)                                  # schema version
    else:
        raw[H + rng.randrange(max(1, len(raw) - H)):] = b""
    return bytes(raw)


def _first_error(payloads):
    for index, payload in enumerate(payloads):
        try:
            wire.decode_packet(payload)
        except wire.WireError as exc:
            return index, exc
    return None, None


_POOL = [random_packet(random.Random(n), max_messages=(0, 3, 12, 40)[n % 4])[0]
         for n in range(120)]


@pytest.mark.parametrize("seed", range(4))
def test_first_malformed_payload_raises_what_decode_packet_raises(seed):
    rng = random.Random(seed)
    seen = set()
    for _ in range(100):
        payloads = [rng.choice(_POOL) for _ in range(rng.randint(1, 30))]
        for _ in range(rng.randint(0, 3)):
            i = rng.randrange(len(payloads))
            payloads[i] = _damaged(rng, payloads[i])
        index, want = _first_error(payloads)
        if want is None:
            batch = wire.decode_batch(payloads)
            assert len(batch) == sum(len(wire.decode_packet(p).messages) for p in payloads)
            continue
        with pytest.raises(wire.WireError) as got:
            wire.decode_batch(payloads)
        seen.add(want.reason)
        assert type(got.value) is type(want)
        assert got.value.offset == want.offset
        assert str(got.value) == f"packet {index}: {want}"
    assert {"truncated", "bad_length", "bad_count", "unknown_template"} <= seen, seen


def test_odd_lengths_and_values_checked_after_framing():
    rng = random.Random(1)
    good = [random_packet(rng)[0] for _ in range(5)]
    book = wire.BOOK_LEVEL.record(flags=0, market_id=1, side=wire.Side.BID,
                                  action=wire.BookAction.NEW, rpt_seq=1, level=0,
                                  order_count=1, price=1, qty=1)
    bad_value = bytearray(wire.encode_packet([book, book], session=1, sequence=1, send_time=0))
    bad_value[H + 6] = 0                     # side 0 in the first message
    framing_later = bytes(bad_value) + b"\x01"   # ... and trailing bytes after the last
    for payloads, error in (([*good, bytes(bad_value)], wire.BadFieldValue),
                            ([*good, framing_later, bytes(bad_value)], wire.CountMismatch),
                            ([*good, good[0][:H + 5]], wire.Truncated)):
        with pytest.raises(error, match=f"packet {len(good)}: "):
            wire.decode_batch(payloads)
