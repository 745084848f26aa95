"""The matching engine against a brute-force reference, fill for fill, on random order
streams; then each rule on its own: order types, self-trade prevention, fees, positions and
PnL, margin, halts."""

from __future__ import annotations

import random

import pytest

from host.wire import TradingStatus
from sim.venue.accounts import Account
from sim.venue.book import BUY, SELL
from sim.venue.engine import Engine, NewOrder
from sim.venue.errors import CancelReason, Reason
from sim.venue.events import Accepted, Cancelled, CancelRejected, Filled, Rejected, Traded
from sim.venue.markets import MarketSpec

SPEC = MarketSpec("TEST-PERP", 7, tick_size="0.5", lot_size="0.01", max_leverage=10)


class Reference:
    """The rules, written as plainly as possible: scan every resting order for the best one."""

    def __init__(self):
        self.resting: list[dict] = []  # in arrival order
        self.clock = 0

    def submit(self, account, cid, side, kind, price, qty, stp):
        opposite = [o for o in self.resting if o["side"] != side]
        crosses = [o for o in opposite if price is None
                   or (o["price"] <= price if side == BUY else o["price"] >= price)]
        if any(o["account"] == account and o["cid"] == cid for o in self.resting):
            return [("reject", cid, Reason.DUPLICATE_ORDER_ID)]
        if kind == "post_only" and crosses:
            return [("reject", cid, Reason.POST_ONLY_WOULD_CROSS)]
        if kind == "market" and not opposite:
            return [("reject", cid, Reason.NO_LIQUIDITY)]
        out = [("accept", cid)]
        remaining, stopped = qty, False
        while remaining and not stopped and kind != "post_only":
            crosses = [o for o in self.resting if o["side"] != side and (
                price is None or (o["price"] <= price if side == BUY else o["price"] >= price))]
            if not crosses:
                break
            best = min(crosses, key=lambda o: ((o["price"] if side == BUY else -o["price"]),
                                               o["t"]))
            if best["account"] == account:
                if stp in ("cancel_maker", "cancel_both"):
                    self.resting.remove(best)
                    out.append(("cancel", best["cid"], CancelReason.SELF_TRADE, best["rem"]))
                if stp in ("cancel_taker", "cancel_both"):
                    stopped = True
                continue
            q = min(remaining, best["rem"])
            out.append(("fill", cid, best["cid"], best["price"], q))
            remaining -= q
            best["rem"] -= q
            if not best["rem"]:
                self.resting.remove(best)
        if remaining:
            if stopped:
                out.append(("cancel", cid, CancelReason.SELF_TRADE, remaining))
            elif kind in ("limit", "post_only"):
                self.clock += 1
                self.resting.append({"account": account, "cid": cid, "side": side,
                                     "price": price, "rem": remaining, "t": self.clock})
            else:
                reason = CancelReason.IOC if kind == "ioc" else CancelReason.MARKET_REMAINDER
                out.append(("cancel", cid, reason, remaining))
        return out

    def cancel(self, account, cid):
        for o in self.resting:
            if o["account"] == account and o["cid"] == cid:
                self.resting.remove(o)
                return [("cancel", cid, CancelReason.USER, o["rem"])]
        return [("cancel_reject", cid)]

    def book(self, side):
        mine = [o for o in self.resting if o["side"] == side]
        mine.sort(key=lambda o: ((-o["price"] if side == BUY else o["price"]), o["t"]))
        return [(o["cid"], o["price"], o["rem"]) for o in mine]


def _normalise(events, accounts):
    out = []
    for e in events:
        if isinstance(e, Rejected):
            out.append(("reject", e.client_id, e.reason))
        elif isinstance(e, Accepted):
            out.append(("accept", e.order.client_id))
        elif isinstance(e, Filled) and not e.maker:
            out.append(("fill", e.order.client_id, None, e.price, e.qty))
        elif isinstance(e, Filled):
            taker = out.pop()
            out.append(("fill", taker[1], e.order.client_id, e.price, e.qty))
        elif isinstance(e, Cancelled):
            out.append(("cancel", e.order.client_id, e.reason, e.qty))
        elif isinstance(e, CancelRejected):
            out.append(("cancel_reject", e.client_id))
    return out


def _engine_book(engine, side):
    book = engine.books[SPEC.market_id].side(side)
    return [(o.client_id, lvl.price, o.remaining)
            for key in book.keys for lvl in [book.levels[key * book.sign]] for o in lvl.orders]


def _rich(n):
    return [Account(i, f"a{i}", f"k{i}", 1e15) for i in range(n)]


@pytest.mark.parametrize("seed", range(6))
def test_engine_agrees_with_brute_force_reference(seed):
    rng = random.Random(seed)
    engine, ref = Engine([SPEC]), Reference()
    accounts = _rich(3)
    ids = []
    fills = 0
    for n in range(1500):
        who = rng.randrange(3)
        if ids and rng.random() < 0.25:
            cid = rng.choice(ids)
            got = _normalise(engine.cancel(accounts[who], cid), accounts)
            want = ref.cancel(who, cid)
        else:
            cid = f"c{n}" if rng.random() > 0.02 or not ids else rng.choice(ids)
            ids.append(cid)
            side = rng.choice((BUY, SELL))
            kind = rng.choices(("limit", "market", "ioc", "post_only"), (6, 1, 2, 2))[0]
            price = None if kind == "market" else 2000 + rng.randint(-12, 12)
            qty = rng.randint(1, 12)
            stp = rng.choice(("cancel_taker", "cancel_maker", "cancel_both"))
            events = engine.submit(accounts[who], NewOrder(cid, SPEC.market_id, side, kind,
                                                           price, qty, stp))
            got = _normalise(events, accounts)
            want = ref.submit(who, cid, side, kind, price, qty, stp)
            fills += sum(1 for e in want if e[0] == "fill")
        assert got == want, f"step {n}"
        assert _engine_book(engine, BUY) == ref.book(BUY)
        assert _engine_book(engine, SELL) == ref.book(SELL)
    assert fills > 200  # the stream really trades


def test_positions_fees_and_pnl_follow_the_fills():
    rng = random.Random(11)
    engine = Engine([SPEC])
    accounts = _rich(3)
    net = [0, 0, 0]
    fees = [0.0, 0.0, 0.0]
    unit = SPEC.notional_unit
    for n in range(800):
        who = rng.randrange(3)
        side = rng.choice((BUY, SELL))
        kind = rng.choice(("limit", "ioc"))
        events = engine.submit(accounts[who], NewOrder(f"p{n}", SPEC.market_id, side, kind,
                                                       2000 + rng.randint(-5, 5),
                                                       rng.randint(1, 9)))
        for e in events:
            if isinstance(e, Filled):
                owner = e.order.account.account_id
                net[owner] += e.qty if e.order.side == BUY else -e.qty
                rate = 0.0002 if e.maker else 0.0005
                assert e.fee == pytest.approx(e.qty * e.price * unit * rate)
                fees[owner] += e.fee
    for account in accounts:
        i = account.account_id
        assert account.position(SPEC.market_id).lots == net[i]
        assert account.fees_paid == pytest.approx(fees[i])
        # Cash moves by realised PnL and fees only.
        assert account.balance == pytest.approx(1e15 + account.realized() - fees[i])
    # Every trade has two sides: positions net to zero across the venue.
    assert sum(net) == 0


def _one(engine, account, cid, side, kind, price, qty, stp="cancel_taker"):
    return engine.submit(account, NewOrder(cid, SPEC.market_id, side, kind, price, qty, stp))


def test_price_time_priority_and_partial_fills():
    engine = Engine([SPEC])
    a, b, c = _rich(3)
    _one(engine, a, "a1", SELL, "limit", 2001, 5)
    _one(engine, b, "b1", SELL, "limit", 2000, 3)
    _one(engine, a, "a2", SELL, "limit", 2000, 4)
    events = _one(engine, c, "c1", BUY, "limit", 2001, 10)
    fills = [(e.order.client_id, e.price, e.qty) for e in events
             if isinstance(e, Filled) and e.maker]
    assert fills == [("b1", 2000, 3), ("a2", 2000, 4), ("a1", 2001, 3)]
    assert [e.remaining for e in events if isinstance(e, Filled) and not e.maker] == [7, 3, 0]
    assert [t.price for t in events if isinstance(t, Traded)] == [2000, 2000, 2001]
    assert a.open_orders["a1"].remaining == 2
    assert not c.open_orders  # fully filled, so it does not rest


def test_order_types():
    engine = Engine([SPEC])
    a, b = _rich(2)
    _one(engine, a, "ask", SELL, "limit", 2000, 5)
    # post-only that would cross is rejected; one that would not rests
    [rejected] = _one(engine, b, "po1", BUY, "post_only", 2000, 1)
    assert rejected.reason == Reason.POST_ONLY_WOULD_CROSS
    assert isinstance(_one(engine, b, "po2", BUY, "post_only", 1999, 1)[0], Accepted)
    assert "po2" in b.open_orders
    # IOC fills what crosses and cancels the rest
    events = _one(engine, b, "ioc", BUY, "ioc", 2000, 7)
    assert [type(e) for e in events] == [Accepted, Filled, Filled, Traded, Cancelled]
    assert events[-1].reason == CancelReason.IOC and events[-1].qty == 2
    # market needs the other side to exist
    [no_liquidity] = _one(engine, b, "m1", BUY, "market", None, 1)
    assert no_liquidity.reason == Reason.NO_LIQUIDITY
    _one(engine, a, "ask2", SELL, "limit", 2003, 2)
    events = _one(engine, b, "m2", BUY, "market", None, 5)
    assert events[-1].reason == CancelReason.MARKET_REMAINDER and events[-1].qty == 3


def test_self_trade_prevention_modes():
    for mode, taker_rests, maker_left in (("cancel_taker", False, True),
                                         ("cancel_maker", True, False),
                                         ("cancel_both", False, False)):
        engine = Engine([SPEC])
        a, b = _rich(2)
        _one(engine, a, "mine", SELL, "limit", 2000, 5)
        _one(engine, b, "theirs", SELL, "limit", 2001, 5)
        events = _one(engine, a, "cross", BUY, "limit", 2001, 8, stp=mode)
        assert not any(isinstance(e, Filled) and e.order.account is a and e.maker
                       for e in events), mode
        assert ("mine" in a.open_orders) is maker_left, mode
        assert ("cross" in a.open_orders) is taker_rests, mode
        if mode == "cancel_maker":
            # the taker matched on past its own order, against b
            assert [e.order.client_id for e in events if isinstance(e, Filled) and e.maker] \
                == ["theirs"]


def test_margin_rejects_and_halts():
    engine = Engine([SPEC])
    poor = Account(1, "poor", "k", 100.0)
    rich = _rich(1)[0]
    _one(engine, rich, "ask", SELL, "limit", 2000, 1000)
    # 10x leverage on 100 USDC is 1000 USDC of notional; a lot at 1000 ticks is 5 USDC.
    assert isinstance(_one(engine, poor, "ok", BUY, "limit", 1000, 190)[0], Accepted)
    [denied] = _one(engine, poor, "too_big", BUY, "limit", 1000, 20)
    assert denied.reason == Reason.INSUFFICIENT_MARGIN
    engine.cancel(poor, "ok")
    engine.set_status(SPEC.market_id, int(TradingStatus.HALTED))
    [halted] = _one(engine, rich, "h", BUY, "limit", 1990, 1)
    assert halted.reason == Reason.MARKET_HALTED
    assert isinstance(engine.cancel(rich, "ask")[0], Cancelled)  # cancels still work
    engine.set_status(SPEC.market_id, int(TradingStatus.TRADING))
    assert isinstance(_one(engine, rich, "h2", BUY, "limit", 1990, 1)[0], Accepted)


def test_house_liquidity_is_set_by_level_and_crossing_additions_trade():
    engine = Engine([SPEC])
    house = Account(9, "house", "", 0.0, house=True)
    user = _rich(1)[0]
    engine.set_level(house, SPEC.market_id, SELL, 2002, 10)
    engine.set_level(house, SPEC.market_id, SELL, 2002, 4)  # shrinks in place
    assert engine.books[SPEC.market_id].asks.best().qty == 4
    _one(engine, user, "bid", BUY, "limit", 2001, 3)
    # recorded depth moves the ask down through the user's bid: it trades first
    events = engine.set_level(house, SPEC.market_id, SELL, 2000, 5)
    assert [(e.order.client_id, e.qty) for e in events if isinstance(e, Filled) and e.maker] \
        == [("bid", 3)]
    assert engine.books[SPEC.market_id].asks.best().qty == 2
    assert user.position(SPEC.market_id).lots == 3
