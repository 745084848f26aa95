"""Where order intents come from, and the failover between the two places.

The trigger stage runs the latency arbitrages the offload plan gives it (offload.py):
- in the gateware (`--fpga sim` or `serial`): its intents arrive over UDP, as a board's
  order framer sends them;
- or in its model on the software path (`--fpga none`, or after a failover): feed_path.py
  on the colo feed.
The software path reads the feed in every mode: it is the mirror the gateware's tops are
checked against, and the hot standby the daemon fails over to.

Failover: when the FPGA link is lost (fpga_link.py calls `_link_lost`), the daemon cancels
its open orders (over the WebSocket, and over REST as the backstop), makes the software path
live, journals and reports the switch, and goes on trading in the same process with the same
OMS. The gateware's watchdog trips its own switch meanwhile; the daemon never re-arms it.

`--fpga auto` opens a board on `fpga.serial_port` if one answers, else runs `none`, and says
which it picked.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from dataclasses import replace
from pathlib import Path

from host.daemon.feed_path import FeedPath
from host.daemon.fpga_link import LINK_ERRORS, FpgaLink
from host.daemon.offload import OffloadPlan, plan_offload
from host.daemon.top_mirror import TopMirror
from host.daemon.trader import ReportToFpga, SendCancelAll
from host.daemon.udp_reader import UdpReader, open_udp
from host.fpga.errors import NoFpga
from host.fpga.interface import open_fpga
from host.wire import decode_order_intent
from host.wire.errors import WireError

PRICE_WAIT_S = 15.0     # for the colo feed to price each arbitrage's secondary
SERIAL_RETRIES = 3      # per register access, once a board is in use


class TriggerPaths:
    def __init__(self, config, session, metrics, execute, cancel_over_rest):
        self.config = config
        self.session = session
        self.metrics = metrics
        self.execute = execute
        self.cancel_over_rest = cancel_over_rest
        self.asked = config.daemon.fpga
        self.mode = "none"               # the backend in use: none, sim or serial
        self.picked: str | None = None   # what `auto` found
        self.path = "software"           # where traded intents come from: fpga or software
        self.failover: dict | None = None
        self.plan = OffloadPlan()
        self.mirror = TopMirror(())
        self.feed_path = FeedPath()
        self.link: FpgaLink | None = None
        self._readers: list[UdpReader] = []
        self._tasks: list[asyncio.Task] = []
        self._bad_intents = metrics.counter("intent_frames_bad_total",
                                            "Intent datagrams that did not decode.")
        self._late_intents = metrics.counter(
            "intents_after_failover_total", "Gateware intents that arrived after the failover "
                                            "(dropped: the software path trades now).")

    # -- start-up ----------------------------------------------------------------------------

    async def start(self) -> None:
        cfg = self.config.fpga
        s = self.session
        plan = plan_offload(self.config.strategies, s.markets, has_feed=cfg.feed_port > 0)
        self.mirror = TopMirror(plan.market_ids)
        self.feed_path = FeedPath(self.mirror, client_order_id_base=s.boot << 32)
        if cfg.feed_port:
            sock = open_udp(cfg.feed_host, cfg.feed_port, cfg.feed_group)
            self._readers.append(UdpReader(sock, self._on_feed).start())
        fpga = await self._open_backend()
        plan, rules = await self._price_rules(plan)
        self.plan = plan
        s.trader.offload = plan
        for name in plan.strategies:
            s.trader.strategies[name].offloaded = True
        for line in plan.describe():
            s.note(f"trigger plan: {line}")
        for slot, rule in rules.items():
            self.feed_path.write_rule(slot, rule)
        if fpga is None:
            self.feed_path.live = True
            return
        self.link = link = FpgaLink(fpga, heartbeat_s=cfg.heartbeat_ms / 1000,
                                    mirror_s=cfg.mirror_ms / 1000, mirror=self.mirror,
                                    metrics=self.metrics, note=s.note)
        limits = replace(self.config.risk.board_limits,
                         heartbeat_timeout=int(cfg.heartbeat_timeout_ms * 1_000_000))
        try:
            await asyncio.to_thread(
                link.configure, limits, feed_address=cfg.feed_group or cfg.feed_host,
                feed_port=cfg.feed_port, client_order_id_base=s.boot << 32)
            await asyncio.to_thread(link.write_rules, rules)
        except BaseException:
            await link.close()
            raise
        link.on_lost = self._link_lost
        link.on_trip = self._fpga_tripped
        link.start()
        self.path = "fpga"
        s.note(f"trading through the {self.mode} FPGA (clock {link.clock_hz:.6g} Hz); the "
               f"software path mirrors it")

    async def _open_backend(self):
        cfg = self.config.fpga
        mode = self.asked
        if mode == "none":
            return None
        if mode == "auto":
            try:
                fpga = await asyncio.to_thread(
                    open_fpga, "serial", port=cfg.serial_port, baudrate=cfg.baudrate,
                    timeout=cfg.link_timeout_ms / 1000, retries=1, clock_hz=cfg.clock_hz)
            except LINK_ERRORS as exc:
                self.picked = "none"
                self._say(f"--fpga auto picked none: no board answered on {cfg.serial_port} "
                          f"({type(exc).__name__}: {exc})")
                return None
            fpga.backend.retries = SERIAL_RETRIES   # the probe tried once more only
            self.picked = self.mode = "serial"
            self._say(f"--fpga auto picked serial: a board answered on {cfg.serial_port}")
            self._listen_for_intents()
            return fpga
        self.mode = mode
        intents = self._listen_for_intents()
        if mode == "serial":
            try:
                return await asyncio.to_thread(open_fpga, "serial", port=cfg.serial_port,
                                               baudrate=cfg.baudrate, clock_hz=cfg.clock_hz,
                                               timeout=cfg.link_timeout_ms / 1000)
            except OSError as exc:   # the port cannot even be opened
                raise NoFpga(f"{cfg.serial_port}: {exc}") from exc
        from sim.fpga_loop import FeedAddress

        feed = FeedAddress(cfg.feed_host, cfg.feed_port, cfg.feed_group or None)
        return await asyncio.to_thread(open_fpga, "sim", work_dir=Path(cfg.sim_dir),
                                       feed=feed, intents_to=intents)

    def _listen_for_intents(self) -> tuple[str, int]:
        """The UDP socket the FPGA's order frames come to (a board is built to send them to
        `intents_host:intents_port`; the simulator is told the address)."""
        cfg = self.config.fpga
        reader = UdpReader(open_udp(cfg.intents_host, cfg.intents_port),
                           self._on_intent_datagram).start()
        self._readers.append(reader)
        return reader.address

    async def _price_rules(self, plan: OffloadPlan) -> tuple[OffloadPlan, dict]:
        """Each arbitrage's rule, sized at its secondary's mid from the colo feed; an
        arbitrage the feed does not price in time stays a host strategy."""
        deadline = time.monotonic() + PRICE_WAIT_S
        rules, arbs, kept = {}, [], dict(plan.kept)
        for arb in plan.arbs:
            while True:
                top = self.feed_path.top(arb.secondary_id)
                if top.bid_valid and top.ask_valid or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
            if not (top.bid_valid and top.ask_valid):
                kept[arb.strategy] = "no_feed_data"
                continue
            rules[arb.primary_id] = arb.rule((top.bid_price + top.ask_price) / 2)
            arbs.append(arb)
        return OffloadPlan(tuple(arbs), kept), rules

    # -- intents -----------------------------------------------------------------------------

    def _on_feed(self, payload: bytes, recv_ns: int) -> None:
        for intent in self.feed_path.on_payload(payload):
            self._trade(intent, "software", recv_ns)

    def _on_intent_datagram(self, payload: bytes, recv_ns: int) -> None:
        try:
            intent = decode_order_intent(payload)
        except WireError:
            self._bad_intents.inc()
            return
        if self.path != "fpga":
            self._late_intents.inc()
            return
        self._trade(intent, "fpga", recv_ns)

    def _trade(self, intent, source: str, recv_ns: int) -> None:
        trader = self.session.trader
        if trader is None or not trader.trading:
            return
        self.execute(trader.on_intent(intent, source, recv_ns, time.time_ns()))

    def report(self, cmd: ReportToFpga) -> None:
        if self.link is not None and self.path == "fpga":
            self.link.report(cmd.kind, cmd.market_id, cmd.side, cmd.qty)

    # -- failover ----------------------------------------------------------------------------

    def _link_lost(self, reason: str) -> None:
        s = self.session
        now = time.monotonic_ns()
        open_ids = [o.order_id for o in s.oms.open_orders()]
        open_orders = len(open_ids)
        self.path = "software"
        self.feed_path.live = True
        self.failover = {"reason": reason, "uptime_s": (now - s.started_ns) / 1e9,
                         "cancelled": open_ids, "from": self.mode}
        self.metrics.counter("fpga_failovers_total", "Switches from the FPGA to the "
                             "software path.").inc()
        s.journal.risk_event("failover", "fpga_link_lost",
                             {"reason": reason, "open_orders": open_orders,
                              "backend": self.mode}, now)
        self._say(f"FPGA link lost ({reason}): cancelling {open_orders} open orders and "
                  f"trading on the software path; the gateware's watchdog trips its switch")
        if s.link_up():
            self.execute([SendCancelAll()])
        self._tasks.append(asyncio.create_task(self.cancel_over_rest("fpga_failover")))

    def _fpga_tripped(self, trip) -> None:
        """The gateware's kill switch tripped while the link is up: stop everything."""
        s = self.session
        reasons = ",".join(sorted(trip.reasons))
        s.journal.risk_event("fpga_trip", reasons, {"trip_time": trip.trip_time},
                             time.monotonic_ns())
        self._say(f"the gateware's kill switch tripped ({reasons}): halting")
        self.execute(s.trader.kill(f"fpga_trip:{reasons}", time.monotonic_ns()))

    def _say(self, text: str) -> None:
        self.session.note(text)
        print(f"tickwire: {text}", file=sys.stderr, flush=True)

    # -- views and shutdown ------------------------------------------------------------------

    def status(self) -> dict:
        return {
            "asked": self.asked, "backend": self.mode, "picked": self.picked,
            "path": self.path, "failover": self.failover,
            "plan": self.plan.describe(),
            "software_path": dict(self.feed_path.counters),
            "link": self.link.status() if self.link is not None else None,
        }

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.link is not None:
            await self.link.close()
        for reader in self._readers:
            reader.close()
        self._readers = []
