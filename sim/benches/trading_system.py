"""Bench: the full design (hdl/trading_system.py), driven as a host drives a board.

The host's real driver (host/fpga/interface.py over serial_backend.py, its protocol and
framing) runs in a cocotb bridge thread and talks to the design's UART pins through
PinSerial. It configures the header filter, writes trigger rules and kill-switch limits and
arms the switch with a nonce and its complement (after a refused wrong complement), while
random MDP3 traffic, with lost, duplicated and malformed packets and damaged and foreign
frames, goes in on the Ethernet input. Scoreboard: sim/system_scenario.py's SystemModel.

Phases: armed trading; the kill pin held (every intent dropped); host orders, one passing
and one tripping QTY; new rules and the watchdog on, with the host heartbeating while
trading; the heartbeats stop, the watchdog trips the switch and orders stop. After each,
every order that left the gate, the gateware's counters (read over the link), the switch's
status and the top of book of random markets (read through `tob_*`) must equal the model's.
Wire-to-gated-order latency is measured as in sim/benches/feed_pipeline.py and written,
with other figures, to TICKWIRE_BENCH_REPORT if set.
"""

import json
import os
import random
import statistics
import threading

import cocotb
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.task import bridge
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge, with_timeout

from hdl.beat import beat_layout
from host.fpga.errors import ArmRefused
from host.fpga.interface import FpgaInterface, Limits
from host.fpga.pipeline_registers import read_counters, read_top, set_filter, write_rule
from host.fpga.serial_backend import SerialBackend
from host.model.kill_switch import TripReason
from host.model.trigger import Rule, RuleKind
from host.wire import ORDER_INTENT, OrderIntent
from sim.benches.feed_pipeline import message_ends
from sim.benches.pin_serial import PinSerial
from sim.benches.streams import pack
from sim.frame_mix import ip_header_at
from sim.sample_feed import FEED_PORT, GROUP_IP
from sim.system_build import BIT_NS, BUILD_ID, CLOCK_NS
from sim.system_scenario import FEED_MARKETS, SystemModel, Traffic, random_rules, with_limits

COID_BASE = 0x7100_0000_0000
RULES = 20
PACKETS = int(os.environ.get("TICKWIRE_SYSTEM_PACKETS", "90"))
TOB_SAMPLES = 6
LIMITS = Limits(heartbeat_timeout=0, rate_tokens=0, rate_window=0, max_qty=50,
                max_notional=10**12, collar_bp=500, max_rejects=0, max_position=10**6)
WATCHDOG_CYCLES = 40_000  # several heartbeat-and-poll round trips
DRAIN_CYCLES = 200        # the pipeline is empty this long after its last input
READ_LIMIT_NS = 400_000   # simulated time a driver read waits for its bytes


async def on_host(fn, *args, **kwargs):
    """Run blocking host code in a bridge thread while the simulation goes on."""
    return await bridge(fn)(*args, **kwargs)


def cycle() -> int:
    return int(get_sim_time("ns")) // CLOCK_NS


class Wire:
    """Sends frames on `i`, byte by byte, with random idle cycles; remembers when each feed
    message's last byte was taken, for the latency figure."""

    def __init__(self, dut, rng: random.Random, idle: float = 0.05):
        self.dut, self.rng, self.idle = dut, rng, idle
        self.layout = beat_layout(1)
        self.ends: dict[tuple[int, int], list[int]] = {}

    async def send(self, frames: list[bytes]) -> None:
        dut = self.dut
        for frame in frames:
            at = ip_header_at(frame) + 28 if len(frame) >= 46 else len(frame)
            ends = {offset + at: key for key, offset in message_ends(frame[at:]).items()}
            beats = [pack(self.layout, data=b, keep=1, last=int(k == len(frame) - 1))
                     for k, b in enumerate(frame)] or [pack(self.layout, data=0, keep=0,
                                                            last=1)]
            for k, beat in enumerate(beats):
                while self.rng.random() < self.idle:
                    await FallingEdge(dut.clk)
                    dut.i__valid.value = 0
                await FallingEdge(dut.clk)
                dut.i__payload.value = beat
                dut.i__valid.value = 1
                await ReadOnly()
                while not dut.i__ready.value:
                    await FallingEdge(dut.clk)
                    await ReadOnly()
                if k in ends:
                    self.ends.setdefault(ends[k], []).append(cycle())
        await FallingEdge(dut.clk)
        dut.i__valid.value = 0
        await ClockCycles(dut.clk, DRAIN_CYCLES)


class Orders:
    """Collects what leaves the gate (always ready), waking only while `o.valid` is high."""

    def __init__(self, dut):
        self.dut = dut
        self.got: list[tuple[int, OrderIntent]] = []
        cocotb.start_soon(self._run())

    async def _run(self) -> None:
        valid, payload = self.dut.o__valid, self.dut.o__payload
        while True:
            await RisingEdge(valid)
            while True:
                await FallingEdge(self.dut.clk)
                if not valid.value:
                    break
                bits = payload.value.to_unsigned()
                self.got.append((cycle(), ORDER_INTENT.decode(
                    bits.to_bytes(ORDER_INTENT.size, "little"))))

    def take(self) -> list[tuple[int, OrderIntent]]:
        got, self.got = self.got, []
        return got


def check_orders(got: list[tuple[int, OrderIntent]], want: list[OrderIntent], wire: Wire,
                 latencies: list[int]) -> None:
    assert len(got) == len(want), f"{len(got)} orders left the gate, the model says {len(want)}"
    for n, ((at, g), w) in enumerate(zip(got, want, strict=True)):
        assert g._replace(trigger_time=0) == w, f"order #{n}: gateware {g}, model {w}"
        ins = [c for c in wire.ends.get((w.rule_id, w.tick_seq), ()) if c < at]
        if ins:
            latencies.append(at - max(ins))


async def check_registers(dut, fpga: FpgaInterface, model: SystemModel, rng: random.Random,
                          touched: set[int]) -> None:
    """Counters, switch status and the LED outputs, and the top of book of random markets."""
    counters = await on_host(read_counters, fpga)
    assert counters == model.counters(), f"counters: gateware {counters}, " \
                                         f"model {model.counters()}"
    status, want = await on_host(fpga.status), model.status()
    got = {name: getattr(status, name) for name in want}
    assert got == want, f"kill switch: gateware {got}, model {want}"
    leds = (int(dut.armed.value), int(dut.tripped.value))
    assert leds == (want["armed"], want["reason_bits"] != 0), f"armed, tripped pins: {leds}"
    markets = rng.sample(sorted(touched), min(TOB_SAMPLES, len(touched)))
    markets += [rng.randrange(256) for _ in range(2)]
    for market in markets:
        top = await on_host(read_top, fpga, market)
        assert top == model.top(market), f"tob of market {market}: gateware {top}, " \
                                         f"model {model.top(market)}"


def heartbeat_until(fpga: FpgaInterface, stop: threading.Event) -> list:
    """What the daemon's heartbeat task does: beat and poll; returns any trips seen."""
    trips = []
    while not stop.is_set():
        fpga.heartbeat()
        trip = fpga.poll()[1]
        if trip is not None:
            trips.append(trip)
    return trips


async def start(dut) -> None:
    Clock(dut.clk, CLOCK_NS, unit="ns", impl="gpi").start()
    dut.rx.value = 1
    dut.kill_pin.value = 0
    dut.i__valid.value = 0
    dut.o__ready.value = 1
    dut.rst.value = 1
    await ClockCycles(dut.clk, 3)
    dut.rst.value = 0
    await ClockCycles(dut.clk, 3)


@cocotb.test(timeout_time=2000, timeout_unit="ms")
async def host_configures_trades_kills_and_the_watchdog_stops_orders(dut):
    rng = random.Random(f"{cocotb.RANDOM_SEED}:system")
    await start(dut)
    port = PinSerial(dut.rx, dut.tx, BIT_NS, read_limit_ns=READ_LIMIT_NS)
    backend = await on_host(SerialBackend, "sim:uart", connection=port, timeout=20, retries=1)
    fpga = FpgaInterface(backend)
    assert await on_host(fpga.read, "id_build") == BUILD_ID
    model = SystemModel(dst_ip=GROUP_IP, dst_port=FEED_PORT, client_order_id_base=COID_BASE)
    wire, orders, traffic = Wire(dut, rng), Orders(dut), Traffic(rng)
    latencies: list[int] = []
    touched: set[int] = set()

    async def trade(packets: int) -> list[OrderIntent]:
        frames = traffic.frames(packets)
        want = model.frames(frames)
        touched.update(m for m in range(FEED_MARKETS) if model.top(m).bid_valid)
        await wire.send(frames)
        check_orders(orders.take(), want, wire, latencies)
        return want

    # Configure as a daemon would: filter, rules, order ids, limits; then arm.
    await on_host(set_filter, fpga, GROUP_IP, FEED_PORT)
    await on_host(fpga.write, "trigger_client_order_id_base", COID_BASE)
    rules = random_rules(rng, RULES)
    for market, rule in rules:
        await on_host(write_rule, fpga, market, rule)
        model.write_rule(market, rule)
    await on_host(fpga.configure, LIMITS)
    model.configure(LIMITS)
    assert await on_host(fpga.limits) == LIMITS
    nonce = rng.getrandbits(32)
    try:
        await on_host(fpga.arm_steps, nonce, nonce)  # not the complement
        raise AssertionError("a wrong complement armed the switch")
    except ArmRefused:
        model.arm_steps(nonce, nonce)
    nonce = rng.getrandbits(32)
    await on_host(fpga.arm, nonce)
    assert model.arm(nonce)

    # 1. Armed: intents pass the gate.
    passed = await trade(PACKETS)
    await check_registers(dut, fpga, model, rng, touched)

    # 2. The kill pin: the switch trips, every intent is dropped until the host re-arms.
    dut.kill_pin.value = 1
    await ClockCycles(dut.clk, 4)
    model.kill_pin(True)
    status, trip = await on_host(fpga.poll)
    assert trip is not None and trip.reasons == {"manual"} and status.kill_pin
    assert not await trade(PACKETS // 2)
    await check_registers(dut, fpga, model, rng, touched)
    dut.kill_pin.value = 0
    await ClockCycles(dut.clk, 4)
    model.kill_pin(False)
    nonce = rng.getrandbits(32)
    await on_host(fpga.arm, nonce)
    assert model.arm(nonce)

    # 3. Host orders through the same gate: one in the collar, then one over max_qty.
    market = next(m for m in sorted(touched) if model.top(m).ask_valid)
    order = OrderIntent(flags=0, market_id=market, side=1, rule_id=0xFF, tick_seq=0,
                        price=model.top(market).ask_price, qty=LIMITS.max_qty,
                        client_order_id=rng.getrandbits(64), trigger_time=0)
    for qty, passes in ((LIMITS.max_qty, True), (LIMITS.max_qty + 1, False)):
        order = order._replace(qty=qty, client_order_id=order.client_order_id + 1)
        assert model.host_order(order) == passes
        await on_host(fpga.send_order, market=market, side=order.side, price=order.price,
                      qty=qty, client_id=order.client_order_id)
        await ClockCycles(dut.clk, DRAIN_CYCLES)
        got = [o._replace(trigger_time=0) for _, o in orders.take()]
        assert got == ([order] if passes else []), f"host order: gateware sent {got}"
    status, trip = await on_host(fpga.poll)
    assert trip is not None and trip.reasons == {"qty"}
    await check_registers(dut, fpga, model, rng, touched)

    # 4. New rules, then the watchdog on: trading goes on while the host heartbeats.
    for market, rule in random_rules(rng, RULES // 5) + [(rules[0][0], Rule(RuleKind.NONE))]:
        await on_host(write_rule, fpga, market, rule)
        model.write_rule(market, rule)
    nonce = rng.getrandbits(32)
    await on_host(fpga.arm, nonce)
    assert model.arm(nonce)
    await on_host(fpga.heartbeat)
    await on_host(fpga.write, "ks_heartbeat_timeout", WATCHDOG_CYCLES)
    model.alive = True
    model.configure(with_limits(LIMITS, heartbeat_timeout=WATCHDOG_CYCLES))
    stop = threading.Event()
    beating = cocotb.start_soon(on_host(heartbeat_until, fpga, stop))
    passed += await trade(PACKETS)
    stop.set()
    assert await beating == [], "the switch tripped while the host was heartbeating"

    # 5. The heartbeats stop: the watchdog trips the switch and orders stop.
    await with_timeout(FallingEdge(dut.armed), 2 * WATCHDOG_CYCLES * CLOCK_NS, "ns")
    model.starve()
    status, trip = await on_host(fpga.poll)
    assert trip is not None and trip.reasons == {"watchdog"}
    assert status.reason_bits == TripReason.WATCHDOG
    assert not await trade(PACKETS // 2)
    await check_registers(dut, fpga, model, rng, touched)

    assert backend.stats["retries"] == 0, f"the link needed retries: {backend.stats}"
    dropped = model.intents - len(passed)
    assert len(passed) > 20 and dropped > 5 and latencies, \
        f"too tame: {len(passed)} orders passed, {dropped} dropped"
    report = {"orders_passed": len(passed), "intents_dropped": model.intents - len(passed),
              "link_requests": backend.stats["requests"], "cycles": cycle(),
              "latencies": latencies}
    dut._log.info("%d orders passed, %d intents dropped, %d link requests, %d cycles; "
                  "wire-to-gated-order latency min %d median %s max %d cycles",
                  len(passed), report["intents_dropped"], backend.stats["requests"], cycle(),
                  min(latencies), statistics.median(latencies), max(latencies))
    path = os.environ.get("TICKWIRE_BENCH_REPORT")
    if path:
        with open(path, "w") as f:
            json.dump(report, f)
