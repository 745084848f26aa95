"""A pyserial-like port on a simulated design's UART pins, so the host's real driver
(host/fpga/serial_backend.py, through its `connection` argument) talks to the design.

The driver is blocking code: run it in a thread started with cocotb's `bridge`. Every method
here that touches the simulation goes through `resume`, so the thread blocks while the
simulator runs and the bench's other coroutines (feed traffic, monitors) go on meanwhile.
Only one such thread may use the port at a time.

Timeouts are in simulated time: a `read` returns what has arrived once `read_limit_ns` of
simulated time has passed without it completing. The driver's own deadlines are in wall-clock
seconds; give it a generous `timeout` so only the simulated ones matter.
"""

from __future__ import annotations

from cocotb.task import resume
from cocotb.triggers import Event, SimTimeoutError, with_timeout

from sim.benches.uart import UartPinDriver, UartPinMonitor


class PinSerial:
    def __init__(self, rx_pin, tx_pin, bit_ns: int, *, read_limit_ns: int):
        self._driver = UartPinDriver(rx_pin, bit_ns)
        self._received = bytearray()
        self._arrived = Event()
        self._monitor = UartPinMonitor(tx_pin, bit_ns, self._on_byte)
        self._read_limit_ns = read_limit_ns
        self.timeout: float | None = None  # pyserial's attributes: set by the driver, unused
        self.write_timeout: float | None = None
        self.bytes_written = 0

    def _on_byte(self, byte: int) -> None:
        self._received.append(byte)
        self._arrived.set()

    # -- the pyserial methods the driver calls (from its bridge thread) -----------------------

    def write(self, data: bytes) -> int:
        resume(self._send)(bytes(data))
        return len(data)

    def flush(self) -> None:
        resume(self._driver.wait_idle)()

    def reset_input_buffer(self) -> None:
        self._received.clear()

    @property
    def in_waiting(self) -> int:
        return len(self._received)

    def read(self, size: int = 1) -> bytes:
        resume(self._wait_for)(size)
        out = bytes(self._received[:size])
        del self._received[:size]
        return out

    def close(self) -> None:
        return None

    # -- in the simulation ---------------------------------------------------------------------

    async def _send(self, data: bytes) -> None:
        self._driver.send(data)
        self.bytes_written += len(data)

    async def _wait_for(self, size: int) -> None:
        while len(self._received) < size:
            self._arrived.clear()
            try:
                await with_timeout(self._arrived.wait(), self._read_limit_ns, "ns")
            except SimTimeoutError:
                return
