"""Builds the daemon's parts in order and routes the venue session's events to the Trader.

`build_session` is the start-up sequence: the key, the venue's markets over REST, the
journal (a new boot number) and what it recovers into the OMS, then risk (seeded with the
recovered positions), the strategies, the Trader and the WebSocket connection, not yet
started. `TradingSession` keeps them together and answers the runner: reconcile, cancel over
REST, status, the progress line and shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from host.daemon.config import DaemonConfig
from host.daemon.summary import latency_table
from host.daemon.trader import Trader
from host.journal.journal import Journal
from host.metrics.registry import Registry
from host.oms.ids import ClientIds
from host.oms.oms import Oms
from host.oms.reconcile import apply as apply_reconciliation
from host.oms.reconcile import reconcile
from host.oms.states import OmsError
from host.risk.engine import RiskEngine
from host.strategy.build import build_strategies
from host.venue_client.book import SequenceGap, TopOfBook
from host.venue_client.credentials import load_api_key
from host.venue_client.errors import ClientError
from host.venue_client.events import ORDER_EVENTS, MarketStatus, VenueError
from host.venue_client.rest import RestClient
from host.venue_client.session import State, Subscription
from host.venue_client.ws_adapter import VenueConnection

RESTART_CANCEL = "restart"


class TradingSession:
    def __init__(self, config: DaemonConfig, metrics: Registry, key, rest: RestClient,
                 markets, journal: Journal, oms: Oms):
        self.config = config
        self.metrics = metrics
        self.key = key
        self.rest = rest
        self.markets = markets
        self.journal = journal
        self.oms = oms
        self.boot = journal.boot
        self.started_ns = time.monotonic_ns()
        self.notes: list[str] = []
        self.trader: Trader | None = None
        self.connection: VenueConnection | None = None
        self.metrics_port: int | None = None
        self.final_journal_summary = None
        self.on_commands: Callable = lambda commands: None
        self.request_reconcile: Callable = lambda why: None
        self._gaps = metrics.counter("book_resyncs_total", "Book sequence gaps resynced.")
        self._bad_frames = metrics.counter("protocol_errors_total", "Malformed venue frames.")
        self._venue_errors = metrics.counter("venue_errors_total", "Venue error messages.")
        self._recovered = len(oms.open_orders())

    # -- the venue session's callback --------------------------------------------------------

    def handle(self, event, recv_ns: int) -> None:
        trader = self.trader
        wall_ns = time.time_ns()
        if isinstance(event, TopOfBook):
            commands = trader.on_top(event, recv_ns, wall_ns)
        elif isinstance(event, ORDER_EVENTS):
            try:
                commands = trader.on_order_event(event, recv_ns, wall_ns)
            except OmsError as exc:
                # The OMS refused an event and is unchanged: record it and ask the venue.
                self.journal.risk_event("oms_error", getattr(exc, "reason", "oms_error"),
                                        {"event": repr(event), "error": str(exc)}, recv_ns)
                self.note(f"OMS refused {type(event).__name__}: {exc}; reconciling")
                self.request_reconcile("oms_error")
                return
        elif isinstance(event, MarketStatus):
            commands = trader.on_market_status(event, recv_ns, wall_ns)
        elif isinstance(event, SequenceGap):
            self._gaps.inc()
            self.note(f"book gap on {event.market}: resynced that market only")
            self.journal.risk_event("resync", "sequence_gap",
                                    {"market": event.market, "expected": event.expected,
                                     "got": event.got}, recv_ns)
            return
        elif isinstance(event, ClientError):
            self._bad_frames.inc()
            return
        elif isinstance(event, VenueError):
            self._venue_errors.inc()
            self.note(f"venue error {event.code}: {event.message}")
            return
        else:
            return
        if commands:
            self.on_commands(commands)

    # -- reconciliation and REST cancels -----------------------------------------------------

    async def reconcile(self, why: str) -> list:
        venue_orders = await self.rest.open_orders(self.markets)
        venue_positions = await self.rest.positions(self.markets)
        now = time.monotonic_ns()
        rec = reconcile(self.oms, venue_orders, venue_positions)
        events = apply_reconciliation(self.oms, rec, now)
        for vo in rec.to_cancel:
            with contextlib.suppress(ClientError):
                await self.rest.cancel(vo.order_id)
        self.journal.risk_event("reconcile", why, {
            "gone": len(rec.gone), "behind": len(rec.behind), "adopted": len(rec.adopt),
            "cancelled_unknown": len(rec.to_cancel), "position_diffs": len(rec.positions),
            "venue_open": len(venue_orders)}, now)
        if not rec.clean:
            self.note(f"reconcile after {why}: {len(rec.gone)} gone, {len(rec.behind)} behind, "
                      f"{len(rec.adopt)} adopted, {len(rec.to_cancel)} cancelled, "
                      f"{len(rec.positions)} position fixes")
        if self.trader is not None:
            commands = self.trader.on_reconciled(events, now, time.time_ns())
        else:
            self.journal.oms_events(events)
            commands = []
        if why == "start-up" and self.oms.open_orders():
            # The strategies start clean: whatever the last run left resting is cancelled.
            await self.cancel_all_over_rest(RESTART_CANCEL)
            commands += await self.reconcile("start-up cancel")
        return commands

    async def cancel_all_over_rest(self, why: str) -> None:
        open_before = len(self.oms.open_orders())
        cancelled = await self.rest.cancel_all()
        self.journal.risk_event("cancel_all", why, {"venue_cancelled": cancelled,
                                                    "open_at_our_side": open_before},
                                time.monotonic_ns())

    # -- operator views ----------------------------------------------------------------------

    def note(self, text: str) -> None:
        self.notes.append(text)
        del self.notes[:-100]

    def link_up(self) -> bool:
        return self.connection is not None and self.connection.state is State.LIVE

    def positions(self) -> dict[str, dict]:
        out = {}
        for market, pos in self.oms.positions().items():
            spec = self.markets[market]
            top = self.trader.tops.get(market) if self.trader else None
            mark = (top.bid + top.ask) / 2 if top and top.bid and top.ask else pos.avg_price
            unrealized = pos.qty * (mark - pos.avg_price) * spec.notional_unit if pos.qty else 0
            out[market] = {"qty": pos.qty, "avg_price": pos.avg_price,
                           "realized_usd": pos.realized_usd, "unrealized_usd": unrealized,
                           "fees_usd": pos.fees_usd}
        return out

    def status(self) -> dict:
        risk = self.trader.risk.status()
        return {
            "uptime_s": (time.monotonic_ns() - self.started_ns) / 1e9,
            "boot": self.boot, "link_up": self.link_up(), "fpga": self.config.daemon.fpga,
            "open_orders": len(self.oms.open_orders()),
            "orders_sent": self.metrics.counter("orders_total").value,
            "fills": self.metrics.counter("fills_total").value,
            "positions": self.positions(),
            "risk": {"state": str(risk.state), "trips": list(risk.halt_reasons),
                     "reducing": list(risk.reducing_markets), "throttled": risk.throttled,
                     "denied": risk.denied, "realized_usd": risk.realized_usd,
                     "unrealized_usd": risk.unrealized_usd},
            "latency": latency_table(self.metrics),
            "strategies": {name: st.status() for name, st in self.trader.strategies.items()},
            "metrics_port": self.metrics_port,
            "notes": self.notes[-10:],
        }

    def progress_line(self) -> str:
        s = self.status()
        pos = " ".join(f"{m} {p['qty']:+}" for m, p in sorted(s["positions"].items())) or "flat"
        pnl = sum(p["realized_usd"] + p["unrealized_usd"] - p["fees_usd"]
                  for p in s["positions"].values())
        ack = s["latency"].get("order to ack", {})
        ack_text = (f" | ack p50 {ack['p50'] / 1000:.0f} µs p99 {ack['p99'] / 1000:.0f} µs"
                    if ack.get("count") else "")
        return (f"tickwire {s['uptime_s']:6.1f} s | link {'up' if s['link_up'] else 'DOWN'} | "
                f"orders {s['orders_sent']} fills {s['fills']} open {s['open_orders']} | "
                f"{pos} | pnl {pnl:+.2f} USDC | risk {s['risk']['state']}{ack_text}")

    async def shutdown(self) -> None:
        conn = self.connection
        commands = self.trader.stop_trading() if self.trader else []
        if conn is not None and conn.state is State.LIVE and self.oms.open_orders():
            with contextlib.suppress(ClientError):
                self.on_commands(commands)
            deadline = time.monotonic() + 2.0
            while self.oms.open_orders() and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        if self.oms.open_orders():
            with contextlib.suppress(ClientError, OSError, TimeoutError):
                await self.cancel_all_over_rest("shutdown")
                with contextlib.suppress(Exception):
                    await self.reconcile("shutdown")
        if conn is not None:
            await conn.close()
        await self.rest.close()
        self.final_journal_summary = self.journal.summary()
        self.journal.close()


async def build_session(config: DaemonConfig, metrics: Registry, on_commands,
                        on_state) -> TradingSession:
    v = config.venue
    key = load_api_key(v.api_key_env, v.api_key_file)
    rest = RestClient(v.rest_url, key)
    journal = None
    try:
        markets = await rest.markets()
        journal = Journal(config.daemon.journal)
        boot = journal.start()
        oms = Oms(markets, ClientIds(boot))
        oms.restore(journal.recover(markets))
        session = TradingSession(config, metrics, key, rest, markets, journal, oms)
        # The venue's word on orders and positions comes before risk counts a single lot.
        await session.reconcile("start-up")
        risk = RiskEngine(config.risk, markets, time.monotonic_ns(), positions=oms.positions(),
                          wall_ns=time.time_ns())
        strategies = build_strategies(config.strategies, markets)
        session.trader = trader = Trader(markets, oms, risk, strategies, journal, metrics)
        session.on_commands = on_commands
        trader.apply_risk_events(risk.startup_events())   # nothing rests yet to cancel
        wanted = sorted({m for s in strategies for m in s.markets})
        subscriptions = [Subscription("orderbook", tuple(wanted), v.book_depth)] if wanted else []
        session.connection = VenueConnection(
            v.ws_url, key, markets, subscriptions, on_event=session.handle,
            on_state=lambda state: on_state(state is State.LIVE))
        return session
    except BaseException:
        if journal is not None:
            journal.close()
        await rest.close()
        raise
