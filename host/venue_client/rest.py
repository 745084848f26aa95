"""The REST client for account work: markets, balance, positions, open orders, cancels.

    async with RestClient("http://127.0.0.1:9001", api_key, timeout_s=5.0) as rest:
        markets = await rest.markets()                    # MarketTable
        await rest.balance()                              # {"balance_usdc": Decimal, ...}
        await rest.positions(markets)                     # [VenuePosition], signed lots
        await rest.open_orders(markets, market=None)      # [VenueOrder], ticks and lots
        await rest.cancel("tw1-7"); await rest.cancel_all("BTC-PERP")  # -> how many

HTTP/1.1 with keep-alive, parsed by h11 over asyncio streams; one request at a time on one
connection (account work is not the hot path, and the venue answers in order anyway), opened
again when the venue closed it. Every await (connect, write, each read) is bounded by
`timeout_s`. Errors are typed: a non-2xx answer raises `RestError(status, code, message)`
with the venue's reason code; 429 raises `RateLimited` carrying `retry_after_s`; a failed or
timed-out exchange raises `RestTransportError` (reason `timeout` or `transport`). The key goes
in `X-API-Key` and is never logged.

Money (balance, PnL, fees) comes back as Decimal, prices as ticks and sizes as lots through
the market's spec, so a value off the grid raises instead of being rounded.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal, InvalidOperation
from urllib.parse import quote, urlencode, urlsplit

import h11
import orjson

from host.venue_client.credentials import ApiKey, as_api_key
from host.venue_client.errors import ClientError
from host.venue_client.events import OrderType, Side, VenueOrder, VenuePosition
from host.venue_client.markets import MarketError, MarketTable

MAX_RESPONSE_BYTES = 4 << 20
_READ_CHUNK = 65536


class RestError(ClientError):
    """The venue refused: `status` (HTTP), `code` (its reason code, also `.reason`)."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.reason = code
        self.message = message


class RateLimited(RestError):
    def __init__(self, status: int, code: str, message: str, retry_after_s: float):
        super().__init__(status, code, message)
        self.retry_after_s = retry_after_s


class RestTransportError(ClientError):
    """No answer: the connection failed, timed out, or the answer was not HTTP/JSON."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


class RestClient:
    def __init__(self, base_url: str, api_key: ApiKey | str, timeout_s: float = 5.0):
        url = urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"base_url must be http(s)://host[:port], not {base_url!r}")
        if not timeout_s > 0:
            raise ValueError("timeout_s must be positive")
        self.host = url.hostname
        self.tls = url.scheme == "https"
        self.port = url.port or (443 if self.tls else 80)
        self.prefix = url.path.rstrip("/")
        self.timeout_s = timeout_s
        self._key = as_api_key(api_key)
        self._lock = asyncio.Lock()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._conn: h11.Connection | None = None
        self.requests = 0
        self.connects = 0

    async def __aenter__(self) -> RestClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def close(self) -> None:
        writer, self._writer = self._writer, None
        self._reader = self._conn = None
        if writer is not None:
            writer.close()
            try:
                async with asyncio.timeout(self.timeout_s):
                    await writer.wait_closed()
            except (TimeoutError, OSError):
                pass

    # -- account work ----------------------------------------------------------------------

    async def markets(self) -> MarketTable:
        body = await self.request("GET", "/api/v1/markets", auth=False)
        try:
            return MarketTable.from_json(_list(body, "markets"))
        except MarketError as exc:
            raise RestTransportError(f"bad market list: {exc}", "bad_response") from None

    async def balance(self) -> dict:
        body = await self.request("GET", "/api/v1/balance")
        return {k: _decimal(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
                for k, v in body.items() if k != "success"}

    async def positions(self, markets: MarketTable) -> list[VenuePosition]:
        body = await self.request("GET", "/api/v1/positions")
        out = []
        for item in _list(body, "positions"):
            try:
                spec = markets[item["market"]]
                side = item.get("side")
                lots = spec.to_lots(item["qty"])
                sign = {"long": 1, "short": -1, "flat": 0}[side]
                entry = item.get("entry_price")
                out.append(VenuePosition(
                    spec.name, sign * lots,
                    _decimal(entry) if entry is not None and lots else None,
                    _decimal(item.get("realized_pnl", 0)),
                    _decimal(item.get("unrealized_pnl", 0))))
            except (KeyError, TypeError, ValueError, MarketError) as exc:
                raise RestTransportError(f"bad position {item!r}: {exc}", "bad_response") \
                    from None
        return out

    async def open_orders(self, markets: MarketTable, market: str | None = None
                          ) -> list[VenueOrder]:
        query = f"?{urlencode({'market': market})}" if market is not None else ""
        body = await self.request("GET", f"/api/v1/orders{query}")
        out = []
        for item in _list(body, "orders"):
            try:
                spec = markets[item["market"]]
                price = item.get("price")
                out.append(VenueOrder(
                    str(item["order_id"]), spec.name, Side(item["side"]),
                    OrderType(item.get("type") or item.get("order_type")),
                    spec.to_ticks(price) if price is not None else None,
                    spec.to_lots(item["qty"]), spec.to_lots(item.get("filled_qty", 0)),
                    spec.to_lots(item["remaining_qty"])))
            except (KeyError, TypeError, ValueError, MarketError) as exc:
                raise RestTransportError(f"bad order {item!r}: {exc}", "bad_response") \
                    from None
        return out

    async def cancel(self, order_id: str) -> None:
        await self.request("DELETE", f"/api/v1/orders/{quote(order_id, safe='')}")

    async def cancel_all(self, market: str | None = None) -> int:
        query = f"?{urlencode({'market': market})}" if market is not None else ""
        body = await self.request("DELETE", f"/api/v1/orders{query}")
        return len(_list(body, "cancelled"))

    # -- HTTP ------------------------------------------------------------------------------

    async def request(self, method: str, path: str, body: dict | None = None, *,
                      auth: bool = True) -> dict:
        """One exchange; the answer's JSON object. Retries once on a connection the venue
        had closed while idle (nothing was processed then)."""
        payload = orjson.dumps(body) if body is not None else b""
        # Only a request that cannot have been acted on twice is sent again.
        retry_ok = method in ("GET", "DELETE")
        async with self._lock:
            writer = self._writer
            if writer is not None and (writer.transport.is_closing() or self._reader.at_eof()):
                await self.close()  # closed by the venue while idle
            for attempt in (0, 1):
                reused = self._conn is not None
                try:
                    status, headers, data = await self._exchange(method, path, payload, auth)
                    break
                except TimeoutError:
                    await self.close()
                    raise RestTransportError(f"{method} {path}: no answer within "
                                             f"{self.timeout_s} s", "timeout") from None
                except (_StaleConnection, OSError, h11.ProtocolError) as exc:
                    await self.close()
                    if not (reused and retry_ok and attempt == 0
                            and not isinstance(exc, h11.ProtocolError)):
                        detail = str(exc) or "the venue closed the connection"
                        raise RestTransportError(f"{method} {path}: {detail}",
                                                 "transport") from None
        self.requests += 1
        return _answer(status, headers, data)

    async def _connect(self) -> None:
        async with asyncio.timeout(self.timeout_s):
            self._reader, self._writer = await asyncio.open_connection(
                self.host, self.port, ssl=True if self.tls else None)
        self._conn = h11.Connection(h11.CLIENT)
        self.connects += 1

    async def _exchange(self, method: str, path: str, payload: bytes, auth: bool):
        if self._conn is None:
            await self._connect()
        conn, reader, writer = self._conn, self._reader, self._writer
        headers = [("Host", f"{self.host}:{self.port}"), ("Accept", "application/json"),
                   ("Content-Length", str(len(payload)))]
        if payload:
            headers.append(("Content-Type", "application/json"))
        if auth:
            headers.append(("X-API-Key", self._key.reveal()))
        out = conn.send(h11.Request(method=method, target=self.prefix + path, headers=headers))
        if payload:
            out += conn.send(h11.Data(data=payload))
        out += conn.send(h11.EndOfMessage())
        writer.write(out)
        async with asyncio.timeout(self.timeout_s):
            await writer.drain()
        status, response_headers, chunks, size = 0, [], [], 0
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                async with asyncio.timeout(self.timeout_s):
                    data = await reader.read(_READ_CHUNK)
                if not data and status == 0:
                    raise _StaleConnection()
                conn.receive_data(data)
                continue
            if isinstance(event, h11.Response):
                status, response_headers = event.status_code, event.headers
            elif isinstance(event, h11.Data):
                size += len(event.data)
                if size > MAX_RESPONSE_BYTES:
                    raise h11.ProtocolError("answer over the size limit")
                chunks.append(event.data)
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise _StaleConnection() if status == 0 else h11.ProtocolError("cut short")
        if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
            conn.start_next_cycle()
        else:
            await self.close()
        return status, response_headers, b"".join(chunks)


class _StaleConnection(Exception):
    pass


def _answer(status: int, headers, data: bytes) -> dict:
    try:
        body = orjson.loads(data) if data else {}
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        if 200 <= status < 300:
            raise RestTransportError(f"HTTP {status}: the answer is not a JSON object",
                                     "bad_response")
        body = {}
    if 200 <= status < 300:
        return body
    code = str(body.get("error") or f"http_{status}")
    message = str(body.get("message") or "")
    if status == 429:
        raise RateLimited(status, code, message, _retry_after(headers))
    raise RestError(status, code, message)


def _retry_after(headers) -> float:
    for name, value in headers:
        if name.lower() == b"retry-after":
            try:
                return max(0.0, float(value.decode("ascii")))
            except (UnicodeDecodeError, ValueError):
                break
    return 1.0


def _list(body: dict, name: str) -> list:
    value = body.get(name)
    if not isinstance(value, list):
        raise RestTransportError(f"the answer has no list {name!r}", "bad_response")
    return value


def _decimal(value) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, float):
        return Decimal(repr(value))
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError):
        raise ValueError(f"{value!r} is not a number") from None
