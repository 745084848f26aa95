"""The matching engine: sans-I/O, integers only, price-time priority.

Calls take a command and return the events it caused, in order. Nothing here knows about
sockets, JSON or clocks. Rules:

- Orders match the best opposite price first, and within a price the oldest order first.
  A trade prints at the resting order's price.
- `limit` rests what it cannot fill; `ioc` and `market` cancel it; `post_only` is rejected
  when it would take liquidity. `market` needs an opposite side to exist.
- Self-trade prevention (same account on both sides), per incoming order: `cancel_taker`
  (default) stops matching and cancels the incoming remainder, `cancel_maker` cancels the
  resting order and keeps matching, `cancel_both` does both.
- A halted market refuses new orders; cancels still work and resting orders stay.
- House accounts (the generator's agents and replayed liquidity) skip margin and accounting.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from host.wire import TradingStatus
from sim.venue.accounts import Account, Fees
from sim.venue.book import BUY, SELL, Book, BookSide, Order
from sim.venue.errors import CancelReason, Reason
from sim.venue.events import (
    Accepted,
    Cancelled,
    CancelRejected,
    Filled,
    Rejected,
    StatusChanged,
    Traded,
)
from sim.venue.markets import MarketSpec

ORDER_KINDS = ("limit", "market", "ioc", "post_only")
STP_MODES = ("cancel_taker", "cancel_maker", "cancel_both")
DEFAULT_FEES = Fees()
MAX_LOTS = 1 << 53  # far beyond any real order, and exact as a float


class NewOrder(NamedTuple):
    client_id: str
    market_id: int
    side: int
    kind: str
    price: int | None
    qty: int
    stp: str = "cancel_taker"


class Engine:
    def __init__(self, markets: Iterable[MarketSpec], fees: Fees = DEFAULT_FEES,
                 max_open_orders: int = 1000):
        self.specs: dict[int, MarketSpec] = {m.market_id: m for m in markets}
        self.books: dict[int, Book] = {i: Book(i) for i in self.specs}
        self.status: dict[int, int] = dict.fromkeys(self.specs, int(TradingStatus.TRADING))
        self.fees = fees
        self.max_open_orders = max_open_orders
        # Book sides changed since the caller last drained this: market id -> BUY|SELL bits.
        self.touched: dict[int, int] = {}
        self._next_oid = 1
        self._next_trade = 1

    # -- commands ----------------------------------------------------------------------------

    def submit(self, account: Account, new: NewOrder, origin=None) -> list:
        denial = self._check(account, new)
        if denial is not None:
            return [Rejected(account, new.client_id, denial[0], denial[1], origin)]
        order = Order(self._next_oid, new.client_id, account, new.market_id, new.side, new.kind,
                      new.price, new.qty, new.qty, new.stp, origin)
        self._next_oid += 1
        events: list = [Accepted(order)]
        self._execute(order, events)
        return events

    def cancel(self, account: Account, client_id: str, origin=None,
               reason: CancelReason = CancelReason.USER) -> list:
        order = account.open_orders.get(client_id)
        if order is None:
            return [CancelRejected(account, client_id, Reason.UNKNOWN_ORDER, origin)]
        self._unrest(order)
        return [Cancelled(order, reason, order.remaining)]

    def cancel_all(self, account: Account, market_id: int | None = None) -> list:
        events: list = []
        for order in list(account.open_orders.values()):
            if market_id is None or order.market_id == market_id:
                self._unrest(order)
                events.append(Cancelled(order, CancelReason.USER, order.remaining))
        return events

    def set_status(self, market_id: int, status: int, reason: int = 0) -> list:
        if self.status[market_id] == status:
            return []
        self.status[market_id] = status
        return [StatusChanged(market_id, status, reason)]

    def set_level(self, account: Account, market_id: int, side: int, price: int,
                  lots: int) -> list:
        """Make `account`'s resting quantity at one price exactly `lots` (replayed depth).

        Less is taken off in place; more is added in place, or, where the price crosses the
        other side, matched first as a new order that cancels the house's own stale quotes.
        """
        client_id = f"L{market_id}:{side}:{price}"
        order = account.open_orders.get(client_id)
        current = order.remaining if order is not None else 0
        if lots == current:
            return []
        events: list = []
        if lots < current:
            if lots == 0:
                self._unrest(order)
                events.append(Cancelled(order, CancelReason.HOUSE, current))
            else:
                self._resize(order, lots - current)
            return events
        book = self.books[market_id]
        if order is not None:
            self._resize(order, lots - current)
            return events
        new = Order(self._next_oid, client_id, account, market_id, side, "limit", price,
                    lots, lots, "cancel_maker")
        self._next_oid += 1
        self._match(new, book, events)
        if new.remaining:
            self._rest(new, book)
        return events

    def print_trade(self, market_id: int, price: int, qty: int, aggressor: int) -> list:
        """A trade that happened elsewhere (a replayed print): market data only."""
        self.books[market_id].last_price = price
        trade_id = self._next_trade
        self._next_trade += 1
        return [Traded(market_id, price, qty, aggressor, trade_id)]

    # -- queries -----------------------------------------------------------------------------

    def marks(self) -> dict[int, int | None]:
        return {i: b.mark() for i, b in self.books.items()}

    def equity(self, account: Account) -> float:
        if not account.positions:
            return account.balance
        marks = {i: self.books[i].mark() for i in account.positions}
        return account.balance + account.unrealized(self.specs, marks)

    def available(self, account: Account) -> float:
        return self.equity(account) - account.position_margin(self.specs) - account.reserved

    # -- internals ---------------------------------------------------------------------------

    def _check(self, account: Account, new: NewOrder) -> tuple[Reason, str] | None:
        spec = self.specs.get(new.market_id)
        if spec is None:
            return Reason.UNKNOWN_MARKET, f"no market {new.market_id}"
        if (new.kind not in ORDER_KINDS or new.stp not in STP_MODES
                or new.side not in (BUY, SELL)):
            return Reason.BAD_FIELD, "order kind, side or stp mode is not one the venue knows"
        if self.status[new.market_id] != TradingStatus.TRADING:
            return Reason.MARKET_HALTED, f"{spec.name} is halted"
        if new.qty < spec.min_lots:
            return Reason.QTY_TOO_SMALL, f"qty must be at least {spec.min_lots} lot(s)"
        if new.qty > MAX_LOTS:
            return Reason.BAD_FIELD, "qty is too large"
        if new.kind == "market":
            if new.price is not None:
                return Reason.BAD_FIELD, "a market order takes no price"
        elif new.price is None or not 0 < new.price <= MAX_LOTS:
            return Reason.BAD_FIELD, "price must be positive"
        if new.client_id in account.open_orders:
            return Reason.DUPLICATE_ORDER_ID, f"order {new.client_id!r} is already open"
        if not account.house and len(account.open_orders) >= self.max_open_orders:
            return Reason.TOO_MANY_OPEN_ORDERS, f"at most {self.max_open_orders} open orders"
        opposite = self.books[new.market_id].opposite(new.side)
        if new.kind == "post_only" and opposite.crosses(new.price):
            return Reason.POST_ONLY_WOULD_CROSS, "a post-only order would take liquidity"
        best = opposite.best()
        if new.kind == "market" and best is None:
            empty = "asks" if new.side == BUY else "bids"
            return Reason.NO_LIQUIDITY, f"{spec.name} has no {empty}"
        if not account.house:
            price = new.price if new.price is not None else best.price
            need = new.qty * price * spec.notional_unit / spec.max_leverage
            if need > self.available(account):
                return (Reason.INSUFFICIENT_MARGIN,
                        f"needs {need:.2f} USDC of margin, {self.available(account):.2f} free")
        return None

    def _execute(self, order: Order, events: list) -> None:
        book = self.books[order.market_id]
        stopped = self._match(order, book, events) if order.kind != "post_only" else False
        if not order.remaining:
            return
        if stopped:
            events.append(Cancelled(order, CancelReason.SELF_TRADE, order.remaining))
        elif order.kind in ("limit", "post_only"):
            self._rest(order, book)
        else:
            reason = CancelReason.IOC if order.kind == "ioc" else CancelReason.MARKET_REMAINDER
            events.append(Cancelled(order, reason, order.remaining))

    def _match(self, taker: Order, book: Book, events: list) -> bool:
        """Trade `taker` against the book. True when self-trade prevention stopped it."""
        makers: BookSide = book.opposite(taker.side)
        limit = taker.price
        buying = taker.side == BUY
        while taker.remaining and makers.keys:
            level = makers.levels[makers.keys[0] * makers.sign]
            if limit is not None and (level.price > limit if buying else level.price < limit):
                break
            queue = level.orders
            while taker.remaining and queue:
                maker = queue[0]
                if maker.account is taker.account:
                    mode = taker.stp
                    if mode != "cancel_taker":
                        self._unrest(maker)
                        events.append(Cancelled(maker, CancelReason.SELF_TRADE, maker.remaining))
                    if mode != "cancel_maker":
                        return True
                    continue
                self._trade(taker, maker, level, book, events)
        return False

    def _trade(self, taker: Order, maker: Order, level, book: Book, events: list) -> None:
        qty = min(taker.remaining, maker.remaining)
        price = level.price
        spec = self.specs[book.market_id]
        trade_id = self._next_trade
        self._next_trade += 1
        notional = qty * price * spec.notional_unit
        taker_fee, maker_fee = notional * self.fees.taker, notional * self.fees.maker
        taker.remaining -= qty
        maker.remaining -= qty
        level.qty -= qty
        book.last_price = price
        touched = self.touched
        touched[book.market_id] = touched.get(book.market_id, 0) | maker.side
        maker_account: Account = maker.account
        if not maker_account.house:
            held = qty * price * spec.notional_unit / spec.max_leverage
            maker.reserved -= held
            maker_account.reserved -= held
            maker_account.apply_fill(spec, maker.side, price, qty, maker_fee)
        if not taker.account.house:
            taker.account.apply_fill(spec, taker.side, price, qty, taker_fee)
        if not maker.remaining:
            level.orders.popleft()
            self._forget(maker)
            if not level.orders:
                book.opposite(taker.side).drop_level(level)
        events.append(Filled(taker, qty, price, taker_fee, False, trade_id, taker.remaining))
        events.append(Filled(maker, qty, price, maker_fee, True, trade_id, maker.remaining))
        events.append(Traded(book.market_id, price, qty, taker.side, trade_id))

    def _rest(self, order: Order, book: Book) -> None:
        book.side(order.side).add(order)
        account: Account = order.account
        account.open_orders[order.client_id] = order
        if not account.house:
            spec = self.specs[order.market_id]
            order.reserved = order.remaining * order.price * spec.notional_unit / spec.max_leverage
            account.reserved += order.reserved
        self._touch(order)

    def _unrest(self, order: Order) -> None:
        self.books[order.market_id].side(order.side).remove(order)
        self._forget(order)
        self._touch(order)

    def _forget(self, order: Order) -> None:
        account: Account = order.account
        del account.open_orders[order.client_id]
        if not account.house:
            account.reserved -= order.reserved
            order.reserved = 0.0
            if not account.open_orders:
                account.reserved = 0.0  # no drift from float sums when nothing rests

    def _resize(self, order: Order, delta: int) -> None:
        level = self.books[order.market_id].side(order.side).levels[order.price]
        order.remaining += delta
        order.qty += delta
        level.qty += delta
        self._touch(order)

    def _touch(self, order: Order) -> None:
        touched = self.touched
        touched[order.market_id] = touched.get(order.market_id, 0) | order.side


SIDE_NAMES = {BUY: "buy", SELL: "sell"}
SIDES = {"buy": BUY, "sell": SELL}
