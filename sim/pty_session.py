"""Run the Verilated control_top behind a pty in a background thread: the host side of the
FPGA-in-the-loop bridge. `with simulated_board(work_dir) as path:` gives a path to open with
pyserial (host.fpga's `serial` backend) as if it were a board's UART."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from sim import control_design
from sim.cocotb_runner import run_bench
from sim.pty_bridge import PTY_PATH_ENV, PTY_STOP_ENV, PTY_WALL_LIMIT_ENV


class SimulationFailed(RuntimeError):
    """The simulator ended before the host finished, or its bench failed."""


@contextlib.contextmanager
def simulated_board(work_dir: Path, *, startup_s: float = 600,
                    wall_limit_s: float = 300) -> Iterator[str]:
    """Start the simulation (building it first if need be: allow `startup_s` for that) and
    yield the pty path; on exit, stop the bridge and raise SimulationFailed if the bench
    failed. The bench also stops on its own after `wall_limit_s` seconds."""
    work_dir.mkdir(parents=True, exist_ok=True)
    path_file, stop_file = work_dir / "pty-path", work_dir / "pty-stop"
    path_file.unlink(missing_ok=True)
    stop_file.unlink(missing_ok=True)
    failure: list[BaseException] = []

    def simulate() -> None:
        try:
            run_bench(control_design.control_top, name=control_design.NAME,
                      bench_module="sim.benches.control_pty",
                      extra_env={PTY_PATH_ENV: str(path_file), PTY_STOP_ENV: str(stop_file),
                                 PTY_WALL_LIMIT_ENV: str(wall_limit_s)})
        except BaseException as error:  # noqa: BLE001 - handed to the caller's thread
            failure.append(error)

    thread = threading.Thread(target=simulate, name="control_top-sim", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + startup_s
        while not path_file.exists():
            if not thread.is_alive() or time.monotonic() > deadline:
                raise SimulationFailed(f"the simulation never opened its pty: {failure}")
            time.sleep(0.05)
        yield path_file.read_text()
    finally:
        stop_file.touch()
        thread.join(timeout=wall_limit_s)
    if failure:
        raise SimulationFailed(str(failure[0])) from failure[0]
