"""Accounts: one USDC balance per API key, positions per market, fees and PnL.

Positions are in lots with an average entry price in ticks. Money is USDC as a float: it is
reported, never used as a key. The balance is cash: realised PnL and fees move it, unrealised
PnL does not. Every market, BTC-SPOT included, is margined like a perpetual (the venue has no
asset custody); funding is not charged.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.venue.book import BUY, Order
from sim.venue.markets import MarketSpec


@dataclass(frozen=True)
class Fees:
    maker: float = 0.0002
    taker: float = 0.0005


class Position:
    __slots__ = ("lots", "entry", "realized")

    def __init__(self):
        self.lots = 0  # signed: positive is long
        self.entry = 0.0  # average entry price, ticks
        self.realized = 0.0  # USDC

    def apply(self, side: int, price: int, lots: int, unit: float) -> float:
        """Fold in a fill; returns the PnL it realises."""
        signed = lots if side == BUY else -lots
        held = self.lots
        if held == 0 or (held > 0) == (signed > 0):
            total = abs(held) + lots
            self.entry = (self.entry * abs(held) + price * lots) / total
            self.lots = held + signed
            return 0.0
        closing = min(lots, abs(held))
        pnl = closing * (price - self.entry) * unit * (1 if held > 0 else -1)
        self.realized += pnl
        self.lots = held + signed
        if self.lots == 0:
            self.entry = 0.0
        elif (self.lots > 0) != (held > 0):
            self.entry = float(price)  # flipped: the remainder opened at this price
        return pnl


class Account:
    __slots__ = ("account_id", "agent_id", "api_key", "balance", "positions", "fees_paid",
                 "open_orders", "reserved", "house", "admin")

    def __init__(self, account_id: int, agent_id: str, api_key: str, balance: float, *,
                 house: bool = False, admin: bool = False):
        self.account_id = account_id
        self.agent_id = agent_id
        self.api_key = api_key
        self.balance = float(balance)
        self.positions: dict[int, Position] = {}
        self.fees_paid = 0.0
        self.open_orders: dict[str, Order] = {}  # by client order id
        self.reserved = 0.0  # margin held by resting orders
        self.house = house  # generator and replay liquidity: no margin, no accounting
        self.admin = admin

    def position(self, market_id: int) -> Position:
        pos = self.positions.get(market_id)
        if pos is None:
            pos = self.positions[market_id] = Position()
        return pos

    def apply_fill(self, spec: MarketSpec, side: int, price: int, lots: int, fee: float):
        pnl = self.position(spec.market_id).apply(side, price, lots, spec.notional_unit)
        self.balance += pnl - fee
        self.fees_paid += fee

    def realized(self) -> float:
        return sum(p.realized for p in self.positions.values())

    def unrealized(self, specs: dict[int, MarketSpec], marks: dict[int, int | None]) -> float:
        total = 0.0
        for market_id, pos in self.positions.items():
            mark = marks.get(market_id)
            if pos.lots and mark is not None:
                total += pos.lots * (mark - pos.entry) * specs[market_id].notional_unit
        return total

    def position_margin(self, specs: dict[int, MarketSpec]) -> float:
        total = 0.0
        for market_id, pos in self.positions.items():
            if pos.lots:
                spec = specs[market_id]
                total += abs(pos.lots) * pos.entry * spec.notional_unit / spec.max_leverage
        return total
