"""A position in one market: signed lots, average entry in ticks, realised PnL and fees in USDC.

Average cost, the venue's rule too: a fill that adds to the position moves the average entry;
one that reduces it realises (price - entry) * lots * notional_unit (sign by the side held)
and leaves the entry; one that flips it realises the closed part and opens the rest at the
fill price. Fees are kept apart from realised PnL (`net_usd` is both).
"""

from __future__ import annotations

from dataclasses import dataclass

from host.venue_client.events import Side


@dataclass(frozen=True, slots=True)
class Position:
    market: str
    qty: int = 0              # signed lots, long > 0
    avg_price: float = 0.0    # average entry, ticks; 0.0 when flat
    realized_usd: float = 0.0
    fees_usd: float = 0.0

    @property
    def net_usd(self) -> float:
        return self.realized_usd - self.fees_usd

    def unrealized_usd(self, mark_ticks: int, notional_unit: float) -> float:
        return self.qty * (mark_ticks - self.avg_price) * notional_unit

    def after_fill(self, side: Side, lots: int, price: int, fee_usd: float,
                   notional_unit: float) -> Position:
        held = self.qty
        signed = lots if side is Side.BUY else -lots
        new_qty = held + signed
        fees = self.fees_usd + fee_usd
        if held == 0 or (held > 0) == (signed > 0):
            avg = (self.avg_price * abs(held) + price * lots) / abs(new_qty)
            return Position(self.market, new_qty, avg, self.realized_usd, fees)
        closing = min(lots, abs(held))
        direction = 1 if held > 0 else -1
        pnl = closing * (price - self.avg_price) * notional_unit * direction
        realized = self.realized_usd + pnl
        if new_qty == 0:
            avg = 0.0
        elif (new_qty > 0) != (held > 0):
            avg = float(price)  # flipped: what is left opened at this fill
        else:
            avg = self.avg_price
        return Position(self.market, new_qty, avg, realized, fees)
