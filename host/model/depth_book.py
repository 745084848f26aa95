"""A full-depth order book keyed by integer ticks, for the venue's price-keyed JSON depth.

Each side is a plain dict from tick to lots, and the best tick of each side is a plain int
kept up to date as levels arrive: a new level beats it or not, one comparison. Only when a
diff deletes the best level is a next-best search needed. Near the touch nearly every price of
the market's grid holds a level, so the search first looks up the next few prices in the dict
(in C); past them each side keeps a heap of its ticks (negated for bids), cleaned lazily: a
deleted level stays in the heap until it surfaces at the top, where one dict lookup spots it.
New levels wait in a plain list and enter the heap only when a search needs them.

lead_asks / lead_bids apply a side from the top of book outward and stop as soon as no later
level can move the best: the fast path (host/model/depth_fast.py) decides on that, and
settle() then does its heap upkeep off the clock.

The loop runs once per level, and was measured against C-level bulk variants (zip, map,
dict.update, itertools.compress over each side) on the USD-M data: the plain loop won at every
percentile, because the bulk variants allocate tuples, sets and dicts per side that cost more
than the bytecode they save (docs/depth-book.md has the numbers).

Levels come in as (price, qty) decimal-string pairs, as host.feeds.binance decodes them (its
msgspec types have checked that each level is a pair of strings). A malformed string raises a
DepthError subclass part-way through a diff, leaving that diff half applied: the book no
longer matches the venue, as it would not had the diff been skipped either, so the caller
must resync. DepthSync does that and reports it as a gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from heapq import heapify, heappop, heappush

from host.model.decimal_ticks import DEFAULT_CACHE_ENTRIES, DecimalScale
from host.model.depth_errors import BadLevels, DepthError

NO_BID = -1  # below every tick: any bid beats it
NO_ASK = 1 << 63  # above every int64 tick: any ask beats it
# New levels wait at most this long in the pending list before they are pushed to the heap.
_PENDING_LIMIT = 2048
# A heap may hold this many stale entries beyond its live ones before it is rebuilt.
_HEAP_SLACK = 4096
# A next-best search first looks up the prices this many steps (the market's ticks) beyond the
# deleted best in the dict, in C (filter over a range): near the touch nearly every tick holds a
# level (USD-M BTCUSDT: the next level is a median 2 ticks away, 99 % within 20), and the heap
# must first pop every stale entry above the answer. Past the window, the heap answers.
_PROBE_STEPS = 64
# Between two levels of one message (a sweep through the touch, lead_asks/lead_bids) the probe
# may go further before the heap takes over: the levels just passed sit stale in the heap.
_BETWEEN_STEPS = 256


@dataclass(frozen=True, slots=True)
class TopOfBook:
    """Best bid and ask with their quantities; None on a side with no levels."""

    bid_tick: int | None
    bid_lots: int | None
    ask_tick: int | None
    ask_lots: int | None


class DepthBook:
    """One market's full-depth book. Prices are ticks of 10**-price_decimals, quantities lots
    of 10**-qty_decimals, both int."""

    __slots__ = ("bids", "asks", "prices", "qtys", "_best_bid", "_best_ask",
                 "_bid_heap", "_ask_heap", "_bid_pending", "_ask_pending")

    def __init__(self, price_decimals: int, qty_decimals: int, *, price_step: int = 1,
                 cache_entries: int = DEFAULT_CACHE_ENTRIES):
        self.prices = DecimalScale(price_decimals, step=price_step, max_cache=cache_entries)
        self.qtys = DecimalScale(qty_decimals, max_cache=cache_entries)
        self.clear()

    def clear(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self._reindex()

    # -- updates ---------------------------------------------------------------------------

    def apply_diff(self, bids, asks) -> None:
        """Applies one depth diff: (price, qty) string pairs per side; qty zero deletes the
        level. A later entry for the same price wins."""
        try:
            if bids:
                self._apply_bids(bids)
            if asks:
                self._apply_asks(asks)
        except DepthError:
            raise
        except (TypeError, ValueError):
            raise BadLevels("every level must be a (price, qty) pair of strings") from None

    def apply_snapshot(self, bids, asks) -> None:
        """Replaces the whole book. A snapshot level with quantity zero is no level."""
        prices, qtys = self.prices, self.qtys
        try:
            new_bids = {prices[p]: qtys[q] for p, q in bids}
            new_asks = {prices[p]: qtys[q] for p, q in asks}
        except DepthError:
            raise
        except (TypeError, ValueError):
            raise BadLevels("every level must be a (price, qty) pair of strings") from None
        self.bids = {tick: lots for tick, lots in new_bids.items() if lots}
        self.asks = {tick: lots for tick, lots in new_asks.items() if lots}
        self._reindex()

    def _apply_bids(self, levels) -> None:
        prices, qtys, book = self.prices, self.qtys, self.bids
        pending = self._bid_pending
        remember = pending.append
        best = self._best_bid
        lost = False
        for price, qty in levels:
            tick = prices[price]
            lots = qtys[qty]
            if lots:
                if tick not in book:
                    remember(tick)
                    if tick > best:
                        best = tick
                book[tick] = lots
            else:
                if tick == best:
                    lost = True
                book.pop(tick, None)
        if lost and best not in book:
            best = self._next_bid(best)
        elif len(pending) > _PENDING_LIMIT:
            self._push_pending(self._bid_heap, pending, book, -1)
        self._best_bid = best

    def _apply_asks(self, levels) -> None:
        prices, qtys, book = self.prices, self.qtys, self.asks
        pending = self._ask_pending
        remember = pending.append
        best = self._best_ask
        lost = False
        for price, qty in levels:
            tick = prices[price]
            lots = qtys[qty]
            if lots:
                if tick not in book:
                    remember(tick)
                    if tick < best:
                        best = tick
                book[tick] = lots
            else:
                if tick == best:
                    lost = True
                book.pop(tick, None)
        if lost and best not in book:
            best = self._next_ask(best)
        elif len(pending) > _PENDING_LIMIT:
            self._push_pending(self._ask_heap, pending, book, 1)
        self._best_ask = best

    # -- from the top of book outward, for the fast path (host/model/depth_fast.py) ---------

    def lead_asks(self, windows, prices, qtys) -> int:
        """Applies asks from the top of book outward for as long as they can move the best
        ask. `windows` yields lists of (price, qty) keys of the scales `prices` and `qtys`,
        together in strictly ascending price order. It stops before the first level above
        the best at that moment: no later level of a sorted side can change the best.
        Returns how many levels it applied; at a price not above the one before it stops
        and returns -1 - applied. However it returns (a conversion error propagates), the
        best is then exact.

        A deleted best is not searched for level by level. While levels delete the front it
        only notes that no ask is left at or below the last of them; the next insertion, or
        the end of a window, then probes the prices passed once for a live ask, which is the
        best. A sweep through the touch thus costs one probe per window, not per level."""
        book, pending = self.asks, self._ask_pending
        best = self._best_ask
        lost = False  # the front was deleted: no ask is at or below `best`
        applied, last = 0, -1
        try:
            for window in windows:
                for price, qty in window:
                    tick = prices[price]
                    if tick <= last:
                        return -1 - applied
                    if tick > best and not lost:
                        return applied
                    lots = qtys[qty]
                    last = tick
                    applied += 1
                    if lots:
                        if tick not in book:
                            pending.append(tick)
                        book[tick] = lots
                        if lost:
                            lost = False
                            nearest = self._ask_between(best, tick)
                            if nearest is not None:  # then it is the best, and the end
                                best = nearest
                                return applied
                        best = tick
                    elif book.pop(tick, None) is not None and tick == best:
                        lost = True
                if lost:
                    nearest = self._ask_between(best, last)
                    if nearest is not None:
                        best, lost = nearest, False
                        return applied
                    best = last
            return applied
        finally:
            self._best_ask = self._next_ask(best) if lost else best

    def lead_bids(self, windows, prices, qtys) -> int:
        """lead_asks for bids: `windows` together in strictly descending price order."""
        book, pending = self.bids, self._bid_pending
        best = self._best_bid
        lost = False  # the front was deleted: no bid is at or above `best`
        applied, last = 0, NO_ASK
        try:
            for window in windows:
                for price, qty in window:
                    tick = prices[price]
                    if tick >= last:
                        return -1 - applied
                    if tick < best and not lost:
                        return applied
                    lots = qtys[qty]
                    last = tick
                    applied += 1
                    if lots:
                        if tick not in book:
                            pending.append(tick)
                        book[tick] = lots
                        if lost:
                            lost = False
                            nearest = self._bid_between(tick, best)
                            if nearest is not None:
                                best = nearest
                                return applied
                        best = tick
                    elif book.pop(tick, None) is not None and tick == best:
                        lost = True
                if lost:
                    nearest = self._bid_between(last, best)
                    if nearest is not None:
                        best, lost = nearest, False
                        return applied
                    best = last
            return applied
        finally:
            self._best_bid = self._next_bid(best) if lost else best

    def _ask_between(self, low: int, high: int) -> int | None:
        """The lowest ask strictly between `low` and `high`, when no ask is at or below
        `low`; None when there is none."""
        step = self.prices.step
        if high - low <= step * _BETWEEN_STEPS:
            return next(filter(self.asks.__contains__, range(low + step, high, step)), None)
        nearest = self._next_ask(low)
        return nearest if nearest < high else None

    def _bid_between(self, low: int, high: int) -> int | None:
        """The highest bid strictly between `low` and `high`, when no bid is at or above
        `high`; None when there is none."""
        step = self.prices.step
        if high - low <= step * _BETWEEN_STEPS:
            return next(filter(self.bids.__contains__, range(high - step, low, -step)), None)
        nearest = self._next_bid(high)
        return nearest if nearest > low else None

    def settle(self) -> None:
        """Heap upkeep that a fast path does off its clock, after a message: waiting levels
        join the heaps and stale entries leave their tops, so that a search on the clock
        (lead_asks/lead_bids) never pays for a backlog."""
        book, heap = self.bids, self._bid_heap
        self._push_pending(heap, self._bid_pending, book, -1)
        while heap and -heap[0] not in book:
            heappop(heap)
        book, heap = self.asks, self._ask_heap
        self._push_pending(heap, self._ask_pending, book, 1)
        while heap and heap[0] not in book:
            heappop(heap)

    # -- next-best search ------------------------------------------------------------------

    def _next_bid(self, deleted: int) -> int:
        """The highest bid, when every bid is below `deleted` (the best just deleted)."""
        book, step = self.bids, self.prices.step
        near = next(filter(book.__contains__,
                           range(deleted - step, deleted - step * (_PROBE_STEPS + 1), -step)),
                    None)
        if near is not None:
            return near
        heap = self._bid_heap
        self._push_pending(heap, self._bid_pending, book, -1)
        while heap and -heap[0] not in book:
            heappop(heap)
        return -heap[0] if heap else NO_BID

    def _next_ask(self, deleted: int) -> int:
        """The lowest ask, when every ask is above `deleted` (the best just deleted)."""
        book, step = self.asks, self.prices.step
        near = next(filter(book.__contains__,
                           range(deleted + step, deleted + step * (_PROBE_STEPS + 1), step)),
                    None)
        if near is not None:
            return near
        heap = self._ask_heap
        self._push_pending(heap, self._ask_pending, book, 1)
        while heap and heap[0] not in book:
            heappop(heap)
        return heap[0] if heap else NO_ASK

    @staticmethod
    def _push_pending(heap: list[int], pending: list[int], book: dict[int, int],
                      sign: int) -> None:
        for tick in pending:
            if tick in book:
                heappush(heap, sign * tick)
        pending.clear()
        if len(heap) > 2 * len(book) + _HEAP_SLACK:  # mostly stale: rebuild in place
            heap[:] = [sign * tick for tick in book]
            heapify(heap)

    def _reindex(self) -> None:
        """Rebuilds both heaps and best ticks from the dicts (snapshot, clear, compaction)."""
        self._bid_heap = [-tick for tick in self.bids]
        heapify(self._bid_heap)
        self._ask_heap = list(self.asks)
        heapify(self._ask_heap)
        self._bid_pending: list[int] = []
        self._ask_pending: list[int] = []
        self._best_bid = -self._bid_heap[0] if self._bid_heap else NO_BID
        self._best_ask = self._ask_heap[0] if self._ask_heap else NO_ASK

    # -- queries ---------------------------------------------------------------------------

    def best_bid(self) -> tuple[int, int] | None:
        """(tick, lots) of the highest bid, or None."""
        tick = self._best_bid
        return None if tick == NO_BID else (tick, self.bids[tick])

    def best_ask(self) -> tuple[int, int] | None:
        """(tick, lots) of the lowest ask, or None."""
        tick = self._best_ask
        return None if tick == NO_ASK else (tick, self.asks[tick])

    def top(self) -> TopOfBook:
        bid, ask = self._best_bid, self._best_ask
        return TopOfBook(None if bid == NO_BID else bid, self.bids.get(bid),
                         None if ask == NO_ASK else ask, self.asks.get(ask))

    def top_tuple(self) -> tuple[int | None, int | None, int | None, int | None]:
        """TopOfBook's four fields as a plain tuple, for hot paths (a tuple costs a tenth of
        the frozen dataclass)."""
        bid, ask = self._best_bid, self._best_ask
        return (None if bid == NO_BID else bid, self.bids.get(bid),
                None if ask == NO_ASK else ask, self.asks.get(ask))

    def is_crossed(self) -> bool:
        """True when the best bid is at or above the best ask (a locked book counts). An
        empty side never crosses: its sentinel sits beyond every tick."""
        return self._best_bid >= self._best_ask

    def depth(self, levels: int | None = None) -> tuple[list[tuple[int, int]],
                                                        list[tuple[int, int]]]:
        """The best `levels` of each side, best first (sorts the sides: not for the hot
        path)."""
        return (sorted(self.bids.items(), reverse=True)[:levels],
                sorted(self.asks.items())[:levels])

    def __len__(self) -> int:
        return len(self.bids) + len(self.asks)
