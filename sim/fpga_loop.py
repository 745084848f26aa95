"""The simulated FPGA: the Verilated full design as a process bridged to a pty and UDP sockets.

`SimulatedFpga(work_dir, feed, intents_to).start()` launches `python -m sim.fpga_loop` in a
session of its own, which runs sim/benches/system_loop.py on the full design's cached build
(sim/system_build.py) and waits until the bench has opened its pty. The host then opens
`pty_path` with pyserial (host/fpga/serial_backend.py, or `open_fpga("sim", ...)`), sends
the colo feed to `feed` and receives order intents on `intents_to`. `clock_hz` is the pacing
rate, for converting wall-clock limits into the cycles the kill switch counts.

    python -m sim.fpga_loop --work-dir D --feed HOST:PORT[@GROUP] --intents HOST:PORT

runs it in the foreground. docs/fpga-in-the-loop.md explains the channels and the pacing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from sim.loop_shared import (
    CLOCK_HZ_ENV,
    DIR_ENV,
    FEED_ENV,
    INTENTS_ENV,
    OWNER_ENV,
    PAUSE_FILE,
    PAUSED_FILE,
    READY_FILE,
    REPORT_FILE,
    RUN_DIR,
    STOP_FILE,
    WALL_LIMIT_ENV,
    FeedAddress,
    parse_host_port,
)

__all__ = ["CLOCK_HZ", "FeedAddress", "LoopFailed", "SimulatedFpga"]

# Simulated cycles per wall-clock second. The bench holds this on a loaded 2-core machine
# while bridging the link, the feed and the intents; see docs/fpga-in-the-loop.md.
CLOCK_HZ = 25e3
LOG_FILE = "fpga_loop.log"
REPO_ROOT = Path(__file__).resolve().parents[1]
STOP_WAIT_S = 15  # an orderly stop takes a few hundredths of a second; then SIGKILL


class LoopFailed(RuntimeError):
    """The simulated FPGA did not come up (its log's end is in the message)."""

    reason = "sim_failed"


class SimulatedFpga:
    def __init__(self, work_dir: Path, feed: FeedAddress, intents_to: tuple[str, int], *,
                 wall_limit_s: float = 3600, clock_hz: float = CLOCK_HZ):
        self.work_dir = Path(work_dir)
        self.feed = feed  # after start(): with the port actually bound
        self.intents_to = intents_to
        self.wall_limit_s = wall_limit_s
        self.clock_hz = clock_hz
        self.pty_path = ""
        self.pid = 0
        self._proc: subprocess.Popen | None = None

    # -- life --------------------------------------------------------------------------------

    def start(self, timeout_s: float = 600) -> SimulatedFpga:
        """Launch, building the design first if no cached build exists (allow `timeout_s`
        for that), and return once the pty is open."""
        if self._proc is not None:
            raise RuntimeError("already started")
        self.work_dir.mkdir(parents=True, exist_ok=True)
        for name in (READY_FILE, STOP_FILE, PAUSE_FILE, PAUSED_FILE, REPORT_FILE):
            (self.work_dir / name).unlink(missing_ok=True)
        command = [sys.executable, "-m", "sim.fpga_loop", "--work-dir", str(self.work_dir),
                   "--feed", str(self.feed), "--intents", _host_port(self.intents_to),
                   "--wall-limit", str(self.wall_limit_s), "--clock-hz", str(self.clock_hz),
                   "--owner-pid", str(os.getpid()), "--quiet"]
        with open(self.work_dir / LOG_FILE, "wb") as log:
            self._proc = subprocess.Popen(command, cwd=REPO_ROOT, stdin=subprocess.DEVNULL,
                                          stdout=log, stderr=subprocess.STDOUT,
                                          start_new_session=True)
        self.pid = self._proc.pid
        ready = self.work_dir / READY_FILE
        deadline = time.monotonic() + timeout_s
        while not ready.exists():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise LoopFailed(f"the simulated FPGA never opened its pty; "
                                 f"{self.work_dir / LOG_FILE} ends:\n{self._log_tail()}")
            time.sleep(0.05)
        info = json.loads(ready.read_text())
        self.pty_path = info["pty"]
        self.clock_hz = info["clock_hz"]
        self.feed = replace(self.feed, port=info["feed_port"])
        return self

    def alive(self) -> bool:
        """Some process of the simulated FPGA's group is still running."""
        return bool(self.pid) and bool(_group_members(self.pid))

    def kill(self) -> None:
        """SIGKILL the whole process group: the simulator dies at once, as a board that loses
        power, and takes its pty and sockets with it."""
        if self._proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self._proc.wait()

    def stop(self) -> None:
        """End in order (the bench writes its report); SIGKILL if it does not. Idempotent."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            (self.work_dir / STOP_FILE).touch()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(STOP_WAIT_S)
        self.kill()

    def __enter__(self) -> SimulatedFpga:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- the control link --------------------------------------------------------------------

    def pause_link(self, timeout_s: float = 5) -> None:
        """Cut the control link both ways (the design runs on, so its watchdog starves);
        returns once the bench has cut it."""
        (self.work_dir / PAUSE_FILE).touch()
        self._await_marker(True, timeout_s)

    def resume_link(self, timeout_s: float = 5) -> None:
        (self.work_dir / PAUSE_FILE).unlink(missing_ok=True)
        self._await_marker(False, timeout_s)

    def _await_marker(self, present: bool, timeout_s: float) -> None:
        marker = self.work_dir / PAUSED_FILE
        deadline = time.monotonic() + timeout_s
        while marker.exists() != present:
            if not self.alive() or time.monotonic() > deadline:
                raise LoopFailed(f"the bench did not {'cut' if present else 'mend'} the link")
            time.sleep(0.005)

    def report(self) -> dict | None:
        """The bench's counters, once it has ended in order."""
        path = self.work_dir / REPORT_FILE
        return json.loads(path.read_text()) if path.exists() else None

    def _log_tail(self, lines: int = 20) -> str:
        try:
            text = (self.work_dir / LOG_FILE).read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def _host_port(address: tuple[str, int]) -> str:
    return f"{address[0]}:{address[1]}"


def _group_members(pgid: int) -> list[int]:
    """Processes of group `pgid` that are not zombies (no init may be reaping them)."""
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def _announce(work_dir: Path, proc_done: threading.Event) -> None:
    ready = work_dir / READY_FILE
    while not ready.exists():
        if proc_done.wait(0.1):
            return
    info = json.loads(ready.read_text())
    print(f"simulated FPGA up: pty {info['pty']}, clock {info['clock_hz']:g} Hz, feed port "
          f"{info['feed_port']}; stop it with `touch {work_dir / STOP_FILE}`", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.fpga_loop", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work-dir", type=Path, required=True)
    parser.add_argument("--feed", type=FeedAddress.parse, required=True,
                        help="where the venue sends the colo feed: HOST:PORT[@GROUP]")
    parser.add_argument("--intents", type=parse_host_port, required=True,
                        help="where order intents go: HOST:PORT")
    parser.add_argument("--clock-hz", type=float, default=CLOCK_HZ)
    parser.add_argument("--wall-limit", type=float, default=3600, help="seconds")
    parser.add_argument("--owner-pid", type=int, default=os.getppid(),
                        help="end when this process ends (default: the parent)")
    parser.add_argument("--quiet", action="store_true", help="no announcement on stdout")
    args = parser.parse_args(argv)
    from sim.system_build import run_system  # imports Amaranth: not needed by the launcher

    work_dir = args.work_dir.resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    env = {DIR_ENV: str(work_dir), FEED_ENV: str(args.feed),
           INTENTS_ENV: _host_port(args.intents), CLOCK_HZ_ENV: repr(args.clock_hz),
           WALL_LIMIT_ENV: repr(args.wall_limit), OWNER_ENV: str(args.owner_pid)}
    done = threading.Event()
    if not args.quiet:
        threading.Thread(target=_announce, args=(work_dir, done), daemon=True).start()
    try:
        run_system("sim.benches.system_loop", extra_env=env, run_dir=work_dir / RUN_DIR,
                   rerun_failures=False)
    except AssertionError as failed:
        print(failed, file=sys.stderr)
        return 1
    finally:
        done.set()
    report = work_dir / REPORT_FILE
    if not args.quiet and report.exists():
        print(report.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
