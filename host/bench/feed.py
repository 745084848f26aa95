"""`tickwire bench feed`: the software path on binary colo-feed packets.

The built-in sample capture (sim/sample_feed.py: four markets, every message type) is
decoded four ways in the same run:
- streamed through the fast pipeline (host/model/fast_pipeline.py: parser, 256-market book,
  trigger with an arbitrage rule armed), one UDP payload at a time: the software path's feed
  handler when there is no FPGA; its events and counters are checked equal to the model's on
  the same data;
- streamed through the model pipeline (host/model/pipeline.py), the readable specification
  the fast one is proven equal to;
- streamed through `host.wire.decode_packet` alone, the reference: decoding objects and
  nothing else;
- batch-decoded with numpy (`host.wire.decode_batch`), for replay and analysis.
Per-message figures divide each packet's time by its message count.
"""

from __future__ import annotations

import argparse
import time

from host import wire
from host.bench.stats import Summary, quiet_gc, table
from host.model.fast_pipeline import FastPipeline
from host.model.pipeline import Pipeline, PipelineConfig
from host.model.trigger import Rule, RuleKind

FAST = "fast pipeline (parse + book + trigger)"
MODEL = "model pipeline (parse + book + trigger)"
REFERENCE = "reference: wire.decode_packet only"
BATCH_PASSES_PER_ROUND = 3
GOAL = ("DESIGN.md goal for binary colo-feed frames: >= 5 M ticks/s batch-decoded, "
        "<= 1 µs per tick streamed")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--packets", type=int, default=20_000, help="packets in the capture")
    parser.add_argument("--rounds", type=int, default=3, help="measured passes (fastest kept)")


def _payloads(packets: int) -> list[bytes]:
    from sim.sample_feed import sample_frames

    out = []
    for frame in sample_frames(packets):
        try:
            payload = wire.parse_frame(frame).payload
            wire.decode_packet(payload)
        except wire.WireError:
            continue
        out.append(payload)
    return out


def _per_packet(fn, payloads) -> list[int]:
    out = []
    clock = time.perf_counter_ns
    for payload in payloads:
        start = clock()
        fn(payload)
        out.append(clock() - start)
    return out


def _same_output(payloads: list[bytes], config: PipelineConfig) -> bool:
    model, fast = Pipeline(config), FastPipeline(config)
    return all(model.payload(p) == fast.payload(p) for p in payloads) and (
        model.counters == fast.counters)


def run(args: argparse.Namespace) -> int:
    payloads = _payloads(args.packets)
    counts = [max(1, wire.decode_packet_header(p).msg_count) for p in payloads]
    messages = sum(counts)
    config = PipelineConfig(rules=((3, Rule(RuleKind.ARBITRAGE, target=0, threshold_bp=8,
                                             qty=1)),))
    same = _same_output(payloads, config)
    best: dict[str, list[int]] = {}
    batch_seconds = []
    with quiet_gc():
        for _ in range(args.rounds + 1):
            for name, fn in ((FAST, FastPipeline(config).payload),
                             (MODEL, Pipeline(config).payload),
                             (REFERENCE, wire.decode_packet)):
                samples = _per_packet(fn, payloads)
                best[name] = samples if name not in best else [
                    min(a, b) for a, b in zip(best[name], samples, strict=True)]
            for _ in range(BATCH_PASSES_PER_ROUND):
                start = time.perf_counter()
                decoded = len(wire.decode_batch(payloads))
                batch_seconds.append(time.perf_counter() - start)
    per_message = {name: [t // n for t, n in zip(s, counts, strict=True)]
                   for name, s in best.items()}
    print(f"tickwire bench feed: {len(payloads)} packets, {messages} messages of the built-in "
          f"sample capture; fastest of {args.rounds + 1} passes per packet, divided by its "
          f"message count")
    print(table([(name, Summary.of(s)) for name, s in per_message.items()],
                unit_note="µs per message, streamed"))
    fast, model, ref = (Summary.of(per_message[name]) for name in (FAST, MODEL, REFERENCE))
    print(f"  fast pipeline events and counters equal the model's on this data: "
          f"{'yes' if same else 'NO'}")
    print(f"  the fast pipeline is {model.p50 / max(fast.p50, 1):.1f}x faster than the model "
          f"at p50 ({model.p99 / max(fast.p99, 1):.1f}x at p99) and costs "
          f"{fast.p50 / max(ref.p50, 1):.2f}x decoding alone at p50")
    print(f"  the model pipeline costs {model.p50 / max(ref.p50, 1):.1f}x decoding alone at p50")
    streamed = messages / (sum(best[REFERENCE]) / 1e9)
    batch_seconds.sort()
    fastest, median = batch_seconds[0], batch_seconds[len(batch_seconds) // 2]
    print(f"  batch decode (numpy, wire.decode_batch): {decoded / fastest / 1e6:.2f} M messages/s "
          f"fastest, {decoded / median / 1e6:.2f} M median of {len(batch_seconds)} passes; "
          f"{decoded / fastest / streamed:.1f}x the streamed reference's "
          f"{streamed / 1e6:.2f} M messages/s")
    print(f"  {GOAL}")
    return 0 if same else 1
