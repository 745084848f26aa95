"""Bench: FeedPipeline (parser, book table, trigger) against host.model.pipeline, or with
TICKWIRE_PIPE_FRAMED=1 the whole Pipeline (header filter first) against host.model's frame
filter and pipeline, fed Ethernet frames with every kind of frame damage as well. With
TICKWIRE_PIPE_GATED=1 the top is hdl.core.Core: the kill switch is given wide limits and armed
first, and every intent must pass its egress gate.

Random consistent market data for 256 markets, with faults (lost and duplicated packets,
out-of-range values) and malformed payloads (truncated, lying lengths, unknown templates,
trailing bytes, wrong schema, empty), goes in with random idle cycles while intents come out
under random backpressure. Every top-of-book change, every intent and every counter must equal
the model's. The cycles from the beat carrying a triggering message's last byte to the first
cycle its intent is offered are measured, and the figures written to TICKWIRE_BENCH_REPORT.

Knobs (environment): TICKWIRE_PIPE_PACKETS, TICKWIRE_PIPE_DEPTH, TICKWIRE_PIPE_IDLE (chance of
an idle cycle on the input), TICKWIRE_PIPE_READY (chance the intent consumer is ready; a
negative value stalls it completely for as many cycles as there are input beats, then makes
it always ready).
"""

import json
import os
import random
import statistics

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly

from hdl.book_top import BookTop
from hdl.trigger import RuleLayout
from host.model.events import BookTop as ModelTop
from host.model.pipeline import Pipeline, PipelineConfig, intents, tops
from host.model.trigger import Rule, RuleKind
from host.wire import ORDER_INTENT, PACKET_HEADER_SIZE, build_frame
from host.wire.net import ipv4_checksum
from sim.benches.streams import pack, unpack
from sim.book_stream import BookStream
from sim.sample_feed import FEED_IP, FEED_PORT, GROUP_IP, NIC_MAC, VENUE_MAC

MARKETS = 256
VARIETY_PACKETS = 300


def _env(name: str, default: float) -> float:
    return float(os.environ.get(f"TICKWIRE_PIPE_{name}", default))


def random_rules(rng: random.Random) -> list[tuple[int, Rule]]:
    rules = []
    for market in range(0, MARKETS, 2):
        roll = rng.random()
        if roll < 0.5:   # the even market leads its odd partner, as spot leads a perp
            rules.append((market, Rule(RuleKind.ARBITRAGE, target=market + 1,
                                       threshold_bp=rng.randint(0, 3), qty=rng.randint(1, 9))))
        elif roll < 0.8:
            mid = 100_000 + 1000 * (market // 2)
            rules.append((market + 1, Rule(RuleKind.LIMIT, buy_below=mid - rng.randint(0, 8),
                                           sell_above=mid + rng.randint(0, 8), qty=1)))
        elif roll < 0.85:  # a market against itself: no move, fires when the bar is zero
            rules.append((market + 1, Rule(RuleKind.ARBITRAGE, target=market + 1,
                                           threshold_bp=rng.randint(0, 1), qty=1)))
    return rules


def damaged(rng: random.Random, good: bytes) -> bytes:
    """One of the malformed payloads a feed handler must survive, made from a good one."""
    kind = rng.randrange(6)
    buf = bytearray(good)
    if kind == 0:
        return good[:rng.randrange(len(good))]                       # truncated anywhere
    if kind == 1 and len(buf) > PACKET_HEADER_SIZE + 4:
        buf[PACKET_HEADER_SIZE:PACKET_HEADER_SIZE + 2] = rng.choice((0, 8, 40, 200, 65535)) \
            .to_bytes(2, "little")                                   # lying length
    elif kind == 2 and len(buf) > PACKET_HEADER_SIZE + 4:
        buf[PACKET_HEADER_SIZE + 2] = rng.choice((0, 6, 63, 64, 255))  # unknown template
    elif kind == 3:
        buf += bytes(rng.choice((1, 7, 8, 16)))                      # trailing bytes
    elif kind == 4:
        buf[6] = 9                                                   # schema version
    else:
        return b""
    return bytes(buf)


def beats_of(payload: bytes, width: int, layout) -> list[int]:
    if not payload:
        return [pack(layout, data=0, keep=0, last=1)]
    out = []
    for start in range(0, len(payload), width):
        chunk = payload[start:start + width]
        out.append(pack(layout, data=int.from_bytes(chunk, "little"),
                        keep=(1 << len(chunk)) - 1, last=int(start + width >= len(payload))))
    return out


def message_ends(payload: bytes) -> dict[tuple[int, int], int]:
    """(market, rpt_seq) -> offset of the last byte, for the book messages of a payload."""
    ends, pos = {}, PACKET_HEADER_SIZE
    while pos + 4 <= len(payload):
        length, template = int.from_bytes(payload[pos:pos + 2], "little"), payload[pos + 2]
        if length < 8 or pos + length > len(payload):
            break
        if template in (3, 5):
            market = int.from_bytes(payload[pos + 4:pos + 6], "little")
            seq = int.from_bytes(payload[pos + 8:pos + 12], "little")
            ends[(market, seq)] = pos + length - 1
        pos += length
    return ends


def frame_of(payload: bytes, rng: random.Random) -> tuple[bytes, int]:
    """A feed frame carrying `payload`, and the payload's offset in it."""
    vlan = 100 if rng.random() < 0.2 else None
    frame = build_frame(payload, dst_mac=NIC_MAC, src_mac=VENUE_MAC, src_ip=FEED_IP,
                        dst_ip=GROUP_IP, src_port=FEED_PORT, dst_port=FEED_PORT, vlan_id=vlan,
                        identification=rng.getrandbits(16))
    return frame, 42 + (4 if vlan is not None else 0)


def damaged_frame(rng: random.Random, frame: bytes, ip_at: int) -> bytes:
    """The frame with one kind of damage the header filter must count."""
    kind = rng.randrange(7)
    buf = bytearray(frame)
    if kind == 0:
        buf[ip_at + 10] ^= 1 << rng.randrange(8)                     # header checksum
    elif kind == 1:
        return frame[:rng.randrange(14, 60)]                         # runt
    elif kind == 2:
        return frame[:rng.randrange(60, len(frame))] if len(frame) > 60 else frame[:30]
    elif kind == 3:
        buf[ip_at + 9] = 6                                           # TCP, checksum fixed
    elif kind == 4:
        buf[ip_at + 22] ^= 0x40                                      # another UDP port
    elif kind == 5:
        buf[ip_at - 2:ip_at] = b"\x86\xdd"                           # IPv6 EtherType
    else:
        buf[ip_at + 6] |= 0x20                                       # more fragments
    if kind in (3, 6):
        buf[ip_at + 10:ip_at + 12] = b"\0\0"
        buf[ip_at + 10:ip_at + 12] = ipv4_checksum(bytes(buf[ip_at:ip_at + 20])) \
            .to_bytes(2, "big")
    return bytes(buf)


def minimum_frames(rng: random.Random, count: int) -> list[bytes]:
    """Back-to-back 60-byte frames: empty UDP datagrams padded to the minimum."""
    return [frame_of(b"", rng)[0][:60] for _ in range(count)]


async def arm_wide_open(dut) -> None:
    """Limits no intent of the bench can break (0 turns the watchdog, the rate bucket and the
    reject run off), then clear the reset trip and arm with a nonce and its complement."""
    limits = {"heartbeat_timeout": 0, "rate_tokens": 0, "rate_window": 0,
              "max_qty": (1 << 31) - 1, "max_notional": (1 << 64) - 1, "collar_bp": 65535,
              "max_rejects": 0, "max_position": (1 << 31) - 1}
    for name, value in limits.items():
        getattr(dut, name).value = value
    for name in ("host__valid", "kill_pin", "heartbeat", "kill", "clear", "arm"):
        getattr(dut, name).value = 0
    dut.event.value = 0
    await ClockCycles(dut.clk, 10)
    nonce = 0x5EED1234
    for name, value in (("clear", None), ("arm", nonce), ("arm", ~nonce & 0xFFFFFFFF)):
        await FallingEdge(dut.clk)
        if value is None:
            dut.clear_mask.value = (1 << len(dut.clear_mask)) - 1
        else:
            dut.arm_value.value = value
        getattr(dut, name).value = 1
        await FallingEdge(dut.clk)
        getattr(dut, name).value = 0
    await ClockCycles(dut.clk, 4)
    assert dut.armed.value == 1, f"the kill switch did not arm: reasons {dut.reasons.value}"


def _read(handle) -> int:
    value = handle.value
    return value.to_unsigned() if hasattr(value, "to_unsigned") else int(value)


def _signed(value: int, bits: int = 32) -> int:
    return value - (1 << bits) if value >> (bits - 1) else value


@cocotb.test()
async def pipeline_matches_model(dut):
    rng = random.Random(cocotb.RANDOM_SEED)
    width = (len(dut.i__payload) - 1) // 9   # beat: 8W data bits, W keep bits, last
    depth = int(_env("DEPTH", 4))
    packets = int(_env("PACKETS", 300))
    idle, ready_chance = _env("IDLE", 0.1), _env("READY", 0.7)
    layout = __import__("hdl.beat", fromlist=["beat_layout"]).beat_layout(width)

    rules = random_rules(rng)
    stream = BookStream(markets=MARKETS, seed=rng.getrandbits(32), faults=True, paired=True)
    payloads = []
    for payload in stream.packets(packets):
        payloads.append(damaged(rng, payload) if rng.random() < 0.03 else payload)
    model = Pipeline(PipelineConfig(depth=depth, client_order_id_base=1 << 40, rules=tuple(rules)))
    framed = _env("FRAMED", 0) == 1
    if framed:
        from host.model.frame_filter import FilterConfig, FrameFilter
        frame_filter = FrameFilter(FilterConfig(dst_ip=GROUP_IP, dst_port=FEED_PORT))
    # Units on the wire (frames or payloads), with the offset of the payload in each.
    units: list[tuple[bytes, int]] = []
    for payload in payloads:
        if not framed:
            units.append((payload, 0))
            continue
        frame, at = frame_of(payload, rng)
        roll = rng.random()
        if roll < 0.05:
            units.append((damaged_frame(rng, frame, at - 28), at))
        elif roll < 0.07:
            units.extend((f, 42) for f in minimum_frames(rng, rng.randint(2, 6)))
            units.append((frame, at))
        else:
            units.append((frame, at))
    events = []
    for unit, _ in units:
        if framed:
            verdict = frame_filter.feed(unit)
            if verdict.payload is None:
                continue
            unit = verdict.payload
        events.extend(model.payload(unit))
    want_tops, want_intents = tops(events), intents(events)

    # Beats, and which beat carries the last byte of each book message.
    beats, end_beat = [], {}
    for unit, at in units:
        first = len(beats)
        for key, offset in message_ends(unit[at:]).items():
            # A packet sent twice, or first sent damaged, carries the same message again.
            end_beat.setdefault(key, []).append(first + (at + offset) // width)
        beats.extend(beats_of(unit, width, layout))

    Clock(dut.clk, 10, unit="ns").start()
    dut.rst.value = 1
    dut.i__valid.value = 0
    dut.o__ready.value = 0
    dut.rule_write.value = 0
    dut.client_order_id_base.value = 1 << 40
    if framed:
        dut.dst_ip.value = GROUP_IP
        dut.dst_port.value = FEED_PORT
    await ClockCycles(dut.clk, 3)
    dut.rst.value = 0
    gated = _env("GATED", 0) == 1
    if gated:
        await arm_wide_open(dut)
    for market, rule in rules:
        await FallingEdge(dut.clk)
        dut.rule_write.value = 1
        dut.rule_index.value = market
        dut.rule.value = pack(RuleLayout, kind=int(rule.kind), target=rule.target,
                              threshold_bp=rule.threshold_bp,
                              buy_below=rule.buy_below & 0xFFFFFFFF,
                              sell_above=rule.sell_above & 0xFFFFFFFF, qty=rule.qty)
    await FallingEdge(dut.clk)
    dut.rule_write.value = 0

    i_valid, i_ready, i_payload = dut.i__valid, dut.i__ready, dut.i__payload
    o_valid, o_ready, o_payload = dut.o__valid, dut.o__ready, dut.o__payload
    t_valid, t_payload = dut.top__valid, dut.top__payload
    got_tops, got_intents, offered_at = [], [], []
    accepted_at = {}
    index, offering, cycle, quiet, stalls = 0, False, 0, 0, 0
    was_offered = False
    while index < len(beats) or quiet < 40:
        await FallingEdge(dut.clk)
        cycle += 1
        if not offering and index < len(beats) and rng.random() >= idle:
            i_payload.value = beats[index]
            offering = True
        i_valid.value = int(offering)
        ready = cycle > len(beats) if ready_chance < 0 else rng.random() < ready_chance
        o_ready.value = int(ready)
        await ReadOnly()
        if offering:
            if i_ready.value:
                accepted_at[index] = cycle
                index += 1
                offering = False
            else:
                stalls += 1
        if t_valid.value:
            got_tops.append(t_payload.value.to_unsigned())
        valid = bool(o_valid.value)
        if valid and not was_offered:
            offered_at.append(cycle)
        if valid and ready:
            got_intents.append(o_payload.value.to_unsigned())
            was_offered = False
        else:
            was_offered = valid
        quiet = quiet + 1 if index >= len(beats) and not valid else 0

    await ClockCycles(dut.clk, 2)
    counters = model.counters
    if framed:
        counters.update({"filter_" + name: value
                         for name, value in frame_filter.counters.items()})
    if gated:
        counters.update({"passed": len(want_intents), "dropped_pipeline": 0, "reasons": 0,
                         "armed": 1})
    got_counters = {name: _read(getattr(dut, name)) for name in counters}
    assert got_counters == counters, f"counters: gateware {got_counters}, model {counters}"
    # Top-of-book changes, in order.
    assert len(got_tops) == len(want_tops), f"{len(got_tops)} top changes, model {len(want_tops)}"
    for n, (bits, want) in enumerate(zip(got_tops, want_tops, strict=True)):
        f = unpack(BookTop, bits)
        got = ModelTop(f["market"], f["bid_valid"], _signed(f["bid_price"]), f["bid_qty"],
                       f["ask_valid"], _signed(f["ask_price"]), f["ask_qty"])
        assert got == want, f"top change #{n}: gateware {got}, model {want}"
    # Intents, in order, every field but the gateware's own timestamp.
    assert len(got_intents) == len(want_intents), \
        f"{len(got_intents)} intents, model {len(want_intents)}"
    latencies = []
    for n, (bits, want) in enumerate(zip(got_intents, want_intents, strict=True)):
        got = ORDER_INTENT.decode(bits.to_bytes(ORDER_INTENT.size, "little"))
        assert got._replace(trigger_time=0) == want, f"intent #{n}: gateware {got}, model {want}"
        # The copy that fired is the latest one in before the intent came out.
        ins = [accepted_at[b] for b in end_beat.get((want.rule_id, want.tick_seq), ())
               if accepted_at.get(b, offered_at[n] + 1) <= offered_at[n]]
        if ins:
            latencies.append(offered_at[n] - max(ins))
    dut._log.info("width %d: %d beats, %d ticks, %d top changes, %d intents, %d input stalls, "
                  "counters %s", width, len(beats), counters["ticks"], len(got_tops),
                  len(got_intents), stalls, counters)
    if packets >= VARIETY_PACKETS:
        # Long runs must have exercised the trigger and the gap handling; a short run (a
        # latency measurement) may by chance lose no packet.
        assert counters["intents"] > 0 and counters["market_gaps"] > 0, "the stream is too tame"
    report = {"width": width, "beats": len(beats), "cycles": cycle, "ticks": counters["ticks"],
              "intents": len(got_intents), "input_stalls": stalls, "latencies": latencies}
    if latencies:
        dut._log.info("tick-to-intent latency, cycles: min %d median %s max %d",
                      min(latencies), statistics.median(latencies), max(latencies))
    path = os.environ.get("TICKWIRE_BENCH_REPORT")
    if path:
        with open(path, "w") as f:
            json.dump(report, f)
