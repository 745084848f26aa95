"""Read-only questions for `tickwire status` and the demo summary."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import orjson

from host.journal.recover import LATEST_POSITIONS


@dataclass(frozen=True)
class MarketPnl:
    market: str
    qty: int
    avg_price: float
    realized_usd: float
    fees_usd: float
    fills: int
    volume_lots: int


@dataclass(frozen=True)
class Summary:
    boots: int
    orders_by_state: dict[str, int]
    fills: int
    markets: tuple[MarketPnl, ...]
    risk_events: dict[str, int]      # "kind:reason" -> count

    @property
    def orders(self) -> int:
        return sum(self.orders_by_state.values())

    @property
    def realized_usd(self) -> float:
        return sum(m.realized_usd for m in self.markets)

    @property
    def fees_usd(self) -> float:
        return sum(m.fees_usd for m in self.markets)


@dataclass(frozen=True)
class Entry:
    seq: int
    kind: str        # order, order_event, fill, position_reset, risk_event
    wall_ns: int
    detail: dict


def summary(db: sqlite3.Connection) -> Summary:
    boots = db.execute("SELECT count(*) FROM boots").fetchone()[0]
    by_state = dict(db.execute("SELECT state, count(*) FROM orders GROUP BY state"))
    fills = db.execute("SELECT count(*) FROM fills").fetchone()[0]
    latest = {}
    for market, _seq, qty, avg, realized, fees in db.execute(LATEST_POSITIONS):
        latest[market] = (qty, avg, realized, fees)
    counts = {m: (n, v) for m, n, v in db.execute(
        "SELECT market, count(*), sum(qty) FROM fills GROUP BY market")}
    markets = tuple(MarketPnl(m, *latest[m], *counts.get(m, (0, 0))) for m in sorted(latest))
    risk = {f"{k}:{r}": n for k, r, n in db.execute(
        "SELECT kind, reason, count(*) FROM risk_events GROUP BY kind, reason ORDER BY kind")}
    return Summary(boots, by_state, fills, markets, risk)


def latencies(db: sqlite3.Connection) -> dict[str, list[int]]:
    """Per-order ack and first-fill round trips, ns, in submission order (this journal's
    whole history; each difference is taken within one boot's monotonic clock)."""
    ack = [r[0] for r in db.execute(
        "SELECT ack_ns - sent_ns FROM orders WHERE ack_ns IS NOT NULL AND boot > 0 ORDER BY seq")]
    fill = [r[0] for r in db.execute(
        "SELECT first_fill_ns - sent_ns FROM orders WHERE first_fill_ns IS NOT NULL "
        "AND boot > 0 ORDER BY seq")]
    return {"ack_ns": ack, "first_fill_ns": fill}


_TAIL = """
SELECT seq, 'order', wall_ns, json_object('order_id', order_id, 'market', market, 'side', side,
       'type', order_type, 'qty', qty, 'price', price, 'tag', tag, 'state', state) FROM orders
UNION ALL
SELECT seq, 'order_event', wall_ns, json_object('order_id', order_id, 'kind', kind, 'old', old,
       'new', new, 'reason', reason) FROM order_events
UNION ALL
SELECT seq, 'fill', wall_ns, json_object('order_id', order_id, 'market', market, 'side', side,
       'qty', qty, 'price', price, 'fee', fee, 'liquidity', liquidity,
       'position', pos_qty) FROM fills
UNION ALL
SELECT seq, 'position_reset', wall_ns, json_object('market', market, 'from', prev_qty,
       'to', pos_qty, 'reason', reason) FROM position_resets
UNION ALL
SELECT seq, 'risk_event', wall_ns, json_object('kind', kind, 'reason', reason,
       'detail', json(detail)) FROM risk_events
ORDER BY seq DESC LIMIT ?
"""


def tail(db: sqlite3.Connection, n: int) -> list[Entry]:
    """The last n things journaled, oldest first."""
    rows = db.execute(_TAIL, (n,)).fetchall()
    return [Entry(seq, kind, wall, orjson.loads(detail)) for seq, kind, wall, detail
            in reversed(rows)]
