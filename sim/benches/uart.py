"""Drive and watch a DUT's UART pins from cocotb, bit by bit, at a given bit time.

The driver and monitor wait on timers and pin edges, not on every clock edge, so the
simulator runs whole bit times between Python wake-ups.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import cocotb
from cocotb.triggers import Event, FallingEdge, Timer


class UartPinDriver:
    """Sends bytes on a DUT's receive pin (8N1), one after another, idle-high between."""

    def __init__(self, pin, bit_ns: int):
        self._pin = pin
        self._bit_ns = bit_ns
        self._pin.value = 1
        self._queue: list[tuple[int, bool]] = []
        self._wake = Event()
        self._idle = Event()
        self._idle.set()
        self.bytes_sent = 0
        cocotb.start_soon(self._run())

    def send(self, data: Iterable[int], *, bad_stop: Iterable[int] = ()) -> None:
        """Queue `data`; the bytes at the indices in `bad_stop` get a low stop bit."""
        broken = set(bad_stop)
        self._queue.extend((b, i in broken) for i, b in enumerate(data))
        if self._queue:
            self._idle.clear()
            self._wake.set()

    async def hold_low(self, bits: int) -> None:
        """A break: the line held low for `bits` bit times (after what is queued)."""
        await self.wait_idle()
        self._pin.value = 0
        await Timer(bits * self._bit_ns, unit="ns")
        self._pin.value = 1
        await Timer(self._bit_ns, unit="ns")

    async def wait_idle(self) -> None:
        await self._idle.wait()

    async def _run(self) -> None:
        bit = self._bit_ns
        while True:
            if not self._queue:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            byte, bad_stop = self._queue.pop(0)
            self._pin.value = 0
            await Timer(bit, unit="ns")
            for i in range(8):
                self._pin.value = (byte >> i) & 1
                await Timer(bit, unit="ns")
            self._pin.value = 0 if bad_stop else 1
            await Timer(bit, unit="ns")
            if bad_stop:
                self._pin.value = 1
                await Timer(bit, unit="ns")
            self.bytes_sent += 1


class UartPinMonitor:
    """Decodes the bytes a DUT sends on its transmit pin and hands each to `on_byte`.

    It checks the framing of what the DUT sends: a start bit that stays low to its middle
    and a high stop bit, else it raises.
    """

    def __init__(self, pin, bit_ns: int, on_byte: Callable[[int], None]):
        self._pin = pin
        self._bit_ns = bit_ns
        self._on_byte = on_byte
        self.bytes_received = 0
        self.last_stop_ns = 0.0
        cocotb.start_soon(self._run())

    async def _run(self) -> None:
        bit = self._bit_ns
        while True:
            await FallingEdge(self._pin)
            await Timer(bit // 2, unit="ns")
            assert int(self._pin.value) == 0, "tx: start bit did not last half a bit"
            byte = 0
            for i in range(8):
                await Timer(bit, unit="ns")
                byte |= int(self._pin.value) << i
            await Timer(bit, unit="ns")
            assert int(self._pin.value) == 1, f"tx: byte {byte:#04x} has a low stop bit"
            self.bytes_received += 1
            self._on_byte(byte)
