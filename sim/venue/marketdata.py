"""Market data: after every engine command, the same change goes out on both paths.

- The colo feed (`FeedEncoder`): per touched market, one event of MarketStatus, Trade,
  BookLevel (top 10 per side, see level_updates.py) and BestBidOffer messages.
- WebSocket subscribers: `trade`, `market_status`, `book_update` per (market, depth) view, and
  `ticker` when the best bid or offer changed and both sides quote.

A `book_update` lists the levels of the subscriber's top-`depth` view that changed, as
[price, qty] pairs with qty 0 for a level that left the view, so a client that keeps a
price -> qty map ends with exactly the venue's view. Each view numbers its updates 1, 2, 3 ...
from the `sequence` of the snapshot a subscriber got, so a client sees every number.

Sans-I/O: subscribers are objects with `send(payload, kind)`; nothing here touches a socket.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from host.wire import Side
from sim.venue.book import BUY, SELL
from sim.venue.colo_feed import FeedEncoder
from sim.venue.engine import SIDE_NAMES, Engine
from sim.venue.events import StatusChanged, Traded
from sim.venue.level_updates import FEED_DEPTH, diff_side
from sim.venue.protocol import encode

_BID, _ASK = int(Side.BID), int(Side.ASK)
STATUS_NAMES = {1: "trading", 2: "halted", 3: "closed"}


class DepthView:
    """One market's top-`depth` levels as WebSocket subscribers at that depth last saw them."""

    __slots__ = ("depth", "bids", "asks", "sequence", "subscribers")

    def __init__(self, depth: int, bids: dict[int, int], asks: dict[int, int]):
        self.depth = depth
        self.bids = bids
        self.asks = asks
        self.sequence = 0
        self.subscribers: set = set()


class _FeedState:
    __slots__ = ("bids", "asks", "bbo")

    def __init__(self):
        self.bids: list = []
        self.asks: list = []
        self.bbo = (0, 0, 0, 0)


def _changes(old: dict[int, int], new: dict[int, int]) -> list[tuple[int, int]]:
    out = [(p, q) for p, q in new.items() if old.get(p) != q]
    out.extend((p, 0) for p in old if p not in new)
    return out


class MarketData:
    def __init__(self, engine: Engine, encoder: FeedEncoder,
                 clock: Callable[[], int] = time.time_ns):
        self.engine = engine
        self.encoder = encoder
        self.clock = clock
        self.specs = engine.specs
        self.views: dict[int, dict[int, DepthView]] = {m: {} for m in engine.specs}
        self.tickers: dict[int, set] = {m: set() for m in engine.specs}
        self.trades: dict[int, set] = {m: set() for m in engine.specs}
        self.last_ticker: dict[int, tuple] = {}
        self._feed = {m: _FeedState() for m in engine.specs}
        self.on_feed: Callable[[], None] = lambda: None  # the adapter schedules a flush
        self.lose_next_update: set[int] = set()  # markets whose next book_update is lost

    # -- publishing --------------------------------------------------------------------------

    def publish(self, events: list) -> None:
        touched = self.engine.touched
        trades: dict[int, list] = {}
        statuses: dict[int, list] = {}
        for event in events:
            kind = type(event)
            if kind is Traded:
                trades.setdefault(event.market_id, []).append(event)
            elif kind is StatusChanged:
                statuses.setdefault(event.market_id, []).append(event)
        if not touched and not trades and not statuses:
            return
        markets = dict(touched)
        touched.clear()
        for market_id in (*trades, *statuses):
            markets.setdefault(market_id, 0)
        now = self.clock()
        for market_id in sorted(markets) if len(markets) > 1 else markets:
            self._market(market_id, markets[market_id], trades.get(market_id, ()),
                         statuses.get(market_id, ()), now)
        if self.encoder.pending:
            self.on_feed()

    def _market(self, market_id: int, sides: int, trades, statuses, now: int) -> None:
        book = self.engine.books[market_id]
        spec = self.specs[market_id]
        enc = self.encoder
        for st in statuses:
            enc.status(market_id, st.status, st.reason)
            self._status_ws(market_id, st, now)
        for t in trades:
            enc.trade(market_id, t.aggressor, t.trade_id, t.price, t.qty)
        state = self._feed[market_id]
        # Only the sides the event changed are recomputed: the other's top 10 stands.
        if sides & BUY:
            new_bids = book.bids.top(FEED_DEPTH)
            for update in diff_side(state.bids, new_bids, True):
                enc.book_level(market_id, _BID, *update)
            state.bids = new_bids
        if sides & SELL:
            new_asks = book.asks.top(FEED_DEPTH)
            for update in diff_side(state.asks, new_asks, False):
                enc.book_level(market_id, _ASK, *update)
            state.asks = new_asks
        bbo = book.bbo()
        if bbo != state.bbo:
            enc.bbo(market_id, *bbo)
            state.bbo = bbo
        enc.end_event()
        subscribers = self.trades[market_id]
        if subscribers and trades:
            for t in trades:
                payload = encode({"type": "trade", "market": spec.name,
                                  "price": spec.price(t.price), "qty": spec.qty(t.qty),
                                  "side": SIDE_NAMES.get(t.aggressor), "trade_id": t.trade_id,
                                  "ts_ns": now})
                for s in subscribers:
                    s.send(payload, "md")
        if sides:
            lose = market_id in self.lose_next_update
            for view in self.views[market_id].values():
                self._update_view(market_id, view, sides, now, lose)
            if lose and self.views[market_id]:
                self.lose_next_update.discard(market_id)
        # The last quote is tracked with or without subscribers, so a later subscriber's
        # first ticker and the changes after it agree.
        if bbo[1] and bbo[3] and bbo != self.last_ticker.get(market_id):
            self.last_ticker[market_id] = bbo
            subscribers = self.tickers[market_id]
            if subscribers:
                payload = self._ticker_message(market_id, bbo, now)
                for s in subscribers:
                    s.send(payload, "md")

    def _update_view(self, market_id: int, view: DepthView, sides: int, now: int,
                     lose: bool = False) -> None:
        book = self.engine.books[market_id]
        bids = {p: q for p, q, _ in book.bids.top(view.depth)} if sides & BUY else view.bids
        asks = {p: q for p, q, _ in book.asks.top(view.depth)} if sides & SELL else view.asks
        if bids == view.bids and asks == view.asks:
            return
        spec = self.specs[market_id]
        price, qty = spec.price, spec.qty
        view.sequence += 1
        payload = encode({
            "type": "book_update", "market": spec.name, "depth": view.depth,
            "sequence": view.sequence,
            "bids": [[price(p), qty(q)] for p, q in _changes(view.bids, bids)],
            "asks": [[price(p), qty(q)] for p, q in _changes(view.asks, asks)],
            "ts_ns": now})
        view.bids, view.asks = bids, asks
        if lose:
            return  # an injected loss: the sequence number is used, nobody hears it
        for s in view.subscribers:
            s.send(payload, "md")

    def _ticker_message(self, market_id: int, bbo: tuple, now: int) -> bytes:
        spec = self.specs[market_id]
        return encode({"type": "ticker", "market": spec.name,
                       "bid": spec.price(bbo[0]), "bid_qty": spec.qty(bbo[1]),
                       "ask": spec.price(bbo[2]), "ask_qty": spec.qty(bbo[3]), "ts_ns": now})

    def _status_ws(self, market_id: int, st: StatusChanged, now: int) -> None:
        payload = encode({"type": "market_status", "market": self.specs[market_id].name,
                          "status": STATUS_NAMES.get(st.status, str(st.status)),
                          "reason": st.reason, "ts_ns": now})
        targets = set(self.tickers[market_id]) | self.trades[market_id]
        for view in self.views[market_id].values():
            targets |= view.subscribers
        for s in targets:
            s.send(payload, "md")

    # -- subscriptions -----------------------------------------------------------------------

    def snapshot(self, market_id: int, depth: int) -> dict:
        """The book at `depth` as a JSON-ready dict, with the feed's rpt_seq at this instant."""
        view = self.views[market_id].get(depth)
        book = self.engine.books[market_id]
        spec = self.specs[market_id]
        bids = book.bids.top(depth)
        asks = book.asks.top(depth)
        return {"type": "orderbook", "market": spec.name, "depth": depth,
                "sequence": view.sequence if view is not None else 0,
                "rpt_seq": self.encoder.current_rpt_seq(market_id),
                "bids": [[spec.price(p), spec.qty(q)] for p, q, _ in bids],
                "asks": [[spec.price(p), spec.qty(q)] for p, q, _ in asks],
                "ts_ns": self.clock()}

    def add_book(self, market_id: int, depth: int, subscriber) -> bytes:
        views = self.views[market_id]
        view = views.get(depth)
        if view is None:
            book = self.engine.books[market_id]
            view = views[depth] = DepthView(
                depth, {p: q for p, q, _ in book.bids.top(depth)},
                {p: q for p, q, _ in book.asks.top(depth)})
        view.subscribers.add(subscriber)
        return encode(self.snapshot(market_id, depth))

    def remove_book(self, market_id: int, depth: int, subscriber) -> None:
        view = self.views[market_id].get(depth)
        if view is not None:
            view.subscribers.discard(subscriber)
            if not view.subscribers:
                del self.views[market_id][depth]

    def add_ticker(self, market_id: int, subscriber) -> bytes | None:
        self.tickers[market_id].add(subscriber)
        bbo = self.engine.books[market_id].bbo()
        if bbo[1] and bbo[3]:
            return self._ticker_message(market_id, bbo, self.clock())
        return None

    def drop(self, subscriber) -> None:
        """Forget a subscriber everywhere (its connection closed)."""
        for market_id in self.specs:
            self.tickers[market_id].discard(subscriber)
            self.trades[market_id].discard(subscriber)
            for depth in list(self.views[market_id]):
                self.remove_book(market_id, depth, subscriber)
