"""Trigger rules: the seed's arbitrage in integer basis points, the limit rule, edges."""

import pytest

from host.model.events import Tick, TickKind
from host.model.top_of_book import TopOfBook
from host.model.trigger import Rule, RuleKind, Trigger
from host.wire import OrderSide


def _bbo(book, market, seq, bid, ask, qty=10):
    book.tick(Tick(TickKind.BBO, market, seq, price0=bid, qty0=qty, price1=ask, qty1=qty))


def test_arbitrage_fires_at_the_threshold_and_on_the_edge_only():
    book, trig = TopOfBook(depth=1, markets=2), Trigger(markets=2, client_order_id_base=500)
    trig.write_rule(0, Rule(RuleKind.ARBITRAGE, target=1, threshold_bp=8, qty=3))
    _bbo(book, 1, 1, 99_990, 100_010)                  # secondary mid 100_000
    _bbo(book, 0, 1, 100_069, 100_089)                 # +7.9 bp: no
    assert trig.evaluate(0, 1, book.books) is None
    _bbo(book, 0, 2, 100_070, 100_090)                 # +8 bp exactly: buy the secondary
    intent = trig.evaluate(0, 2, book.books)
    assert (intent.market_id, intent.side, intent.price, intent.qty) == (1, OrderSide.BUY,
                                                                        100_010, 3)
    assert (intent.rule_id, intent.tick_seq, intent.client_order_id) == (0, 2, 500)
    assert trig.evaluate(0, 3, book.books) is None     # still true: no second fire
    _bbo(book, 0, 3, 99_910, 99_930)                   # -8 bp: sell at the secondary bid
    intent = trig.evaluate(0, 3, book.books)
    assert (intent.side, intent.price, intent.client_order_id) == (OrderSide.SELL, 99_990, 501)


def test_limit_rule_and_halts():
    book, trig = TopOfBook(depth=1, markets=1), Trigger(markets=1)
    trig.write_rule(0, Rule(RuleKind.LIMIT, buy_below=100, sell_above=200, qty=1))
    _bbo(book, 0, 1, 90, 101)
    assert trig.evaluate(0, 1, book.books) is None
    book.tick(Tick(TickKind.STATUS, 0, 2, status=2))
    _bbo(book, 0, 3, 90, 100)
    assert trig.evaluate(0, 3, book.books) is None     # halted
    book.tick(Tick(TickKind.STATUS, 0, 4, status=1))
    _bbo(book, 0, 5, 90, 100)
    assert trig.evaluate(0, 5, book.books).side == OrderSide.BUY


def test_rule_fields_must_fit_the_gateware():
    trig = Trigger(markets=4)
    for bad in (Rule(RuleKind.ARBITRAGE, target=4), Rule(threshold_bp=1 << 16),
                Rule(qty=1 << 31), Rule(buy_below=1 << 31)):
        with pytest.raises(ValueError):
            trig.write_rule(0, bad)
