"""The journal: every order, order event, fill and risk event in one SQLite file.

WAL mode with synchronous=NORMAL: a commit is in the WAL file (the OS page cache) when it
returns, so it survives the process being killed, SIGKILL included; only a power cut or OS
crash can lose the last commits. Each call is one transaction. `order_submitted` must be
called before the order is sent, so that a restart knows about every order the venue may
have; it is a single INSERT and costs tens of microseconds (docs/oms-and-journal.md).

One process at a time: a second `Journal` on the same file raises `JournalLocked` (an
advisory lock on `<path>.lock`, released by the kernel when the holder dies).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from pathlib import Path

import orjson

from host.journal import queries, recover
from host.journal.errors import (
    JournalClosed,
    JournalCorrupt,
    JournalLocked,
    NotAJournal,
    NotStarted,
    SchemaMismatch,
    SchemaTooNew,
)
from host.journal.schema import SCHEMA_VERSION, SEQ_TABLES, ddl
from host.oms.events import (
    CancelRejected,
    OrderAdopted,
    OrderFilled,
    OrderStateChanged,
    PositionReset,
    UnknownOrderEvent,
)
from host.oms.order import Order

_ORDER_COLS = ("order_id", "seq", "boot", "market", "side", "order_type", "qty", "price", "tag",
               "origin_ns", "sent_ns", "state", "filled", "fill_value", "fees_usd", "ack_ns",
               "first_fill_ns", "done_ns", "cancel_sent_ns", "implicit_ack", "reason",
               "wall_ns")
_INSERT_ORDER = (f"INSERT INTO orders ({', '.join(_ORDER_COLS)}) "
                 f"VALUES ({', '.join('?' * len(_ORDER_COLS))})")
_UPDATE_ORDER = ("UPDATE orders SET state=?, filled=?, fill_value=?, fees_usd=?, ack_ns=?, "
                 "first_fill_ns=?, done_ns=?, cancel_sent_ns=?, implicit_ack=?, reason=? "
                 "WHERE order_id=?")
_INSERT_ORDER_EVENT = ("INSERT INTO order_events (seq, order_id, kind, old, new, reason, now_ns, "
                       "wall_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
_INSERT_FILL = ("INSERT INTO fills (seq, order_id, market, side, qty, price, fee, liquidity, "
                "remaining, trade_id, venue_ts_ns, pos_qty, pos_avg, pos_realized, pos_fees, "
                "now_ns, wall_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_INSERT_RESET = ("INSERT INTO position_resets (seq, market, prev_qty, prev_avg, pos_qty, "
                 "pos_avg, pos_realized, pos_fees, reason, now_ns, wall_ns) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_INSERT_RISK = ("INSERT INTO risk_events (seq, kind, reason, detail, now_ns, wall_ns) "
                "VALUES (?, ?, ?, ?, ?, ?)")


SYNCHRONOUS = ("NORMAL", "FULL")
WAL_SIZE_LIMIT = 16 << 20   # bytes the WAL file is truncated to after a restart


class Journal:
    """`synchronous="FULL"` also survives a power cut, at an fsync per commit.

    Checkpoints (copying the WAL into the database, with an fsync) are SQLite's automatic
    ones: the commit that takes the WAL past 1000 pages runs one, so about one commit in
    several hundred takes milliseconds instead of microseconds. A background checkpoint
    thread was tried and measured no better at p99 (`tickwire bench journal`), so it is not
    here.
    """

    def __init__(self, path: str | os.PathLike, *, synchronous: str = "NORMAL"):
        if synchronous not in SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {SYNCHRONOUS}, not {synchronous!r}")
        self.path = Path(path)
        self._db = None
        self._lock_fd = _lock(self.path)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={synchronous}")
            self._db.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
            _check_schema(self._db)
            self._seq = max(self._db.execute(f"SELECT coalesce(max(seq), 0) FROM {t}")
                            .fetchone()[0] for t in SEQ_TABLES)
        except sqlite3.DatabaseError as exc:
            self.close()
            raise JournalCorrupt(f"{self.path}: {exc}") from None
        except BaseException:
            self.close()
            raise
        self.boot: int | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> int:
        """Begin a run: the next boot number, committed before it is returned."""
        db = self._conn()
        boot = db.execute("SELECT coalesce(max(boot), 0) + 1 FROM boots").fetchone()[0]
        db.execute("INSERT INTO boots (boot, pid, wall_ns) VALUES (?, ?, ?)",
                   (boot, os.getpid(), time.time_ns()))
        self.boot = boot
        return boot

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        self._release()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writes -----------------------------------------------------------------------------

    def order_submitted(self, order: Order) -> int:
        """Journal a new order; call it BEFORE sending. Returns the row's seq."""
        if self.boot is None:
            raise NotStarted("call start() before journaling orders")
        self._seq += 1
        self._conn().execute(_INSERT_ORDER, _order_row(order, self._seq, self.boot))
        return self._seq

    def oms_event(self, ev) -> int:
        """Journal one OMS event (host/oms/events.py) in its own transaction; returns seq."""
        return self.oms_events((ev,))

    def oms_events(self, events) -> int:
        """Journal several OMS events in ONE transaction (e.g. a fill and its state change)."""
        db = self._conn()
        wall = time.time_ns()
        db.execute("BEGIN")
        try:
            for ev in events:
                self._write(db, ev, wall)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return self._seq

    def risk_event(self, kind: str, reason: str, detail: dict, now_ns: int) -> int:
        self._seq += 1
        self._conn().execute(_INSERT_RISK, (self._seq, kind, reason,
                                            orjson.dumps(detail, default=str).decode(),
                                            now_ns, time.time_ns()))
        return self._seq

    def _write(self, db: sqlite3.Connection, ev, wall: int) -> None:
        self._seq += 1
        seq = self._seq
        t = type(ev)
        if t is OrderFilled:
            f, o, p = ev.fill, ev.order, ev.position
            db.execute(_INSERT_FILL, (seq, o.order_id, f.market, f.side.value, f.qty, f.price,
                                      str(f.fee), "inferred" if ev.inferred else f.liquidity,
                                      f.remaining, f.trade_id, f.ts_ns, p.qty, p.avg_price,
                                      p.realized_usd, p.fees_usd, ev.now_ns, wall))
            db.execute(_UPDATE_ORDER, _order_update(o))
        elif t is OrderStateChanged:
            o = ev.order
            db.execute(_INSERT_ORDER_EVENT, (seq, o.order_id, "state", ev.old.value,
                                             ev.new.value, ev.reason, ev.now_ns, wall))
            db.execute(_UPDATE_ORDER, _order_update(o))
        elif t is CancelRejected:
            s = ev.order.state.value
            db.execute(_INSERT_ORDER_EVENT, (seq, ev.order.order_id, "cancel_reject", s, s,
                                             ev.reason, ev.now_ns, wall))
        elif t is OrderAdopted:
            o = ev.order
            db.execute(_INSERT_ORDER, _order_row(o, seq, 0))
            db.execute(_INSERT_ORDER_EVENT, (seq, o.order_id, "adopted", None, o.state.value,
                                             "reconcile:adopted", ev.now_ns, wall))
        elif t is PositionReset:
            a, b = ev.previous, ev.position
            db.execute(_INSERT_RESET, (seq, b.market, a.qty, a.avg_price, b.qty, b.avg_price,
                                       b.realized_usd, b.fees_usd, ev.reason, ev.now_ns, wall))
        elif t is UnknownOrderEvent:
            e = ev.event
            db.execute(_INSERT_ORDER_EVENT, (seq, getattr(e, "order_id", "?"), "unknown",
                                             None, None, type(e).__name__, ev.now_ns, wall))
            if ev.position is not None:     # another session's fill: it moved our position
                p = ev.position
                self._seq += 1
                db.execute(_INSERT_FILL, (self._seq, e.order_id, e.market, e.side.value, e.qty,
                                          e.price, str(e.fee), e.liquidity, e.remaining,
                                          e.trade_id, e.ts_ns, p.qty, p.avg_price,
                                          p.realized_usd, p.fees_usd, ev.now_ns, wall))
        else:
            raise TypeError(f"not an OMS event: {t.__name__}")

    # -- reads ------------------------------------------------------------------------------

    def recover(self, markets) -> recover.Recovered:
        """Open orders and positions as the journal last recorded them."""
        return recover.recover(self._conn(), markets, self.boot)

    def summary(self) -> queries.Summary:
        return queries.summary(self._conn())

    def tail(self, n: int = 20) -> list[queries.Entry]:
        return queries.tail(self._conn(), n)

    def latencies(self) -> dict[str, list[int]]:
        return queries.latencies(self._conn())

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise JournalClosed(f"{self.path} is closed")
        return self._db

    def _release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def _order_row(o: Order, seq: int, boot: int) -> tuple:
    return (o.order_id, seq, boot, o.market, o.side.value, o.order_type.value, o.qty, o.price,
            o.tag, o.origin_ns, o.sent_ns, o.state.value, o.filled, o.fill_value, o.fees_usd,
            o.ack_ns, o.first_fill_ns, o.done_ns, o.cancel_sent_ns, int(o.implicit_ack),
            o.reason, time.time_ns())


def _order_update(o: Order) -> tuple:
    return (o.state.value, o.filled, o.fill_value, o.fees_usd, o.ack_ns, o.first_fill_ns,
            o.done_ns, o.cancel_sent_ns, int(o.implicit_ack), o.reason, o.order_id)


def _lock(path: Path) -> int:
    fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise JournalLocked(f"{path} is open in another process") from None
    return fd


def _check_schema(db: sqlite3.Connection) -> None:
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables:
        db.execute("BEGIN")
        for stmt in ddl():
            db.execute(stmt)
        db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)",
                   (str(SCHEMA_VERSION),))
        db.execute("COMMIT")
        return
    if "meta" not in tables:
        raise NotAJournal("an SQLite database without tickwire's meta table")
    row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    if row is None or not str(row[0]).isdigit():
        raise SchemaMismatch(f"schema_version is {row and row[0]!r}")
    version = int(row[0])
    if version > SCHEMA_VERSION:
        raise SchemaTooNew(version, SCHEMA_VERSION)
    if version < SCHEMA_VERSION:
        raise SchemaMismatch(f"schema {version} is older than {SCHEMA_VERSION} and has no "
                             "migration")
