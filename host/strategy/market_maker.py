"""A market maker: post-only quotes around the mid, skewed against inventory.

Target prices, all integer ticks (`quote_prices`): the reservation price is the mid moved
`skew_ticks x inventory / max_inventory_lots` against the inventory (long: both quotes go
down, so the ask is likelier to fill and the bid less). Each quote sits `half_spread_ticks`
from it, rounded away from it; a bid is never at or above the best ask and an ask never at or
below the best bid, so a post-only quote never takes. At +-`max_inventory_lots` the side that
would add is not quoted.

Queue position: a resting quote keeps its place in the venue's queue only while it stays put,
so it is replaced only when its target moved `requote_ticks` or more away (or its side must
not be quoted any more). A replacement is cancel first, then place once the venue confirms
the cancel: there is never more than one quote per side.
"""

from __future__ import annotations

from dataclasses import dataclass

from host.strategy.actions import CancelOrder, PlaceOrder, StrategyAction
from host.strategy.base import TERMINAL, has_both_sides, spec_of, state_name
from host.strategy.config import MarketMakerConfig
from host.venue_client.events import Fill, OrderType, Side
from host.venue_client.markets import MarketTable

_BUY, _SELL = Side.BUY, Side.SELL


def quote_prices(bid: int, ask: int, inventory: int,
                 config: MarketMakerConfig) -> tuple[int | None, int | None]:
    """(bid quote, ask quote) in ticks for a book of `bid`/`ask` (both present, bid < ask)."""
    # Conditional expressions, not min()/max(): on the tick-to-order path, and a builtin
    # min or max call costs several times the comparison it makes.
    cap = config.max_inventory_lots
    held = cap if inventory > cap else -cap if inventory < -cap else inventory
    shift = abs(held) * config.skew_ticks // cap * (1 if held > 0 else -1)
    twice_r = bid + ask - 2 * shift
    h2 = 2 * config.half_spread_ticks
    quote_bid = (twice_r - h2) // 2
    if quote_bid > ask - 1:
        quote_bid = ask - 1
    quote_ask = -((-twice_r - h2) // 2)   # ceil((twice_r + h2) / 2)
    if quote_ask < bid + 1:
        quote_ask = bid + 1
    if inventory >= cap or quote_bid < 1:
        quote_bid = None
    if inventory <= -cap:
        quote_ask = None
    return quote_bid, quote_ask


@dataclass
class _Quote:
    price: int
    qty: int
    order_id: str | None = None   # None until the OMS has given the order its id
    cancelling: bool = False


class MarketMaker:
    def __init__(self, config: MarketMakerConfig, markets: MarketTable):
        spec_of(markets, config.market, config.name, "market")
        self.config = config
        self.name = config.name
        self.markets = (config.market,)
        self.inventory = 0
        self._quotes: dict[Side, _Quote] = {}
        self._top = None
        self._origin = 0
        self._halted = False
        self.counters = {"places": 0, "cancels": 0, "kept": 0, "fills": 0}
        # The last targets priced, and the (bid, ask, inventory, config) they were priced for:
        # most tops move neither, and then the quote arithmetic is not done again.
        self._priced: tuple = (None, None, None, None)
        self._targets: tuple[int | None, int | None] = (None, None)

    # -- market data ------------------------------------------------------------------------

    def on_top(self, top, recv_ns: int, now_ns: int | None = None) -> list[StrategyAction]:
        if top.market != self.config.market:
            return []
        self._top, self._origin = top, recv_ns
        return self._steer_all()

    def on_market_status(self, market: str, halted: bool) -> list[StrategyAction]:
        if market != self.config.market:
            return []
        self._halted = halted
        return self._steer_all()

    def targets(self) -> tuple[int | None, int | None]:
        top = self._top
        if (self._halted or top is None or not has_both_sides(top) or top.bid >= top.ask):
            return None, None
        key = (top.bid, top.ask, self.inventory, self.config)
        if key != self._priced:
            self._priced = key
            self._targets = quote_prices(top.bid, top.ask, self.inventory, self.config)
        return self._targets

    def _steer_all(self) -> list[StrategyAction]:
        quotes = self._quotes
        if len(quotes) == 2:
            # A side whose quote awaits the venue's answer ignores its target: when both
            # do, there is nothing to price.
            bid_q, ask_q = quotes[_BUY], quotes[_SELL]
            if ((bid_q.cancelling or bid_q.order_id is None)
                    and (ask_q.cancelling or ask_q.order_id is None)):
                return []
        bid, ask = self.targets()
        actions = self._steer(_BUY, bid)
        more = self._steer(_SELL, ask)
        if more:
            actions += more
        return actions

    def _steer(self, side: Side, target: int | None) -> list[StrategyAction]:
        quote = self._quotes.get(side)
        if quote is None:
            if target is None:
                return []
            self._quotes[side] = _Quote(target, self.config.quote_lots)
            self.counters["places"] += 1
            return [PlaceOrder(self.config.market, side, self.config.quote_lots, target,
                               OrderType.POST_ONLY, tag=self.name, origin_ns=self._origin)]
        if quote.cancelling or quote.order_id is None:
            return []  # wait for the venue's answer before touching this side again
        if target is not None and abs(target - quote.price) < self.config.requote_ticks:
            self.counters["kept"] += 1
            return []
        quote.cancelling = True
        self.counters["cancels"] += 1
        return [CancelOrder(quote.order_id, tag=self.name)]

    # -- order lifecycle --------------------------------------------------------------------

    def on_submitted(self, req: PlaceOrder, order_id: str) -> list[StrategyAction]:
        quote = self._quotes.get(req.side)
        if quote is not None and quote.order_id is None and quote.price == req.price:
            quote.order_id = order_id
            return self._steer(req.side, self.targets()[req.side is Side.SELL])
        return []

    def on_denied(self, req: PlaceOrder, reason: str) -> list[StrategyAction]:
        """Risk refused the quote: the side is free; the next top tries again."""
        quote = self._quotes.get(req.side)
        if quote is not None and quote.order_id is None and quote.price == req.price:
            del self._quotes[req.side]
        return []

    def on_order_update(self, order_id: str, state) -> list[StrategyAction]:
        """An OMS state change. A terminal state frees the side; a cancel or fill requotes
        it at once, a reject waits for the next top (the book it crossed has moved)."""
        name = state_name(state)
        if name not in TERMINAL:
            return []
        for side, quote in list(self._quotes.items()):
            if quote.order_id == order_id:
                del self._quotes[side]
                if name == "rejected":
                    return []
                return self._steer(side, self.targets()[side is Side.SELL])
        return []

    def on_cancel_rejected(self, order_id: str, reason: str) -> list[StrategyAction]:
        """The venue refused a cancel. If the order is gone (filled), its terminal update
        frees the side; otherwise the quote stands and the next top may try again."""
        for quote in self._quotes.values():
            if quote.order_id == order_id:
                quote.cancelling = False
        return []

    def on_fill(self, fill: Fill) -> list[StrategyAction]:
        if fill.market != self.config.market:
            return []
        self.inventory += fill.side.sign * fill.qty
        self.counters["fills"] += 1
        return self._steer_all()

    def working(self) -> dict[Side, tuple[int, str | None]]:
        """Each side's quote: (price, order id or None while pending)."""
        return {side: (q.price, q.order_id) for side, q in self._quotes.items()}

    def status(self) -> dict:
        return {"name": self.name, "kind": self.config.kind, "inventory_lots": self.inventory,
                "quotes": {str(s): p for s, (p, _) in self.working().items()}, **self.counters}
