"""One market's order book: price levels of FIFO queues, best first on each side.

The book only stores and orders resting orders; matching decisions live in engine.py. Each
side keeps its prices in a sorted list of `sign * price` so index 0 is the best level on both
sides, and a dict from price to `Level` holding the queue and its running totals.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from dataclasses import dataclass

BUY, SELL = 1, 2


@dataclass(slots=True, eq=False)
class Order:
    """A live order. Prices in ticks, quantities in lots."""

    oid: int
    client_id: str
    account: object
    market_id: int
    side: int
    kind: str
    price: int | None
    qty: int
    remaining: int
    stp: str
    origin: object = None
    reserved: float = 0.0  # margin held while it rests, in USDC

    @property
    def filled(self) -> int:
        return self.qty - self.remaining


class Level:
    __slots__ = ("price", "orders", "qty")

    def __init__(self, price: int):
        self.price = price
        self.orders: deque[Order] = deque()
        self.qty = 0


class BookSide:
    __slots__ = ("side", "sign", "levels", "keys")

    def __init__(self, side: int):
        self.side = side
        self.sign = -1 if side == BUY else 1
        self.levels: dict[int, Level] = {}
        self.keys: list[int] = []  # sign * price, ascending: index 0 is the best price

    def best(self) -> Level | None:
        return self.levels[self.keys[0] * self.sign] if self.keys else None

    def add(self, order: Order) -> None:
        level = self.levels.get(order.price)
        if level is None:
            level = self.levels[order.price] = Level(order.price)
            insort(self.keys, self.sign * order.price)
        level.orders.append(order)
        level.qty += order.remaining

    def remove(self, order: Order) -> None:
        level = self.levels[order.price]
        level.orders.remove(order)
        level.qty -= order.remaining
        if not level.orders:
            self.drop_level(level)

    def drop_level(self, level: Level) -> None:
        del self.levels[level.price]
        key = self.sign * level.price
        index = bisect_left(self.keys, key)
        del self.keys[index]

    def top(self, depth: int) -> list[tuple[int, int, int]]:
        """The best `depth` levels as (price, qty, order_count)."""
        sign, levels = self.sign, self.levels
        out = []
        for key in self.keys[:depth]:
            level = levels[key * sign]
            out.append((level.price, level.qty, len(level.orders)))
        return out

    def crosses(self, price: int) -> bool:
        """Would an opposite-side order at `price` trade against this side's best?"""
        if not self.keys:
            return False
        best = self.keys[0] * self.sign
        return price <= best if self.side == BUY else price >= best


class Book:
    __slots__ = ("market_id", "bids", "asks", "last_price")

    def __init__(self, market_id: int):
        self.market_id = market_id
        self.bids = BookSide(BUY)
        self.asks = BookSide(SELL)
        self.last_price: int | None = None

    def side(self, side: int) -> BookSide:
        return self.bids if side == BUY else self.asks

    def opposite(self, side: int) -> BookSide:
        return self.asks if side == BUY else self.bids

    def bbo(self) -> tuple[int, int, int, int]:
        """(bid_price, bid_qty, ask_price, ask_qty); an empty side is (0, 0)."""
        bid, ask = self.bids.best(), self.asks.best()
        return (bid.price if bid else 0, bid.qty if bid else 0,
                ask.price if ask else 0, ask.qty if ask else 0)

    def mark(self) -> int | None:
        """Mid in ticks (rounded down) when both sides quote, else the last trade price."""
        if self.bids.keys and self.asks.keys:
            return (-self.bids.keys[0] + self.asks.keys[0]) // 2
        return self.last_price
