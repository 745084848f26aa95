"""Rebuild the OMS's state from the journal after a restart (a crash or SIGKILL included).

Open orders are the `orders` rows not in a terminal state, oldest first. A market's position
is the one recorded by its latest row, by `seq`, in `fills` or `position_resets` (each holds
the position after it), so recovery reads one row per market however long the journal is.
The daemon then reconciles both with the venue (host/oms/reconcile.py).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from host.oms.order import Order
from host.oms.position import Position
from host.oms.states import LIVE, OrderState
from host.venue_client.events import OrderType, Side

_LIVE_STATES = tuple(s.value for s in LIVE)

_OPEN_ORDERS = (
    "SELECT order_id, market, side, order_type, qty, price, tag, origin_ns, sent_ns, state, "
    "filled, fill_value, fees_usd, ack_ns, first_fill_ns, done_ns, cancel_sent_ns, "
    f"implicit_ack, reason FROM orders WHERE state IN ({', '.join('?' * len(_LIVE_STATES))}) "
    "ORDER BY seq")

LATEST_POSITIONS = """
SELECT market, seq, pos_qty, pos_avg, pos_realized, pos_fees FROM fills
  WHERE seq IN (SELECT max(seq) FROM fills GROUP BY market)
UNION ALL
SELECT market, seq, pos_qty, pos_avg, pos_realized, pos_fees FROM position_resets
  WHERE seq IN (SELECT max(seq) FROM position_resets GROUP BY market)
ORDER BY seq
"""


@dataclass(frozen=True)
class Recovered:
    open_orders: tuple[Order, ...]
    positions: dict[str, Position]
    boot: int | None              # this run's boot (None if start() was not called)
    skipped_markets: tuple[str, ...] = field(default=())  # in the journal, not in the table


def recover(db: sqlite3.Connection, markets, boot: int | None) -> Recovered:
    skipped: set[str] = set()
    orders = []
    for row in db.execute(_OPEN_ORDERS, _LIVE_STATES):
        (oid, market, side, otype, qty, price, tag, origin_ns, sent_ns, state, filled,
         fill_value, fees, ack_ns, first_fill_ns, done_ns, cancel_ns, implicit, reason) = row
        if market not in markets:
            skipped.add(market)
            continue
        orders.append(Order(oid, market, Side(side), OrderType(otype), qty, price, tag,
                            origin_ns, sent_ns, OrderState(state), filled, fill_value, fees,
                            ack_ns, first_fill_ns, done_ns, cancel_ns, bool(implicit), reason))
    positions: dict[str, Position] = {}
    for market, _seq, qty, avg, realized, fees in db.execute(LATEST_POSITIONS):
        if market not in markets:
            skipped.add(market)
            continue
        positions[market] = Position(market, qty, avg, realized, fees)  # later seq wins
    return Recovered(tuple(orders), positions, boot, tuple(sorted(skipped)))
