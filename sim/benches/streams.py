"""Drive and watch amaranth.lib.stream ports of a converted design from cocotb.

A stream port `x` appears in the Verilog as `x__valid`, `x__ready` and `x__payload`, the
payload flattened to bits. Everything here acts at the falling clock edge and samples in the
ReadOnly phase after it, so the handshake seen is the one the next rising edge will act on;
this sidesteps any question of whether a read at the rising edge sees pre- or post-edge values.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable

import cocotb
from amaranth.lib import data
from cocotb.triggers import Event, FallingEdge, ReadOnly


def pack(layout, **fields: int) -> int:
    """Bits of a value of `layout` (a layout or a `data.Struct` class) from integer fields.

    Missing fields are zero.
    """
    layout = data.Layout.cast(layout)
    bits = 0
    for name, value in fields.items():
        field = layout[name]
        if not 0 <= value < 1 << field.width:
            raise ValueError(f"{name}={value} does not fit in {field.width} bits")
        bits |= value << field.offset
    return bits


def unpack(layout, bits: int) -> dict[str, int]:
    """Integer fields of a value of `layout` (a layout or a `data.Struct` class) given as bits."""
    return {
        name: (bits >> field.offset) & ((1 << field.width) - 1)
        for name, field in data.Layout.cast(layout)
    }


def stream_ports(dut, name: str):
    """The valid, ready and payload handles of stream `name` as the Verilog converter names
    them."""
    return (getattr(dut, f"{name}__valid"), getattr(dut, f"{name}__ready"),
            getattr(dut, f"{name}__payload"))


class StreamDriver:
    """Sends payloads (as ints) on a stream the DUT receives, with random idle cycles."""

    def __init__(self, dut, name: str, clock, rng: random.Random, valid_chance: float = 1.0):
        self._valid, self._ready, self._payload = stream_ports(dut, name)
        self._clock = clock
        self._rng = rng
        self._valid_chance = valid_chance
        self._queue: deque[int] = deque()
        self._idle = Event()
        self._idle.set()
        self._valid.value = 0
        self.sent = 0
        cocotb.start_soon(self._run())

    def send(self, payload: int) -> None:
        self._queue.append(payload)
        self._idle.clear()

    async def wait_idle(self) -> None:
        """Return once every queued payload has been accepted by the DUT."""
        await self._idle.wait()

    async def _run(self) -> None:
        offering = False
        while True:
            await FallingEdge(self._clock)
            # Once valid is raised it stays raised with the same payload until accepted.
            if not offering and self._queue and self._rng.random() < self._valid_chance:
                self._payload.value = self._queue[0]
                offering = True
            self._valid.value = int(offering)
            await ReadOnly()
            if offering and self._ready.value:
                self._queue.popleft()
                self.sent += 1
                offering = False
                if not self._queue:
                    self._idle.set()


class StreamMonitor:
    """Takes payloads from a stream the DUT sends, with random backpressure.

    Each accepted payload is passed to `on_payload`. It also checks the stream rule that an
    offered payload stays offered, unchanged, until it is accepted.
    """

    def __init__(
        self,
        dut,
        name: str,
        clock,
        rng: random.Random,
        on_payload: Callable[[int], None],
        ready_chance: float = 1.0,
    ):
        self._valid, self._ready, self._payload = stream_ports(dut, name)
        self._name = name
        self._clock = clock
        self._rng = rng
        self._on_payload = on_payload
        self._ready_chance = ready_chance
        self._ready.value = 0
        self.received = 0
        cocotb.start_soon(self._run())

    async def _run(self) -> None:
        withheld: int | None = None
        while True:
            await FallingEdge(self._clock)
            ready = self._rng.random() < self._ready_chance
            self._ready.value = int(ready)
            await ReadOnly()
            valid = bool(self._valid.value)
            payload = self._payload.value.to_unsigned() if valid else None
            if withheld is not None:
                assert valid, f"{self._name}: valid dropped before the payload was accepted"
                assert payload == withheld, f"{self._name}: payload changed while not accepted"
            if valid and ready:
                withheld = None
                self.received += 1
                self._on_payload(payload)
            elif valid:
                withheld = payload
