"""One WebSocket connection's state and message handling, without the socket.

The adapter (ws_server.py) hands every text frame to `on_text` and gives the session a
`send(payload, kind)` callable; `kind` ("ack", "fill", "snapshot", "md", "reply") lets the
adapter add the configured latency per kind. Bad input is answered and forgotten: it never
raises out of here, never closes another connection and never touches another key's orders.
"""

from __future__ import annotations

from collections.abc import Callable

from sim.venue import protocol
from sim.venue.accounts import Account
from sim.venue.errors import Reason, VenueError
from sim.venue.protocol import Auth, Cancel, CancelAll, Ping, PlaceOrder, Subscribe

DEFAULT_DEPTH = 10


class Session:
    def __init__(self, core, send: Callable[[bytes, str], None], account: Account | None = None):
        self.core = core
        self.send = send
        self.account = account
        self.open = True
        self.subscriptions: set[tuple[str, int | None, int | None]] = set()

    # -- input -------------------------------------------------------------------------------

    def on_text(self, raw: bytes | str) -> Reason | None:
        """Handle one text frame. Returns a reason when the connection must be closed."""
        try:
            command = protocol.decode(raw)
        except VenueError as exc:
            if exc.order_id is not None:
                self._reject(exc.order_id, exc.code, exc.message)
            else:
                self._error(exc.code, exc.message, field=exc.field)
            return None
        kind = type(command)
        if kind is PlaceOrder:
            if self.account is None:
                self._reject(command.order_id, Reason.NOT_AUTHENTICATED, "send auth first")
            else:
                self.core.place(self.account, command, self)
        elif kind is Cancel:
            if self.account is None:
                self._cancel_reject(command.order_id, Reason.NOT_AUTHENTICATED)
            else:
                self.core.cancel(self.account, command.order_id, self)
        elif kind is CancelAll:
            if self.account is None:
                self._cancel_reject("*", Reason.NOT_AUTHENTICATED)
            else:
                self.core.cancel_all(self.account, command.market, self)
        elif kind is Subscribe:
            self._subscribe(command)
        elif kind is Auth:
            return self._auth(command.api_key)
        elif kind is Ping:
            self.send(protocol.encode({"type": "pong", "ts_ns": self.core.clock_ns()}), "reply")
        return None

    def on_binary(self) -> None:
        self._error(Reason.BINARY_FRAME, "send JSON in text frames")

    def close(self) -> None:
        if self.open:
            self.open = False
            self.core.detach(self)

    # -- auth --------------------------------------------------------------------------------

    def _auth(self, api_key: str) -> Reason | None:
        account = self.core.authenticate(api_key)
        if account is None:
            self._error(Reason.BAD_API_KEY, "unknown API key")
            return None
        if self.account is not None and self.account is not account:
            self._error(Reason.ALREADY_AUTHENTICATED, "this connection has another key")
            return None
        denial = self.core.attach(self, account)
        if denial is not None:
            self._error(denial, f"at most {self.core.limits.connections_per_key} connections "
                                "per API key")
            return denial
        self.account = account
        self.send(protocol.encode({"type": "auth_ok", "agent_id": account.agent_id,
                                   "account_id": account.account_id}), "reply")
        return None

    # -- subscriptions -----------------------------------------------------------------------

    def _subscribe(self, cmd: Subscribe) -> None:
        wanted: list[tuple[str, int | None, int | None]] = []
        limits = self.core.limits
        for channel in cmd.channels:
            if channel == "orders":
                if self.account is None:
                    self._error(Reason.NOT_AUTHENTICATED, "the orders channel needs auth")
                    return
                wanted.append(("orders", None, None))
                continue
            if not cmd.markets:
                self._error(Reason.MISSING_FIELD, f"{channel} needs market or markets",
                            field="market")
                return
            depth = None
            if channel == "orderbook":
                depth = cmd.depth if cmd.depth is not None else (None if cmd.remove
                                                                else DEFAULT_DEPTH)
                if depth is not None and depth > limits.max_book_depth:
                    self._error(Reason.BAD_FIELD, f"depth is at most {limits.max_book_depth}",
                                field="depth")
                    return
            for name in cmd.markets:
                spec = self.core.markets.get(name)
                if spec is None:
                    self._error(Reason.UNKNOWN_MARKET, f"no market {name!r}", field="market")
                    return
                wanted.append((channel, spec.market_id, depth))
        if cmd.remove:
            self._unsubscribe(wanted)
            return
        wanted = list(dict.fromkeys(wanted))
        fresh = [w for w in wanted if w not in self.subscriptions]
        if len(self.subscriptions) + len(fresh) > limits.subscriptions_per_connection:
            self._error(Reason.TOO_MANY_SUBSCRIPTIONS,
                        f"at most {limits.subscriptions_per_connection} subscriptions per "
                        f"connection; this one holds {len(self.subscriptions)}")
            return
        for key in wanted:
            # Subscribing again is how a client resyncs: it gets a fresh snapshot.
            self.subscriptions.add(key)
            self._start(*key)

    def _start(self, channel: str, market_id: int | None, depth: int | None) -> None:
        md = self.core.md
        name = self.core.engine.specs[market_id].name if market_id is not None else None
        ack = {"type": "subscribed", "channel": channel}
        if name is not None:
            ack["market"] = name
        if depth is not None:
            ack["depth"] = depth
        self.send(protocol.encode(ack), "reply")
        if channel == "orderbook":
            self.send(md.add_book(market_id, depth, self), "snapshot")
        elif channel == "ticker":
            first = md.add_ticker(market_id, self)
            if first is not None:
                self.send(first, "md")
        elif channel == "trades":
            md.trades[market_id].add(self)
        else:
            self.core.watch_orders(self, True)

    def _unsubscribe(self, wanted) -> None:
        md = self.core.md
        for channel, market_id, depth in wanted:
            for key in [k for k in self.subscriptions if k[0] == channel and k[1] == market_id
                        and (depth is None or k[2] == depth)]:
                self.subscriptions.discard(key)
                if channel == "orderbook":
                    md.remove_book(market_id, key[2], self)
                elif channel == "ticker":
                    md.tickers[market_id].discard(self)
                elif channel == "trades":
                    md.trades[market_id].discard(self)
                else:
                    self.core.watch_orders(self, False)
                out = {"type": "unsubscribed", "channel": channel}
                if market_id is not None:
                    out["market"] = self.core.engine.specs[market_id].name
                self.send(protocol.encode(out), "reply")

    # -- answers -----------------------------------------------------------------------------

    def _error(self, code: Reason | str, message: str, field: str | None = None) -> None:
        extra = {"field": field} if field else {}
        self.send(protocol.error(code, message, **extra), "reply")

    def _reject(self, order_id: str, code: Reason | str, message: str) -> None:
        self.send(protocol.encode({"type": "order_reject", "order_id": order_id,
                                   "reason": str(code), "message": message,
                                   "ts_ns": self.core.clock_ns()}), "ack")

    def _cancel_reject(self, order_id: str, code: Reason) -> None:
        self.send(protocol.encode({"type": "cancel_reject", "order_id": order_id,
                                   "reason": str(code), "ts_ns": self.core.clock_ns()}), "ack")
