"""Replay of recorded market data as venue markets.

The recording format is the one in shared/data/ (see its README.md): gzip (or plain) text,
one record a line, `<receive time, ns since the epoch> <JSON>`, where the JSON is a Binance
combined-stream envelope `{"stream": ..., "data": ...}` carrying a `depthUpdate`, a `trade`
or a `bookTicker`, or, with no envelope, one REST depth snapshot `{"lastUpdateId", "bids",
"asks"}`. Each file is one market; `ReplaySource` names the venue market it becomes.

The venue rebuilds each book with Binance's procedure (buffer diffs until the snapshot, drop
those before it, start at the first that spans it, then check continuity: `pu` on futures,
`U` = previous `u` + 1 on spot). A recording cannot be resynced, so a break is counted in
`gaps` and replay carries on. Depth becomes resting liquidity of a house account
(`Engine.set_level`), so clients trade against the recorded book; trades are printed to
market data; bookTicker records drive nothing and serve as the exchange's own oracle.
"""

from __future__ import annotations

import gzip
import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from sim.venue.book import BUY, SELL


@dataclass(frozen=True)
class ReplaySource:
    path: str
    market: str


@dataclass(frozen=True)
class ReplayConfig:
    sources: tuple[ReplaySource, ...]
    speed: float = 1.0  # 1.0 keeps the recorded pace; 0 replays as fast as possible


@dataclass(slots=True)
class Snapshot:
    last_update_id: int
    bids: list[tuple[int, int]]
    asks: list[tuple[int, int]]


@dataclass(slots=True)
class DepthDiff:
    first_id: int
    last_id: int
    prev_last_id: int | None  # futures only
    bids: list[tuple[int, int]]
    asks: list[tuple[int, int]]


@dataclass(slots=True)
class Print:
    price: int
    qty: int
    aggressor: int


@dataclass(slots=True)
class Quote:
    update_id: int
    bid: int
    bid_qty: int
    ask: int
    ask_qty: int


BINANCE_DATA_FILES = {"BTC-SPOT": "binance-spot-btcusdt-20240808.gz",
                      "BTC-PERP": "binance-usdm-btcusdt-20240808.gz"}


def binance_pair(data_dir: str | Path, speed: float = 1.0) -> ReplayConfig:
    """The shared/data recordings as BTC-SPOT and BTC-PERP."""
    data_dir = Path(data_dir)
    return ReplayConfig(tuple(ReplaySource(str(data_dir / f), m)
                              for m, f in BINANCE_DATA_FILES.items()), speed)


def read_recording(path: str | Path, spec) -> Iterator[tuple[int, object]]:
    """(receive time ns, record) for each line, prices in ticks and sizes in lots of `spec`."""
    ticks, lots = _cached(spec.to_ticks), _cached(spec.to_lots)
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as lines:
        for line in lines:
            stamp, _, raw = line.partition(b" ")
            ts = int(stamp)
            msg = orjson.loads(raw)
            data = msg.get("data")
            if data is None:
                yield ts, Snapshot(msg["lastUpdateId"],
                                   [(ticks(p), lots(q)) for p, q in msg["bids"]],
                                   [(ticks(p), lots(q)) for p, q in msg["asks"]])
            elif data.get("e") == "depthUpdate":
                yield ts, DepthDiff(data["U"], data["u"], data.get("pu"),
                                    [(ticks(p), lots(q)) for p, q in data["b"]],
                                    [(ticks(p), lots(q)) for p, q in data["a"]])
            elif data.get("e") == "trade":
                # "m": the buyer was the maker, so the seller took liquidity.
                yield ts, Print(ticks(data["p"]), lots(data["q"]), SELL if data["m"] else BUY)
            elif "b" in data and "B" in data:
                yield ts, Quote(data["u"], ticks(data["b"]), lots(data["B"]),
                                ticks(data["a"]), lots(data["A"]))


def _cached(convert):
    """Depth repeats the same price and size strings endlessly: convert each one once."""
    cache: dict[str, int] = {}

    def lookup(text: str) -> int:
        value = cache.get(text)
        if value is None:
            value = cache[text] = convert(text)
        return value
    return lookup


class BookSync:
    """Binance's book synchronisation for one recording, sans-I/O."""

    def __init__(self):
        self.snapshot_id: int | None = None
        self.last_id: int | None = None
        self.buffer: list[DepthDiff] = []
        self.gaps = 0
        self.dropped = 0

    def on_snapshot(self, snap: Snapshot) -> list:
        """The snapshot, then any buffered diffs that follow it."""
        self.snapshot_id = snap.last_update_id
        buffered, self.buffer = self.buffer, []
        out: list = [snap]
        for diff in buffered:
            out.extend(self.on_diff(diff))
        return out

    def on_diff(self, diff: DepthDiff) -> list:
        if self.snapshot_id is None:
            self.buffer.append(diff)
            return []
        if self.last_id is None:
            if diff.last_id < self.snapshot_id or diff.first_id > self.snapshot_id + 1:
                self.dropped += 1
                return []
        elif diff.prev_last_id is not None:
            if diff.prev_last_id != self.last_id:
                self.gaps += 1
        elif diff.first_id != self.last_id + 1:
            self.gaps += 1
        self.last_id = diff.last_id
        return [diff]


def _numbered(index: int, market_id: int, records):
    """(ts, source index, line number, market id, record): a total order for merging."""
    for n, (ts, record) in enumerate(records):
        yield ts, index, n, market_id, record


class Replayer:
    """Applies recorded records to a venue core. The app paces it; tests drive it directly."""

    def __init__(self, core, config: ReplayConfig):
        self.core = core
        self.config = config
        self.house = core.house_account("replay")
        self.syncs: dict[int, BookSync] = {}
        self.applied = 0

    def records(self) -> Iterator[tuple[int, int, object]]:
        """(ts, market id, record) from every source, merged in receive-time order."""
        streams = []
        for index, source in enumerate(self.config.sources):
            spec = self.core.markets[source.market]
            self.syncs[spec.market_id] = BookSync()
            streams.append(_numbered(index, spec.market_id, read_recording(source.path, spec)))
        for ts, _, _, market_id, record in heapq.merge(*streams, key=lambda r: r[:3]):
            yield ts, market_id, record

    def apply(self, market_id: int, record) -> list:
        """Apply one record as one venue event; returns the records the book took in."""
        kind = type(record)
        if kind is Print:
            self.core.run(self.core.engine.print_trade(market_id, record.price, record.qty,
                                                       record.aggressor))
            return []
        sync = self.syncs[market_id]
        if kind is Snapshot:
            todo = sync.on_snapshot(record)
        elif kind is DepthDiff:
            todo = sync.on_diff(record)
        else:
            return []
        engine, house = self.core.engine, self.house
        events: list = []
        for item in todo:
            if type(item) is Snapshot:
                for order in [o for o in house.open_orders.values()
                              if o.market_id == market_id]:
                    events += engine.set_level(house, market_id, order.side, order.price, 0)
            # Levels leaving first, so a moving book is never crossed against itself.
            for side, levels in ((BUY, item.bids), (SELL, item.asks)):
                for price, qty in levels:
                    if qty == 0:
                        events += engine.set_level(house, market_id, side, price, 0)
            for side, levels in ((BUY, item.bids), (SELL, item.asks)):
                for price, qty in levels:
                    if qty:
                        events += engine.set_level(house, market_id, side, price, qty)
        self.applied += len(todo)
        self.core.run(events)
        return todo
