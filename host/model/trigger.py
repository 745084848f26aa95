"""Per-market trigger rules that the host writes, evaluated after every applied book message.

The rule table has one slot per market, indexed by the market whose update evaluates it.
- ARBITRAGE (the seed's latency arbitrage): the slot's market is the primary, `target` the
  secondary. With both markets trading and both sides of both books present, and the mids
  compared as sums (bid + ask), it buys the secondary at its ask when
  `(sum_primary - sum_secondary) * 10000 >= threshold_bp * sum_secondary`, and sells it at its
  bid when the same holds with the difference reversed. This is the seed's
  `|primary_mid - secondary_mid| / secondary_mid >= 0.0008` at the default 8 bp, in integers.
- LIMIT: on the slot's own market, buys at the ask when `ask <= buy_below`, sells at the bid
  when `bid >= sell_above`.

A rule fires on the edge: when its buy (or sell) condition turns true, not while it stays true.
At most one intent per evaluation, buy first. Writing a rule resets its edge state, so a
condition that already holds fires at the next evaluation. Each intent takes the next
client order id: `client_order_id_base` plus the count of intents emitted so far.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from host.model.counters import TRIGGER_COUNTERS, zeroed
from host.model.feed_parser import PRICE_MAX, PRICE_MIN, QTY_MAX, QTY_MIN
from host.model.top_of_book import MarketBook
from host.wire import OrderIntent
from host.wire.enums import OrderSide

_U64 = (1 << 64) - 1


class RuleKind(IntEnum):
    NONE = 0
    ARBITRAGE = 1
    LIMIT = 2


@dataclass(frozen=True)
class Rule:
    kind: RuleKind = RuleKind.NONE
    target: int = 0            # ARBITRAGE: the secondary market
    threshold_bp: int = 8      # ARBITRAGE: basis points, 0..65535
    buy_below: int = 0         # LIMIT: ticks
    sell_above: int = 0        # LIMIT: ticks
    qty: int = 1               # lots per intent


def check_rule(rule: Rule, markets: int = 256) -> None:
    """Raise ValueError unless every field fits the gateware's rule table."""
    limits = {"target": (0, markets - 1), "threshold_bp": (0, 0xFFFF),
              "buy_below": (PRICE_MIN, PRICE_MAX), "sell_above": (PRICE_MIN, PRICE_MAX),
              "qty": (QTY_MIN, QTY_MAX)}
    for name, (low, high) in limits.items():
        value = getattr(rule, name)
        if not low <= value <= high:
            raise ValueError(f"rule {name}={value} is outside [{low}, {high}]")


def arbitrage_sides(p_bid: int, p_ask: int, s_bid: int, s_ask: int,
                    threshold_bp: int) -> tuple[bool, bool]:
    """(buy, sell) of the arbitrage rule on two tops whose four sides are all present, prices
    in one tick unit. host/strategy/latency_arb.py makes the same decision with this."""
    sum_p, sum_s = p_bid + p_ask, s_bid + s_ask
    if sum_s <= 0:
        return False, False
    bar = threshold_bp * sum_s
    return (sum_p - sum_s) * 10000 >= bar, (sum_s - sum_p) * 10000 >= bar


def arbitrage_signal(primary: MarketBook, secondary: MarketBook, threshold_bp: int) -> tuple:
    """(buy, sell) conditions of the arbitrage rule on two books."""
    pb, pa, sb, sa = primary.bids[0], primary.asks[0], secondary.bids[0], secondary.asks[0]
    if not (primary.trading and secondary.trading and pb[0] and pa[0] and sb[0] and sa[0]):
        return False, False
    return arbitrage_sides(pb[1], pa[1], sb[1], sa[1], threshold_bp)


class Trigger:
    def __init__(self, markets: int = 256, client_order_id_base: int = 0) -> None:
        self.rules = [Rule()] * markets
        self._was_buy = [False] * markets
        self._was_sell = [False] * markets
        self.client_order_id_base = client_order_id_base
        self.counters = zeroed(TRIGGER_COUNTERS)

    def write_rule(self, market: int, rule: Rule) -> None:
        if not 0 <= market < len(self.rules):
            raise ValueError(f"no rule slot for market {market}")
        check_rule(rule, len(self.rules))
        self.rules[market] = rule
        self._was_buy[market] = self._was_sell[market] = False

    def evaluate(self, market: int, rpt_seq: int, books: list[MarketBook]) -> OrderIntent | None:
        """Run the market's rule after an applied book message; the intent if one fires."""
        rule = self.rules[market]
        if rule.kind == RuleKind.NONE:
            return None
        self.counters["evaluations"] += 1
        book = books[market]
        if rule.kind == RuleKind.ARBITRAGE:
            traded = rule.target
            other = books[traded]
            buy, sell = arbitrage_signal(book, other, rule.threshold_bp)
            buy_price, sell_price = other.asks[0][1], other.bids[0][1]
        else:
            traded = market
            ask, bid = book.asks[0], book.bids[0]
            buy = book.trading and bool(ask[0]) and ask[1] <= rule.buy_below
            sell = book.trading and bool(bid[0]) and bid[1] >= rule.sell_above
            buy_price, sell_price = ask[1], bid[1]
        fire_buy = buy and not self._was_buy[market]
        fire_sell = sell and not self._was_sell[market] and not fire_buy
        self._was_buy[market], self._was_sell[market] = buy, sell
        if not (fire_buy or fire_sell):
            return None
        coid = (self.client_order_id_base + self.counters["intents"]) & _U64
        self.counters["intents"] += 1
        return OrderIntent(
            flags=0, market_id=traded,
            side=OrderSide.BUY if fire_buy else OrderSide.SELL,
            rule_id=market, tick_seq=rpt_seq,
            price=buy_price if fire_buy else sell_price, qty=rule.qty,
            client_order_id=coid, trigger_time=0,
        )
