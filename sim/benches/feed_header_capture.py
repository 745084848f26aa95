"""Bench: FeedHeaderCapture against the host's reference decoder, host.wire.decode_packet_header.

Random packets (many of them runts) go in with random idle cycles; headers come out under
random backpressure and are checked, in order, against the decoder's view of each packet.
"""

import random
from collections import deque

import cocotb
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.triggers import ClockCycles, RisingEdge

from hdl.beat import beat_layout
from hdl.layouts import PacketHeader
from host.wire import Truncated, decode_packet_header
from sim.benches.streams import StreamDriver, StreamMonitor, pack, unpack

BEAT = beat_layout(1)
CLOCK_NS = 10
MAX_PACKET_BYTES = 80  # covers runts (< 24 bytes) and several body lengths after the header
PACKETS = 2000


def packet_beats(packet: bytes, rng: random.Random, null_chance: float = 0.05) -> list[int]:
    """Beats carrying `packet`, with some beats that carry no byte (keep low) mixed in."""
    beats = []
    for index, byte in enumerate(packet):
        if rng.random() < null_chance:
            beats.append(pack(BEAT, data=rng.getrandbits(8), keep=0, last=0))
        beats.append(pack(BEAT, data=byte, keep=1, last=int(index == len(packet) - 1)))
    if not packet:
        # An empty packet is a lone beat with no byte in it.
        beats.append(pack(BEAT, data=rng.getrandbits(8), keep=0, last=1))
    return beats


class HeaderScoreboard:
    """Expected headers, in order, as the reference decoder reads the packets sent."""

    def __init__(self):
        self.expected = deque()
        self.headers = 0
        self.runts = 0
        self.matched = 0

    def packet_sent(self, packet: bytes) -> None:
        try:
            self.expected.append(decode_packet_header(packet)._asdict())
            self.headers += 1
        except Truncated:
            self.runts += 1

    def header_received(self, bits: int) -> None:
        got = unpack(PacketHeader, bits)
        where = f"header #{self.matched} at {get_sim_time('ns')} ns"
        assert self.expected, f"{where} was not expected: {got}"
        want = self.expected.popleft()
        assert got == want, f"{where}: got {got}, want {want}"
        self.matched += 1


async def start(dut) -> None:
    Clock(dut.clk, CLOCK_NS, unit="ns").start()
    dut.rst.value = 1
    await ClockCycles(dut.clk, 3)
    dut.rst.value = 0


async def drain(dut, scoreboard: HeaderScoreboard, driver: StreamDriver) -> None:
    await driver.wait_idle()
    # The header of the final packet may still be waiting for the consumer.
    for _ in range(100):
        if not scoreboard.expected:
            break
        await RisingEdge(dut.clk)
    assert not scoreboard.expected, f"{len(scoreboard.expected)} headers never came out"
    await ClockCycles(dut.clk, 2)
    assert dut.packets.value.to_unsigned() == scoreboard.headers, "packets counter"
    assert dut.runts.value.to_unsigned() == scoreboard.runts, "runts counter"


@cocotb.test(timeout_time=50, timeout_unit="ms")
async def headers_match_reference_decoder(dut):
    # Separate generators so that changing the handshake pattern keeps the same packets.
    seed = cocotb.RANDOM_SEED
    packets_rng = random.Random(f"{seed}:packets")
    await start(dut)
    scoreboard = HeaderScoreboard()
    driver = StreamDriver(dut, "i", dut.clk, random.Random(f"{seed}:i"), valid_chance=0.8)
    StreamMonitor(
        dut, "o", dut.clk, random.Random(f"{seed}:o"), scoreboard.header_received,
        ready_chance=0.5,
    )
    for _ in range(PACKETS):
        packet = packets_rng.randbytes(packets_rng.randint(0, MAX_PACKET_BYTES))
        scoreboard.packet_sent(packet)
        for beat in packet_beats(packet, packets_rng):
            driver.send(beat)
    await drain(dut, scoreboard, driver)
    dut._log.info("%d headers, %d runts", scoreboard.headers, scoreboard.runts)


@cocotb.test(timeout_time=5, timeout_unit="ms")
async def takes_a_byte_every_cycle_without_backpressure(dut):
    # A header leaving the output register must not cost an input cycle.
    rng = random.Random(cocotb.RANDOM_SEED)
    await start(dut)
    scoreboard = HeaderScoreboard()
    driver = StreamDriver(dut, "i", dut.clk, rng)
    StreamMonitor(dut, "o", dut.clk, rng, scoreboard.header_received)
    beats = 0
    for _ in range(200):
        packet = rng.randbytes(rng.randint(0, MAX_PACKET_BYTES))
        scoreboard.packet_sent(packet)
        for beat in packet_beats(packet, rng):
            driver.send(beat)
            beats += 1
    started_ns = get_sim_time("ns")
    await driver.wait_idle()
    cycles = int(get_sim_time("ns") - started_ns) // CLOCK_NS
    assert cycles <= beats + 1, f"{beats} beats took {cycles} cycles"
    await drain(dut, scoreboard, driver)
