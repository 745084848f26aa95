"""Position and PnL of one market from its fills, in lots, ticks and USDC.

Average-cost accounting: a fill that adds to the position moves the average price; one that
reduces it realises (fill - average) x lots for the closed part, and a fill that flips the
position opens the remainder at the fill price. Fees are subtracted from realised PnL.
"""

from __future__ import annotations


class MarketPnl:
    __slots__ = ("market", "unit", "qty", "avg_price", "realized_usd", "fees_usd", "mark")

    def __init__(self, market: str, notional_unit: float, qty: int = 0, avg_price: float = 0.0):
        self.market = market
        self.unit = notional_unit  # USDC per tick x lot
        self.qty = qty             # signed lots, long > 0
        self.avg_price = avg_price if qty else 0.0
        self.realized_usd = 0.0
        self.fees_usd = 0.0
        self.mark: float | None = avg_price if qty else None

    def fill(self, sign: int, qty: int, price: int, fee_usd: float = 0.0) -> float:
        """Apply a fill (sign +1 buy, -1 sell); returns the PnL it realised, fee included."""
        old = self.qty
        delta = sign * qty
        realized = 0.0
        if old == 0 or (old > 0) == (delta > 0):
            new = old + delta
            self.avg_price = (self.avg_price * abs(old) + price * qty) / abs(new)
        else:
            closed = min(qty, abs(old))
            realized = (price - self.avg_price) * closed * (1 if old > 0 else -1) * self.unit
            new = old + delta
            if new == 0:
                self.avg_price = 0.0
            elif (new > 0) != (old > 0):
                self.avg_price = float(price)
        self.qty = new
        self.realized_usd += realized - fee_usd
        self.fees_usd += fee_usd
        if self.mark is None:
            self.mark = float(price)
        return realized - fee_usd

    def unrealized_usd(self) -> float:
        if not self.qty or self.mark is None:
            return 0.0
        return (self.mark - self.avg_price) * self.qty * self.unit

    def exposure_usd(self) -> float:
        """abs(position) at the mark (the average price before any mark)."""
        price = self.mark if self.mark is not None else self.avg_price
        return abs(self.qty) * price * self.unit

    def total_usd(self) -> float:
        return self.realized_usd + self.unrealized_usd()
