"""Bench: FeedPipeline (parser, book table, trigger) against host.model.pipeline.

Random consistent market data for 256 markets, with faults (lost and duplicated packets,
out-of-range values) and malformed payloads (truncated, lying lengths, unknown templates,
trailing bytes, wrong schema, empty), goes in with random idle cycles while intents come out
under random backpressure. Every top-of-book change, every intent and every counter must equal
the model's. The cycles from the beat carrying a triggering message's last byte to the first
cycle its intent is offered are measured, and the figures written to TICKWIRE_BENCH_REPORT.

Knobs (environment): TICKWIRE_PIPE_PACKETS, TICKWIRE_PIPE_DEPTH, TICKWIRE_PIPE_IDLE (chance of
an idle cycle on the input), TICKWIRE_PIPE_READY (chance the intent consumer is ready).
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
from host.wire import ORDER_INTENT, PACKET_HEADER_SIZE
from sim.benches.streams import pack, unpack
from sim.book_stream import BookStream

MARKETS = 256


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
    events = []
    for payload in payloads:
        events.extend(model.payload(payload))
    want_tops, want_intents = tops(events), intents(events)

    # Beats, and which beat carries the last byte of each book message.
    beats, end_beat = [], {}
    for payload in payloads:
        first = len(beats)
        for key, offset in message_ends(payload).items():
            end_beat.setdefault(key, first + offset // width)
        beats.extend(beats_of(payload, width, layout))

    Clock(dut.clk, 10, unit="ns").start()
    dut.rst.value = 1
    dut.i__valid.value = 0
    dut.o__ready.value = 0
    dut.rule_write.value = 0
    dut.client_order_id_base.value = 1 << 40
    await ClockCycles(dut.clk, 3)
    dut.rst.value = 0
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
        ready = rng.random() < ready_chance
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
    got_counters = {name: getattr(dut, name).value.to_unsigned() for name in counters}
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
        beat = end_beat.get((want.rule_id, want.tick_seq))
        if beat is not None and beat in accepted_at:
            latencies.append(offered_at[n] - accepted_at[beat])
    dut._log.info("width %d: %d beats, %d ticks, %d top changes, %d intents, %d input stalls, "
                  "counters %s", width, len(beats), counters["ticks"], len(got_tops),
                  len(got_intents), stalls, counters)
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
