"""Shared fixtures for the OMS and journal tests: markets and venue events for an order."""

from __future__ import annotations

from decimal import Decimal

from host.oms.order import Order
from host.venue_client.events import (
    Cancelled,
    CancelReject,
    Fill,
    OrderAck,
    OrderReject,
    OrderType,
    Side,
)
from host.venue_client.markets import MarketSpec, MarketTable

MARKETS = MarketTable([MarketSpec("BTC-PERP", 0, "0.1", "0.001", 50),
                       MarketSpec("ETH-PERP", 1, "0.01", "0.01", 50),
                       MarketSpec("SOL-PERP", 2, "0.001", "0.1", 30)])


def ack(o: Order) -> OrderAck:
    return OrderAck(o.order_id, o.market, o.side, o.order_type, o.price, o.qty, 1)


def reject(o: Order, reason: str = "venue_busy") -> OrderReject:
    return OrderReject(o.order_id, reason, "no", 1)


def fill(o: Order, qty: int, price: int | None = None, fee: str = "0.01",
         trade_id: int = 1) -> Fill:
    return Fill(o.order_id, o.market, o.side, qty, o.price if price is None else price,
                Decimal(fee), "maker", o.remaining - qty, trade_id, 1)


def cancelled(o: Order, reason: str = "user") -> Cancelled:
    return Cancelled(o.order_id, o.market, reason, o.remaining, 1)


def cancel_reject(o: Order) -> CancelReject:
    return CancelReject(o.order_id, "unknown_order", 1)


LIMIT = OrderType.LIMIT
BUY, SELL = Side.BUY, Side.SELL
