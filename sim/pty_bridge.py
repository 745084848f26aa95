"""Bridges a pseudo-terminal to a simulated design's UART pins, inside a cocotb test.

The host side opens the pty's path with pyserial exactly as it would open a board's USB
UART (`/dev/ttyUSB0`); every byte it writes is sent bit by bit on the design's receive pin,
and every byte the design sends on its transmit pin is written back to the pty. `run()` polls
the pty every `poll_bits` bit times, so the simulator runs freely in between; a bench with its
own loop calls `pump()` instead. While `paused`, bytes either way are dropped, as on a pulled
cable.
"""

from __future__ import annotations

import os
import time
import tty
from collections.abc import Callable

from cocotb.triggers import Timer

from sim.benches.uart import UartPinDriver, UartPinMonitor

# Files the bench and the test process agree on (the test sets them through the environment).
PTY_PATH_ENV = "TICKWIRE_PTY_FILE"  # the bench writes the pty's path here
PTY_STOP_ENV = "TICKWIRE_PTY_STOP"  # the bench stops once this file exists
PTY_WALL_LIMIT_ENV = "TICKWIRE_PTY_WALL_S"  # ... or after this many wall-clock seconds


class PtyBridge:
    def __init__(self, rx_pin, tx_pin, bit_ns: int, *, poll_bits: int = 50):
        self.master, self._slave = os.openpty()
        # Raw mode: no echo, no line editing, no CR/LF translation; the host's pyserial sets
        # the same when it opens the path, but bytes may arrive before it does.
        tty.setraw(self._slave)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self._slave)
        self._poll_ns = poll_bits * bit_ns
        self._driver = UartPinDriver(rx_pin, bit_ns)
        self._monitor = UartPinMonitor(tx_pin, bit_ns, self._to_host)
        self.to_design = 0
        self.to_host = 0
        self.paused = False
        self.dropped = 0  # bytes lost either way: paused, or the host not reading

    def _to_host(self, byte: int) -> None:
        if self.paused:
            self.dropped += 1
            return
        try:
            os.write(self.master, bytes([byte]))
        except BlockingIOError:
            self.dropped += 1  # the pty's buffer is full: nobody is reading the other end
            return
        self.to_host += 1

    def pump(self) -> int:
        """Hand what the host has written to the design's receive pin; returns the bytes read."""
        try:
            data = os.read(self.master, 4096)
        except (BlockingIOError, OSError):
            return 0  # nothing written (or no reader has opened the slave yet)
        if self.paused:
            self.dropped += len(data)
        elif data:
            self.to_design += len(data)
            self._driver.send(data)
        return len(data)

    async def run(self, stop: Callable[[], bool]) -> None:
        """Move bytes until `stop()` is true (checked at every poll)."""
        while not stop():
            await Timer(self._poll_ns, unit="ns")
            self.pump()

    def close(self) -> None:
        os.close(self.master)
        os.close(self._slave)


def stop_condition(stop_file: str | None, wall_limit_s: float) -> Callable[[], bool]:
    """True once `stop_file` exists or `wall_limit_s` wall-clock seconds have passed."""
    deadline = time.monotonic() + wall_limit_s

    def stop() -> bool:
        return time.monotonic() > deadline or (stop_file is not None and
                                               os.path.exists(stop_file))
    return stop
