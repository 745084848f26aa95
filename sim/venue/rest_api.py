"""The REST API as a function: (method, path, headers, body) -> (status, JSON body).

Sans-I/O; rest_server.py owns the sockets. Paths follow Purple Flea's trading docs
(`/api/v1/...`, key in `X-API-Key` or `Authorization: Bearer`), and `/trading/orders` is
served as an alias of `/api/v1/orders` because the seed article's arbitrage agent posts there.
Every error is JSON: {"success": false, "error": <reason code>, "message": ...}.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import orjson

from sim.venue import protocol
from sim.venue.core import VenueCore
from sim.venue.engine import SIDE_NAMES
from sim.venue.errors import Reason, VenueError
from sim.venue.events import Accepted, Cancelled, CancelRejected, Filled, Rejected
from sim.venue.marketdata import STATUS_NAMES

STATUS_FOR = {
    Reason.NOT_AUTHENTICATED: 401, Reason.BAD_API_KEY: 401,
    Reason.INSUFFICIENT_MARGIN: 402,
    Reason.UNKNOWN_MARKET: 404, Reason.UNKNOWN_ORDER: 404,
    Reason.ORDER_RATE: 429, Reason.CANCEL_RATE: 429,
    Reason.VENUE_BUSY: 503,
}
ORDER_PATHS = ("/api/v1/orders", "/trading/orders")


@dataclass
class Reply:
    status: int
    body: dict
    headers: list[tuple[str, str]] = field(default_factory=list)
    latency_kind: str = "rest_account"


class HttpError(Exception):
    def __init__(self, http_status: int, code: Reason | str, message: str, **extra):
        super().__init__(message)
        self.status, self.code, self.extra = http_status, str(code), extra


def _fail(code: Reason, message: str, **extra) -> HttpError:
    return HttpError(STATUS_FOR.get(code, 400), code, message, **extra)


class RestApi:
    def __init__(self, core: VenueCore):
        self.core = core

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        url = urlsplit(target)
        path = url.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        order_route = any(path == p or path.startswith(p + "/") for p in ORDER_PATHS)
        try:
            reply = self._route(method, path, query, headers, body)
        except HttpError as exc:
            reply = Reply(exc.status, {"success": False, "error": exc.code,
                                       "message": str(exc), **exc.extra})
            if exc.status == 429:
                reply.headers.append(("Retry-After", "1"))
        except VenueError as exc:
            reply = Reply(STATUS_FOR.get(exc.code, 400),
                          {"success": False, "error": str(exc.code), "message": exc.message})
        if order_route:
            reply.latency_kind = "rest_order"
        return reply

    # -- routing -----------------------------------------------------------------------------

    def _route(self, method, path, query, headers, body) -> Reply:
        if path == "/health" and method == "GET":
            return Reply(200, {"status": "ok"})
        if path == "/api/v1/register" and method == "POST":
            agent_id = self._agent_id(body)
            account = self.core.register(agent_id)
            return Reply(200, {"success": True, "api_key": account.api_key,
                               "agent_id": account.agent_id,
                               "balance_usdc": account.balance})
        if path == "/api/v1/auth/login" and method == "POST":
            account = self.core.by_agent.get(self._agent_id(body))
            if account is None or account.house:
                raise _fail(Reason.BAD_API_KEY, "unknown agent id")
            return Reply(200, {"success": True, "api_key": account.api_key,
                               "agent_id": account.agent_id})
        if path == "/api/v1/stats" and method == "GET":
            return Reply(200, {"success": True, **self.core.stats()})
        if path == "/api/v1/markets" and method == "GET":
            return Reply(200, {"success": True, "markets": [
                self._market(spec) for spec in self.core.markets.values()]})
        if path.startswith("/api/v1/markets/") and method == "GET":
            return self._market_path(path[len("/api/v1/markets/"):], query)
        account = self._account(headers)
        if path == "/api/v1/balance" and method == "GET":
            return Reply(200, self._balance(account))
        if path == "/api/v1/positions" and method == "GET":
            return Reply(200, {"success": True, "positions": self._positions(account)})
        for prefix in ORDER_PATHS:
            if path == prefix:
                if method == "GET":
                    return self._open_orders(account, query.get("market"))
                if method == "POST":
                    return self._place(account, self._json(body))
                if method == "DELETE":
                    return self._cancel_all(account, query.get("market"))
            elif path.startswith(prefix + "/") and method == "DELETE":
                return self._cancel(account, path[len(prefix) + 1:])
        if path in ("/api/v1/admin/halt", "/api/v1/admin/resume") and method == "POST":
            return self._admin(account, path.rsplit("/", 1)[1], self._json(body))
        raise HttpError(404, "not_found", f"no route {method} {path}")

    # -- helpers -----------------------------------------------------------------------------

    def _json(self, body: bytes) -> dict:
        try:
            data = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError as exc:
            raise HttpError(400, Reason.BAD_JSON, f"body is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise HttpError(400, Reason.NOT_OBJECT, "body must be a JSON object")
        return data

    def _agent_id(self, body: bytes) -> str:
        agent_id = self._json(body).get("agent_id")
        if not isinstance(agent_id, str) or not 0 < len(agent_id) <= protocol.MAX_ID_LEN:
            raise HttpError(400, Reason.BAD_FIELD, "agent_id must be a string of 1 to 64 "
                                                   "characters", field="agent_id")
        return agent_id

    def _account(self, headers: dict[str, str]):
        key = headers.get("x-api-key") or protocol.bearer_key(headers.get("authorization"))
        if not key:
            raise _fail(Reason.NOT_AUTHENTICATED, "send X-API-Key or Authorization: Bearer")
        account = self.core.authenticate(key)
        if account is None:
            raise _fail(Reason.BAD_API_KEY, "unknown API key")
        return account

    def _spec(self, name: str):
        spec = self.core.markets.get(name)
        if spec is None:
            raise _fail(Reason.UNKNOWN_MARKET, f"no market {name!r}")
        return spec

    def _market(self, spec) -> dict:
        book = self.core.engine.books[spec.market_id]
        bid, bid_qty, ask, ask_qty = book.bbo()
        status = self.core.engine.status[spec.market_id]
        return {**spec.describe(), "status": STATUS_NAMES[status],
                "best_bid": spec.price(bid) if bid_qty else None,
                "best_ask": spec.price(ask) if ask_qty else None,
                "last_price": spec.price(book.last_price) if book.last_price else None}

    def _market_path(self, rest: str, query: dict) -> Reply:
        name, _, tail = rest.partition("/")
        spec = self._spec(name)
        if not tail:
            return Reply(200, {"success": True, **self._market(spec)})
        if tail == "orderbook":
            try:
                depth = int(query.get("depth", "20"))
            except ValueError:
                raise HttpError(400, Reason.BAD_FIELD, "depth must be an integer",
                                field="depth") from None
            if not 1 <= depth <= self.core.limits.max_book_depth:
                raise HttpError(400, Reason.BAD_FIELD,
                                f"depth is 1 to {self.core.limits.max_book_depth}",
                                field="depth")
            return Reply(200, {"success": True, **self.core.md.snapshot(spec.market_id, depth)})
        raise HttpError(404, "not_found", f"no route for market {name}/{tail}")

    def _balance(self, account) -> dict:
        engine = self.core.engine
        used = account.position_margin(engine.specs) + account.reserved
        return {"success": True, "balance_usdc": account.balance,
                "equity_usdc": engine.equity(account), "available_usdc": engine.available(account),
                "margin_used_usdc": used,
                "unrealized_pnl": account.unrealized(engine.specs, engine.marks()),
                "realized_pnl": account.realized(), "fees_paid": account.fees_paid}

    def _positions(self, account) -> list[dict]:
        engine = self.core.engine
        out = []
        for market_id, pos in sorted(account.positions.items()):
            if not pos.lots and not pos.realized:
                continue
            spec = engine.specs[market_id]
            mark = engine.books[market_id].mark()
            unit = spec.notional_unit
            out.append({
                "market": spec.name, "side": "long" if pos.lots > 0 else (
                    "short" if pos.lots < 0 else "flat"),
                "qty": spec.qty(abs(pos.lots)), "entry_price": pos.entry * spec.price(1),
                "mark_price": spec.price(mark) if mark is not None else None,
                "notional_usd": abs(pos.lots) * (mark or 0) * unit,
                "unrealized_pnl": pos.lots * ((mark or 0) - pos.entry) * unit if mark else 0.0,
                "realized_pnl": pos.realized})
        return out

    def _order_view(self, order) -> dict:
        spec = self.core.engine.specs[order.market_id]
        return {"order_id": order.client_id, "market": spec.name,
                "side": SIDE_NAMES[order.side], "type": order.kind,
                "price": spec.price(order.price) if order.price is not None else None,
                "qty": spec.qty(order.qty), "filled_qty": spec.qty(order.filled),
                "remaining_qty": spec.qty(order.remaining)}

    def _open_orders(self, account, market: str | None) -> Reply:
        if market is not None:
            self._spec(market)
        orders = [self._order_view(o) for o in account.open_orders.values()
                  if market is None or self.core.engine.specs[o.market_id].name == market]
        return Reply(200, {"success": True, "orders": orders}, latency_kind="rest_order")

    def _place(self, account, data: dict) -> Reply:
        order_id = data.get("client_id", data.get("order_id"))
        if order_id is None:
            order_id = f"rest-{self.core.orders_in + 1}"
        if not isinstance(order_id, str) or not 0 < len(order_id) <= protocol.MAX_ID_LEN:
            raise HttpError(400, Reason.BAD_FIELD, "client_id must be a string of 1 to 64 "
                                                   "characters", field="client_id")
        message = {**data, "type": "order", "order_id": order_id,
                   "order_type": data.get("type", "limit" if "price" in data else "market")}
        message.pop("client_id", None)
        if "qty_usd" in data:
            message["qty"] = self._qty_for_usd(data)
            message.pop("qty_usd")
        request = protocol.decode(orjson.dumps(message))
        events = self.core.place(account, request, None)
        return self._placed(order_id, events)

    def _qty_for_usd(self, data: dict) -> str:
        usd = data["qty_usd"]
        if isinstance(usd, bool) or not isinstance(usd, int | float) or not usd > 0:
            raise HttpError(400, Reason.BAD_FIELD, "qty_usd must be a positive number",
                            field="qty_usd")
        spec = self._spec(data.get("market") if isinstance(data.get("market"), str) else "")
        if "price" in data:
            price = spec.to_ticks(data["price"])
        else:
            side = data.get("side")
            book = self.core.engine.books[spec.market_id]
            best = (book.asks if side == "buy" else book.bids).best()
            if best is None:
                raise HttpError(400, Reason.NO_LIQUIDITY, f"{spec.name} has nothing to "
                                                          "price qty_usd against")
            price = best.price
        lots = spec.lots_for_notional(float(usd), price)
        if lots < spec.min_lots:
            raise HttpError(400, Reason.QTY_TOO_SMALL, f"{usd} USD is less than one lot of "
                                                       f"{spec.name}", field="qty_usd")
        return str(Decimal(lots) * Decimal(spec.lot_size))

    def _placed(self, order_id: str, events: list) -> Reply:
        first = events[0]
        if isinstance(first, Rejected):
            raise _fail(first.reason, first.message, status="rejected", order_id=order_id)
        assert isinstance(first, Accepted)
        order = first.order
        spec = self.core.engine.specs[order.market_id]
        fills = [e for e in events if isinstance(e, Filled) and e.order is order]
        filled = sum(f.qty for f in fills)
        resting = order.client_id in order.account.open_orders and order.remaining > 0
        if filled == order.qty:
            status = "filled"
        elif filled:
            status = "partially_filled"
        else:
            status = "open" if resting else "cancelled"
        cancel = next((e for e in events if isinstance(e, Cancelled) and e.order is order), None)
        avg = (sum(f.qty * f.price for f in fills) / filled) if filled else None
        return Reply(200, {
            "success": True, "status": status, "order_id": order_id, "market": spec.name,
            "side": SIDE_NAMES[order.side], "type": order.kind, "resting": resting,
            "qty": spec.qty(order.qty), "filled_qty": spec.qty(filled),
            "remaining_qty": spec.qty(order.remaining if resting else 0),
            "fill_price": avg * spec.price(1) if avg is not None else None,
            "fee": sum(f.fee for f in fills),
            "cancel_reason": str(cancel.reason) if cancel else None,
            "fills": [{"price": spec.price(f.price), "qty": spec.qty(f.qty), "fee": f.fee,
                       "liquidity": "maker" if f.maker else "taker", "trade_id": f.trade_id}
                      for f in fills]}, latency_kind="rest_order")

    def _cancel(self, account, order_id: str) -> Reply:
        events = self.core.cancel(account, order_id, None)
        event = events[0]
        if isinstance(event, CancelRejected):
            raise _fail(event.reason, f"cannot cancel {order_id!r}: {event.reason}")
        spec = self.core.engine.specs[event.order.market_id]
        return Reply(200, {"success": True, "status": "cancelled", "order_id": order_id,
                           "remaining_qty": spec.qty(event.qty)})

    def _cancel_all(self, account, market: str | None) -> Reply:
        events = self.core.cancel_all(account, market, None)
        if events and isinstance(events[0], CancelRejected):
            raise _fail(events[0].reason, f"cannot cancel: {events[0].reason}")
        return Reply(200, {"success": True, "cancelled": [
            e.order.client_id for e in events if isinstance(e, Cancelled)]})

    def _admin(self, account, action: str, data: dict) -> Reply:
        if not account.admin:
            raise HttpError(401, "not_admin", "this key may not halt or resume markets")
        market = data.get("market")
        spec = self._spec(market if isinstance(market, str) else "")
        reason = data.get("reason", 0)
        if isinstance(reason, bool) or not isinstance(reason, int) or not 0 <= reason <= 255:
            raise HttpError(400, Reason.BAD_FIELD, "reason is an integer 0..255", field="reason")
        if action == "halt":
            self.core.halt(spec.name, reason)
        else:
            self.core.resume(spec.name)
        return Reply(200, {"success": True, "market": spec.name,
                           "status": STATUS_NAMES[self.core.engine.status[spec.market_id]]})
