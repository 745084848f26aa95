"""The one FPGA interface the daemon uses, whatever the backend.

`FpgaInterface` reads and writes registers by the names of host/fpga/registers.py, reads
many at once (batched, two-word values kept atomic), drives the kill switch (limits, kill,
clear, the two-step arm, host events, host orders), takes status snapshots, and runs the
heartbeat task that also watches for trips. A backend only moves 32-bit words:

    read_words(addresses) -> list[int]     write_word(address, value)     close()

plus `name`, `has_fpga` and `clock_hz` (the rate at which the kill switch counts its time
limits: the design clock of a board, the pacing rate of the simulated FPGA, 1e9 for `none`'s
nanoseconds). `open_fpga("serial", port=...)`, `open_fpga("sim", work_dir=..., feed=...,
intents_to=...)` and `open_fpga("none")` build one. Calls are serialised by a lock, so the
heartbeat thread and the daemon can share it.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Protocol

from host.fpga import protocol as p
from host.fpga.errors import ArmRefused, UnknownRegister, ValueOutOfRange
from host.fpga.registers import ALL_REASONS, REGISTERS, TRIP_REASONS
from host.fpga.regmap import WORD_BITS
from host.model import kill_switch as ks_model

WORD_MASK = (1 << WORD_BITS) - 1


class Backend(Protocol):
    name: str
    has_fpga: bool
    clock_hz: float

    def read_words(self, addresses: list[int]) -> list[int]: ...
    def write_word(self, address: int, value: int) -> None: ...
    def close(self) -> None: ...


Limits = ks_model.Limits  # the kill switch's limits, one `ks_` register each
EventKind = ks_model.EventKind


def limit_registers(limits: Limits) -> dict[str, int]:
    return {f"ks_{f.name}": getattr(limits, f.name) for f in fields(limits)}


def reason_names(bits: int) -> frozenset[str]:
    return frozenset(name for i, (name, _) in enumerate(TRIP_REASONS) if bits >> i & 1)


@dataclass(frozen=True)
class KillSwitchStatus:
    armed: bool
    kill_pin: bool
    reason_bits: int
    trip_time: int
    cycle: int
    passed: int
    dropped_pipeline: int
    dropped_host: int
    arm_failures: int
    arm_pending: bool

    @property
    def reasons(self) -> frozenset[str]:
        return reason_names(self.reason_bits)


@dataclass(frozen=True)
class TripEvent:
    """The switch was found tripped: why, and when (the switch's cycle counter)."""

    reasons: frozenset[str]
    trip_time: int
    status: KillSwitchStatus


STATUS_VALUES = ("ks_state", "ks_reasons", "ks_trip_time", "ks_cycle", "ks_passed",
                 "ks_dropped_pipeline", "ks_dropped_host", "ks_arm_failures")


class FpgaInterface:
    def __init__(self, backend: Backend):
        self.backend = backend
        self._lock = threading.RLock()
        self._trip_callbacks: list[Callable[[TripEvent], None]] = []
        self._last_trip: tuple[int, int] | None = None
        self.trips: asyncio.Queue[TripEvent] | None = None  # made by run_heartbeat

    @property
    def name(self) -> str:
        return self.backend.name

    @property
    def has_fpga(self) -> bool:
        return self.backend.has_fpga

    @property
    def clock_hz(self) -> float:
        """Kill-switch cycles per second: multiply wall-clock limits by it."""
        return self.backend.clock_hz

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> FpgaInterface:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- registers by name -------------------------------------------------------------------

    def read(self, name: str) -> int:
        """A value (signed where declared; two-word values read atomically), or one
        register's raw word when `name` is a register name such as `ks_cycle_lo`."""
        return self.read_many([name])[name]

    def read_many(self, names: Iterable[str]) -> dict[str, int]:
        names = list(names)
        plan = [_resolve(n) for n in names]
        addresses = [a for _, _, group in plan for a in group]
        pairs = [False] * len(addresses)
        i = 0
        for _, _, group in plan:
            if len(group) == 2:
                pairs[i] = True
            i += len(group)
        words: list[int] = []
        with self._lock:
            for batch in p.split_batches(addresses, pairs):
                words += self.backend.read_words(batch)
        out, i = {}, 0
        for name, value, group in plan:
            chunk = words[i:i + len(group)]
            i += len(group)
            raw = sum(w << (WORD_BITS * k) for k, w in enumerate(chunk))
            out[name] = value.from_raw(raw) if value is not None else raw
        return out

    def write(self, name: str, value: int) -> None:
        """Write a value (a two-word value low half first: the high write commits both)."""
        declared = REGISTERS.value.get(name)
        if declared is None:
            if name not in REGISTERS.word:
                raise UnknownRegister(f"no register or value named {name!r}")
            with self._lock:
                self.backend.write_word(REGISTERS.word[name].address, value & WORD_MASK)
            return
        try:
            raw = declared.to_raw(value)
        except ValueError as error:
            raise ValueOutOfRange(str(error)) from None
        with self._lock:
            for part, word in enumerate(REGISTERS.words_of(name)):
                self.backend.write_word(word.address, (raw >> (WORD_BITS * part)) & WORD_MASK)

    def write_many(self, values: Mapping[str, int]) -> None:
        with self._lock:
            for name, value in values.items():
                self.write(name, value)

    # -- the kill switch ---------------------------------------------------------------------

    def configure(self, limits: Limits) -> None:
        self.write_many(limit_registers(limits))

    def limits(self) -> Limits:
        values = self.read_many(limit_registers(Limits()))
        return Limits(**{k.removeprefix("ks_"): v for k, v in values.items()})

    def heartbeat(self) -> None:
        self.write("ks_heartbeat", 0)

    def kill(self) -> None:
        self.write("ks_kill", 0)

    def clear(self, mask: int = ALL_REASONS) -> None:
        self.write("ks_reasons", mask)

    def arm(self, nonce: int | None = None) -> KillSwitchStatus:
        """Clear every reason, then write a nonce and its complement. Raises ArmRefused if a
        reason is still present after the clear (a held kill pin, say) or the switch did not
        arm. A sequence an earlier host left half done (`arm_pending`) is ended first, by one
        write that the switch counts as an arm failure."""
        with self._lock:
            if self.status().arm_pending:
                self.write("ks_arm", 0)
            self.clear()
            reasons = self.read("ks_reasons")
            if reasons:
                raise ArmRefused(f"trip reasons still present: {sorted(reason_names(reasons))}",
                                 why="reasons_present", reasons=reasons)
            nonce = secrets.randbits(32) if nonce is None else nonce
            return self.arm_steps(nonce, ~nonce & WORD_MASK)

    def arm_steps(self, first: int, second: int) -> KillSwitchStatus:
        """The raw two-step arm writes; ArmRefused unless the switch ends up armed."""
        with self._lock:
            self.write("ks_arm", first)
            self.write("ks_arm", second)
            status = self.status()
        if not status.armed:
            raise ArmRefused("the arm sequence did not arm the switch", why="not_armed",
                             reasons=status.reason_bits)
        self._last_trip = None
        return status

    def report_event(self, kind: EventKind, market: int = 0, *, side: int = 1,
                     qty: int = 0) -> None:
        """Tell the switch about an ack, reject or fill (side: OrderSide, 1 buy, 2 sell)."""
        event = REGISTERS.value["ks_event"]
        packed = 0
        for f, v in zip(event.fields, (int(kind), int(side), market), strict=True):
            if not 0 <= v < 1 << f.width:
                raise ValueOutOfRange(f"ks_event.{f.name} = {v} does not fit {f.width} bits")
            packed |= v << f.lsb
        with self._lock:
            self.write("ks_event_qty", qty)
            self.write("ks_event", packed)

    def send_order(self, *, market: int, side: int, price: int, qty: int,
                   client_id: int) -> None:
        """Send an order out through the FPGA's egress gate."""
        with self._lock:
            self.write_many({"order_market": market, "order_side": side, "order_price": price,
                             "order_qty": qty, "order_client_id": client_id})
            self.write("order_send", 0)

    def status(self) -> KillSwitchStatus:
        v = self.read_many(STATUS_VALUES)
        state = REGISTERS.value["ks_state"]
        bit = {f.name: f.lsb for f in state.fields}
        return KillSwitchStatus(
            armed=bool(v["ks_state"] >> bit["armed"] & 1),
            kill_pin=bool(v["ks_state"] >> bit["kill_pin"] & 1),
            arm_pending=bool(v["ks_state"] >> bit["arm_pending"] & 1),
            reason_bits=v["ks_reasons"], trip_time=v["ks_trip_time"], cycle=v["ks_cycle"],
            passed=v["ks_passed"], dropped_pipeline=v["ks_dropped_pipeline"],
            dropped_host=v["ks_dropped_host"], arm_failures=v["ks_arm_failures"])

    # -- trips and the heartbeat -------------------------------------------------------------

    def on_trip(self, callback: Callable[[TripEvent], None]) -> None:
        self._trip_callbacks.append(callback)

    def poll(self) -> tuple[KillSwitchStatus, TripEvent | None]:
        """A status snapshot, and a TripEvent the first time a given trip is seen."""
        status = self.status()
        event = None
        if not status.armed and status.reason_bits:
            key = (status.trip_time, status.reason_bits)
            if key != self._last_trip:
                self._last_trip = key
                event = TripEvent(status.reasons, status.trip_time, status)
                for callback in self._trip_callbacks:
                    callback(event)
        return status, event

    def beat(self) -> tuple[KillSwitchStatus, TripEvent | None]:
        """One heartbeat, then poll(), with nothing of another thread's in between."""
        with self._lock:
            self.heartbeat()
            return self.poll()

    async def run_heartbeat(self, interval: float, stop: asyncio.Event) -> None:
        """Until `stop` is set: every `interval` seconds write the heartbeat and poll the
        status, putting each new trip on `self.trips`. Blocking I/O runs in a worker thread.
        An FpgaError ends the task (the caller fails over; the board's watchdog trips)."""
        self.trips = asyncio.Queue()
        while not stop.is_set():
            event = (await asyncio.to_thread(self.beat))[1]
            if event is not None:
                self.trips.put_nowait(event)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)


def _resolve(name: str):
    """(name, declared value or None for a raw register, addresses to read)."""
    value = REGISTERS.value.get(name)
    if value is not None:
        return name, value, [w.address for w in REGISTERS.words_of(name)]
    word = REGISTERS.word.get(name)
    if word is None:
        raise UnknownRegister(f"no register or value named {name!r}")
    return name, None, [word.address]


def open_fpga(backend: str = "none", **options) -> FpgaInterface:
    """`open_fpga("serial", port=..., baudrate=..., timeout=..., retries=..., clock_hz=...)`,
    `open_fpga("sim", work_dir=..., feed=FeedAddress(...), intents_to=(host, port))` (the
    Verilated design as a simulated FPGA, started here and stopped by close()), or
    `open_fpga("none")` (the software path's kill switch, no board)."""
    if backend == "serial":
        from host.fpga.serial_backend import SerialBackend
        return FpgaInterface(SerialBackend(**options))
    if backend == "sim":
        from host.fpga.sim_backend import SimBackend
        return FpgaInterface(SimBackend(**options))
    if backend == "none":
        from host.fpga.none_backend import NoneBackend
        return FpgaInterface(NoneBackend(**options))
    raise ValueError(f"unknown FPGA backend {backend!r}: 'serial', 'sim' or 'none'")
