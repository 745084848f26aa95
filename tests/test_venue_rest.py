"""The REST API over loopback with a real HTTP client (http.client, keep-alive)."""

from __future__ import annotations

import http.client
import json
import socket
from urllib.parse import urlsplit

import pytest

from sim.venue import TEST_ACCOUNT, TEST_API_KEY, AccountSpec, Limits, VenueConfig
from sim.venue.threaded import VenueThread

MAKER_KEY, POOR_KEY, RATE_KEY = "pf_test_rest_maker", "pf_test_rest_poor", "pf_test_rest_rate"
CONFIG = VenueConfig(accounts=(TEST_ACCOUNT, AccountSpec(MAKER_KEY, "rest-maker"),
                               AccountSpec(POOR_KEY, "rest-poor", balance_usdc=10.0),
                               AccountSpec(RATE_KEY, "rest-rate")),
                     limits=Limits(orders_per_s=40))


@pytest.fixture(scope="module")
def venue():
    with VenueThread(CONFIG) as v:
        yield v


class Http:
    def __init__(self, base: str):
        url = urlsplit(base)
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)

    def __call__(self, method, path, body=None, key=None, raw=None, headers=None):
        headers = dict(headers or {})
        if key is not None:
            headers["X-API-Key"] = key
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None
                                            else None)
        if data is not None:
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        payload = response.read()
        assert response.getheader("Content-Type") == "application/json"
        return response.status, json.loads(payload)


@pytest.fixture
def rest(venue):
    client = Http(venue.rest_url)
    yield client
    client.conn.close()


def test_register_login_and_account_views(rest):
    status, reg = rest("POST", "/api/v1/register", {"agent_id": "agent-x"})
    assert status == 200 and reg["api_key"].startswith("pf_live_") and reg["balance_usdc"] > 0
    status, login = rest("POST", "/api/v1/auth/login", {"agent_id": "agent-x"})
    assert login["api_key"] == reg["api_key"]
    status, balance = rest("GET", "/api/v1/balance", key=reg["api_key"])
    assert status == 200 and balance["available_usdc"] == balance["balance_usdc"]
    # the Bearer form works too
    status, _ = rest("GET", "/api/v1/positions",
                     headers={"Authorization": f"Bearer {reg['api_key']}"})
    assert status == 200
    status, again = rest("POST", "/api/v1/register", {"agent_id": "agent-x"})
    assert again["api_key"] != reg["api_key"]  # re-registering rotates the key
    assert rest("GET", "/api/v1/balance", key=reg["api_key"])[0] == 401
    status, markets = rest("GET", "/api/v1/markets")
    by_name = {m["market"]: m for m in markets["markets"]}
    assert by_name["BTC-PERP"]["market_id"] == 0 and by_name["BTC-PERP"]["tick_size"] == "0.1"
    assert by_name["BTC-SPOT"]["lot_size"] == "0.000001"


def test_the_seed_arbitrage_order_and_the_order_lifecycle(rest):
    for i, price in enumerate((61000.0, 61000.5, 61001.0)):
        status, placed = rest("POST", "/api/v1/orders", {
            "market": "BTC-PERP", "side": "sell", "type": "limit", "price": price,
            "qty": 0.01, "client_id": f"mk{i}"}, key=MAKER_KEY)
        assert (status, placed["status"], placed["resting"]) == (200, "open", True)
    status, orders = rest("GET", "/trading/orders?market=BTC-PERP", key=MAKER_KEY)
    assert [o["order_id"] for o in orders["orders"]] == ["mk0", "mk1", "mk2"]
    # the seed's latency-arbitrage agent: a market order by notional to /trading/orders
    status, result = rest("POST", "/trading/orders", {
        "market": "BTC-PERP", "side": "buy", "type": "market", "qty_usd": 1000,
        "client_id": "arb_1"}, key=TEST_API_KEY)
    assert status == 200 and result["status"] == "filled"
    assert result["filled_qty"] == 0.016  # 1000 USD at ~61000 in 0.001 lots, rounded down
    assert 61000.0 <= result["fill_price"] <= 61000.5
    assert [f["liquidity"] for f in result["fills"]] == ["taker", "taker"]
    status, positions = rest("GET", "/api/v1/positions", key=TEST_API_KEY)
    [btc] = [p for p in positions["positions"] if p["market"] == "BTC-PERP"]
    assert (btc["side"], btc["qty"]) == ("long", 0.016)
    status, cancelled = rest("DELETE", "/api/v1/orders/mk2", key=MAKER_KEY)
    assert (status, cancelled["status"], cancelled["remaining_qty"]) == (200, "cancelled", 0.01)
    status, gone = rest("DELETE", "/api/v1/orders/mk2", key=MAKER_KEY)
    assert (status, gone["error"]) == (404, "unknown_order")
    status, everything = rest("DELETE", "/api/v1/orders", key=MAKER_KEY)
    assert everything["cancelled"] == ["mk1"]
    status, book = rest("GET", "/api/v1/markets/BTC-PERP/orderbook?depth=5")
    assert status == 200 and book["asks"] == [] and book["sequence"] == 0


@pytest.mark.parametrize("method,path,body,key,status,code", [
    ("POST", "/api/v1/orders", None, None, 401, "not_authenticated"),
    ("GET", "/api/v1/balance", None, "pf_bogus", 401, "bad_api_key"),
    ("POST", "/api/v1/orders", b"{not json", TEST_API_KEY, 400, "bad_json"),
    ("POST", "/api/v1/orders", b"[1, 2]", TEST_API_KEY, 400, "not_object"),
    ("POST", "/api/v1/orders", {"market": "BTC-PERP", "side": "up", "qty": 1},
     TEST_API_KEY, 400, "bad_field"),
    ("POST", "/api/v1/orders", {"market": "BTC-PERP", "side": "buy", "price": "x",
                                "qty": 1}, TEST_API_KEY, 400, "bad_field"),
    ("POST", "/api/v1/orders", {"market": "BTC-PERP", "side": "buy", "price": 100.05,
                                "qty": 1}, TEST_API_KEY, 400, "price_not_on_tick"),
    ("POST", "/api/v1/orders", {"market": "DOGE-PERP", "side": "buy", "price": 1,
                                "qty": 1}, TEST_API_KEY, 404, "unknown_market"),
    ("POST", "/api/v1/orders", {"market": "BTC-PERP", "side": "buy", "price": 50000,
                                "qty": 1}, POOR_KEY, 402, "insufficient_margin"),
    ("GET", "/api/v1/nowhere", None, TEST_API_KEY, 404, "not_found"),
    ("GET", "/api/v1/markets/NOPE", None, None, 404, "unknown_market"),
    ("POST", "/api/v1/register", {"agent_id": 5}, None, 400, "bad_field"),
    ("POST", "/api/v1/auth/login", {"agent_id": "never-seen"}, None, 401, "bad_api_key"),
])
def test_errors_are_json_with_a_reason_code(rest, method, path, body, key, status, code):
    raw = body if isinstance(body, bytes) else None
    got, payload = rest(method, path, None if raw else body, key=key, raw=raw)
    assert (got, payload["error"], payload["success"]) == (status, code, False)
    assert payload["message"]


def test_rate_limit_answers_429_with_retry_after(venue):
    client = Http(venue.rest_url)
    statuses = []
    for i in range(400):  # 41 orders inside one second trip the limit of 40
        client.conn.request("POST", "/api/v1/orders", body=json.dumps({
            "market": "SOL-PERP", "side": "buy", "price": 1.0, "qty": 0.1,
            "client_id": f"rl{i}"}), headers={"X-API-Key": RATE_KEY})
        response = client.conn.getresponse()
        body = json.loads(response.read())
        statuses.append(response.status)
        if response.status == 429:
            assert (body["error"], body["status"]) == ("order_rate_limited", "rejected")
            assert response.getheader("Retry-After") == "1"
            break
    assert statuses[:40] == [200] * 40 and statuses[-1] == 429
    client("DELETE", "/api/v1/orders", key=RATE_KEY)


def test_oversized_and_malformed_http(venue):
    client = Http(venue.rest_url)
    status, body = client("POST", "/api/v1/orders", raw=b"{" + b" " * 70_000 + b"}",
                          key=TEST_API_KEY)
    assert (status, body["error"]) == (413, "body_too_large")
    url = urlsplit(venue.rest_url)
    with socket.create_connection((url.hostname, url.port), timeout=5) as raw:
        raw.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        answer = raw.recv(4096)
    assert answer.startswith(b"HTTP/1.1 400") and b"bad_http" in answer
    assert client("GET", "/health")[0] == 200  # and the server carries on


def test_admin_halt_and_resume(rest):
    status, halted = rest("POST", "/api/v1/admin/halt", {"market": "ETH-PERP", "reason": 3},
                          key=TEST_API_KEY)
    assert (status, halted["status"]) == (200, "halted")
    status, refused = rest("POST", "/api/v1/orders", {"market": "ETH-PERP", "side": "buy",
                                                      "price": 100, "qty": 1},
                           key=TEST_API_KEY)
    assert (status, refused["error"]) == (400, "market_halted")
    assert rest("POST", "/api/v1/admin/halt", {"market": "ETH-PERP"}, key=MAKER_KEY)[0] == 401
    assert rest("POST", "/api/v1/admin/resume", {"market": "ETH-PERP"},
                key=TEST_API_KEY)[1]["status"] == "trading"
