"""Bench: the kill switch (hdl/kill_switch.py) against its reference model, host.model.

One coroutine drives every input at the falling edge and samples the outputs in the ReadOnly
phase after it, so a cycle's handshakes are exactly those the next rising edge acts on. Each
input is fed to the model at its model time (the table in hdl/kill_switch.py), and the model's
verdicts are the scoreboard:

- every order on `o` is the next order the model passed, unchanged;
- every cycle, armed, reasons, trip_time, cycle and the four counters equal the model's state
  after the previous model time;
- an order judged without a stall is valid on `o` exactly 2 cycles after it was accepted.

The traffic is random: orders on both inputs (good ones near the book, and each kind of bad
one), book updates, backpressure on `o`, heartbeats with gaps beyond the timeout, kills and
kill-pin pulses, clears with any mask, arm sequences with wrong complements or reasons still
set, acks, rejects, fills, malformed events, and limit changes while all of this flows.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import random
from collections import deque
from dataclasses import dataclass, field, replace

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly

from hdl.book_top import BookTop
from hdl.kill_switch import MODEL_TIME
from hdl.layouts import OrderIntent
from host.model.kill_switch import (
    ALL_REASONS,
    MASK32,
    EventKind,
    InvalidEvent,
    KillSwitch,
    Limits,
    OrderSource,
    TripReason,
)
from sim.benches.streams import pack, unpack

CLOCK_NS = 10
STROBE_LAG, FILL_LAG, PIN_LAG, LIMIT_LAG, BOOK_LAG = (
    MODEL_TIME[name][0] for name in ("strobe", "fill", "kill_pin", "limit", "book"))
ORDER_LAG = MODEL_TIME["order"][0]
# Same-time calls go to the model in the gateware's order.
RANK_LIMITS, RANK_BOOK, RANK_PIN, RANK_ORDER, RANK_EVENT, RANK_FILL = range(6)
MARKETS_USED = 6
# Limits under which most good orders pass, so the checks get exercised while armed.
FRIENDLY = Limits(heartbeat_timeout=600, rate_tokens=35, rate_window=100, max_qty=100,
                  max_notional=100_000_000_000, collar_bp=300, max_rejects=3,
                  max_position=5000)
STATUS = ("armed", "reasons", "trip_time", "cycle", "passed", "dropped_pipeline",
          "dropped_host", "arm_failures", "arm_pending")


def twos(value: int, bits: int) -> int:
    return value & ((1 << bits) - 1)


@dataclass
class Order:
    market_id: int
    side: int
    price: int
    qty: int
    bits: int = 0


@dataclass
class Pending:
    """An order the gate accepted."""

    order: Order
    source: OrderSource
    accepted: int


@dataclass
class Stats:
    seen_reasons: TripReason = TripReason(0)
    trips: dict[str, int] = field(default_factory=dict)  # reasons present at each trip
    arm_failures: dict[str, int] = field(default_factory=dict)  # by cause
    passed: int = 0
    latency: dict[int, int] = field(default_factory=dict)  # accepted to valid on o
    accepted: int = 0


class Scoreboard:
    """Feeds the model in model-time order and checks the DUT against it."""

    def __init__(self):
        self.model = KillSwitch()
        self._calls: list = []
        self._seq = itertools.count()
        self.expected_out: deque[tuple[int, int]] = deque()  # (payload bits, judged cycle)
        self.stats = Stats()
        self.recent: deque = deque(maxlen=4)  # the last orders judged, for failure messages

    def at(self, time: int, rank: int, call) -> None:
        heapq.heappush(self._calls, (time, rank, next(self._seq), call))

    def flush(self, upto: int) -> None:
        while self._calls and self._calls[0][0] <= upto:
            _, _, _, call = heapq.heappop(self._calls)
            call()

    def order(self, pending: Pending, judged: int) -> None:
        def call():
            verdict = self.model.order(pending.order, pending.source, judged + 1)
            self.recent.append((judged + 1, pending.order.market_id, pending.order.side,
                                pending.order.price, pending.order.qty, verdict))
            if verdict.passed:
                self.expected_out.append((pending.order.bits, judged, pending.accepted))
        self.at(judged + 1, RANK_ORDER, call)

    def event(self, kind: int, market: int, side: int, qty: int, when: int) -> None:
        def call():
            # The gateware ignores an invalid event; the status comparison proves that.
            with contextlib.suppress(InvalidEvent):
                self.model.event(kind, market, side, qty, when)
        self.at(when, RANK_FILL if kind == EventKind.FILL else RANK_EVENT, call)


class Traffic:
    """Random inputs, steered by what the switch's status shows."""

    def __init__(self, rng: random.Random, order_rate: float, *, only_good: bool = False):
        self.rng = rng
        self.order_rate = order_rate
        self.only_good = only_good
        self.book_markets = list(range(MARKETS_USED))
        self.provoked_order: float | None = None
        self.good_only_now = False
        self.burst_until = 0
        self.refs: dict[tuple[int, int], int] = {}  # (market, side) -> last price sent
        self.positions = [0] * MARKETS_USED
        self.plan: deque[tuple] = deque()
        self.back_to_back: deque[tuple] = deque()  # strobes for consecutive cycles
        self.next_heartbeat = 1500  # the first one late: the watchdog fires at least once
        self.pin_until = -1
        self.limits = Limits()

    def random_limits(self, timeout: int | None = None) -> Limits:
        r = self.rng
        return Limits(
            heartbeat_timeout=timeout if timeout is not None else r.choice([0, 300, 600, 2000]),
            rate_tokens=r.choice([0, 3, 8, 50, 1000]) if r.random() < 0.9 else r.getrandbits(16),
            rate_window=r.choice([0, 20, 100, 400]) if r.random() < 0.9 else r.getrandbits(32),
            max_qty=r.choice([0, 50, 100, 1 << 31, MASK32]),
            max_notional=r.choice([0, 2_000_000, 100_000_000_000, (1 << 64) - 1,
                                   r.getrandbits(64)]),
            collar_bp=r.choice([0, 10, 300, 3000, 65535]),
            max_rejects=r.choice([0, 1, 3, 10]),
            max_position=r.choice([0, 500, 5000, MASK32]),
        )

    def provoke(self, reason: TripReason, now: int) -> None:
        """Make `reason` trip soon (the switch is armed): random traffic alone may miss one."""
        lim = self.limits
        if reason == TripReason.RATE:
            self.burst_until = now + 400
            self.good_only_now = True  # nothing else may trip first
        elif reason == TripReason.QTY:
            self.provoked_order = 0.05  # the `kind` of a bad-qty order
        elif reason == TripReason.COLLAR:
            self.provoked_order = 0.08
        elif reason == TripReason.NOTIONAL:
            self.provoked_order = 0.11
        elif reason == TripReason.WATCHDOG and lim.heartbeat_timeout:
            self.next_heartbeat = now + 2 * lim.heartbeat_timeout
        elif reason == TripReason.REJECTS and lim.max_rejects:
            self.plan.extend([("event", int(EventKind.REJECT), 0, 1, 0)] * lim.max_rejects)
        elif reason == TripReason.POSITION and lim.max_position < MASK32:
            self.plan.append(("event", int(EventKind.FILL), 0, 1, lim.max_position + 1))
            self.positions[0] += lim.max_position + 1
        elif reason == TripReason.MANUAL:
            self.plan.append(("kill",))

    def friendly(self) -> Limits:
        """FRIENDLY with one limit changed."""
        r = self.rng
        name = r.choice(list(Limits.__dataclass_fields__))
        return replace(FRIENDLY, **{name: getattr(self.random_limits(), name)})

    def order(self, market: int | None = None) -> Order:
        r = self.rng
        market = r.randrange(MARKETS_USED) if market is None else market
        side = r.choice((1, 2))
        ref = self.refs.get((market, side), 1000)
        price = ref + r.randint(-3, 3) * max(1, abs(ref) // 200)
        qty = r.randint(1, 60)
        if self.only_good and r.random() < 0.25:
            qty = r.randint(1, (1 << 31) - 1)  # every quantity that can pass, to its top bit
        kind = 1 if self.only_good or self.good_only_now else r.random() * 4
        if self.provoked_order is not None:
            kind, self.provoked_order = self.provoked_order, None
        if kind < 0.02:
            market = r.choice([256, 300, 0xFFFF])
        elif kind < 0.04:
            side = r.choice([0, 3, 255])
        elif kind < 0.07:
            qty = r.choice([0, -1, -(1 << 40), 1 << 31, 1 << 40, 101, r.getrandbits(31)])
        elif kind < 0.10:
            price = r.choice([1 << 31, -(1 << 31) - 1, 1 << 50, -(1 << 62), ref * 3, -ref])
        elif kind < 0.12:
            price = r.choice([(1 << 31) - 1, -(1 << 31)])
            qty = r.randint(1, 1 << 31)
        # The fields the switch does not judge are random too: they must leave as they came.
        bits = pack(OrderIntent, length=r.getrandbits(16), template_id=r.getrandbits(8),
                    flags=r.getrandbits(8), reserved=r.getrandbits(32),
                    market_id=market, side=side, rule_id=r.getrandbits(8),
                    tick_seq=r.getrandbits(32), price=twos(price, 64), qty=twos(qty, 64),
                    client_order_id=r.getrandbits(64), trigger_time=r.getrandbits(64))
        return Order(market, side, price, qty, bits)

    def book(self) -> tuple[int, int | None, int | None]:
        r = self.rng
        market = r.choice(self.book_markets) if r.random() < 0.95 else r.randrange(256)
        if market < MARKETS_USED and market % 3 == 2:
            base = -5000  # a market quoted in negative prices
        elif market < MARKETS_USED and market % 3 == 1:
            base = 1_500_000_000  # near the top of the 32-bit range
        else:
            base = 1000
        mid = base + r.randint(-20, 20) * max(1, abs(base) // 10000)
        # An empty side drops that side's collar reference, so an order there trips COLLAR:
        # the throughput run (only_good) keeps both sides quoted.
        one_sided = 0.0 if self.only_good else 0.005
        bid = mid - r.randint(1, 5) if r.random() >= one_sided else None
        ask = mid + r.randint(1, 5) if r.random() >= one_sided else None
        for side, price in ((2, bid), (1, ask)):
            if price is not None and market < MARKETS_USED:
                self.refs[(market, side)] = price
        return market, bid, ask

    def strobe(self, now: int, status: dict[str, int]) -> tuple | None:
        """At most one register strobe this cycle: ('name', fields...)."""
        r = self.rng
        if self.back_to_back:
            return self.back_to_back.popleft()
        if self.plan and r.random() < 0.3:
            return self.plan.popleft()
        timeout = self.limits.heartbeat_timeout
        if now >= self.next_heartbeat:
            # The throughput run (only_good) measures the gate, not the watchdog: a late
            # heartbeat there would trip the switch and leave the pass count to chance.
            late = not self.only_good and r.random() < 0.12
            gap = max(1, timeout or 500)
            self.next_heartbeat = now + (r.randint(gap + gap // 2, 3 * gap) if late
                                         else r.randint(1, max(1, gap - 20)))
            return ("heartbeat",)
        if self.only_good:
            if not status["armed"] and not self.plan:
                self._plan_rearm(status)
            return None
        if not status["armed"] and not self.plan and r.random() < 0.05:
            if status["arm_pending"]:
                self.plan.append(("arm", r.getrandbits(32)))  # end a half-done sequence
            self._plan_rearm(status)
        roll = r.random()
        if roll < 0.006:
            return ("event", int(r.choice([EventKind.ACK, EventKind.REJECT])), 0, 1, 0)
        if roll < 0.0015 and not self.only_good:
            # Fills in consecutive cycles to one market that cross the limit only together:
            # the position table must forward each fill to the next.
            market, side = r.randrange(MARKETS_USED), r.choice((1, 2))
            step = min(self.limits.max_position // 2 + 1, MASK32)
            count = r.randint(2, 4)
            self.back_to_back.extend([("event", int(EventKind.FILL), market, side, step)]
                                     * count)
            self.positions[market] += count * step * (1 if side == 1 else -1)
            return None
        if roll < 0.0062:  # a run of rejects, as a venue outage would cause
            self.plan.extend([("event", int(EventKind.REJECT), 0, 1, 0)] * r.randint(2, 5))
            return None
        if roll < 0.010:
            return self._fill()
        if roll < 0.0106:
            return ("event", r.choice([0, 4, 7, 255]), r.getrandbits(8), r.getrandbits(8),
                    r.getrandbits(32))
        if roll < 0.0112:
            return ("kill",)
        if roll < 0.0118:
            return ("clear", r.getrandbits(9))
        if roll < 0.0122:
            return ("arm", r.getrandbits(32))
        return None

    def _fill(self, market: int | None = None) -> tuple:
        r = self.rng
        market = r.randrange(MARKETS_USED) if market is None else market
        limit = self.limits.max_position
        held = self.positions[market]
        if abs(held) > limit and r.random() < 0.8:
            side, qty = (2, min(held, MASK32)) if held > 0 else (1, min(-held, MASK32))
        else:
            side = r.choice((1, 2))
            qty = r.randint(0, 400) if r.random() < 0.97 else r.getrandbits(32)
        if r.random() < 0.03:
            side = r.choice((0, 3))
        elif side in (1, 2):
            self.positions[market] += qty if side == 1 else -qty
        return ("event", int(EventKind.FILL), market, side, qty)

    def _plan_rearm(self, status: dict[str, int]) -> None:
        r = self.rng
        mask = status["reasons"] | (r.getrandbits(9) if r.random() < 0.2 else 0)
        nonce = r.getrandbits(32)
        complement = ~nonce & MASK32
        if r.random() < 0.1:
            complement ^= 1 << r.randrange(32)
        if status["reasons"] & TripReason.POSITION:
            for market, held in enumerate(self.positions):
                if abs(held) > self.limits.max_position:
                    side = 2 if held > 0 else 1
                    self.plan.append(("event", int(EventKind.FILL), market, side,
                                      min(abs(held), MASK32)))
                    self.positions[market] -= min(abs(held), MASK32) * (1 if held > 0 else -1)
        if r.random() < 0.9:
            self.plan.append(("clear", mask))
        if r.random() < 0.5:
            self.plan.append(("event", int(EventKind.ACK), 0, 1, 0))
        self.plan.append(("arm", nonce))
        self.plan.append(("arm", complement))


class Bench:
    def __init__(self, dut, rng: random.Random, *, order_rate: float, ready_chance: float,
                 only_good: bool = False):
        self.dut = dut
        self.rng = rng
        self.sb = Scoreboard()
        self.traffic = Traffic(rng, order_rate, only_good=only_good)
        self.ready_chance = ready_chance
        self.event_port = dut.event
        self.offers = {"pipeline": None, "host": None}
        # The pipeline's next market is drawn a cycle early, to drive the gate's hint.
        self.pipe_next = rng.randrange(MARKETS_USED)
        self.out_waiting: int | None = None
        self.last_pop = -1
        self.pin = 0
        self.next_provoke = 2000  # random traffic gets the first chance
        self.last_status: dict[str, int] = {}

    async def start(self, limits: Limits, *, clock: bool = True) -> None:
        """Reset the DUT (starting its clock unless told it runs); return at the falling edge
        that starts cycle 0."""
        dut = self.dut
        if clock:
            Clock(dut.clk, CLOCK_NS, unit="ns").start()
        await FallingEdge(dut.clk)
        for name in ("pipeline__valid", "host__valid", "book__valid", "o__ready", "kill_pin",
                     "heartbeat", "kill", "clear", "arm"):
            getattr(dut, name).value = 0
        self.event_port.value = 0
        self.set_limits(limits, now=None)
        dut.rst.value = 1
        await ClockCycles(dut.clk, 3)
        await FallingEdge(dut.clk)
        dut.rst.value = 0

    def set_limits(self, limits: Limits, now: int | None) -> None:
        for name in limits.__dataclass_fields__:
            getattr(self.dut, name).value = getattr(limits, name)
        self.traffic.limits = limits
        # A limit driven in cycle s reaches the model at s+6; during reset the delay line holds
        # zeros, so the value present at the end of reset counts as driven in cycle 0.
        when = (0 if now is None else now) + LIMIT_LAG
        self.sb.at(when, RANK_LIMITS, lambda: self.sb.model.configure(limits, when))

    async def run(self, cycles: int, limits_every: int) -> Stats:
        dut = self.dut
        status = {name: 0 for name in STATUS}
        for now in range(cycles):
            if now:  # start() returns at cycle 0's falling edge
                await FallingEdge(dut.clk)
            self._drive(now, status, limits_every)
            await ReadOnly()
            # Status shows the state after model time now-1; `o` shows orders of model time now.
            self.sb.flush(now - 1)
            status = self._check_status(now)
            self.sb.flush(now)
            self._observe(now)
        return self.sb.stats

    def _drive(self, now: int, status: dict[str, int], limits_every: int) -> None:
        dut, rng, traffic = self.dut, self.rng, self.traffic
        if now >= traffic.burst_until and rng.random() < 0.0005 and not traffic.only_good:
            traffic.burst_until = now + rng.randint(50, 300)  # more orders than the bucket takes
        missing = ALL_REASONS & ~self.sb.stats.seen_reasons
        if missing and status["armed"] and now >= self.next_provoke:
            self.next_provoke = now + 1000
            traffic.provoke(TripReason(missing & -missing), now)
        traffic.good_only_now &= now < traffic.burst_until
        rate = 1.0 if now < traffic.burst_until else traffic.order_rate
        for port in ("pipeline", "host"):
            if self.offers[port] is None and rng.random() < rate:
                if port == "pipeline":
                    self.offers[port] = traffic.order(self.pipe_next)
                    self.pipe_next = rng.randrange(MARKETS_USED)
                else:
                    self.offers[port] = traffic.order()
                getattr(dut, f"{port}__payload").value = self.offers[port].bits
            getattr(dut, f"{port}__valid").value = int(self.offers[port] is not None)
        # Mostly the true next market; sometimes a wrong hint, which may only cost a cycle.
        dut.pipeline_next.value = (self.pipe_next if rng.random() < 0.9
                                   else rng.randrange(256))
        dut.o__ready.value = int(rng.random() < self.ready_chance)
        if rng.random() < 0.15:
            market, bid, ask = traffic.book()
            dut.book__payload.value = pack(
                BookTop, market=market, bid_valid=int(bid is not None),
                ask_valid=int(ask is not None), bid_price=twos(bid or 0, 32),
                bid_qty=rng.getrandbits(31), ask_price=twos(ask or 0, 32),
                ask_qty=rng.getrandbits(31))
            dut.book__valid.value = 1
            self.sb.at(now + BOOK_LAG, RANK_BOOK, lambda m=market, b=bid, a=ask, t=now:
                       self.sb.model.book_top(m, b, a, t + BOOK_LAG))
        else:
            dut.book__valid.value = 0
        # The kill pin: rare pulses of a few hundred cycles.
        pin = int(now < traffic.pin_until)
        if not pin and rng.random() < 0.0004 and not traffic.only_good:
            traffic.pin_until = now + rng.randint(1, 300)
        if pin != self.pin:
            self.pin = pin
            dut.kill_pin.value = pin
            self.sb.at(now + PIN_LAG, RANK_PIN,
                       lambda p=pin, t=now: self.sb.model.kill_pin(p, t + PIN_LAG))
        if limits_every and now and now % limits_every == 0:
            odd = now // limits_every % 2
            self.set_limits(traffic.random_limits() if odd else traffic.friendly(), now)
        self._strobe(now, traffic.strobe(now, status))

    def _strobe(self, now: int, strobe: tuple | None) -> None:
        dut, sb = self.dut, self.sb
        for name in ("heartbeat", "kill", "clear", "arm"):
            getattr(dut, name).value = 0
        self.event_port.value = 0
        if strobe is None:
            return
        name, *fields = strobe
        when = now + STROBE_LAG
        model = sb.model
        if name == "heartbeat":
            dut.heartbeat.value = 1
            sb.at(when, RANK_EVENT, lambda: model.heartbeat(when))
        elif name == "kill":
            dut.kill.value = 1
            sb.at(when, RANK_EVENT, lambda: model.kill(when))
        elif name == "clear":
            (mask,) = fields
            dut.clear.value = 1
            dut.clear_mask.value = mask
            sb.at(when, RANK_EVENT, lambda: model.clear(mask, when))
        elif name == "arm":
            (value,) = fields
            dut.arm.value = 1
            dut.arm_value.value = value
            def arm_call():
                before = model.snapshot(when)
                model.arm(value, when)
                after = model.snapshot(when)
                if after.arm_failures != before.arm_failures:
                    why = "reasons " + repr(before.reasons) if before.reasons else "value"
                    sb.stats.arm_failures[why] = sb.stats.arm_failures.get(why, 0) + 1
            sb.at(when, RANK_EVENT, arm_call)
        else:
            kind, market, side, qty = fields
            self.event_port.value = 1
            dut.event_kind.value = kind
            dut.event_market.value = market
            dut.event_side.value = side
            dut.event_qty.value = qty
            sb.event(kind, market, side, qty, now + (FILL_LAG if kind == EventKind.FILL
                                                     else STROBE_LAG))

    def _observe(self, now: int) -> None:
        dut, sb = self.dut, self.sb
        for port, source in (("pipeline", OrderSource.PIPELINE), ("host", OrderSource.HOST)):
            order = self.offers[port]
            if order is not None and getattr(dut, f"{port}__ready").value:
                # Judged in the next cycle, whatever `o` does.
                sb.order(Pending(order, source, now), judged=now + ORDER_LAG - 1)
                sb.stats.accepted += 1
                self.offers[port] = None
        if not dut.o__valid.value:
            assert self.out_waiting is None, f"cycle {now}: o.valid fell before it was taken"
            return
        bits = dut.o__payload.value.to_unsigned()
        if self.out_waiting is None:
            assert sb.expected_out, f"cycle {now}: unexpected order on o: " \
                f"{unpack(OrderIntent, bits)}; model: {list(sb.recent)}, {sb.model.limits}"
            want, judged, accepted = sb.expected_out.popleft()
            assert bits == want, f"cycle {now}: o carries {unpack(OrderIntent, bits)}, " \
                f"the model passed {unpack(OrderIntent, want)}"
            # Valid 2 cycles after acceptance, or as soon as the order before it has gone.
            due = max(accepted + 2, self.last_pop + 1)
            assert now == due, f"cycle {now}: order accepted in {accepted} shows, due {due}"
            stats = sb.stats
            stats.passed += 1
            stats.latency[now - accepted] = stats.latency.get(now - accepted, 0) + 1
            self.out_waiting = bits
        else:
            assert bits == self.out_waiting, f"cycle {now}: o payload changed while held"
        if dut.o__ready.value:
            self.out_waiting = None
            self.last_pop = now

    def _check_status(self, now: int) -> dict[str, int]:
        dut = self.dut
        got = {name: int(getattr(dut, name).value) for name in STATUS}
        want = self.sb.model.snapshot(now)
        expected = {"armed": int(want.armed), "reasons": int(want.reasons),
                    "trip_time": want.trip_time, "cycle": now, "passed": want.passed,
                    "dropped_pipeline": want.dropped_pipeline, "dropped_host": want.dropped_host,
                    "arm_failures": want.arm_failures, "arm_pending": int(want.arm_pending)}
        if got != expected:
            diff = {k: (got[k], expected[k]) for k in got if got[k] != expected[k]}
            raise AssertionError(f"cycle {now}: status (got, model) differs: {diff}")
        stats = self.sb.stats
        stats.seen_reasons |= TripReason(got["reasons"])
        if self.last_status.get("armed") and not got["armed"]:
            for reason in TripReason(got["reasons"]):
                stats.trips[reason.name] = stats.trips.get(reason.name, 0) + 1
        self.last_status = got
        return got


def _report(dut, stats: Stats, bench: Bench) -> None:
    s = bench.last_status
    dut._log.info(
        "passed %d, latency histogram %s, dropped pipeline %d host %d, "
        "arm failures %d %s, reasons seen %r, trips by reason %s", stats.passed,
        dict(sorted(stats.latency.items())), s["dropped_pipeline"],
        s["dropped_host"], s["arm_failures"], stats.arm_failures, stats.seen_reasons,
        stats.trips)


@cocotb.test(timeout_time=500, timeout_unit="ms")
async def random_streams_match_model(dut):
    rng = random.Random(f"{cocotb.RANDOM_SEED}:random")
    bench = Bench(dut, rng, order_rate=0.15, ready_chance=0.7)
    await bench.start(FRIENDLY)
    stats = await bench.run(cycles=30_000, limits_every=5000)
    _report(dut, stats, bench)
    missing = ALL_REASONS & ~stats.seen_reasons
    assert not missing, f"never tripped: {missing!r}"
    assert stats.latency.get(2, 0) > 100, "too few orders passed to measure the latency"


@cocotb.test(timeout_time=100, timeout_unit="ms")
async def one_order_per_cycle_two_cycles_each(dut):
    """With `o` always ready, the gate takes an order every cycle, and each one it passes is
    valid on `o` exactly 2 cycles after it was accepted."""
    rng = random.Random(f"{cocotb.RANDOM_SEED}:throughput")
    bench = Bench(dut, rng, order_rate=1.0, ready_chance=1.0, only_good=True)
    await bench.start(replace(FRIENDLY, rate_window=0, collar_bp=2000, max_qty=MASK32,
                              max_notional=(1 << 64) - 1))
    cycles = 3000
    stats = await bench.run(cycles=cycles, limits_every=0)
    _report(dut, stats, bench)
    assert set(stats.latency) == {2}, f"latencies {stats.latency}"
    assert stats.passed > cycles * 0.8, f"only {stats.passed} orders passed"
    assert stats.accepted >= cycles - 1, f"{stats.accepted} orders taken in {cycles} cycles"


@cocotb.test(timeout_time=200, timeout_unit="ms")
async def reset_empties_the_tables(dut):
    """A reset in the middle of traffic: every reference and position from before it is gone
    (the model starts afresh and the scoreboard holds the gateware to it)."""
    rng = random.Random(f"{cocotb.RANDOM_SEED}:reset")
    for run in range(3):
        bench = Bench(dut, rng, order_rate=0.15, ready_chance=0.7)
        if run == 0:
            # Long positions and references in every market, all within the limits...
            limits = FRIENDLY
            bench.traffic.plan.extend(("event", int(EventKind.FILL), market, 1, 3000)
                                      for market in range(MARKETS_USED))
        else:
            # ...that would trip POSITION, and pass orders in markets that get no book update,
            # if they outlived the reset.
            limits = replace(FRIENDLY, max_position=2000)
            bench.traffic.book_markets = list(range(MARKETS_USED // 2))
        await bench.start(limits, clock=run == 0)
        stats = await bench.run(cycles=3000, limits_every=0)
        _report(dut, stats, bench)


@cocotb.test(timeout_time=100, timeout_unit="ms")
async def a_limit_applies_at_its_model_time(dut):
    """A limit written in cycle s applies from model time s+6, not a cycle sooner or later.
    `max_rejects` changes every 7 cycles among 0 (off) and 1 to 3 while rejects, acks and
    REJECTS clears arrive most cycles, so runs of rejects end on both sides of every change;
    the scoreboard holds each trip to the model's."""
    rng = random.Random(f"{cocotb.RANDOM_SEED}:limit-time")
    bench = Bench(dut, rng, order_rate=0.1, ready_chance=0.7)
    on = replace(FRIENDLY, heartbeat_timeout=0, max_rejects=1)

    def limits(timeout: int | None = None) -> Limits:
        return replace(on, max_rejects=rng.choice([0, 1, 2, 3]))

    bench.traffic.random_limits = limits
    bench.traffic.friendly = limits

    def strobe(now: int, status: dict[str, int]) -> tuple | None:
        roll = rng.random()
        if roll < 0.3:
            return ("event", int(EventKind.REJECT), 0, 1, 0)
        if roll < 0.4:
            return ("event", int(EventKind.ACK), 0, 1, 0)
        if roll < 0.55:
            return ("clear", int(TripReason.REJECTS))
        return None

    bench.traffic.strobe = strobe
    await bench.start(on)
    stats = await bench.run(cycles=3000, limits_every=7)
    _report(dut, stats, bench)
    assert stats.seen_reasons & TripReason.REJECTS, "no reject tripped the switch"
