"""The `sim` backend: the Verilated full design as a simulated FPGA (sim/fpga_loop.py).

It launches the simulation, whose control link is a pty, and talks to it through the
`serial` backend exactly as to a board's port. The colo feed goes to `simulation.feed` and
order intents come back as UDP datagrams to `intents_to`, as a board's would. `clock_hz` is
the simulation's pacing rate: simulated cycles per wall-clock second, the unit of the kill
switch's time limits on this backend. If the simulation dies, register access raises
LinkLost or LinkTimeout (FpgaError subclasses).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from host.fpga.serial_backend import SerialBackend
from sim.fpga_loop import FeedAddress, SimulatedFpga


class SimBackend:
    name = "sim"
    has_fpga = True

    def __init__(self, *, work_dir: Path, feed: FeedAddress, intents_to: tuple[str, int],
                 timeout: float = 1.0, retries: int = 2, wall_limit_s: float = 3600,
                 startup_s: float = 600, simulation: SimulatedFpga | None = None):
        """Start a SimulatedFpga (or take `simulation`, already started) and open its pty.
        `timeout` and `retries` are the serial backend's, per register access: at the
        simulation's pace a batch read of a dozen registers takes a few tenths of a second."""
        self.simulation = simulation or SimulatedFpga(
            work_dir, feed, intents_to, wall_limit_s=wall_limit_s).start(startup_s)
        self.clock_hz = self.simulation.clock_hz
        try:
            self.serial = SerialBackend(self.simulation.pty_path, timeout=timeout,
                                        retries=retries, clock_hz=self.clock_hz)
        except BaseException:
            self.simulation.stop()
            raise

    def read_words(self, addresses: Sequence[int]) -> list[int]:
        return self.serial.read_words(addresses)

    def write_word(self, address: int, value: int) -> None:
        self.serial.write_word(address, value)

    def reset(self) -> None:
        """Resynchronise the link (after a cut, say): see SerialBackend.reset."""
        self.serial.reset()

    def close(self) -> None:
        try:
            self.serial.close()
        finally:
            self.simulation.stop()
