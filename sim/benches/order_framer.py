"""Bench: OrderFramer against host.wire.build_frame, the reference every frame is built by.

Random intents (every bit random) go in with random gaps, under random backpressure on the
byte stream; the addresses and ports change between bursts. Each frame that comes out must be
byte for byte the reference's frame for the next intent, `last` on its final byte only. The
first byte of a frame must be offered the cycle after its intent is first offered, when the
framer is idle, and the intent is taken in the cycle its last byte is loaded, not before: the
framer reads every byte from the held intent.
"""

import random
from collections import deque

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge

from hdl.beat import beat_layout
from hdl.layouts import OrderIntent
from host.wire import ORDER_INTENT, build_frame
from sim.benches.streams import StreamDriver, StreamMonitor, unpack

BEAT = beat_layout(1)
INTENT_BITS = 8 * ORDER_INTENT.size
BURSTS = 12
INTENTS_PER_BURST = 10


def random_config(rng: random.Random) -> dict[str, int]:
    return dict(dst_mac=rng.getrandbits(48), src_mac=rng.getrandbits(48),
                src_ip=rng.getrandbits(32), dst_ip=rng.getrandbits(32),
                src_port=rng.getrandbits(16), dst_port=rng.getrandbits(16))


def reference(intent_bits: int, config: dict[str, int]) -> bytes:
    payload = intent_bits.to_bytes(ORDER_INTENT.size, "little")
    return build_frame(payload, identification=0, with_udp_checksum=False, **config)


class FrameScoreboard:
    def __init__(self):
        self.expected: deque[bytes] = deque()
        self.current = bytearray()
        self.frames = 0

    def byte(self, bits: int) -> None:
        beat = unpack(BEAT, bits)
        assert beat["keep"] == 1, f"a beat with keep {beat['keep']}"
        self.current.append(beat["data"])
        assert self.expected, f"byte {len(self.current)} of a frame nobody sent"
        want = self.expected[0]
        n = len(self.current)
        assert n <= len(want), f"frame {self.frames} runs past {len(want)} bytes"
        assert bool(beat["last"]) == (n == len(want)), f"frame {self.frames}: last at byte {n}"
        if beat["last"]:
            assert bytes(self.current) == want, (
                f"frame {self.frames}:\n got {self.current.hex()}\nwant {want.hex()}")
            self.expected.popleft()
            self.current = bytearray()
            self.frames += 1


@cocotb.test()
async def frames_match_the_reference(dut):
    rng = random.Random(cocotb.RANDOM_SEED)
    cocotb.start_soon(Clock(dut.clk, 8, unit="ns").start())
    dut.rst.value = 1
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0
    board = FrameScoreboard()
    driver = StreamDriver(dut, "i", dut.clk, rng, valid_chance=0.5)
    StreamMonitor(dut, "o", dut.clk, rng, board.byte, ready_chance=0.8)
    for _ in range(BURSTS):
        config = random_config(rng)
        for name, value in config.items():
            getattr(dut, name).value = value
        await ClockCycles(dut.clk, 3)  # the checksum takes two cycles to follow the addresses
        for _ in range(INTENTS_PER_BURST):
            bits = rng.getrandbits(INTENT_BITS)
            board.expected.append(reference(bits, config))
            driver.send(bits)
        await driver.wait_idle()
        while board.expected:
            await RisingEdge(dut.clk)
    assert board.frames == BURSTS * INTENTS_PER_BURST
    assert len(reference(0, random_config(rng))) == 90


@cocotb.test()
async def first_byte_follows_the_intent_by_one_cycle(dut):
    rng = random.Random(cocotb.RANDOM_SEED)
    cocotb.start_soon(Clock(dut.clk, 8, unit="ns").start())
    dut.rst.value = 1
    dut.i__valid.value = 0
    dut.o__ready.value = 1
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0
    for name, value in random_config(rng).items():
        getattr(dut, name).value = value
    await ClockCycles(dut.clk, 3)
    for _ in range(5):
        await FallingEdge(dut.clk)
        dut.i__payload.value = rng.getrandbits(INTENT_BITS)
        dut.i__valid.value = 1
        await ReadOnly()
        assert dut.o__valid.value == 0 and dut.i__ready.value == 0
        taken_with = []  # the byte on `o` in each cycle the intent was taken
        for shown in range(1, 91):
            await FallingEdge(dut.clk)
            if taken_with:
                dut.i__valid.value = 0
            await ReadOnly()
            assert dut.o__valid.value == 1, f"byte {shown} is not out the cycle it was due"
            beat = unpack(BEAT, dut.o__payload.value.to_unsigned())
            assert beat["last"] == (shown == 90), f"`last` is {beat['last']} on byte {shown}"
            if dut.i__ready.value:
                taken_with.append(shown)
        assert taken_with == [89], f"taken with bytes {taken_with} out, not as the last loads"
        await FallingEdge(dut.clk)
        dut.i__valid.value = 0
        await ReadOnly()
        assert dut.o__valid.value == 0
    assert OrderIntent  # the layout the payload bits follow
