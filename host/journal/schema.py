"""The journal's tables, declared once: the DDL and docs/oms-and-journal.md come from here.

Every row written carries `seq`, one sequence across all tables (assigned by the journal in
the order things happened), so a reader can merge the tables back into one history.
No secondary indexes: every commit appends whole pages to the WAL, so each index would add a
page to every write on the order path; recovery and status queries scan instead (once, at
start-up). `orders` is WITHOUT ROWID, so an order is one b-tree entry, not a row plus a key.
Times: `*_ns` columns named after the OMS fields are local monotonic ns (meaningful within
one boot); `wall_ns` is `time.time_ns()` when the row was written; `venue_ts_ns` is the venue's.
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Column:
    name: str
    sql: str
    doc: str


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...]
    without_rowid: bool = False

    def ddl(self) -> list[str]:
        cols = ",\n  ".join(f"{c.name} {c.sql}" for c in self.columns)
        tail = " WITHOUT ROWID" if self.without_rowid else ""
        return [f"CREATE TABLE {self.name} (\n  {cols}\n){tail}"]


C = Column
_SEQ = C("seq", "INTEGER PRIMARY KEY", "journal-wide sequence number")
_WALL = C("wall_ns", "INTEGER NOT NULL", "wall clock when written")
_NOW = C("now_ns", "INTEGER NOT NULL", "local monotonic time of the event")

TABLES: tuple[Table, ...] = (
    Table("meta", "Key/value settings; `schema_version` is checked on open.", (
        C("key", "TEXT PRIMARY KEY", "setting name"),
        C("value", "TEXT NOT NULL", "its value"))),
    Table("boots", "One row per `Journal.start()`: the boot number in client order ids.", (
        C("boot", "INTEGER PRIMARY KEY", "1, 2, 3, ... never reused"),
        C("pid", "INTEGER NOT NULL", "process id of that run"),
        _WALL)),
    Table("orders", "One row per order, written before it is sent and updated on every "
                    "change: the order's latest state.", (
        C("order_id", "TEXT PRIMARY KEY", "client order id `tw<boot>-<n>`"),
        C("seq", "INTEGER NOT NULL", "sequence of the submission"),
        C("boot", "INTEGER NOT NULL", "boot that placed it (0: adopted at reconciliation)"),
        C("market", "TEXT NOT NULL", "market name"),
        C("side", "TEXT NOT NULL", "`buy` or `sell`"),
        C("order_type", "TEXT NOT NULL", "`limit`, `market`, `ioc`, `post_only`"),
        C("qty", "INTEGER NOT NULL", "lots"),
        C("price", "INTEGER", "ticks; NULL for a market order"),
        C("tag", "TEXT NOT NULL", "the strategy that asked"),
        C("origin_ns", "INTEGER NOT NULL", "when the triggering market data arrived"),
        C("sent_ns", "INTEGER NOT NULL", "when it was handed to the socket"),
        C("state", "TEXT NOT NULL", "`pending`, `open`, `partial`, `filled`, `cancelled`, "
                                    "`rejected`"),
        C("filled", "INTEGER NOT NULL", "lots filled"),
        C("fill_value", "INTEGER NOT NULL", "sum of price x lots over fills"),
        C("fees_usd", "REAL NOT NULL", "fees paid on its fills"),
        C("ack_ns", "INTEGER", "when the ack arrived"),
        C("first_fill_ns", "INTEGER", "when the first fill arrived"),
        C("done_ns", "INTEGER", "when it reached a terminal state"),
        C("cancel_sent_ns", "INTEGER", "when we sent a cancel"),
        C("implicit_ack", "INTEGER NOT NULL", "1 if a fill arrived before any ack"),
        C("reason", "TEXT NOT NULL", "reject or cancel reason"),
        _WALL),
        without_rowid=True),
    Table("order_events", "Every state change, cancel reject and unknown-order event.", (
        _SEQ,
        C("order_id", "TEXT NOT NULL", "client order id"),
        C("kind", "TEXT NOT NULL", "`state`, `cancel_reject`, `adopted` or `unknown`"),
        C("old", "TEXT", "state before"),
        C("new", "TEXT", "state after"),
        C("reason", "TEXT NOT NULL", "the venue's reason, or `reconcile:...`"),
        _NOW, _WALL)),
    Table("fills", "Every fill, with the market's position after it.", (
        _SEQ,
        C("order_id", "TEXT NOT NULL", "client order id"),
        C("market", "TEXT NOT NULL", "market name"),
        C("side", "TEXT NOT NULL", "`buy` or `sell`"),
        C("qty", "INTEGER NOT NULL", "lots"),
        C("price", "INTEGER NOT NULL", "ticks"),
        C("fee", "TEXT NOT NULL", "USDC, the venue's decimal exactly"),
        C("liquidity", "TEXT NOT NULL", "`maker`, `taker`, or `inferred` (reconciliation)"),
        C("remaining", "INTEGER NOT NULL", "lots left on the order"),
        C("trade_id", "INTEGER NOT NULL", "the venue's trade id (0 when inferred)"),
        C("venue_ts_ns", "INTEGER NOT NULL", "the venue's time of the fill"),
        C("pos_qty", "INTEGER NOT NULL", "position after: signed lots"),
        C("pos_avg", "REAL NOT NULL", "position after: average entry, ticks"),
        C("pos_realized", "REAL NOT NULL", "position after: realised PnL, USDC"),
        C("pos_fees", "REAL NOT NULL", "position after: fees, USDC"),
        _NOW, _WALL)),
    Table("position_resets", "Positions set to the venue's by reconciliation.", (
        _SEQ,
        C("market", "TEXT NOT NULL", "market name"),
        C("prev_qty", "INTEGER NOT NULL", "our quantity before"),
        C("prev_avg", "REAL NOT NULL", "our average entry before"),
        C("pos_qty", "INTEGER NOT NULL", "the venue's quantity"),
        C("pos_avg", "REAL NOT NULL", "the venue's average entry, ticks"),
        C("pos_realized", "REAL NOT NULL", "realised PnL (ours, kept)"),
        C("pos_fees", "REAL NOT NULL", "fees (ours, kept)"),
        C("reason", "TEXT NOT NULL", "why"),
        _NOW, _WALL)),
    Table("risk_events", "Every risk trip, state change and denial the daemon journals.", (
        _SEQ,
        C("kind", "TEXT NOT NULL", "e.g. `trip`, `state`, `deny`, `oms_error`"),
        C("reason", "TEXT NOT NULL", "machine-readable reason code"),
        C("detail", "TEXT NOT NULL", "JSON object"),
        _NOW, _WALL)),
)

SEQ_TABLES = ("order_events", "fills", "position_resets", "risk_events", "orders")


def ddl() -> list[str]:
    return [stmt for table in TABLES for stmt in table.ddl()]
