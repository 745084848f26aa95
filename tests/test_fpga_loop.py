"""The simulated FPGA (sim/fpga_loop.py) in the loop: the real Verilated design in its own
process, its control link a real pty opened with pyserial, the colo feed and the order
intents real UDP datagrams on loopback.

1. Scoreboard: rules, limits and the filter written and the switch armed over the pty;
   random consistent feed packets, some malformed, sent as datagrams; every intent datagram
   equals host.model's (sim/system_scenario.SystemModel) but for trigger_time, and so do the
   counters, the switch's status and the top of book, read back over the link.
2. The link cut (pause_link): the host's heartbeat cannot get through, the design's watchdog
   trips its kill switch, and intents stop passing.
3. kill(): the process group is gone and the next register access raises an FpgaError.
"""

from __future__ import annotations

import os
import random
import socket
import time

import pytest

from host.fpga.errors import FpgaError, LinkLost, LinkTimeout
from host.fpga.interface import FpgaInterface, Limits, open_fpga
from host.fpga.pipeline_registers import read_counters, read_top, set_filter, write_rule
from host.fpga.serial_backend import SerialBackend
from host.model.kill_switch import TripReason
from host.model.trigger import Rule, RuleKind
from host.wire import PACKET_HEADER_SIZE, OrderIntent, decode_order_intent
from sim.book_stream import BookStream
from sim.fpga_loop import FeedAddress, SimulatedFpga
from sim.loop_shared import MAX_DATAGRAM, datagram_frame, ip_int
from sim.system_scenario import SystemModel, with_limits

HOST = "127.0.0.1"
COID_BASE = 0x7200_0000_0000
MARKETS = 4  # paired: 1 shadows 0 and 3 shadows 2, all on one tick grid
LIMITS = Limits(heartbeat_timeout=0, rate_tokens=0, rate_window=0, max_qty=50,
                max_notional=10**12, collar_bp=500, max_rejects=0, max_position=10**6)
RULES = [(0, Rule(RuleKind.ARBITRAGE, target=1, threshold_bp=0, qty=3)),
         (2, Rule(RuleKind.ARBITRAGE, target=3, threshold_bp=0, qty=1)),
         (1, Rule(RuleKind.LIMIT, buy_below=100_004, sell_above=99_996, qty=4)),
         (3, Rule(RuleKind.LIMIT, buy_below=101_004, sell_above=100_996, qty=2))]
SETTLE_S = 120  # the most a test waits for the design to take what it was sent


class Loop:
    """One simulated FPGA with its host: the driver on the pty, the feed sender, the intents
    receiver, and the model the gateware must agree with."""

    def __init__(self, sim: SimulatedFpga, fpga: FpgaInterface, intents: socket.socket,
                 seed: int):
        self.sim, self.fpga, self.intents = sim, fpga, intents
        self.seed = seed
        self.rng = random.Random(seed)
        self.stream = BookStream(markets=MARKETS, seed=seed, faults=True, paired=True)
        self.sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sender.bind((HOST, 0))
        self.dst = (sim.feed.dst_ip, sim.feed.port)
        self.model = SystemModel(dst_ip=ip_int(self.dst[0]), dst_port=self.dst[1],
                                 client_order_id_base=COID_BASE)

    def payloads(self, count: int) -> list[bytes]:
        """Consistent packets, with lost and duplicated ones (the stream's faults), and
        truncated ones, unknown templates, garbage, empty and oversized datagrams."""
        rng, out = self.rng, []
        for payload in self.stream.packets(count, max_messages=4):
            roll = rng.random()
            if roll < 0.05:
                payload = payload[:rng.randrange(len(payload))]
            elif roll < 0.08:
                at = PACKET_HEADER_SIZE + 2
                payload = payload[:at] + bytes([rng.choice((0, 6, 63, 255))]) + payload[at + 1:]
            out.append(payload)
            if rng.random() < 0.05:
                out.append(rng.randbytes(rng.randint(0, 60)))
        out.insert(rng.randrange(len(out)), bytes(MAX_DATAGRAM + 1))  # no frame holds it
        return out

    def send(self, payloads: list[bytes]) -> list[OrderIntent]:
        """Send the datagrams to the feed address; return the intents the model says pass."""
        src = self.sender.getsockname()
        want = []
        for payload in payloads:
            if len(payload) <= MAX_DATAGRAM:
                want += self.model.frames([datagram_frame(payload, src=src, dst=self.dst)])
            self.sender.sendto(payload, (HOST, self.sim.feed.port))
            time.sleep(0.002)  # a feed's pace, not a burst into the socket buffer
        return want

    def settle(self) -> dict[str, int]:
        """Wait until the gateware's counters equal the model's (it has taken every frame)."""
        deadline = time.monotonic() + SETTLE_S
        want = self.model.counters()
        while True:
            got = read_counters(self.fpga)
            if got == want or time.monotonic() > deadline:
                assert got == want, f"counters: gateware {got}, model {want}"
                return got
            time.sleep(0.2)

    def received(self, count: int) -> list[OrderIntent]:
        """The intent datagrams received: `count` of them (or fewer at the deadline), then
        whatever else arrives shortly after."""
        out: list[OrderIntent] = []
        deadline = time.monotonic() + 10
        while True:
            wait = deadline - time.monotonic() if len(out) < count else 0.3
            if wait <= 0:
                return out
            self.intents.settimeout(wait)
            try:
                out.append(decode_order_intent(self.intents.recv(256)))
            except TimeoutError:
                return out

    def check_state(self) -> None:
        status, want = self.fpga.status(), self.model.status()
        got = {name: getattr(status, name) for name in want}
        assert got == want, f"kill switch: gateware {got}, model {want}"
        for market in range(MARKETS):
            top = read_top(self.fpga, market)
            assert top == self.model.top(market), f"top of market {market}: gateware {top}, " \
                                                  f"model {self.model.top(market)}"


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    intents = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    intents.bind((HOST, 0))
    sim = SimulatedFpga(tmp_path_factory.mktemp("fpga_loop"), FeedAddress(HOST, 0),
                        intents.getsockname(), wall_limit_s=600)
    with sim:
        backend = SerialBackend(sim.pty_path, timeout=1.0, retries=1, clock_hz=sim.clock_hz)
        fpga = FpgaInterface(backend)
        yield Loop(sim, fpga, intents, seed=int(os.environ.get("TICKWIRE_SEED", "0"), 0)
                   or random.randrange(2**31))
        fpga.close()
    intents.close()


def configure(loop: Loop, limits: Limits) -> None:
    fpga, model = loop.fpga, loop.model
    set_filter(fpga, ip_int(loop.dst[0]), loop.dst[1])
    fpga.write("trigger_client_order_id_base", COID_BASE)
    for market, rule in RULES:
        write_rule(fpga, market, rule)
        model.write_rule(market, rule)
    fpga.configure(limits)
    model.configure(limits)
    nonce = loop.rng.getrandbits(32)
    fpga.arm(nonce)
    assert model.arm(nonce)
    fpga.heartbeat()
    model.alive = True


def test_intents_through_the_loop_equal_the_model(loop):
    print(f"seed {loop.seed}, clock {loop.sim.clock_hz:g} Hz")
    configure(loop, with_limits(LIMITS, heartbeat_timeout=int(60 * loop.sim.clock_hz)))
    want = loop.send(loop.payloads(70))
    loop.settle()
    got = loop.received(len(want))
    assert len(want) >= 3, f"too tame: the model expects {len(want)} intents"
    assert [g._replace(trigger_time=0) for g in got] == want
    loop.check_state()
    counters = loop.model.counters()
    print(f"{len(want)} intents of {loop.model.intents}; counters {counters}")


def test_a_cut_link_starves_the_watchdog_and_orders_stop(loop):
    watchdog = int(0.5 * loop.sim.clock_hz)
    configure(loop, with_limits(LIMITS, heartbeat_timeout=watchdog))
    loop.sim.pause_link()
    with pytest.raises(LinkTimeout):
        loop.fpga.heartbeat()  # lost on the cut link: the host sees a typed error
    loop.sim.resume_link()
    loop.fpga.backend.reset()
    deadline = time.monotonic() + SETTLE_S
    while not (status := loop.fpga.status()).reasons:
        assert time.monotonic() < deadline, "the watchdog never tripped"
        time.sleep(0.1)
    assert status.reason_bits == TripReason.WATCHDOG and not status.armed
    loop.model.starve()
    dropped, intents = status.dropped_pipeline, loop.model.intents
    for _ in range(5):  # until the trigger has made intents for the switch to drop
        assert loop.send(loop.payloads(20)) == []
        if loop.model.intents > intents:
            break
    loop.settle()
    assert loop.received(0) == [], "an intent passed the tripped switch"
    assert loop.fpga.status().dropped_pipeline > dropped
    loop.check_state()


def test_killed_simulation_raises_a_typed_error(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as intents:
        intents.bind((HOST, 0))
        fpga = open_fpga("sim", work_dir=tmp_path, feed=FeedAddress(HOST, 0),
                         intents_to=intents.getsockname(), timeout=1.0, retries=1)
        sim = fpga.backend.simulation
        try:
            assert fpga.name == "sim" and fpga.has_fpga and fpga.clock_hz == sim.clock_hz
            assert fpga.read("id_build") != 0
            sim.kill()
            deadline = time.monotonic() + 10
            while sim.alive():
                assert time.monotonic() < deadline, "the process group outlived SIGKILL"
                time.sleep(0.05)
            started = time.monotonic()
            with pytest.raises(FpgaError) as raised:
                fpga.read("id_build")
            print(f"{type(raised.value).__name__} after {time.monotonic() - started:.3f} s")
            assert isinstance(raised.value, LinkLost | LinkTimeout)
        finally:
            fpga.close()
