"""One order as the OMS knows it: an immutable snapshot, replaced on every change.

Times are local monotonic ns (`time.monotonic_ns()`): `sent_ns` when it was handed to the
socket, `ack_ns` and `first_fill_ns` when those events arrived, so the latencies are
round trips measured on one clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from host.oms.states import LIVE, OrderState
from host.venue_client.events import OrderType, Side


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    market: str
    side: Side
    order_type: OrderType
    qty: int                  # lots
    price: int | None         # ticks; None for a market order
    tag: str = ""
    origin_ns: int = 0        # when the market data that caused it arrived
    sent_ns: int = 0
    state: OrderState = OrderState.PENDING
    filled: int = 0
    fill_value: int = 0       # sum of price * lots over fills, for the average fill price
    fees_usd: float = 0.0
    ack_ns: int | None = None
    first_fill_ns: int | None = None
    done_ns: int | None = None          # when it reached a terminal state
    cancel_sent_ns: int | None = None
    implicit_ack: bool = False          # a fill arrived before any ack
    reason: str = ""                    # the reject or cancel reason

    @property
    def remaining(self) -> int:
        return self.qty - self.filled

    @property
    def live(self) -> bool:
        return self.state in LIVE

    @property
    def avg_fill_price(self) -> float | None:
        return self.fill_value / self.filled if self.filled else None

    @property
    def ack_latency_ns(self) -> int | None:
        return None if self.ack_ns is None else self.ack_ns - self.sent_ns

    @property
    def fill_latency_ns(self) -> int | None:
        """Sent to first fill."""
        return None if self.first_fill_ns is None else self.first_fill_ns - self.sent_ns

    @property
    def tick_to_order_ns(self) -> int | None:
        return self.sent_ns - self.origin_ns if self.origin_ns else None
