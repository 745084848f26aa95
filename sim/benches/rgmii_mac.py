"""Bench: RgmiiMac at its RGMII pins against host.model.ethernet_mac.

- receive: a random mix of frames (good, runts, maximum and over-long, bad FCS, RX_ER mid-frame,
  short and long preambles, garbage and preamble-only bursts, frames cut short) with minimum and
  random gaps goes in at the rx pins, nibble by nibble on both clock edges. Every frame that
  comes out of `rx` is checked against the model, byte for byte with its verdict, every counter
  at the end, and the latency from the last data byte on the pins to the last beat out.
- receive under backpressure: the stream rules hold and a frame that lost a beat is marked bad.
- transmit: random frames go into `tx`; the tx pins are decoded and each frame checked
  (preamble, SFD, padding, FCS, no ER) along with the gap between frames; an underrun ends
  its frame with ER.
- loopback: the tx pins are wired back to the rx pins and what is sent comes back.

One coroutine per clock domain does all per-cycle work for that domain.
"""

from __future__ import annotations

import json
import os
import random
from collections import deque
from collections.abc import Callable

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge, Timer

from host.model import ethernet_mac as mac
from host.model.ethernet_mac import RX_COUNTERS, TX_COUNTERS, MacRx, RxFrame

CLOCK_NS = 8
REPORT_ENV = "RGMII_MAC_REPORT"  # a JSON file the measurements are written to
FRAMES_ENV = "RGMII_MAC_FRAMES"  # frames in the random receive test
IDLE_PAIR = (0, 0)


def _beat(data: int, keep: int, last: int) -> int:
    return data | keep << 8 | last << 9


# --- stimulus ------------------------------------------------------------------------------

class RxMix:
    """Random GMII symbol streams for the receiver, each burst tagged with its kind."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def frame_bytes(self) -> bytes:
        rng = self.rng
        roll = rng.random()
        if roll < 0.1:
            # Each side of every limit: no data byte, the shortest and longest good frames.
            n = rng.choice((0, 1, mac.MIN_DATA - 1, mac.MIN_DATA, mac.MAX_DATA, mac.MAX_DATA + 1))
        elif roll < 0.12:
            n = mac.MAX_DATA + rng.randint(1, 8)
        elif roll < 0.15:
            n = rng.randint(0, mac.MIN_DATA - 1)
        else:
            n = rng.randint(mac.MIN_DATA, 160)
        return rng.randbytes(n)

    def burst(self) -> tuple[str, list[mac.Gmii]]:
        rng = self.rng
        gap = mac.IFG_CYCLES if rng.random() < 0.5 else rng.choice((1, 2, 5, 20))
        roll = rng.random()
        frame = self.frame_bytes()
        if roll < 0.45:
            return "good", mac.tx_symbols(frame, gap=gap, pad=rng.random() < 0.3)
        if roll < 0.55:
            return "bad_fcs", mac.tx_symbols(frame, gap=gap, corrupt_fcs=True)
        if roll < 0.63:
            at = rng.randrange(max(len(frame), mac.MIN_DATA) + mac.FCS_BYTES)
            return "rx_er", mac.tx_symbols(frame, gap=gap, error_at=at)
        if roll < 0.75:
            return "preamble", mac.tx_symbols(frame, gap=gap, preamble=rng.choice((0, 1, 3, 6,
                                                                                   9, 15)))
        if roll < 0.83:
            whole = mac.tx_symbols(frame, gap=0)
            return "cut", whole[:rng.randrange(1, len(whole))] + [mac.IDLE] * gap
        if roll < 0.88:
            start = rng.choice([b for b in range(256) if b not in (mac.PREAMBLE, mac.SFD)])
            junk = [(start, 1, 0)] + [(rng.randrange(256), 1, 0) for _ in range(rng.randint(0,
                                                                                        30))]
            return "garbage", junk + [mac.IDLE] * gap
        if roll < 0.92:
            return "preamble_only", [(mac.PREAMBLE, 1, 0)] * rng.randint(1, 8) + [mac.IDLE] * gap
        if roll < 0.95:
            # RX_ER on the SFD or a preamble byte: not a frame.
            symbols = mac.tx_symbols(frame, gap=gap)
            at = rng.randrange(mac.PREAMBLE_BYTES + 1)
            symbols[at] = (symbols[at][0], 1, 1)
            return "preamble_er", symbols
        # Errors outside frames (false carrier) and idle: nothing.
        return "idle", [(0x0E, 0, 1)] * rng.randint(1, 3) + [mac.IDLE] * gap


# --- the per-domain engines ----------------------------------------------------------------

class RxSide:
    """Drives the rx pins from a queue of RGMII pairs and takes the `rx` stream."""

    def __init__(self, dut, rng: random.Random, ready_chance: float = 1.0):
        self.dut = dut
        self.rng = rng
        self.ready_chance = ready_chance
        self.ready_low: range = range(0)  # rx cycles with `rx.ready` held low
        self.pairs: deque[mac.Rgmii] = deque()
        self.cycle = 0
        self.frames: list[tuple[bytes, bool, int]] = []  # (data, error, cycle of last beat)
        self.pair_cycles: list[int] = []  # the rx cycle each queued pair went in, in order
        self._assembling = bytearray()
        cocotb.start_soon(self._run())

    def queue(self, pairs: list[mac.Rgmii]) -> None:
        self.pairs.extend(pairs)

    async def _run(self) -> None:
        dut = self.dut
        clock = dut.rx_clk
        withheld = None
        ready = -1
        while True:
            await FallingEdge(clock)
            self.cycle += 1
            if self.pairs:
                rise, fall = self.pairs.popleft()
                self.pair_cycles.append(self.cycle)
            else:
                rise, fall = IDLE_PAIR
            dut.rxd.value = rise & 0xF
            dut.rx_ctl.value = rise >> 4
            take = ((self.ready_chance >= 1 or self.rng.random() < self.ready_chance)
                    and self.cycle not in self.ready_low)
            if take != ready:
                dut.rx__ready.value = ready = take
            await ReadOnly()
            if dut.rx__valid.value:
                beat = dut.rx__payload.value.to_unsigned() | int(dut.rx_error.value) << 10
                if withheld is not None:
                    assert beat == withheld, f"rx beat changed while not taken (cycle {self.cycle})"
                if take:
                    withheld = None
                    self._take(beat)
                else:
                    withheld = beat
            else:
                assert withheld is None, f"rx valid dropped before a take (cycle {self.cycle})"
            await RisingEdge(clock)
            dut.rxd.value = fall & 0xF
            dut.rx_ctl.value = fall >> 4

    def _take(self, beat: int) -> None:
        data, keep, last, error = beat & 0xFF, beat >> 8 & 1, beat >> 9 & 1, beat >> 10 & 1
        if keep:
            self._assembling.append(data)
        if last:
            self.frames.append((bytes(self._assembling), bool(error), self.cycle))
            self._assembling.clear()
        else:
            assert keep, f"an empty beat that is not last (cycle {self.cycle})"


class TxSide:
    """Feeds the `tx` stream from a queue of beats and decodes the tx pins into RGMII pairs."""

    def __init__(self, dut, on_pair: Callable[[mac.Rgmii], None]):
        self.dut = dut
        self.on_pair = on_pair
        self.beats: deque[int | None] = deque()  # None: offer nothing for one cycle
        self.cycle = 0
        self.taken = 0
        self.first_offer: int | None = None  # the cycle the first beat was offered
        self.first_burst: int | None = None  # the cycle whose rising edge put DV on the pins
        cocotb.start_soon(self._run())

    async def _run(self) -> None:
        dut = self.dut
        clock = dut.tx_clk
        rise = None
        offering = False
        while True:
            await FallingEdge(clock)
            self.cycle += 1
            if not offering and self.beats:
                beat = self.beats.popleft()
                if beat is not None:
                    dut.tx__payload.value = beat
                    offering = True
                    if self.first_offer is None:
                        self.first_offer = self.cycle
            dut.tx__valid.value = int(offering)
            await ReadOnly()
            if rise is not None:
                self.on_pair((rise, int(dut.tx_ctl.value) << 4
                              | dut.txd.value.to_unsigned()))
            if offering and dut.tx__ready.value:
                offering = False
                self.taken += 1
            await RisingEdge(clock)
            await ReadOnly()
            assert dut.txc.value, "txc is not high after a rising edge of the tx clock"
            rise = int(dut.tx_ctl.value) << 4 | dut.txd.value.to_unsigned()
            if rise >> 4 and self.first_burst is None:
                self.first_burst = self.cycle

    def queue_frame(self, frame: bytes, empty_last: bool = False) -> None:
        for n, byte in enumerate(frame):
            self.beats.append(_beat(byte, 1, int(n == len(frame) - 1 and not empty_last)))
        if empty_last or not frame:
            self.beats.append(_beat(0, 0, 1))


async def start(dut) -> None:
    dut.rx__ready.value = 1
    dut.tx__valid.value = 0
    dut.rxd.value = 0
    dut.rx_ctl.value = 0
    Clock(dut.tx_clk, CLOCK_NS, unit="ns").start()
    # The PHY's clock has its own phase: a quarter period off the transmit clock.
    await Timer(CLOCK_NS // 4, unit="ns")
    Clock(dut.rx_clk, CLOCK_NS, unit="ns").start()
    dut.rx_rst.value = 1
    dut.tx_rst.value = 1
    await ClockCycles(dut.rx_clk, 3)
    dut.rx_rst.value = 0
    dut.tx_rst.value = 0
    await ClockCycles(dut.rx_clk, 2)


def counters(dut, names) -> dict[str, int]:
    return {name: getattr(dut, name).value.to_unsigned() for name in names}


def report(**figures) -> None:
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


def check_frames(got: list[tuple[bytes, bool, int]], want: list[RxFrame]) -> None:
    want = [f for f in want if f.beats]
    assert len(got) == len(want), f"{len(got)} frames came out of rx, the model says {len(want)}"
    for n, ((data, error, cycle), frame) in enumerate(zip(got, want, strict=True)):
        assert data == frame.data, (f"frame #{n} (rx cycle {cycle}):\n got {data.hex()}\n"
                                    f"want {frame.data.hex()}")
        assert error == (frame.error is not None), (
            f"frame #{n} (rx cycle {cycle}): error flag {error}, the model says {frame.error}")


# --- tests ---------------------------------------------------------------------------------

@cocotb.test(timeout_time=500, timeout_unit="ms")
async def rx_random_mix_matches_model(dut):
    """Every kind of burst at the rx pins, scoreboarded frame by frame, with the latency."""
    seed = cocotb.RANDOM_SEED
    mix = RxMix(random.Random(f"{seed}:rx"))
    await start(dut)
    rx = RxSide(dut, random.Random(seed))
    symbols: list[mac.Gmii] = [mac.IDLE] * 4
    kinds: dict[str, int] = {}
    last_data_symbol: list[int] = []  # per frame with beats: the index of its last data byte
    model = MacRx()
    want: list[RxFrame] = []
    for _ in range(int(os.environ.get(FRAMES_ENV, 400))):
        kind, burst = mix.burst()
        kinds[kind] = kinds.get(kind, 0) + 1
        start_at = len(symbols)
        symbols += burst
        for frame in model.feed(burst):
            want.append(frame)
            if frame.beats:
                # The burst's DV run ends with the FCS; the last data byte is 4 before it.
                end = start_at + max(n for n, s in enumerate(burst) if s[1])
                last_data_symbol.append(end - mac.FCS_BYTES)
    symbols += [mac.IDLE] * 4
    rx.queue(mac.to_rgmii(symbols))
    await ClockCycles(dut.rx_clk, len(symbols) + 16)
    check_frames(rx.frames, want)
    got = counters(dut, RX_COUNTERS)
    assert got == model.counters, f"counters {got}, the model's {model.counters}"
    # Pair i went in at rx cycle pair_cycles[i]: its low nibble is sampled by that cycle's
    # rising edge, its high nibble by the falling edge after.
    latencies = [cycle - rx.pair_cycles[at] for (_d, _e, cycle), at
                 in zip(rx.frames, last_data_symbol, strict=True)]
    worst, best = max(latencies), min(latencies)
    dut._log.info("rgmii_mac rx: %d bursts, %d frames out, kinds %s, counters %s",
                  sum(kinds.values()), len(rx.frames), kinds, got)
    dut._log.info("rgmii_mac rx latency: %d..%d cycles from the rx_clk rising edge taking the "
                  "last data byte's low nibble to the one taking the last beat (%.1f..%.1f from "
                  "its high nibble; 4 of them are the FCS)", best, worst, best - 0.5, worst - 0.5)
    assert worst == best, f"rx latency varies: {best}..{worst} cycles"
    report(rx_latency_cycles=worst, rx_frames=got["rx_frames"], rx_bursts=sum(kinds.values()))


@cocotb.test(timeout_time=200, timeout_unit="ms")
async def rx_backpressure_marks_lost_frames(dut):
    """With `rx.ready` often low, beats are lost, never changed; every frame that lost a beat
    ends with the error flag and the counters add up."""
    seed = cocotb.RANDOM_SEED
    rng = random.Random(f"{seed}:backpressure")
    await start(dut)
    before = counters(dut, RX_COUNTERS)
    rx = RxSide(dut, rng, ready_chance=0.995)  # about 60 % of frames intact
    frames = [rng.randbytes(rng.randint(mac.MIN_DATA, 120)) for _ in range(60)]
    symbols = [s for f in frames for s in mac.tx_symbols(f)]
    rx.queue(mac.to_rgmii(symbols))
    await ClockCycles(dut.rx_clk, len(symbols) + 16)
    assert len(rx.frames) == len(frames), f"{len(rx.frames)} frames out of {len(frames)}"
    lost = 0
    for n, ((data, error, _cycle), sent) in enumerate(zip(rx.frames, frames, strict=True)):
        if data == sent:
            continue
        lost += 1
        assert error, f"frame #{n} lost bytes but is not marked bad"
        it = iter(sent)
        assert all(byte in it for byte in data), f"frame #{n}: bytes out are not a subsequence"
    after = counters(dut, RX_COUNTERS)
    delta = {name: after[name] - before[name] for name in RX_COUNTERS}
    assert delta["rx_frames"] == len(frames)
    assert delta["rx_overflows"] >= lost > 0, f"{lost} frames lost bytes; counters {delta}"
    assert delta["rx_ok"] > 0, f"no frame came through whole; counters {delta}"
    assert delta["rx_ok"] + delta["rx_overflows"] == len(frames), delta
    dut._log.info("rgmii_mac rx backpressure: %d of %d frames lost beats; counters %s",
                  lost, len(frames), delta)

    # `rx.ready` held low over a frame's end: its last beat is lost, and an empty last beat
    # with the error ends the frame once there is room; the next frame comes through whole.
    rx.ready_chance = 1
    frames = [rng.randbytes(70) for _ in range(2)]
    symbols = [s for f in frames for s in mac.tx_symbols(f)]
    last_data = mac.PREAMBLE_BYTES + len(frames[0])  # index of its last data byte's symbol
    first_cycle = rx.cycle + 1
    rx.ready_low = range(first_cycle + last_data - 3, first_cycle + last_data + 12)
    done = len(rx.frames)
    rx.queue(mac.to_rgmii(symbols))
    await ClockCycles(dut.rx_clk, len(symbols) + 16)
    ended, whole = rx.frames[done:]
    assert ended[1] and ended[0] == frames[0][:len(ended[0])] and len(ended[0]) < 70, ended
    assert whole[:2] == (frames[1], False), whole
    final = counters(dut, RX_COUNTERS)
    assert final["rx_overflows"] - after["rx_overflows"] == 1, final


async def _send(dut, tx: TxSide, beats: int, drain: int = 100) -> None:
    """Wait until `beats` beats have been taken, then `drain` cycles for them to leave (an
    empty frame's last beat is followed by 64 bytes of padding and FCS)."""
    while tx.taken < beats:
        await ClockCycles(dut.tx_clk, 16)
    await ClockCycles(dut.tx_clk, drain)


def _gaps(symbols: list[mac.Gmii]) -> list[int]:
    """Idle runs between bursts."""
    runs, idle, seen = [], 0, False
    for _byte, dv, _er in symbols:
        if dv:
            if seen and idle:
                runs.append(idle)
            seen, idle = True, 0
        else:
            idle += 1
    return runs


@cocotb.test(timeout_time=200, timeout_unit="ms")
async def tx_random_frames_on_the_pins(dut):
    """Random frames back to back: decoded at the pins, each is preamble, SFD, the frame padded
    to 60 bytes and its FCS, with exactly the minimum gap between frames."""
    seed = cocotb.RANDOM_SEED
    rng = random.Random(f"{seed}:tx")
    await start(dut)
    pairs: list[mac.Rgmii] = []
    tx = TxSide(dut, pairs.append)
    frames = [rng.randbytes(rng.choice((0, 1, 59, 60, 61, mac.MAX_DATA, rng.randint(0, 200))))
              for _ in range(80)]
    beats = 0
    for frame in frames:
        empty_last = rng.random() < 0.2
        tx.queue_frame(frame, empty_last)
        beats += len(frame) + (empty_last or not frame)
    await _send(dut, tx, beats)
    symbols = mac.from_rgmii(pairs)
    assert not symbols[-1][1], "the pins were still sending when the capture ended"
    sent = mac.tx_frames(symbols)
    assert len(sent) == len(frames), f"{len(sent)} bursts on the pins for {len(frames)} frames"
    for n, ((body, good), frame) in enumerate(zip(sent, frames, strict=True)):
        padded = mac.padded_frame(frame)
        assert good, f"frame #{n} is malformed on the pins: {body.hex()}"
        assert body == padded + mac.fcs(padded), f"frame #{n}: got {body.hex()}"
    gaps = _gaps(symbols)
    assert set(gaps) == {mac.IFG_CYCLES}, f"gaps between back-to-back frames: {sorted(set(gaps))}"
    got = counters(dut, TX_COUNTERS)
    assert got == {"tx_frames": len(frames), "tx_underruns": 0}, got
    # Both cycle numbers count rising edges: the one that first sees `tx.valid`, and the one
    # after which the first preamble nibble is on the pins.
    start_latency = tx.first_burst - tx.first_offer
    dut._log.info("rgmii_mac tx: %d frames, %d pair cycles, gaps all %d; %d cycles from the "
                  "first tx.valid to the preamble on the pins", len(frames), len(pairs),
                  mac.IFG_CYCLES, start_latency)
    report(tx_start_latency_cycles=start_latency, tx_frames=len(frames),
           tx_gap_cycles=mac.IFG_CYCLES)


@cocotb.test(timeout_time=100, timeout_unit="ms")
async def tx_underrun_ends_the_frame_with_an_error(dut):
    """A source that stalls mid-frame: that frame ends with TX_ER and is counted, its remaining
    beats are dropped, and the frames around it go out whole."""
    seed = cocotb.RANDOM_SEED
    rng = random.Random(f"{seed}:underrun")
    await start(dut)
    pairs: list[mac.Rgmii] = []
    tx = TxSide(dut, pairs.append)
    frames = [rng.randbytes(80) for _ in range(3)]
    tx.queue_frame(frames[0])
    stall_at = rng.randint(1, 70)
    for n, byte in enumerate(frames[1]):
        if n == stall_at:
            tx.beats.append(None)
        tx.beats.append(_beat(byte, 1, int(n == len(frames[1]) - 1)))
    tx.queue_frame(frames[2])
    await _send(dut, tx, 3 * 80)
    symbols = mac.from_rgmii(pairs)
    ends = [n for n in range(1, len(symbols)) if symbols[n - 1][1] and not symbols[n][1]]
    assert symbols[ends[1] - 1][2], "the underrun's frame does not end on an error symbol"
    sent = mac.tx_frames(symbols)
    assert [good for _body, good in sent] == [True, False, True], sent
    assert sent[1][0][:stall_at] == frames[1][:stall_at]
    assert len(sent[1][0]) == stall_at + 1, "the errored frame did not end at the underrun"
    got = counters(dut, TX_COUNTERS)
    assert got == {"tx_frames": 2, "tx_underruns": 1}, got


@cocotb.test(timeout_time=200, timeout_unit="ms")
async def loopback_tx_to_rx(dut):
    """The tx pins wired to the rx pins: every frame sent comes back padded, and good."""
    seed = cocotb.RANDOM_SEED
    rng = random.Random(f"{seed}:loopback")
    await start(dut)
    before = counters(dut, RX_COUNTERS)
    rx = RxSide(dut, rng)
    # A few idle pairs first, so the rx side never runs dry while tx is sending.
    rx.queue([IDLE_PAIR] * 4)
    tx = TxSide(dut, rx.pairs.append)
    frames = [rng.randbytes(rng.randint(0, 200)) for _ in range(40)]
    for frame in frames:
        tx.queue_frame(frame)
    await _send(dut, tx, sum(max(1, len(f)) for f in frames))
    check_frames(rx.frames, [RxFrame(mac.padded_frame(f), None) for f in frames])
    after = counters(dut, RX_COUNTERS)
    assert after["rx_ok"] - before["rx_ok"] == len(frames)
    assert after["rx_frames"] - before["rx_frames"] == len(frames)
    assert counters(dut, TX_COUNTERS)["tx_frames"] == len(frames)
