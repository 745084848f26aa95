"""The daemon's side of the gateware (`--fpga sim` or `serial`): configure it, keep it alive,
watch it, and notice when it is gone. A thin adapter over host.fpga's FpgaInterface: every
register access is blocking serial I/O, so it runs in a worker thread (the interface's lock
keeps one access at a time), and every failure of the link is one call to `on_lost`.

- `configure`: the header filter (the colo feed's address), the client order id base, the
  kill switch's limits (wall-clock times turned into the backend's cycles), then the two-step
  arm. `write_rules` then puts the trigger rules in.
- `run`: the heartbeat (which also polls the switch's status; a trip seen while the link is
  up goes to `on_trip`), the top-of-book mirror (one market per `mirror_ms`, against the
  software path's tops, see top_mirror.py), and the order events the kill switch counts.
- On the first FpgaError or OS error the link is `lost`: the tasks stop, `on_lost(reason)`
  runs once, and a probe reads the switch's status every second. If the link answers again
  it is `back`: the status is reported, and the switch is left as it is. Re-arming is the
  operator's decision (a restart arms afresh), never this adapter's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from dataclasses import fields, replace

from host.daemon.top_mirror import TopMirror
from host.fpga.errors import FpgaError
from host.fpga.interface import FpgaInterface, KillSwitchStatus, Limits, TripEvent
from host.fpga.pipeline_registers import read_top, set_filter, write_rule
from host.model.kill_switch import EventKind

log = logging.getLogger("tickwire.fpga")
LINK_ERRORS = (FpgaError, OSError)
PROBE_S = 1.0
# Kill-switch limits counted in time (ns in the config), which the gateware counts in cycles.
TIME_LIMITS = ("heartbeat_timeout", "rate_window")


def ipv4_number(address: str) -> int:
    return int.from_bytes(socket.inet_aton(address), "big")


def limits_in_cycles(limits: Limits, clock_hz: float) -> Limits:
    """`limits` with its times (ns) turned into cycles of a `clock_hz` clock (at least 1)."""
    scaled = {name: max(1, round(getattr(limits, name) * clock_hz / 1e9))
              for name in TIME_LIMITS if getattr(limits, name)}
    return replace(limits, **scaled)


class FpgaLink:
    def __init__(self, fpga: FpgaInterface, *, heartbeat_s: float, mirror_s: float,
                 mirror: TopMirror, metrics, note: Callable[[str], None]):
        self.fpga = fpga
        self.clock_hz = float(getattr(fpga, "clock_hz", 0) or 125e6)
        self.heartbeat_s = heartbeat_s
        self.mirror_s = mirror_s
        self.mirror = mirror
        self.note = note
        self.state = "up"                  # up, lost, back
        self.lost_reason: str | None = None
        self.switch: KillSwitchStatus | None = None
        self.switch_after_loss: KillSwitchStatus | None = None
        self.trips: list[TripEvent] = []
        self.disagreements: list[dict] = []
        self.on_lost: Callable[[str], None] = lambda reason: None
        self.on_trip: Callable[[TripEvent], None] = lambda event: None
        self._reports: asyncio.Queue = asyncio.Queue()
        self._tasks: list[asyncio.Task] = []
        m = metrics
        self._beats = m.counter("fpga_heartbeats_total", "Heartbeats written to the gateware.")
        self._up = m.gauge("fpga_link_up", "1 while the gateware answers.")
        self._compared = m.counter("fpga_top_compared_total",
                                   "Gateware tops compared with the software path's.")
        self._lag = m.histogram("fpga_top_behind_changes",
                                "Changes the gateware's top was behind the software path's.")
        self._reported = m.counter("fpga_order_events_total",
                                   "Order events reported to the gateware's kill switch.")
        self._metrics = m
        self._up.set(1)

    # -- set-up (blocking: call through asyncio.to_thread) -----------------------------------

    def configure(self, limits: Limits, *, feed_address: str, feed_port: int,
                  client_order_id_base: int) -> KillSwitchStatus:
        fpga = self.fpga
        set_filter(fpga, ipv4_number(feed_address) if feed_port else 0, feed_port)
        fpga.write("trigger_client_order_id_base", client_order_id_base)
        fpga.configure(limits_in_cycles(limits, self.clock_hz))
        # The watchdog counts from the last heartbeat, and set-up takes many slow writes:
        # beat just before arming, or the switch trips the moment it arms.
        fpga.heartbeat()
        self.switch = fpga.arm()
        return self.switch

    def write_rules(self, rules: dict) -> None:
        """After arming: until a rule is in, nothing can fire, so the arm's own status read
        never meets a trip an early intent caused. A heartbeat after each rule keeps the
        watchdog fed through a long list on a slow link."""
        for slot, rule in rules.items():
            write_rule(self.fpga, slot, rule)
            self.fpga.heartbeat()

    def limits_written(self) -> dict[str, int]:
        limits = self.fpga.limits()
        return {f.name: getattr(limits, f.name) for f in fields(limits)}

    # -- running -----------------------------------------------------------------------------

    def start(self) -> None:
        for work in (self._heartbeat(), self._mirror(), self._report_events()):
            self._tasks.append(asyncio.create_task(self._guard(work)))

    def report(self, kind: int, market_id: int, side: int, qty: int) -> None:
        if self.state == "up":
            self._reports.put_nowait((kind, market_id, side, qty))

    async def close(self) -> None:
        """Stop watching; on an orderly stop the switch is tripped (`ks_kill`) first, so the
        board drops every order until someone arms it again."""
        await self._stop_tasks()
        if self.state == "up":
            with contextlib.suppress(*LINK_ERRORS):
                await asyncio.to_thread(self.fpga.kill)
        with contextlib.suppress(*LINK_ERRORS):
            await asyncio.to_thread(self.fpga.close)

    async def _guard(self, work) -> None:
        try:
            await work
        except LINK_ERRORS as exc:
            self._lose(f"{type(exc).__name__}: {exc}")

    def _lose(self, reason: str) -> None:
        if self.state != "up":
            return
        self.state, self.lost_reason = "lost", reason
        self._up.set(0)
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        self._tasks = [asyncio.create_task(self._probe())]
        self.on_lost(reason)

    async def _stop_tasks(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, *LINK_ERRORS):
                await task

    async def _heartbeat(self) -> None:
        while True:
            self.switch, trip = await asyncio.to_thread(self.fpga.beat)
            self._beats.inc()
            if trip is not None:
                self.trips.append(trip)
                self.on_trip(trip)
            await asyncio.sleep(self.heartbeat_s)

    async def _mirror(self) -> None:
        mirror = self.mirror
        while True:
            await asyncio.sleep(self.mirror_s)
            market = mirror.next_market()
            if market is None:
                continue
            top = await asyncio.to_thread(read_top, self.fpga, market)
            if mirror.match(top) < 0:
                # Read again: the book may have moved between the two halves of the read.
                top = await asyncio.to_thread(read_top, self.fpga, market)
            check = mirror.check(top)
            self._compared.inc()
            if check.agrees:
                self._lag.record(check.behind)
                continue
            self._metrics.counter("fpga_top_disagreements_total",
                                  "Gateware tops the software path never had.",
                                  market=str(market)).inc()
            detail = {"market": market, "gateware": list(check.gateware),
                      "software": list(check.software)}
            self.disagreements.append(detail)
            del self.disagreements[:-50]
            log.warning("top of book disagrees on market %d: gateware %s, software %s",
                        market, tuple(check.gateware), tuple(check.software))
            self.note(f"gateware top of market {market} disagrees with the software path")

    async def _report_events(self) -> None:
        while True:
            kind, market_id, side, qty = await self._reports.get()
            await asyncio.to_thread(self.fpga.report_event, EventKind(kind), market_id,
                                    side=side, qty=qty)
            self._reported.inc()

    async def _probe(self) -> None:
        while True:
            await asyncio.sleep(PROBE_S)
            try:
                status = await asyncio.to_thread(self.fpga.status)
            except LINK_ERRORS:
                continue
            self.state, self.switch_after_loss = "back", status
            reasons = sorted(status.reasons) or ["none"]
            armed = "armed" if status.armed else "not armed"
            self.note(f"the FPGA link answers again: switch {armed}, trip reasons "
                      f"{', '.join(reasons)}; staying on the software path and not re-arming "
                      f"(an operator restart arms afresh)")
            return

    def status(self) -> dict:
        s = self.switch_after_loss if self.state == "back" else self.switch
        return {
            "state": self.state, "lost_reason": self.lost_reason, "clock_hz": self.clock_hz,
            "switch": None if s is None else {
                "armed": s.armed, "reasons": sorted(s.reasons), "passed": s.passed,
                "dropped_pipeline": s.dropped_pipeline, "dropped_host": s.dropped_host},
            "trips": [sorted(t.reasons) for t in self.trips[-10:]],
            "mirror": {"compared": self.mirror.compared, "agreed": self.mirror.agreed,
                       "disagreed": self.mirror.disagreed,
                       "last_disagreements": self.disagreements[-5:]},
        }
