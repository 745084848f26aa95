"""`tickwire bench journal`: what journaling costs the daemon per order event.

The daemon writes `order_submitted` synchronously before it sends each order, so that cost
is on the order path. This places N orders through a real Oms and Journal on a real file and
times each journal call: the submission (one INSERT, one commit), the ack and a fill (each
one transaction of two statements). The same run with synchronous=FULL (an fsync per
commit) is the reference: it shows what the WAL + NORMAL choice saves.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from host.bench.stats import Summary, quiet_gc, table
from host.journal.journal import Journal
from host.oms import ClientIds, Oms
from host.strategy.actions import PlaceOrder
from host.venue_client.events import Fill, OrderAck, Side
from host.venue_client.markets import MarketSpec, MarketTable

MARKETS = MarketTable([MarketSpec("BTC-PERP", 0, "0.1", "0.001", 50)])


def _filesystem(path: Path) -> str:
    best = ("?", "")
    try:
        with open("/proc/mounts") as mounts:
            for line in mounts:
                _dev, mount, fstype, *_ = line.split()
                if str(path).startswith(mount) and len(mount) >= len(best[1]):
                    best = (fstype, mount)
    except OSError:
        pass
    return f"{best[0]} at {best[1] or '?'}"


def measure(directory: Path, orders: int, rate: float, **journal_args) -> dict[str, Summary]:
    clock = time.perf_counter_ns
    times: dict[str, list[int]] = {"submit (OMS)": [], "order_submitted": [],
                                   "ack": [], "fill": []}
    with tempfile.TemporaryDirectory(dir=directory) as tmp, \
            Journal(Path(tmp) / "bench.db", **journal_args) as journal:
        oms = Oms(MARKETS, ClientIds(journal.start()))
        gap = 1e9 / rate if rate else 0
        start = clock()
        with quiet_gc():
            for n in range(orders):
                if gap:
                    _sleep_until(start + n * gap)
                side = Side.BUY if n % 2 else Side.SELL
                t0 = clock()
                order = oms.submit(PlaceOrder("BTC-PERP", side, 5, 500_000 + n % 7), t0)
                t1 = clock()
                journal.order_submitted(order)
                t2 = clock()
                events = oms.on_event(OrderAck(order.order_id, "BTC-PERP", side, order.order_type,
                                               order.price, 5, 0), t2)
                t3 = clock()
                journal.oms_events(events)
                t4 = clock()
                events = oms.on_event(Fill(order.order_id, "BTC-PERP", side, 5, order.price,
                                           Decimal("0.0125"), "taker", 0, n, 0), t4)
                t5 = clock()
                journal.oms_events(events)
                t6 = clock()
                for key, value in (("submit (OMS)", t1 - t0), ("order_submitted", t2 - t1),
                                   ("ack", t4 - t3), ("fill", t6 - t5)):
                    times[key].append(value)
        size = os.path.getsize(Path(tmp) / "bench.db") + os.path.getsize(
            Path(tmp) / "bench.db-wal")
    out = {k: Summary.of(v) for k, v in times.items()}
    out["_bytes"] = size  # type: ignore[assignment]
    return out


def _sleep_until(deadline_ns: float) -> None:
    left = deadline_ns - time.perf_counter_ns()
    if left > 0:
        time.sleep(left / 1e9)


CONFIGS = (
    ("NORMAL", "WAL, synchronous=NORMAL (the daemon's journal): no fsync on commit", {}),
    ("FULL", "WAL, synchronous=FULL: an fsync per commit (reference)",
     {"synchronous": "FULL"}),
)


def report(directory: Path, orders: int, full_orders: int, rate: float) -> str:
    results = {}
    for label, _doc, kwargs in CONFIGS:
        n = full_orders if label == "FULL" else orders
        results[label] = measure(directory, n, rate, **kwargs)
    size = results["NORMAL"]["_bytes"]
    rows = []
    for label, result in results.items():
        result.pop("_bytes")
        rows += [(f"{k} [{label}]", v) for k, v in result.items()
                 if label == "NORMAL" or k != "submit (OMS)"]
    sub = results["NORMAL"]["order_submitted"]
    return "\n".join([
        "tickwire bench journal: cost per journal call on a real SQLite file (WAL mode)",
        f"where: {directory.resolve()} ({_filesystem(directory.resolve())})",
        f"method: perf_counter_ns per call, gc frozen and off; {orders:,} orders per setting "
        f"({full_orders:,} with FULL), "
        + (f"{rate:g} orders/s" if rate else "back to back")
        + "; each order = submit + ack + one fill (the fill also moves the order to filled)",
        *(f"  [{label}] {doc}" for label, doc, _ in CONFIGS),
        table(rows, unit_note="µs per call"),
        f"order_submitted with NORMAL: p50 {sub.us('p50'):.1f} µs, p99 {sub.us('p99'):.1f} µs "
        f"(on the order path, before the send); file size {size / orders:.0f} bytes/order",
    ])


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--orders", type=int, default=10_000, help="orders per setting")
    parser.add_argument("--full-orders", type=int, default=500, help="orders with FULL")
    parser.add_argument("--rate", type=float, default=1000,
                        help="orders per second, each with its ack and fill (0: back to back)")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()),
                        help="where to put the journal file (default: the temp dir)")


def run(args: argparse.Namespace) -> int:
    print(report(args.dir, max(args.orders, 1), max(args.full_orders, 1), max(args.rate, 0)))
    return 0
