"""Random, valid records of every wire layout, for round-trip tests."""

from __future__ import annotations

import random

from host import wire
from host.wire.declare import Layout


def random_value(rng: random.Random, f) -> int:
    if f.enum is not None:
        return int(rng.choice(list(f.enum)))
    if f.signed:
        edge = rng.choice((-(1 << (f.bits - 1)), (1 << (f.bits - 1)) - 1, 0, -1))
        return edge if rng.random() < 0.2 else rng.randint(-(1 << (f.bits - 1)),
                                                            (1 << (f.bits - 1)) - 1)
    edge = rng.choice((0, (1 << f.bits) - 1))
    return edge if rng.random() < 0.2 else rng.getrandbits(f.bits)


def random_record(rng: random.Random, layout: Layout):
    return layout.record(**{f.name: random_value(rng, f) for f in layout.record_fields})


def random_feed_messages(rng: random.Random, count: int) -> list:
    return [random_record(rng, rng.choice(wire.FEED_MESSAGES)) for _ in range(count)]


def random_packet(rng: random.Random, max_messages: int = 12) -> tuple[bytes, list]:
    messages = random_feed_messages(rng, rng.randint(0, max_messages))
    payload = wire.encode_packet(messages, session=rng.getrandbits(32),
                                 sequence=rng.getrandbits(63), send_time=rng.getrandbits(64))
    return payload, messages
