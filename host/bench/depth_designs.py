"""The three depth-path designs the bench races, each behind the same two calls.

A design is built from the raw REST snapshot (untimed) and then takes one raw depth-diff
message at a time with `on_message(raw)`, returning the decision's input: the best bid and
ask, each as (price, qty) in the design's own units. `top_ticks()` gives them as integer
ticks and lots so the bench can check that all designs agree (untimed).

- TickwireDepth: msgspec decoding, DepthSync and DepthBook (integer-tick dicts, tracked best).
- SeedStyleDepth: the seed article's design, written afresh: stdlib json, a dict of level
  objects keyed by float price, best found with max()/min() over the side on every message.
- SortedDictDepth: orjson and a sortedcontainers.SortedDict per side keyed by integer ticks,
  best from the ends of the sorted keys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import orjson
from sortedcontainers import SortedDict

from host.feeds import binance
from host.model.depth_book import DepthBook
from host.model.depth_sync import APPLIED, ChainRule, DepthSync

PRICE_DECIMALS = 2  # USD-M BTCUSDT sends prices with 2 places ("61800.20")
QTY_DECIMALS = 3  # and quantities with 3 ("0.014")


class TickwireDepth:
    name = "tickwire: msgspec + int-tick dict book"

    def __init__(self, snapshot_raw: bytes):
        self.book = DepthBook(PRICE_DECIMALS, QTY_DECIMALS)
        self.sync = DepthSync(self.book, ChainRule.FUTURES)
        snapshot = binance.decode(binance.StreamKind.SNAPSHOT, snapshot_raw)
        self.sync.on_snapshot(snapshot.lastUpdateId, snapshot.bids, snapshot.asks)
        self._decode = binance.decode_depth

    def on_message(self, raw: bytes):
        diff = self._decode(raw).data
        event = self.sync.on_diff(diff.U, diff.u, diff.pu, diff.b, diff.a)
        if event is not APPLIED and not self.sync.live:
            return None
        return self.book.best_bid(), self.book.best_ask()

    def top_ticks(self) -> tuple:
        top = self.book.top()
        return top.bid_tick, top.bid_lots, top.ask_tick, top.ask_lots


@dataclass
class _SeedLevel:
    price: float
    qty: float


class SeedStyleDepth:
    name = "seed design: json + float dict + max/min"

    def __init__(self, snapshot_raw: bytes):
        snapshot = json.loads(snapshot_raw)
        self.bids = {float(p): _SeedLevel(float(p), float(q)) for p, q in snapshot["bids"]}
        self.asks = {float(p): _SeedLevel(float(p), float(q)) for p, q in snapshot["asks"]}

    def on_message(self, raw: bytes):
        data = json.loads(raw)["data"]
        for side, levels in ((self.bids, data["b"]), (self.asks, data["a"])):
            for p, q in levels:
                price, qty = float(p), float(q)
                if qty == 0:
                    side.pop(price, None)
                else:
                    side[price] = _SeedLevel(price, qty)
        return self.bids[max(self.bids)], self.asks[min(self.asks)]

    def top_ticks(self) -> tuple:
        bid, ask = self.bids[max(self.bids)], self.asks[min(self.asks)]
        return (round(bid.price * 10**PRICE_DECIMALS), round(bid.qty * 10**QTY_DECIMALS),
                round(ask.price * 10**PRICE_DECIMALS), round(ask.qty * 10**QTY_DECIMALS))


def _units(text: str) -> int:
    # The reference's conversion: drop the point. Right only while every string carries
    # exactly the market's decimal places, as USD-M's do.
    return int(text.replace(".", ""))


class SortedDictDepth:
    name = "orjson + SortedDict (int ticks)"

    def __init__(self, snapshot_raw: bytes):
        snapshot = orjson.loads(snapshot_raw)
        self.bids = SortedDict({_units(p): _units(q) for p, q in snapshot["bids"]})
        self.asks = SortedDict({_units(p): _units(q) for p, q in snapshot["asks"]})

    def on_message(self, raw: bytes):
        data = orjson.loads(raw)["data"]
        for side, levels in ((self.bids, data["b"]), (self.asks, data["a"])):
            for p, q in levels:
                tick, lots = _units(p), _units(q)
                if lots:
                    side[tick] = lots
                else:
                    side.pop(tick, None)
        return self.bids.peekitem(-1), self.asks.peekitem(0)

    def top_ticks(self) -> tuple:
        (bid, bid_lots), (ask, ask_lots) = self.bids.peekitem(-1), self.asks.peekitem(0)
        return bid, bid_lots, ask, ask_lots


DESIGNS = (TickwireDepth, SeedStyleDepth, SortedDictDepth)
