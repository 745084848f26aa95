"""The market maker: prices, skew, post-only, and keeping queue position unless it pays."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from host.config_parse import ConfigError
from host.strategy.actions import CancelOrder, PlaceOrder
from host.strategy.config import MarketMakerConfig
from host.strategy.market_maker import MarketMaker, quote_prices
from host.venue_client.events import Fill, OrderType, Side
from tests.risk_fixtures import MARKETS, Top

CFG = MarketMakerConfig("mm", "ETH-PERP", quote_lots=2, half_spread_ticks=5,
                        max_inventory_lots=10, skew_ticks=4, requote_ticks=3)


def top(bid, ask, market="ETH-PERP"):
    return Top(market, bid, 5 if bid else 0, ask, 5 if ask else 0, 0)


def fill(side, qty, order_id="q"):
    return Fill(order_id, "ETH-PERP", side, qty, 300_000, Decimal(0), "maker", 0, 1, 0)


def live_mm():
    """A maker with both quotes resting: bid 300_000 (id b1), ask 300_010 (id a1)."""
    mm = MarketMaker(CFG, MARKETS)
    bid, ask = mm.on_top(top(299_999, 300_011), 7)
    assert bid == PlaceOrder("ETH-PERP", Side.BUY, 2, 300_000, OrderType.POST_ONLY, "mm", 7)
    assert ask == PlaceOrder("ETH-PERP", Side.SELL, 2, 300_010, OrderType.POST_ONLY, "mm", 7)
    assert mm.on_submitted(bid, "b1") == [] and mm.on_submitted(ask, "a1") == []
    return mm


def test_quotes_around_the_mid_clamped_so_they_never_take():
    assert quote_prices(100, 110, 0, CFG) == (100, 110)
    assert quote_prices(100, 101, 0, CFG) == (95, 106)
    assert quote_prices(100, 103, 0, CFG) == (96, 107)          # odd: round away from mid
    wide = MarketMakerConfig("w", "X", half_spread_ticks=50)
    assert quote_prices(100, 110, 0, wide) == (55, 155)
    assert quote_prices(10, 110, 0, wide) == (10, 110)
    assert quote_prices(3, 5, 0, wide) == (None, 54)            # a bid under 1 tick is not sent


def test_skew_moves_both_quotes_against_inventory_and_stops_adding_at_the_cap():
    assert quote_prices(1000, 1010, 5, CFG) == (998, 1008)      # long: both 2 ticks lower
    assert quote_prices(1000, 1010, -5, CFG) == (1002, 1012)
    assert quote_prices(1000, 1010, 10, CFG) == (None, 1006)    # long at cap: no bid
    assert quote_prices(1000, 1010, -12, CFG) == (1004, None)   # short past cap: no ask


def test_a_small_move_keeps_the_queue_and_a_large_one_cancels_then_replaces():
    mm = live_mm()
    kept = mm.counters["kept"]
    assert mm.on_top(top(300_001, 300_013), 8) == []            # targets moved 2 ticks
    assert mm.counters["kept"] == kept + 2
    acts = mm.on_top(top(300_002, 300_014), 9)                  # 3 ticks: replace both
    assert acts == [CancelOrder("b1", "mm"), CancelOrder("a1", "mm")]
    assert mm.on_top(top(300_010, 300_020), 10) == []           # never two quotes a side
    [new_bid] = mm.on_order_update("b1", "cancelled")
    assert (new_bid.side, new_bid.price, new_bid.origin_ns) == (Side.BUY, 300_010, 10)
    assert mm.working()[Side.SELL] == (300_010, "a1")


def test_an_oms_enum_state_is_accepted():
    from enum import Enum

    class OrderState(Enum):
        OPEN = 1
        CANCELLED = 2

    mm = live_mm()
    mm.on_top(top(300_100, 300_120), 8)
    assert mm.on_order_update("b1", OrderState.OPEN) == []
    assert len(mm.on_order_update("b1", OrderState.CANCELLED)) == 1


def test_a_fill_updates_inventory_and_requotes_when_the_skew_is_worth_it():
    mm = live_mm()
    assert mm.on_fill(fill(Side.BUY, 2, "b1")) == []             # skew 0 (trunc 8/10)
    acts = mm.on_fill(fill(Side.BUY, 6, "b1"))                   # 8 lots: 3 ticks down
    assert mm.inventory == 8 and acts == [CancelOrder("b1", "mm"), CancelOrder("a1", "mm")]


def test_a_rejected_quote_waits_for_the_next_top_and_a_denied_one_frees_its_side():
    mm = live_mm()
    assert mm.on_order_update("b1", "rejected") == []
    assert Side.BUY not in mm.working()
    [again] = [a for a in mm.on_top(top(299_999, 300_011), 9) if a.side is Side.BUY]
    assert mm.on_denied(again, "reduce_only") == []
    assert Side.BUY not in mm.working()


def test_a_halted_market_or_a_broken_book_pulls_the_quotes():
    mm = live_mm()
    assert mm.on_market_status("ETH-PERP", True) == [CancelOrder("b1", "mm"),
                                                     CancelOrder("a1", "mm")]
    mm = live_mm()
    assert mm.on_top(top(0, 300_011), 8) == [CancelOrder("b1", "mm"), CancelOrder("a1", "mm")]
    mm = live_mm()
    assert mm.on_top(top(300_011, 300_011), 8) == [CancelOrder("b1", "mm"),
                                                   CancelOrder("a1", "mm")]
    assert mm.on_top(top(1, 2, market="BTC-PERP"), 9) == []


def test_config_errors():
    with pytest.raises(ConfigError) as err:
        MarketMaker(MarketMakerConfig("mm", "NOPE"), MARKETS)
    assert err.value.reason == "unknown_market"
    with pytest.raises(ConfigError):
        MarketMakerConfig("mm", "X", half_spread_ticks=0)


books = st.tuples(st.integers(1, 10_000), st.integers(1, 50)).map(lambda t: (t[0], t[0] + t[1]))
configs = st.builds(MarketMakerConfig, name=st.just("p"), market=st.just("X"),
                    half_spread_ticks=st.integers(1, 40), max_inventory_lots=st.integers(1, 50),
                    skew_ticks=st.integers(0, 60), requote_ticks=st.integers(1, 10))


@settings(max_examples=300, deadline=None)
@given(book=books, inv=st.integers(-80, 80), config=configs)
def test_quotes_never_cross_and_never_take(book, inv, config):
    bid, ask = book
    qb, qa = quote_prices(bid, ask, inv, config)
    if qb is not None:
        assert 1 <= qb < ask
    if qa is not None:
        assert qa > bid
    if qb is not None and qa is not None:
        assert qb < qa
    cap = config.max_inventory_lots
    assert (qa is None) == (inv <= -cap)       # an ask is always possible below the cap
    if inv >= cap:
        assert qb is None


@settings(max_examples=300, deadline=None)
@given(book=books, a=st.integers(-80, 80), b=st.integers(-80, 80), config=configs)
def test_skew_direction_follows_inventory(book, a, b, config):
    lo, hi = min(a, b), max(a, b)
    (lb, la), (hb, ha) = (quote_prices(*book, lo, config), quote_prices(*book, hi, config))
    if lb is not None and hb is not None:
        assert hb <= lb      # more inventory, a lower (less eager) bid
    if la is not None and ha is not None:
        assert ha <= la      # and a lower (more eager) ask


events = st.lists(st.one_of(
    st.tuples(st.just("top"), books),
    st.tuples(st.just("fill"), st.sampled_from(Side), st.integers(1, 6)),
    st.tuples(st.just("update"), st.sampled_from(["cancelled", "filled", "rejected", "open"])),
), max_size=60)


@settings(max_examples=150, deadline=None)
@given(seq=events)
def test_random_event_streams_post_only_one_quote_per_side(seq):
    mm = MarketMaker(CFG, MARKETS)
    ids = 0
    for ev in seq:
        if ev[0] == "top":
            acts = mm.on_top(top(*ev[1]), 0)
        elif ev[0] == "fill":
            acts = mm.on_fill(fill(ev[1], ev[2]))
        else:
            working = [oid for _, oid in mm.working().values() if oid]
            acts = mm.on_order_update(working[0], ev[1]) if working else []
        for act in acts:
            if isinstance(act, PlaceOrder):
                assert act.order_type is OrderType.POST_ONLY and act.qty == CFG.quote_lots
                book = mm._top
                assert act.price < book.ask if act.side is Side.BUY else act.price > book.bid
                ids += 1
                mm.on_submitted(act, f"o{ids}")
        assert len(mm.working()) <= 2


def test_a_refused_cancel_lets_the_next_top_try_again():
    mm = live_mm()
    assert mm.on_top(top(300_100, 300_120), 8) == [CancelOrder("b1", "mm"),
                                                   CancelOrder("a1", "mm")]
    assert mm.on_top(top(300_100, 300_120), 9) == []          # waiting for the venue
    mm.on_cancel_rejected("b1", "cancel_rate_limited")
    assert mm.on_top(top(300_100, 300_120), 10) == [CancelOrder("b1", "mm")]
