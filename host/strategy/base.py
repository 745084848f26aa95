"""What the daemon calls on every strategy, and the market lookup both strategies share.

A strategy is pure and deterministic: inputs are method calls with the time they happened,
outputs are StrategyActions (host/strategy/actions.py) that the daemon passes through the
risk engine and the OMS. Orders carry the strategy's name as their `tag`; the daemon routes
an order's acks, state changes and fills back to the strategy with that name.

`top` arguments are top-of-book views with `market, bid, bid_qty, ask, ask_qty, ts_ns`
(host/venue_client/book.py's TopOfBook; ints, 0/0 for an empty side).
"""

from __future__ import annotations

from typing import Protocol

from host.config_parse import ConfigError
from host.strategy.actions import PlaceOrder, StrategyAction
from host.venue_client.events import Fill
from host.venue_client.markets import MarketSpec, MarketTable, UnknownMarket


class Strategy(Protocol):
    name: str
    markets: tuple[str, ...]     # the markets whose tops it needs

    def on_top(self, top, recv_ns: int, now_ns: int | None = None) -> list[StrategyAction]: ...

    def on_market_status(self, market: str, halted: bool) -> list[StrategyAction]: ...

    def on_submitted(self, req: PlaceOrder, order_id: str) -> list[StrategyAction]: ...

    def on_denied(self, req: PlaceOrder, reason: str) -> list[StrategyAction]: ...

    def on_order_update(self, order_id: str, state) -> list[StrategyAction]: ...

    def on_cancel_rejected(self, order_id: str, reason: str) -> list[StrategyAction]: ...

    def on_fill(self, fill: Fill) -> list[StrategyAction]: ...

    def status(self) -> dict: ...


def spec_of(markets: MarketTable, name: str, strategy: str, key: str) -> MarketSpec:
    try:
        return markets[name]
    except UnknownMarket:
        raise ConfigError(None, f"strategy.{strategy}.{key}", "unknown_market",
                          f"the venue lists no market {name!r}") from None


def state_name(state) -> str:
    """An order state as a lower-case name, from an enum member or a string."""
    return str(getattr(state, "name", state)).lower()


TERMINAL = frozenset({"filled", "cancelled", "rejected"})


def has_both_sides(top) -> bool:
    return top.bid > 0 and top.bid_qty > 0 and top.ask > 0 and top.ask_qty > 0
