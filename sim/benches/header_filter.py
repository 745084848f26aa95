"""Bench: HeaderFilter against host.model.frame_filter, the filter's reference model.

Frames of every kind in sim/frame_mix.py go in with random idle cycles; payloads come out
under random backpressure. The scoreboard checks every forwarded payload byte for byte, every
counter after every frame (the counter of the frame's verdict, at the documented cycle), and
all counters at the end. A second test runs frames back to back with `o` always ready: no
input beat may wait, and the latency of every payload is measured.

The width W is read off the design. One coroutine does all per-cycle work (drive, sample,
check): every extra coroutine or trigger per cycle costs more than the work itself.
"""

from __future__ import annotations

import json
import os
import random
from collections import deque

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly

from hdl.header_filter import PAYLOAD_AT, HeaderFilter, max_latency
from host.model.frame_filter import COUNTERS, FilterConfig, FrameFilter
from host.wire.net import ETHERTYPE_VLAN
from sim.benches.streams import stream_ports
from sim.frame_mix import DST_IPS, DST_PORTS, FrameMix, feed_payloads

CLOCK_NS = 8
REPORT_ENV = "HEADER_FILTER_REPORT"  # a JSON file the measurements are written to
FRAMES_ENV = "HEADER_FILTER_FRAMES"  # frames per destination config in the random test
WILDCARD = FilterConfig()
CONFIGS = (WILDCARD, FilterConfig(dst_ip=DST_IPS[0]),
           FilterConfig(dst_port=DST_PORTS[0]), FilterConfig(DST_IPS[0], DST_PORTS[0]))


def frames_per_config(width: int) -> int:
    # About 90 bytes a frame: a byte-wide design takes ~8x the cycles per frame.
    return int(os.environ.get(FRAMES_ENV, 1200 if width == 1 else 4000))


class Expected:
    """What the model says the filter does with each frame, in order."""

    def __init__(self, width: int):
        self.width = width
        self.model = FrameFilter()
        self.payloads: deque[bytes] = deque()
        # For each forwarded payload, in order: the index of the input beat (in `beats`) holding
        # its last byte, and whether there is one (an empty payload has none: the frame's first
        # beat stands in, and no latency is measured).
        self.payload_end_beats: deque[tuple[int, bool]] = deque()
        self.counter_checks: deque[tuple[str, int, int]] = deque()
        self.beats: list[int] = []  # every beat to send, packed
        self.frame_end_beats: list[int] = []

    def add(self, frame: bytes, config: FilterConfig, empty_last: bool) -> None:
        self.model.config = config
        verdict = self.model.feed(frame)
        counts = self.model.counters
        name = "accepted" if verdict.reason is None else verdict.reason.value
        self.counter_checks.append((name, counts[name], counts["frames"]))
        first_beat = len(self.beats)
        w = self.width
        # Only a frame's last beat may be partial: an empty last beat follows a full one.
        empty_last = empty_last and len(frame) % w == 0
        for at in range(0, len(frame), w):
            chunk = frame[at:at + w]
            last = at + w >= len(frame) and not empty_last
            self.beats.append(_pack(w, int.from_bytes(chunk, "little"), len(chunk), last))
        if not frame or empty_last:
            self.beats.append(_pack(w, 0, 0, True))
        self.frame_end_beats.append(len(self.beats) - 1)
        if verdict.payload is not None:
            self.payloads.append(verdict.payload)
            start = PAYLOAD_AT[frame[12:14] == ETHERTYPE_VLAN.to_bytes(2, "big")]
            end = start + len(verdict.payload)
            if verdict.payload:
                self.payload_end_beats.append((first_beat + (end - 1) // w, True))
            else:
                self.payload_end_beats.append((first_beat, False))

    def next_batch(self) -> None:
        """Start numbering beats from zero again (the previous batch has been sent)."""
        assert not self.payload_end_beats and not self.counter_checks
        self.beats.clear()
        self.frame_end_beats.clear()


def _pack(width: int, data: int, count: int, last: bool) -> int:
    return data | ((1 << count) - 1) << (8 * width) | int(last) << (9 * width)


class Engine:
    """Drives `i`, takes `o` and checks everything, one cycle at a time."""

    def __init__(self, dut, expected: Expected, rng: random.Random, valid_chance: float,
                 ready_chance: float):
        self.dut = dut
        self.w = expected.width
        self.expected = expected
        self.rng = rng
        self.valid_chance = valid_chance
        self.ready_chance = ready_chance
        self.cycle = 0
        self.stalls = 0  # cycles with i.valid high and i.ready low
        self.latencies: list[int] = []
        self.forwarded = 0
        self.first_taken = self.last_taken = None  # cycles of the run's first and last input beat
        self._assembling = bytearray()
        # The cycle each awaited payload's last byte went in (None: no byte, no latency).
        self._end_cycles: deque[int | None] = deque()
        self._due: deque[tuple[int, str, int, int]] = deque()
        self._counters = {name: getattr(dut, name) for name in COUNTERS}

    async def run(self, beats: list[int], frame_ends: list[int], drain: int = 64) -> None:
        dut, rng = self.dut, self.rng
        i_valid, i_ready, i_payload = stream_ports(dut, "i")
        o_valid, o_ready, o_payload = stream_ports(dut, "o")
        end_beats = self.expected.payload_end_beats
        checks = self.expected.counter_checks
        frame_ends = deque(frame_ends)
        position, offering, withheld, ready, valid = 0, False, None, -1, -1
        self.first_taken = None
        idle = 0
        while position < len(beats) or idle < drain:
            await FallingEdge(dut.clk)
            self.cycle += 1
            # `o` is registered: what it shows now is what the next rising edge acts on.
            out = o_payload.value.to_unsigned() if o_valid.value else None
            take = self.ready_chance >= 1 or rng.random() < self.ready_chance
            if take != ready:
                o_ready.value = ready = take
            if withheld is not None:
                assert out == withheld, f"o changed before it was taken (cycle {self.cycle})"
            if out is not None:
                withheld = None
                if take:
                    self._receive(out)
                else:
                    withheld = out
            while self._due and self._due[0][0] == self.cycle:
                self._check_counter(*self._due.popleft()[1:])
            if position < len(beats):
                idle = 0
                if not offering and (self.valid_chance >= 1 or rng.random() < self.valid_chance):
                    i_payload.value = beats[position]
                    offering = True
                if offering != valid:
                    i_valid.value = valid = offering
                if offering:
                    await ReadOnly()
                    if i_ready.value:
                        offering = False
                        if self.first_taken is None:
                            self.first_taken = self.cycle
                        self.last_taken = self.cycle
                        while end_beats and end_beats[0][0] == position:
                            self._end_cycles.append(self.cycle if end_beats.popleft()[1]
                                                    else None)
                        if frame_ends[0] == position:
                            frame_ends.popleft()
                            self._due.append((self.cycle + HeaderFilter.COUNTER_LATENCY,
                                              *checks.popleft()))
                        position += 1
                    else:
                        self.stalls += 1
            else:
                if valid:
                    i_valid.value = valid = False
                idle += 1
        assert not self._due, "counter checks left unchecked"

    def _receive(self, bits: int) -> None:
        w = self.w
        keep = (bits >> 8 * w) & ((1 << w) - 1)
        count = keep.bit_length()
        assert keep == (1 << count) - 1, f"keep {keep:0{w}b} is not contiguous from lane 0"
        self._assembling += (bits & ((1 << 8 * w) - 1)).to_bytes(w, "little")[:count]
        if not bits >> 9 * w:
            assert count == w, f"a beat before the last carries {count} bytes (cycle {self.cycle})"
            return
        payloads = self.expected.payloads
        assert payloads, f"unexpected payload {bytes(self._assembling).hex()}"
        want = payloads.popleft()
        got = bytes(self._assembling)
        assert got == want, (f"payload #{self.forwarded} (cycle {self.cycle}):\n"
                             f" got {got.hex()}\nwant {want.hex()}")
        self._assembling.clear()
        self.forwarded += 1
        went_in = self._end_cycles.popleft() if self._end_cycles else None
        if went_in is not None:
            self.latencies.append(self.cycle - went_in)

    def _check_counter(self, name: str, count: int, frames: int) -> None:
        if (self._counters[name].value.to_unsigned() != count
                or self._counters["frames"].value.to_unsigned() != frames):
            got = {name: handle.value.to_unsigned() for name, handle in self._counters.items()}
            raise AssertionError(f"cycle {self.cycle}: after frame {frames}, the model counted "
                                 f"it {name} ({count}); the counters are {got}")

    def check_all_counters(self) -> None:
        want = self.expected.model.counters
        got = {name: handle.value.to_unsigned() for name, handle in self._counters.items()}
        assert got == want, f"counters {got}, the model's {want}"
        assert not self.expected.payloads, f"{len(self.expected.payloads)} payloads never came"


def width_of(dut) -> int:
    return (len(dut.i__payload) - 1) // 9


async def start(dut, config: FilterConfig = WILDCARD) -> None:
    Clock(dut.clk, CLOCK_NS, unit="ns").start()
    dut.i__valid.value = 0
    dut.o__ready.value = 0
    configure(dut, config)
    dut.rst.value = 1
    await ClockCycles(dut.clk, 3)
    dut.rst.value = 0


def configure(dut, config: FilterConfig) -> None:
    dut.dst_ip.value = config.dst_ip
    dut.dst_port.value = config.dst_port


def report(dut, **figures) -> None:
    path = os.environ.get(REPORT_ENV)
    if not path:
        return
    try:
        with open(path) as existing:
            merged = json.load(existing)
    except FileNotFoundError:
        merged = {}
    merged.update(figures)
    with open(path, "w") as out:
        json.dump(merged, out, indent=1)


@cocotb.test(timeout_time=200, timeout_unit="ms")
async def random_mix_matches_model(dut):
    """Every kind of frame under idle gaps and backpressure, for each destination config."""
    seed = cocotb.RANDOM_SEED
    w = width_of(dut)
    mix = FrameMix(random.Random(f"{seed}:frames"), feed_payloads())
    await start(dut)
    expected = Expected(w)
    engine = Engine(dut, expected, random.Random(f"{seed}:handshakes"), valid_chance=0.8,
                    ready_chance=0.7)
    kinds: dict[str, int] = {}
    for config in CONFIGS:
        configure(dut, config)
        expected.next_batch()
        for _ in range(frames_per_config(w)):
            kind, frame = mix.frame()
            kinds[kind] = kinds.get(kind, 0) + 1
            expected.add(frame, config, empty_last=mix.rng.random() < 0.05)
        await engine.run(list(expected.beats), list(expected.frame_end_beats))
        engine.check_all_counters()
    dut._log.info("W=%d: %d frames, %d payloads forwarded in %d cycles; counters %s; kinds %s",
                  w, sum(kinds.values()), engine.forwarded, engine.cycle,
                  expected.model.counters, kinds)


@cocotb.test(timeout_time=200, timeout_unit="ms")
async def full_rate_never_stalls(dut):
    """Back-to-back frames with `o` always ready: one beat a cycle in, no wait, latency."""
    seed = cocotb.RANDOM_SEED
    w = width_of(dut)
    mix = FrameMix(random.Random(f"{seed}:frames"), feed_payloads())
    await start(dut)
    expected = Expected(w)
    engine = Engine(dut, expected, random.Random(seed), valid_chance=1, ready_chance=1)
    minimum = 400 if w == 1 else 1500
    for _ in range(minimum):
        expected.add(mix.minimum(), WILDCARD, empty_last=False)
    await engine.run(list(expected.beats), list(expected.frame_end_beats), drain=8)
    beats_minimum = len(expected.beats)
    cycles_minimum = engine.last_taken - engine.first_taken + 1
    expected.next_batch()
    for _ in range(frames_per_config(w)):
        expected.add(mix.frame()[1], WILDCARD, empty_last=False)
    await engine.run(list(expected.beats), list(expected.frame_end_beats))
    engine.check_all_counters()
    assert engine.stalls == 0, f"{engine.stalls} cycles with i.valid high and i.ready low"
    bound = max_latency(w)
    worst, best = max(engine.latencies), min(engine.latencies)
    dut._log.info("header_filter W=%d latency: %d..%d cycles (bound %d) over %d payloads, "
                  "last payload byte in to last beat out", w, best, worst, bound,
                  len(engine.latencies))
    dut._log.info("header_filter W=%d throughput: %d beats of %d back-to-back 60-byte frames "
                  "in %d cycles (%.3f beats/cycle), %d input stalls", w, beats_minimum,
                  minimum, cycles_minimum, beats_minimum / cycles_minimum, engine.stalls)
    assert worst <= bound, f"latency {worst} cycles exceeds the documented {bound}"
    report(dut, width=w, latency_min=best, latency_max=worst, latency_bound=bound,
           payloads=len(engine.latencies), stalls=engine.stalls,
           minimum_frames=minimum, minimum_beats=beats_minimum, minimum_cycles=cycles_minimum)
