"""The daemon's sans-I/O core: market data and order events in, venue commands out.

It joins the pieces in one fixed order, so every decision leaves a record and a number:
- a top-of-book change goes to risk (collar reference and mark), then to the strategies that
  trade that market; each order a strategy asks for is checked by risk, entered in the OMS,
  journaled, and only then returned as a `SendOrder` for the runner to put on the wire;
- an order intent from the trigger stage (the gateware's, or its model's on the software
  path: trigger_paths.py) goes to the strategy whose rule fired, then the same way;
- an order event from the venue updates the OMS, then risk, then the strategy that owns the
  order (by its tag); every OMS and risk event is journaled and counted. Events of the
  trigger's orders are also reported to the gateware's kill switch (`ReportToFpga`).
The runner (runner.py) owns the socket and the loop. `clock` is the monotonic clock, passed
in so that tests can drive time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from host.daemon.offload import OffloadPlan
from host.metrics.registry import Registry
from host.model.kill_switch import EventKind
from host.oms.events import OrderFilled, OrderStateChanged
from host.strategy.actions import CancelAll, CancelOrder, PlaceOrder
from host.venue_client.events import (
    CancelReject,
    Fill,
    MarketStatus,
    OrderAck,
    OrderReject,
    OrderType,
    Side,
)


@dataclass(frozen=True, slots=True)
class SendOrder:
    order_id: str
    market: str
    side: Side
    qty: int
    price: int | None
    order_type: OrderType
    origin_ns: int = 0      # when the message that caused it arrived (monotonic)
    from_tick: bool = False  # caused by market data (else by an order event: a requote)


@dataclass(frozen=True, slots=True)
class SendCancel:
    order_id: str


@dataclass(frozen=True, slots=True)
class SendCancelAll:
    market: str | None = None


@dataclass(frozen=True, slots=True)
class ReportToFpga:
    """An order event of a trigger-rule order, for the gateware kill switch's own count of
    rejects in a row and of positions (host.fpga.interface.FpgaInterface.report_event)."""

    kind: int           # host.model.kill_switch.EventKind
    market_id: int
    side: int           # 1 buy, 2 sell
    qty: int


_FPGA_EVENT = {OrderAck: EventKind.ACK, OrderReject: EventKind.REJECT, Fill: EventKind.FILL}

Command = SendOrder | SendCancel | SendCancelAll | ReportToFpga


class Trader:
    def __init__(self, markets, oms, risk, strategies, journal, metrics: Registry,
                 clock=time.monotonic_ns):
        self.markets = markets
        self.oms = oms
        self.risk = risk
        self.strategies = {s.name: s for s in strategies}
        self._by_market: dict[str, list] = {}
        for s in strategies:
            for market in s.markets:
                self._by_market.setdefault(market, []).append(s)
        self.journal = journal
        self.metrics = metrics
        self.clock = clock
        self.tops: dict[str, object] = {}
        self.offload = OffloadPlan()        # strategies the trigger stage runs (offload.py)
        self.intent_orders: dict[str, str] = {}  # order id -> "fpga" or "software" intent
        self._intent_counters: dict[tuple[str, str], object] = {}  # per-intent, so cached
        self.halted_markets: set[str] = set()
        self.risk_log: list[dict] = []      # this run's trips and state changes, for summaries
        self.trading = True                 # False once shutting down: no new orders
        self._last_denial: dict[str, str] = {}   # strategy -> reason of its last denial
        self._dispatch_is_tick = False       # is the message being handled market data?
        m = metrics
        self._ack = m.histogram("ack_seconds", "Order sent to the venue's ack.")
        self._fill = m.histogram("first_fill_seconds", "Order sent to its first fill.")
        self._orders = m.counter("orders_total", "Orders sent.")
        self._fills = m.counter("fills_total", "Fills received.")
        self._rejects = m.counter("rejects_total", "Orders the venue rejected.")
        self._tops_seen = m.counter("book_tops_total", "Top-of-book changes seen.")

    # -- market data -------------------------------------------------------------------------

    def on_top(self, top, recv_ns: int, wall_ns: int) -> list[Command]:
        """A market's best bid/offer changed."""
        self._tops_seen.inc()
        self._dispatch_is_tick = True
        self.tops[top.market] = top
        commands: list[Command] = []
        self._risk_events(self.risk.on_book(top.market, top.bid, top.ask, recv_ns), commands)
        if top.bid and top.ask:
            self._risk_events(self.risk.on_mark(top.market, (top.bid + top.ask) / 2, recv_ns),
                              commands)
        for strategy in self._by_market.get(top.market, ()):
            actions = strategy.on_top(top, recv_ns, self.clock())
            self._run(strategy, actions, recv_ns, wall_ns, commands)
        return commands

    def on_market_status(self, event: MarketStatus, recv_ns: int, wall_ns: int
                         ) -> list[Command]:
        (self.halted_markets.add if event.halted else self.halted_markets.discard)(event.market)
        commands: list[Command] = []
        for strategy in self._by_market.get(event.market, ()):
            self._run(strategy, strategy.on_market_status(event.market, event.halted),
                      recv_ns, wall_ns, commands)
        return commands

    def on_intent(self, intent, source: str, recv_ns: int, wall_ns: int) -> list[Command]:
        """The trigger stage fired: an OrderIntent from the gateware (`source` "fpga") or
        from its model on the software path ("software"). It goes to the strategy whose rule
        fired, and from there through risk, the OMS and the journal like any order."""
        self._dispatch_is_tick = True
        arb = self.offload.by_slot(intent.rule_id)
        outcome = "traded"
        commands: list[Command] = []
        if arb is None or arb.secondary_id != intent.market_id:
            outcome = "unknown_rule"
        else:
            strategy = self.strategies[arb.strategy]
            side = Side.BUY if intent.side == 1 else Side.SELL
            actions = strategy.on_intent(side, intent.price, intent.qty, wall_ns, recv_ns)
            if not actions:
                outcome = "skipped"
            self._run(strategy, actions, recv_ns, wall_ns, commands)
            for cmd in commands:
                if isinstance(cmd, SendOrder):
                    self.intent_orders[cmd.order_id] = source
            if len(self.intent_orders) > 10_000:
                del self.intent_orders[next(iter(self.intent_orders))]
        counter = self._intent_counters.get((source, outcome))
        if counter is None:
            counter = self._intent_counters[source, outcome] = self.metrics.counter(
                "intents_total", "Order intents from the trigger stage.", source=source,
                outcome=outcome)
        counter.inc()
        return commands

    # -- orders ------------------------------------------------------------------------------

    def on_order_event(self, event, recv_ns: int, wall_ns: int) -> list[Command]:
        self._dispatch_is_tick = False
        commands: list[Command] = []
        oms_events = self.oms.on_event(event, recv_ns)
        self.journal.oms_events(oms_events)
        order = self.oms.order(event.order_id)
        if isinstance(event, OrderAck):
            self._risk_events(self.risk.on_ack(recv_ns), commands)
            if order is not None and order.ack_ns == recv_ns and not order.implicit_ack:
                self._ack.record(order.ack_ns - order.sent_ns)
        elif isinstance(event, Fill):
            self._fills.inc()
            self._risk_events(self.risk.on_fill(event, recv_ns), commands)
            if order is not None and order.first_fill_ns == recv_ns:
                self._fill.record(order.first_fill_ns - order.sent_ns)
        elif isinstance(event, OrderReject):
            self._rejects.inc()
            self._risk_events(self.risk.on_reject(event.reason, recv_ns), commands)
        strategy = self.strategies.get(order.tag) if order is not None else None
        if strategy is not None and order.tag in self.offload.strategies:
            self._report_to_fpga(event, order, commands)
        if strategy is not None:
            if isinstance(event, Fill):
                self._run(strategy, strategy.on_fill(event), recv_ns, wall_ns, commands)
            if isinstance(event, CancelReject):
                actions = strategy.on_cancel_rejected(event.order_id, event.reason)
                self._run(strategy, actions, recv_ns, wall_ns, commands)
            for ev in oms_events:
                if isinstance(ev, OrderStateChanged):
                    actions = strategy.on_order_update(ev.order.order_id, ev.new)
                    self._run(strategy, actions, recv_ns, wall_ns, commands)
        return commands

    def _report_to_fpga(self, event, order, commands) -> None:
        kind = _FPGA_EVENT.get(type(event))
        if kind is None:
            return
        market_id = self.markets[order.market].market_id
        side = 1 if order.side is Side.BUY else 2
        qty = event.qty if isinstance(event, Fill) else 0
        commands.append(ReportToFpga(int(kind), market_id, side, qty))

    def on_reconciled(self, oms_events, recv_ns: int, wall_ns: int) -> list[Command]:
        """Reconciliation changed orders behind the strategies' backs: tell their owners."""
        commands: list[Command] = []
        self.journal.oms_events(oms_events)
        for ev in oms_events:
            if isinstance(ev, OrderFilled):
                # A fill we missed while away still moves risk's positions and PnL.
                self._risk_events(self.risk.on_fill(ev.fill, recv_ns), commands)
            if isinstance(ev, OrderStateChanged):
                strategy = self.strategies.get(ev.order.tag)
                if strategy is not None:
                    actions = strategy.on_order_update(ev.order.order_id, ev.new)
                    self._run(strategy, actions, recv_ns, wall_ns, commands)
        return commands

    # -- operator ----------------------------------------------------------------------------

    def kill(self, reason: str, now_ns: int) -> list[Command]:
        commands: list[Command] = []
        self._risk_events(self.risk.kill(reason, now_ns), commands)
        if not any(isinstance(c, SendCancelAll) and c.market is None for c in commands):
            commands.append(SendCancelAll())
        return commands

    def apply_risk_events(self, events) -> list[Command]:
        commands: list[Command] = []
        self._risk_events(events, commands)
        return commands

    # -- internals ---------------------------------------------------------------------------

    def _run(self, strategy, actions, recv_ns, wall_ns, commands) -> None:
        for action in actions:
            if isinstance(action, PlaceOrder):
                self._place(strategy, action, recv_ns, wall_ns, commands)
            elif isinstance(action, CancelOrder):
                if self.oms.cancel_requested(action.order_id, self.clock()) is not None:
                    commands.append(SendCancel(action.order_id))
            elif isinstance(action, CancelAll):
                commands.append(SendCancelAll(action.market))

    def stop_trading(self) -> list[Command]:
        """Shutting down: strategies may still ask, but nothing new goes out."""
        self.trading = False
        return [SendCancelAll()]

    def _place(self, strategy, req: PlaceOrder, recv_ns, wall_ns, commands) -> None:
        if not self.trading:
            return
        top = self.tops.get(req.market)
        position = self.oms.position(req.market).qty
        now = self.clock()
        verdict = self.risk.check(req, now, top.ts_ns if top else 0, wall_ns, position)
        self._risk_events(verdict.events, commands)
        if not verdict.allowed:
            reason = str(verdict.reason)
            self.metrics.counter("denials_total", "Orders risk refused, by reason.",
                                 reason=reason).inc()
            # A halted or throttled engine refuses a quote on every top: the journal keeps
            # the first of each run per strategy and reason, the counter keeps them all.
            if self._last_denial.get(req.tag) != reason:
                self._last_denial[req.tag] = reason
                self.journal.risk_event("deny", reason,
                                        {"market": req.market, "side": str(req.side),
                                         "qty": req.qty, "price": req.price, "tag": req.tag,
                                         "detail": verdict.detail}, now)
            self._run(strategy, strategy.on_denied(req, reason), recv_ns, wall_ns, commands)
            return
        self._last_denial.pop(req.tag, None)
        order = self.oms.submit(req, now)
        self.journal.order_submitted(order)
        self._orders.inc()
        self.metrics.counter("strategy_orders_total", "Orders sent, by strategy.",
                             strategy=req.tag).inc()
        # Latency runs from the message being handled: a requote caused by a cancel's
        # confirmation counts from that confirmation, not from the older top it prices off.
        commands.append(SendOrder(order.order_id, req.market, req.side, req.qty, req.price,
                                  req.order_type, recv_ns, self._dispatch_is_tick))
        self._run(strategy, strategy.on_submitted(req, order.order_id), recv_ns, wall_ns,
                  commands)

    def _risk_events(self, events, commands) -> None:
        for ev in events:
            kind = str(getattr(ev.kind, "value", ev.kind))
            self.journal.risk_event(kind, str(ev.reason), dict(ev.detail), ev.now_ns)
            self.risk_log.append({"kind": kind, "reason": str(ev.reason),
                                  "detail": dict(ev.detail)})
            del self.risk_log[:-1000]
            self.metrics.counter("risk_events_total", "Risk trips and state changes.",
                                 kind=kind, reason=str(ev.reason)).inc()
            for action in ev.actions:
                if isinstance(action, CancelAll):
                    commands.append(SendCancelAll(action.market))
