"""Bench: control_top's link, over its UART pins, scoreboarded against host.fpga's board model.

Every response the design sends is compared with what the model (host/fpga/engine_model.py
and bank_model.py) answers to the same bytes: random reads, writes and batch reads; single
corrupted frames of every kind; a flood of garbage and corrupted writes, after which every
register must still hold what the model says (a corrupted write is never executed).
"""

import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.triggers import ClockCycles, Event, Timer, with_timeout

from host.fpga import protocol as p
from host.fpga.board_model import BoardModel, response_matches
from host.fpga.registers import REGISTERS
from host.fpga.regmap import Access
from sim.benches.uart import UartPinDriver, UartPinMonitor
from sim.control_design import BIT_NS, BUILD_ID, CLOCK_NS

# Values the kill switch drives: the link bench does not model them (its own bench does).
KILL_SWITCH_STATUS = ("ks_state", "ks_reasons", "ks_trip_time", "ks_cycle", "ks_passed",
                      "ks_dropped_pipeline", "ks_dropped_host", "ks_arm_failures")
LINK_COUNTERS = ("link_requests", "link_errors", "link_dropped", "link_uart_errors",
                 "link_replays")
QUIET_BITS = 40  # after the last response: long enough to see another one begin
RESPONSE_TIMEOUT_US = 400
WRITABLE = [w for w in REGISTERS.words if w.value.access is not Access.RO]
READ_ONLY = [w for w in REGISTERS.words if w.value.access is Access.RO]
RW_VALUES = [v for v in REGISTERS.values if v.access is Access.RW]


class Link:
    """The host end of the UART: sends bytes, collects decoded responses."""

    def __init__(self, dut):
        self.driver = UartPinDriver(dut.rx, BIT_NS)
        self.deframer = p.Deframer()
        self.responses: list[p.Response] = []
        self.arrived = Event()
        self.monitor = UartPinMonitor(dut.tx, BIT_NS, self._on_byte)

    def _on_byte(self, byte: int) -> None:
        for frame in self.deframer.feed(bytes([byte])):
            # The board must only ever send well-formed frames: unframe raises otherwise.
            self.responses.append(p.decode_response(p.unframe(frame)))
            self.arrived.set()

    async def exchange(self, data: bytes, expected: int, *, bad_stop=()) -> list[p.Response]:
        """Send `data`, wait for `expected` responses and a quiet line; return all received."""
        self.driver.send(data, bad_stop=bad_stop)
        await self.driver.wait_idle()
        while len(self.responses) < expected:
            self.arrived.clear()
            await with_timeout(self.arrived.wait(), RESPONSE_TIMEOUT_US, "us")
        await Timer(QUIET_BITS * BIT_NS, unit="ns")
        assert self.deframer.pending == 0, "a response was still being sent after the quiet time"
        got, self.responses = self.responses, []
        return got


class Scoreboard:
    def __init__(self, link: Link, model: BoardModel):
        self.link = link
        self.model = model
        self.checked = 0

    async def check(self, data: bytes, *, bad_stop_at: int | None = None) -> list[p.Response]:
        """Send `data`; the responses must be exactly the model's for the same bytes."""
        if bad_stop_at is None:
            want = self.model.feed(data)
            got = await self.link.exchange(data, len(want))
        else:
            # The design drops a byte with a bad stop bit and refuses the frame it was in.
            want = self.model.feed(data[:bad_stop_at])
            self.model.engine.uart_error()
            want += self.model.feed(data[bad_stop_at + 1:])
            got = await self.link.exchange(data, len(want), bad_stop=[bad_stop_at])
        assert len(got) == len(want), f"{len(got)} responses, the model gives {len(want)}: " \
                                      f"got {got}, want {want}"
        for g, w in zip(got, want, strict=True):
            assert response_matches(g, w), f"response {g} differs from the model's {w}"
        self.checked += len(got)
        return got

    async def request(self, seq: int, request: p.Request) -> p.Response:
        (got,) = await self.check(p.encode_request(seq, request))
        return got


async def start(dut, unknown=KILL_SWITCH_STATUS) -> Scoreboard:
    Clock(dut.clk, CLOCK_NS, unit="ns", impl="gpi").start()
    dut.rx.value = 1  # an idle line: low would be a start bit
    dut.kill_pin.value = 0
    dut.book__valid.value = 0
    dut.pipeline__valid.value = 0
    dut.orders__ready.value = 1
    dut.rst.value = 1
    await ClockCycles(dut.clk, 3)
    dut.rst.value = 0
    await ClockCycles(dut.clk, 3)
    return Scoreboard(Link(dut), BoardModel(BUILD_ID, unknown=unknown))


def bad_address(rng: random.Random) -> int:
    while True:
        address = rng.getrandbits(16)
        if address not in REGISTERS.at:
            return address


def random_request(rng: random.Random) -> p.Request:
    roll = rng.random()
    if roll < 0.3:
        return p.Read(rng.choice(REGISTERS.words).address)
    if roll < 0.65:
        return p.Write(rng.choice(WRITABLE).address, rng.getrandbits(32))
    if roll < 0.9:
        addresses = [rng.choice(REGISTERS.words).address
                     for _ in range(rng.randint(1, p.MAX_BATCH))]
        if rng.random() < 0.1:
            addresses[rng.randrange(len(addresses))] = bad_address(rng)
        return p.BatchRead(tuple(addresses))
    if roll < 0.95:
        return p.Write(rng.choice(READ_ONLY).address, rng.getrandbits(32))
    return rng.choice([p.Read(bad_address(rng)), p.Write(bad_address(rng), 1), p.Sync()])


@cocotb.test(timeout_time=200, timeout_unit="ms")
async def random_requests_match_the_model(dut):
    rng = random.Random(f"{cocotb.RANDOM_SEED}:random")
    board = await start(dut)
    seq = rng.getrandbits(8)
    previous = None
    for _ in range(120):
        if previous is not None and rng.random() < 0.08:
            request = previous  # a retry: same seq, answered from the saved response
        else:
            seq = (seq + 1) & 0xFF
            request = random_request(rng)
        await board.request(seq, request)
        previous = request
    dut._log.info("%d responses matched the model", board.checked)


def corrupt(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    """One corruption of a framed request (which starts and ends with a delimiter)."""
    body = bytearray(data[1:-1])
    kind = rng.choice(["flip", "flip", "truncate", "drop", "insert", "garbage", "crc"])
    if kind == "flip":
        # Distinct bits: two flips of one bit would give back the good frame.
        for bit in rng.sample(range(8 * len(body)), rng.randint(1, 3)):
            body[bit // 8] ^= 1 << (bit % 8)
    elif kind == "truncate":
        # Cut inside the body: without its last byte the final COBS block is short.
        return kind, bytes(data[:rng.randint(1, len(data) - 2)])
    elif kind == "drop":
        del body[rng.randrange(len(body))]
    elif kind == "insert":
        body.insert(rng.randrange(len(body) + 1), rng.randrange(1, 256))
    elif kind == "garbage":
        body = bytearray(rng.randbytes(rng.randint(1, 40)))
    else:  # a valid COBS frame with a wrong CRC
        payload = p.cobs_decode(bytes(body))
        payload = payload[:-2] + bytes([payload[-2] ^ 0x5A, payload[-1]])
        body = bytearray(p.cobs_encode(payload))
    return kind, b"\x00" + bytes(body) + b"\x00"


def malformed_valid_frames(rng: random.Random, seq: int) -> list[bytes]:
    """Frames with a good CRC that are not valid requests: lengths and ops."""
    writable = rng.choice(WRITABLE).address
    bodies = [
        bytes([seq]),  # no op
        bytes([seq, p.Op.READ, 1]),  # short address
        bytes([seq, p.Op.WRITE]) + writable.to_bytes(2, "little") + b"\x01\x02\x03",
        bytes([seq, p.Op.BATCH_READ]),  # no address
        bytes([seq, p.Op.BATCH_READ]) + b"\x01" * (2 * p.MAX_BATCH + 2),  # too many
        bytes([seq, p.Op.SYNC, 0]),
        bytes([seq, rng.randrange(4, 256)]),  # unknown op
        bytes([seq]) + rng.randbytes(p.MAX_REQUEST + rng.randint(1, 80)),  # too long
        b"",  # a CRC and nothing else
    ]
    return [b"\x00" + p.frame(body) for body in bodies]


@cocotb.test(timeout_time=200, timeout_unit="ms")
async def every_corrupted_frame_gets_the_models_answer(dut):
    rng = random.Random(f"{cocotb.RANDOM_SEED}:corrupt")
    board = await start(dut)
    seq = 0
    for _ in range(90):
        seq = (seq + 1) & 0xFF
        address = rng.choice(WRITABLE).address
        framed = p.encode_request(seq, p.Write(address, rng.getrandbits(32)))
        kind, damaged = corrupt(rng, framed)
        await board.check(damaged)
        if kind == "truncate":
            await board.check(b"\x00")  # ends the cut-off frame, as the driver's next request
        # The link still works: a good request gets its OK.
        seq = (seq + 1) & 0xFF
        await board.request(seq, p.Read(address))
    for frame in malformed_valid_frames(rng, seq):
        await board.check(frame)
    # A byte with a bad stop bit refuses its frame; the next request goes through.
    framed = p.encode_request(seq + 1, p.Write(REGISTERS.word["scratch"].address, 0xBAD))
    await board.check(framed, bad_stop_at=rng.randrange(1, len(framed) - 1))
    await board.request(seq + 2, p.Read(REGISTERS.word["scratch"].address))
    # A break (line held low) counts one UART error; the next request's delimiter clears it.
    await board.link.driver.hold_low(40)
    board.model.engine.uart_error()
    await board.request(seq + 3, p.Read(REGISTERS.word["link_uart_errors"].address))


@cocotb.test(timeout_time=400, timeout_unit="ms")
async def a_flood_executes_no_corrupted_write_and_the_link_recovers(dut):
    rng = random.Random(f"{cocotb.RANDOM_SEED}:flood")
    # During the flood frames are dropped (the design is busy answering): counters drift.
    board = await start(dut, unknown=KILL_SWITCH_STATUS + LINK_COUNTERS)
    seq = 0
    for v in RW_VALUES:  # give every RW value (and every staged low half) a known value
        for word in REGISTERS.words_of(v.name):
            seq += 1
            await board.request(seq, p.Write(word.address, rng.getrandbits(32)))
    flood = bytearray()
    while len(flood) < 4000:
        roll = rng.random()
        if roll < 0.4:
            flood += rng.randbytes(rng.randint(1, 60))
        elif roll < 0.6:
            # Tiny frames end faster than their error responses go out: some are dropped.
            for _ in range(rng.randint(5, 30)):
                flood += rng.randbytes(rng.randint(1, 3)).replace(b"\x00", b"\x01") + b"\x00"
        else:
            seq = (seq + 1) & 0xFF
            word = rng.choice(WRITABLE)
            flood += corrupt(rng, p.encode_request(seq, p.Write(word.address,
                                                                rng.getrandbits(32))))[1]
    board.link.driver.send(bytes(flood) + b"\x00")
    await board.link.driver.wait_idle()
    await Timer(QUIET_BITS * BIT_NS * 8, unit="ns")
    answers = board.link.responses
    board.link.responses = []
    assert answers, "the flood got no error responses at all"
    executed = [r for r in answers if r.ok]
    assert not executed, f"frames in the flood were executed: {executed}"
    dut._log.info("flood of %d bytes: %d error responses", len(flood), len(answers))

    # Recovered: the next requests are answered, and nothing the flood carried was written.
    seq = (seq + 1) & 0xFF
    await board.request(seq, p.Sync())
    for v in RW_VALUES:
        seq = (seq + 1) & 0xFF
        await board.request(seq, p.BatchRead(tuple(REGISTERS.addresses([v.name]))))
    # Staged low halves survived too: a lone _hi write commits the low half staged before.
    for v in RW_VALUES:
        if v.words == 2:
            lo, hi = REGISTERS.words_of(v.name)
            seq = (seq + 1) & 0xFF
            await board.request(seq, p.Write(hi.address, rng.getrandbits(32)))
            seq = (seq + 1) & 0xFF
            await board.request(seq, p.BatchRead((lo.address, hi.address)))
    seq = (seq + 1) & 0xFF
    (dropped,) = (await board.request(seq, p.Read(REGISTERS.word["link_dropped"].address))).words
    assert dropped > 0, "the flood never made the design drop a frame: the busy path is untested"
    dut._log.info("frames dropped during the flood: %d", dropped)


@cocotb.test(timeout_time=50, timeout_unit="ms")
async def round_trip_figures(dut):
    """Logs round trips in cycles; writes them as JSON to $TICKWIRE_FIGURES_FILE if set."""
    board = await start(dut)
    link = board.link
    scratch = REGISTERS.word["scratch"].address
    figures = {}
    for seq, request in enumerate([p.Read(scratch), p.BatchRead(tuple([scratch] * 32))]):
        data = p.encode_request(seq + 1, request)
        began = get_sim_time("ns")
        link.driver.send(data)
        await link.driver.wait_idle()
        sent = get_sim_time("ns")
        while not link.responses:
            link.arrived.clear()
            await with_timeout(link.arrived.wait(), RESPONSE_TIMEOUT_US, "us")
        done = get_sim_time("ns")
        link.responses.clear()
        response_bytes = len(p.frame(p.Response(seq + 1, p.Status.OK,
                                                (0,) * request.words).payload()))
        turnaround = done - sent - response_bytes * 10 * BIT_NS
        dut._log.info(
            "FIGURE %s: %d request bytes, %d response bytes, round trip %d cycles "
            "(%d bit times); request end to response start %d cycles",
            type(request).__name__, len(data), response_bytes,
            (done - began) // CLOCK_NS, (done - began) // BIT_NS, turnaround // CLOCK_NS)
        figures[type(request).__name__] = {
            "request_bytes": len(data), "response_bytes": response_bytes,
            "round_trip_cycles": int(done - began) // CLOCK_NS,
            "round_trip_bit_times": int(done - began) // BIT_NS,
            "turnaround_cycles": int(turnaround) // CLOCK_NS}
        await Timer(QUIET_BITS * BIT_NS, unit="ns")
    if os.environ.get("TICKWIRE_FIGURES_FILE"):
        with open(os.environ["TICKWIRE_FIGURES_FILE"], "w") as f:
            json.dump(figures, f)
