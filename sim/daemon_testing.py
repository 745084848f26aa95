"""Running the real daemon against the real local venue, for the integration tests.

- `daemon_config(venue, folder, **sections)`: the test configuration as a TOML document
  (dict), with the journal and control socket in `folder`; `toml_text` writes it out.
- `InProcessDaemon`: the daemon on the test's own event loop, beside an in-process `Venue`,
  so a test can inject a venue fault at an exact moment and look at the daemon's parts.
- `DaemonProcess`: `tickwire run` as a child process, for the tests that kill it: the CLI's
  `tickwire kill`, and SIGKILL then restart.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from host.daemon.config import parse_config
from host.daemon.control import ControlError, request
from host.daemon.runner import Daemon, RunOptions

ARB = {"kind": "latency_arb", "name": "btc-arb", "primary": "BTC-SPOT",
       "secondary": "BTC-PERP", "min_spread_bp": 8, "order_size_usd": 1000.0,
       "max_position_usd": 5000.0, "max_daily_loss_usd": 500.0, "staleness_ms": 50.0}
MAKER = {"kind": "market_maker", "name": "eth-mm", "market": "ETH-PERP", "quote_lots": 10,
         "half_spread_ticks": 60, "max_inventory_lots": 50, "skew_ticks": 30,
         "requote_ticks": 40}


def daemon_config(ws_url: str, rest_url: str, folder: Path, *, strategies=(ARB, MAKER),
                  risk: dict | None = None, daemon: dict | None = None) -> dict:
    return {
        "venue": {"ws_url": ws_url, "rest_url": rest_url, "api_key_env": "TICKWIRE_API_KEY"},
        "daemon": {"journal": str(folder / "journal.sqlite"),
                   "control_socket": str(folder / "control.sock"), "metrics_port": 0,
                   "gc_freeze": False, "progress_s": 0.0, **(daemon or {})},
        "risk": risk or {},
        "strategy": [dict(s) for s in strategies],
    }


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return repr(v)


def toml_text(doc: dict) -> str:
    """The small TOML subset these configs use: tables, one level of subtables, and arrays
    of tables."""
    out: list[str] = []

    def table(name: str, body: dict) -> None:
        out.append(f"[{name}]")
        subs = {k: v for k, v in body.items() if isinstance(v, dict)}
        out.extend(f"{k} = {_value(v)}" for k, v in body.items() if k not in subs)
        for k, v in subs.items():
            table(f"{name}.{k}", v)

    for name, body in doc.items():
        if isinstance(body, list):
            for item in body:
                out.append(f"[[{name}]]")
                out.extend(f"{k} = {_value(v)}" for k, v in item.items())
        else:
            table(name, body)
    return "\n".join(out) + "\n"


async def wait_for(predicate, timeout_s: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.02)


class InProcessDaemon:
    """`async with InProcessDaemon(doc) as d`: d.session, d.trader, d.daemon; leaving stops
    it and leaves the summary in d.summary."""

    def __init__(self, doc: dict):
        self.config = parse_config(doc)
        self.stop = asyncio.Event()
        self.daemon = Daemon(self.config, RunOptions(install_signals=False, progress=False,
                                                     stop=self.stop))
        self.summary = None
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> InProcessDaemon:
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        self.daemon.options.ready = ready
        self._task = loop.create_task(self.daemon.run())
        done, _ = await asyncio.wait({ready, self._task}, timeout=20,
                                     return_when=asyncio.FIRST_COMPLETED)
        if self._task in done:
            self._task.result()          # raises what start-up raised
        if ready not in done:
            raise AssertionError("the daemon did not get ready in 20 s")
        return self

    async def __aexit__(self, *exc) -> None:
        self.stop.set()
        self.summary = await asyncio.wait_for(self._task, 20)

    @property
    def session(self):
        return self.daemon.session

    @property
    def trader(self):
        return self.daemon.session.trader

    def counter(self, name: str, **labels) -> int:
        return self.daemon.metrics.counter(name, **labels).value


class DaemonProcess:
    """`tickwire run --config PATH` as a child process."""

    def __init__(self, config_path: Path, env: dict | None = None):
        self.config_path = config_path
        self.env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
        self.proc: subprocess.Popen | None = None
        self.socket = None

    def start(self, timeout_s: float = 30.0) -> DaemonProcess:
        from host.daemon.config import load_config

        self.socket = load_config(str(self.config_path)).daemon.control_socket
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "host.cli", "run", "--config", str(self.config_path),
             "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=self.env)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the daemon exited ({self.proc.returncode}): "
                                     f"{self.proc.stderr.read()[-2000:]}")
            try:
                if self.status().get("ok"):
                    return self
            except ControlError:
                pass
            time.sleep(0.1)
        self.proc.kill()
        raise AssertionError("the daemon did not answer on its control socket")

    def status(self) -> dict:
        return asyncio.run(request(self.socket, {"op": "status"}, timeout_s=2.0))

    def sigkill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def wait(self, timeout_s: float = 20.0) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=timeout_s)
        return self.proc.returncode, out, err

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.communicate()
