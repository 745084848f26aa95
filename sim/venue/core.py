"""The venue without its sockets: accounts, limits, faults, the engine and market data.

WebSocket sessions, REST requests, the generator and replay all act through `VenueCore`.
Each command runs the engine, then routes the private events (to the connection that placed
the order and to the key's `orders` subscribers), then publishes market data: private
answers first, so the acknowledgement path does no market-data work before it replies.
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Callable

from host.wire import TradingStatus
from sim.venue import protocol
from sim.venue.accounts import Account
from sim.venue.colo_feed import FeedEncoder
from sim.venue.config import AccountSpec, VenueConfig
from sim.venue.engine import SIDE_NAMES, SIDES, Engine, NewOrder
from sim.venue.errors import Reason, VenueError
from sim.venue.events import Accepted, Cancelled, CancelRejected, Filled, Rejected
from sim.venue.faults import Faults
from sim.venue.limits import RateWindow
from sim.venue.marketdata import MarketData
from sim.venue.markets import MarketSpec


class VenueCore:
    def __init__(self, config: VenueConfig, *, clock_ns: Callable[[], int] = time.time_ns,
                 monotonic: Callable[[], float] = time.monotonic):
        self.config = config
        self.limits = config.limits
        self.clock_ns = clock_ns
        self.monotonic = monotonic
        self.engine = Engine(config.markets, config.fees, config.limits.max_open_orders)
        self.markets: dict[str, MarketSpec] = {m.name: m for m in config.markets}
        session = config.feed.session
        if session is None:
            session = (clock_ns() // 1_000_000_000) & 0xFFFFFFFF
        self.encoder = FeedEncoder(session, max_payload=config.feed.max_payload, clock=clock_ns)
        self.md = MarketData(self.engine, self.encoder, clock_ns)
        self.faults = Faults(config.faults)
        self.by_key: dict[str, Account] = {}
        self.by_agent: dict[str, Account] = {}
        self._ids = itertools.count(1)
        self._order_rate: dict[int, RateWindow] = {}
        self._cancel_rate: dict[int, RateWindow] = {}
        self.connections: dict[int, set] = {}  # account id -> authenticated sessions
        self.watchers: dict[int, set] = {}  # account id -> sessions on the `orders` channel
        self.orders_in = 0
        for spec in config.accounts:
            self.add_account(spec)

    # -- accounts ----------------------------------------------------------------------------

    def add_account(self, spec: AccountSpec) -> Account:
        if spec.api_key in self.by_key or spec.agent_id in self.by_agent:
            raise ValueError(f"account {spec.agent_id!r} or its key already exists")
        account = Account(next(self._ids), spec.agent_id, spec.api_key, spec.balance_usdc,
                          admin=spec.admin)
        self.by_key[spec.api_key] = self.by_agent[spec.agent_id] = account
        return account

    def house_account(self, name: str) -> Account:
        """A liquidity account for the generator or replay: no margin, no accounting."""
        account = self.by_agent.get(f"house:{name}")
        if account is None:
            account = Account(next(self._ids), f"house:{name}", "", 0.0, house=True)
            self.by_agent[account.agent_id] = account
        return account

    def register(self, agent_id: str) -> Account:
        """Purple Flea's register: a new account, or a new key for a known agent."""
        account = self.by_agent.get(agent_id)
        key = "pf_live_" + secrets.token_hex(16)
        if account is None:
            return self.add_account(AccountSpec(key, agent_id,
                                                self.config.register_balance_usdc))
        if account.house:
            raise VenueError("that agent id is reserved", code=Reason.BAD_FIELD,
                             field="agent_id")
        del self.by_key[account.api_key]
        account.api_key = key
        self.by_key[key] = account
        return account

    def authenticate(self, api_key: str | None) -> Account | None:
        return self.by_key.get(api_key) if api_key else None

    # -- connections -------------------------------------------------------------------------

    def attach(self, session, account: Account) -> Reason | None:
        sessions = self.connections.setdefault(account.account_id, set())
        if session not in sessions and len(sessions) >= self.limits.connections_per_key:
            return Reason.TOO_MANY_CONNECTIONS
        sessions.add(session)
        return None

    def connection_count(self, account: Account) -> int:
        return len(self.connections.get(account.account_id, ()))

    def detach(self, session) -> None:
        account = session.account
        if account is not None:
            self.connections.get(account.account_id, set()).discard(session)
            self.watchers.get(account.account_id, set()).discard(session)
        self.md.drop(session)

    def watch_orders(self, session, on: bool) -> None:
        watchers = self.watchers.setdefault(session.account.account_id, set())
        if on:
            watchers.add(session)
        else:
            watchers.discard(session)

    # -- orders ------------------------------------------------------------------------------

    def place(self, account: Account, req: protocol.PlaceOrder, origin=None) -> list:
        self.orders_in += 1
        spec = self.markets.get(req.market)
        if spec is None:
            return self._deny(account, req.order_id, Reason.UNKNOWN_MARKET,
                              f"no market {req.market!r}", origin)
        now = self.monotonic()
        window = self._order_rate.get(account.account_id)
        if window is None:
            window = self._order_rate[account.account_id] = RateWindow(self.limits.orders_per_s)
        if not window.allow(now):
            return self._deny(account, req.order_id, Reason.ORDER_RATE,
                              f"more than {self.limits.orders_per_s} orders/s", origin)
        if self.faults.reject_now(now):
            return self._deny(account, req.order_id, Reason.VENUE_BUSY,
                              "the venue is busy (injected reject burst)", origin)
        try:
            price = spec.to_ticks(req.price) if req.price is not None else None
            qty = spec.to_lots(req.qty)
        except VenueError as exc:
            return self._deny(account, req.order_id, exc.code, exc.message, origin)
        new = NewOrder(req.order_id, spec.market_id, SIDES[req.side], req.order_type, price, qty,
                       req.stp)
        events = self.engine.submit(account, new, origin)
        self.dispatch(events)
        return events

    def cancel(self, account: Account, client_id: str, origin=None) -> list:
        if not self._cancel_allowed(account):
            events = [CancelRejected(account, client_id, Reason.CANCEL_RATE, origin)]
        else:
            events = self.engine.cancel(account, client_id, origin)
        self.dispatch(events)
        return events

    def cancel_all(self, account: Account, market: str | None = None, origin=None) -> list:
        if market is not None and market not in self.markets:
            events = [CancelRejected(account, "*", Reason.UNKNOWN_MARKET, origin)]
        elif not self._cancel_allowed(account):
            events = [CancelRejected(account, "*", Reason.CANCEL_RATE, origin)]
        else:
            market_id = self.markets[market].market_id if market is not None else None
            events = self.engine.cancel_all(account, market_id)
        self.dispatch(events)
        return events

    def _cancel_allowed(self, account: Account) -> bool:
        window = self._cancel_rate.get(account.account_id)
        if window is None:
            window = self._cancel_rate[account.account_id] = RateWindow(
                self.limits.cancels_per_s)
        return window.allow(self.monotonic())

    def _deny(self, account, client_id, reason, message, origin) -> list:
        events = [Rejected(account, client_id, Reason(reason), message, origin)]
        self.dispatch(events)
        return events

    # -- market-wide commands ----------------------------------------------------------------

    def halt(self, market: str, reason: int = 0) -> None:
        spec = self.markets[market]
        self.dispatch(self.engine.set_status(spec.market_id, int(TradingStatus.HALTED), reason))

    def resume(self, market: str) -> None:
        spec = self.markets[market]
        self.dispatch(self.engine.set_status(spec.market_id, int(TradingStatus.TRADING)))

    def run(self, events: list) -> list:
        """Dispatch the events of an engine call made directly (generator, replay)."""
        self.dispatch(events)
        return events

    def stats(self) -> dict:
        """Counters for operators and benchmarks."""
        faults = self.faults
        return {"cpu_s": time.process_time(), "orders_in": self.orders_in,
                "feed_messages": self.encoder.messages_out,
                "feed_next_sequence": self.encoder.next_sequence,
                "connections": sum(len(s) for s in self.connections.values()),
                "rejected_busy": faults.rejected_busy, "feed_dropped": faults.feed_dropped,
                "feed_reordered": faults.feed_reordered}

    # -- routing -----------------------------------------------------------------------------

    def dispatch(self, events: list) -> None:
        now = self.clock_ns()
        for event in events:
            kind = type(event)
            if kind is Filled or kind is Accepted or kind is Cancelled:
                order = event.order
                if order.account.house:
                    continue
                targets = self._targets(order.account, order.origin)
                if not targets:
                    continue
                if kind is Filled:
                    payload, tag = self._fill(event, now), "fill"
                elif kind is Accepted:
                    payload, tag = self._ack(order, now), "ack"
                else:
                    payload, tag = self._cancelled(event, now), "ack"
                for session in targets:
                    session.send(payload, tag)
            elif kind is Rejected:
                if event.origin is not None:
                    event.origin.send(protocol.encode({
                        "type": "order_reject", "order_id": event.client_id,
                        "reason": str(event.reason), "message": event.message,
                        "ts_ns": now}), "ack")
            elif kind is CancelRejected and event.origin is not None:
                event.origin.send(protocol.encode({
                    "type": "cancel_reject", "order_id": event.client_id,
                    "reason": str(event.reason), "ts_ns": now}), "ack")
        self.md.publish(events)

    def _targets(self, account: Account, origin) -> list:
        watchers = self.watchers.get(account.account_id)
        targets = [origin] if origin is not None and origin.open else []
        if watchers:
            targets.extend(w for w in watchers if w is not origin)
        return targets

    def _ack(self, order, now: int) -> bytes:
        spec = self.engine.specs[order.market_id]
        return protocol.encode({
            "type": "order_ack", "order_id": order.client_id, "market": spec.name,
            "side": SIDE_NAMES[order.side], "order_type": order.kind,
            "price": spec.price(order.price) if order.price is not None else None,
            "qty": spec.qty(order.qty), "status": "open", "ts_ns": now})

    def _fill(self, event: Filled, now: int) -> bytes:
        order = event.order
        spec = self.engine.specs[order.market_id]
        return protocol.encode({
            "type": "fill", "order_id": order.client_id, "market": spec.name,
            "side": SIDE_NAMES[order.side], "fill_qty": spec.qty(event.qty),
            "price": spec.price(event.price), "fee": event.fee,
            "liquidity": "maker" if event.maker else "taker",
            "remaining_qty": spec.qty(event.remaining), "trade_id": event.trade_id,
            "ts_ns": now})

    def _cancelled(self, event: Cancelled, now: int) -> bytes:
        order = event.order
        return protocol.encode({
            "type": "cancelled", "order_id": order.client_id,
            "market": self.engine.specs[order.market_id].name, "reason": str(event.reason),
            "remaining_qty": self.engine.specs[order.market_id].qty(event.qty), "ts_ns": now})
