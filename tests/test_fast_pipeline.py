"""The fast pipeline against the model pipeline: identical events and counters, packet by
packet, on consistent random market data, faulty and malformed streams, damaged frames that
pass the header filter, and hypothesis-built raw messages with values at every range edge."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from host import wire
from host.model.fast_pipeline import FastPipeline
from host.model.frame_filter import FrameFilter
from host.model.pipeline import Pipeline, PipelineConfig
from host.model.trigger import Rule, RuleKind
from host.wire.declare import field_struct
from host.wire.feed import FEED_MESSAGES, PACKET_HEADER
from sim.book_stream import BookStream
from sim.frame_mix import FrameMix, feed_payloads
from sim.sample_feed import sample_frames

MARKETS = 256


def assert_same(payloads, config: PipelineConfig) -> tuple[Pipeline, FastPipeline]:
    """Run both pipelines packet by packet; any difference fails naming the packet."""
    model, fast = Pipeline(config), FastPipeline(config)
    for index, payload in enumerate(payloads):
        want, got = model.payload(payload), fast.payload(payload)
        # Types too: a PacketGap and a 2-tuple compare equal.
        assert [(type(e), e) for e in got] == [(type(e), e) for e in want], (index, payload)
        assert fast.counters == model.counters, (index, payload)
    for market in range(MARKETS):
        assert fast.top(market) == model.book.books[market].top(market)
    return model, fast


def random_rules(rng: random.Random) -> tuple[tuple[int, Rule], ...]:
    """Arbitrage rules between paired markets and limit rules near their prices, with
    thresholds low enough that both fire and reset on BookStream(paired=True) data."""
    rules = []
    for market in range(0, MARKETS, 2):
        roll = rng.random()
        mid = 100_000 + 1000 * (market // 2)
        if roll < 0.4:
            rules.append((market, Rule(RuleKind.ARBITRAGE, target=market + 1,
                                       threshold_bp=rng.randint(0, 3), qty=rng.randint(1, 9))))
        elif roll < 0.55:   # the secondary leads instead
            rules.append((market + 1, Rule(RuleKind.ARBITRAGE, target=market,
                                           threshold_bp=rng.randint(0, 2), qty=1)))
        elif roll < 0.85:
            rules.append((market + 1, Rule(RuleKind.LIMIT, buy_below=mid - rng.randint(0, 8),
                                           sell_above=mid + rng.randint(0, 8), qty=2)))
    return tuple(rules)


def damage(rng: random.Random, good: bytes) -> bytes:
    """A malformed payload made from a good one: every framing and value fault the parser
    distinguishes, at any message, not only the first."""
    buf = bytearray(good)
    starts, pos = [], PACKET_HEADER.size
    while pos + 4 <= len(good):
        starts.append(pos)
        pos += int.from_bytes(good[pos:pos + 2], "little")
    at = rng.choice(starts) if starts else PACKET_HEADER.size
    kind = rng.randrange(9)
    if kind == 0:
        return good[:rng.randrange(len(good))]                         # truncated anywhere
    if kind == 1 and starts:
        buf[at:at + 2] = rng.choice((0, 8, 16, 32, 40, 48, 65535)).to_bytes(2, "little")
    elif kind == 2 and starts:
        buf[at + 2] = rng.choice((0, 6, 63, 64, 255))                  # unknown template
    elif kind == 3:
        buf += bytes(rng.choice((1, 4, 7, 8, 32)))                     # trailing bytes
    elif kind == 4:
        buf[6] = rng.choice((0, 2, 9))                                 # schema version
    elif kind == 5:
        count = int.from_bytes(good[4:6], "little")                    # msg_count lies
        buf[4:6] = max(0, count + rng.choice((-2, -1, 1, 2))).to_bytes(2, "little")
    elif kind == 6:
        for _ in range(rng.randint(1, 4)):                             # bit flips anywhere
            i = rng.randrange(len(buf))
            if not 10 <= i < 16:  # a sequence far ahead would make the rest stale
                buf[i] ^= 1 << rng.randrange(8)
    elif kind == 7:
        return b"" if rng.random() < 0.5 else good[:rng.randrange(24)]
    else:
        sequence = int.from_bytes(good[8:16], "little") + rng.randint(-3, 3)
        buf[8:16] = max(sequence, 0).to_bytes(8, "little")             # reordered, lost
    return bytes(buf)


def faulty_stream(seed: int, packets: int, damage_rate: float) -> list[bytes]:
    rng = random.Random(seed)
    stream = BookStream(markets=MARKETS, seed=seed, faults=True, paired=True)
    out = []
    for payload in stream.packets(packets):
        out.append(damage(rng, payload) if rng.random() < damage_rate else payload)
        if rng.random() < 0.01:
            stream.session += 1                                        # a new session
            stream.sequence = rng.randint(1, 5)
    return out


@pytest.mark.parametrize("depth", [1, 2, 4, 6])
def test_consistent_data_with_faults_and_damaged_payloads(depth):
    rng = random.Random(depth)
    model, _ = assert_same(faulty_stream(depth, 900, 0.05),
                           PipelineConfig(depth=depth, client_order_id_base=(1 << 64) - 40,
                                          rules=random_rules(rng)))
    counters = model.counters
    # The data must reach every path, or equality proves little.
    for name in ("intents", "market_gaps", "stale_drops", "packet_gaps", "stale_packets",
                 "truncated", "bad_length", "unknown_template", "schema", "bad_value",
                 "depth_exhausted") + (("beyond_depth",) if depth < 6 else ()):
        assert counters[name] > 0, name


def test_sample_capture_and_frame_mix_through_the_header_filter():
    frames = sample_frames(600)
    mix = FrameMix(random.Random(3), feed_payloads(200))
    frames += [mix.frame()[1] for _ in range(1500)]
    frame_filter = FrameFilter()
    payloads = [v.payload for v in map(frame_filter.feed, frames) if v.payload is not None]
    rules = ((3, Rule(RuleKind.ARBITRAGE, target=0, threshold_bp=0)),
             (0, Rule(RuleKind.LIMIT, buy_below=6_000_100, sell_above=5_999_900)))
    assert_same(payloads, PipelineConfig(rules=rules))


# Raw messages: every field any value its width allows, edges of the gateware's ranges
# likely, so the value checks are compared where they flip.
_EDGES = {
    "market_id": st.sampled_from((0, 1, 2, 255, 256, 65535)),
    "rpt_seq": st.sampled_from((0, 1, 2, 3, 4, 0xFFFF_FFFE, 0xFFFF_FFFF)),
    "price": st.sampled_from((0, 99, 100, 101, -(1 << 31), (1 << 31) - 1, -(1 << 31) - 1,
                              1 << 31, -(1 << 63), (1 << 63) - 1)),
    "qty": st.sampled_from((0, 1, 5, (1 << 31) - 1, 1 << 31, -1, -(1 << 63))),
    "level": st.integers(0, 9) | st.just(255),
    "enum": st.integers(0, 4) | st.just(255),
}
_ALIASES = {"bid_price": "price", "ask_price": "price", "bid_qty": "qty", "ask_qty": "qty",
            "side": "enum", "action": "enum", "status": "enum", "aggressor": "enum"}
_RAW = {m.template_id: (m, field_struct(m, [p.field.name for p in m.placed
                                            if not p.field.reserved])) for m in FEED_MESSAGES}


@st.composite
def raw_message(draw) -> bytes:
    layout, packer = _RAW[draw(st.sampled_from(sorted(_RAW)))]
    values = []
    for p in layout.placed:
        name = p.field.name
        if p.field.reserved:
            continue
        if name == "length":
            values.append(draw(st.sampled_from((layout.size,) * 6 + (0, 8, 32, 48))))
        elif name == "template_id":
            values.append(layout.template_id)
        elif _ALIASES.get(name, name) in _EDGES:
            values.append(draw(_EDGES[_ALIASES.get(name, name)]))
        else:
            values.append(draw(st.integers(0, (1 << p.field.bits) - 1)))
    return packer.pack(*values).ljust(layout.size, b"\0")


@st.composite
def raw_packet(draw) -> bytes:
    messages = draw(st.lists(raw_message(), max_size=8))
    count = len(messages) + draw(st.sampled_from((0, 0, 0, 0, -1, 1)))
    header = PACKET_HEADER.encode(session=draw(st.sampled_from((1, 2))),
                                  msg_count=max(count, 0), schema_version=1,
                                  sequence=draw(st.integers(0, 40) | st.just((1 << 64) - 1)),
                                  send_time=0)
    payload = header + b"".join(messages)
    cut = draw(st.integers(0, len(payload) + 8))
    return payload[:cut] if cut <= len(payload) else payload + bytes(cut - len(payload))


@settings(max_examples=150, deadline=None)
@given(packets=st.lists(raw_packet(), min_size=1, max_size=12),
       depth=st.integers(1, 4), threshold=st.integers(0, 3),
       limits=st.tuples(st.sampled_from((0, 99, 100, 101)), st.sampled_from((99, 100, 101))))
def test_raw_messages_at_range_edges(packets, depth, threshold, limits):
    rules = ((0, Rule(RuleKind.ARBITRAGE, target=1, threshold_bp=threshold)),
             (1, Rule(RuleKind.LIMIT, buy_below=limits[0], sell_above=limits[1])),
             (2, Rule(RuleKind.ARBITRAGE, target=2)))
    assert_same(packets, PipelineConfig(depth=depth, rules=rules))


def _level(seq, market=0, level=0, price=100, qty=5, side=wire.Side.BID):
    return wire.BookLevel(flags=0, market_id=market, side=side, action=wire.BookAction.NEW,
                          rpt_seq=seq, level=level, order_count=1, price=price, qty=qty)


def test_rpt_seq_and_packet_sequence_wrap_around():
    def bbo(seq):
        return wire.BestBidOffer(flags=0, market_id=0, rpt_seq=seq, bid_price=99, bid_qty=seq & 7,
                                 ask_price=101, ask_qty=1)

    payloads = [wire.encode_packet([_level(1)], session=1, sequence=(1 << 64) - 2, send_time=0),
                wire.encode_packet([bbo(0xFFFF_FFFE), _level(0xFFFF_FFFF), _level(0), _level(1)],
                                   session=1, sequence=(1 << 64) - 1, send_time=0),
                wire.encode_packet([_level(2), bbo(0xFFFF_FFFF), _level(0)], session=1,
                                   sequence=3, send_time=0)]
    model, _ = assert_same(payloads, PipelineConfig())
    assert model.counters["market_gaps"] == 2 and model.counters["packet_gaps"] == 0
    assert model.counters["stale_drops"] == 0


def test_write_rule_resets_the_edge_and_rejects_what_the_model_rejects():
    rule = Rule(RuleKind.LIMIT, buy_below=200, sell_above=1 << 20)
    model, fast = Pipeline(PipelineConfig(rules=((0, rule),))), FastPipeline(
        PipelineConfig(rules=((0, rule),)))
    ask = wire.BookLevel(flags=0, market_id=0, side=wire.Side.ASK, action=wire.BookAction.NEW,
                         rpt_seq=1, level=0, order_count=1, price=150, qty=3)
    packets = [wire.encode_packet([ask._replace(rpt_seq=n, qty=n)], session=1, sequence=n,
                                  send_time=0) for n in range(1, 4)]
    for n, payload in enumerate(packets):
        if n == 2:   # the condition still holds: only a rewrite makes it fire again
            model.trigger.write_rule(0, rule)
            fast.write_rule(0, rule)
        assert fast.payload(payload) == model.payload(payload)
    assert fast.counters == model.counters and fast.counters["intents"] == 2
    for market, bad in ((0, Rule(RuleKind.LIMIT, qty=1 << 31)), (256, rule)):
        with pytest.raises(ValueError) as want:
            model.trigger.write_rule(market, bad)
        with pytest.raises(ValueError) as got:
            fast.write_rule(market, bad)
        assert str(got.value) == str(want.value)
    with pytest.raises(ValueError, match="depth"):
        FastPipeline(PipelineConfig(depth=0))
