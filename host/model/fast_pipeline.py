"""The software path's fast pipeline: host.model.pipeline.Pipeline, rewritten for speed.

Same input, same output: `payload()` returns the very events the model's does (PacketGap,
MarketGap, BookTop and OrderIntent records, in order) and `counters` the very counters, packet
by packet; tests/test_fast_pipeline.py proves it on random, faulty and malformed streams. The
model (feed_parser.py, top_of_book.py, trigger.py) stays the readable specification and the
gateware's scoreboard reference: read it for *what* happens. This file departs only in *how*:

- one function per payload, with the parser, book and trigger inlined: a Python call costs
  more than most of the work a message needs, and a Tick record per message too;
- one struct per template, derived from host.wire's declaration (`field_struct`), that
  unpacks the fields the pipeline uses and nothing else, the length field included;
- state in flat lists indexed by market (a side's slots: `slots[side][market]`);
- a market's sync state is one int, its expected rpt_seq or -1 while stale, so the in-sync
  test of the common case is one comparison;
- the hot counters are locals, added to the totals once per payload.
"""

from __future__ import annotations

from host.model.counters import COUNTER_NAMES
from host.model.events import BookTop, MarketGap, PacketGap
from host.model.feed_parser import MARKETS, PRICE_MAX, PRICE_MIN, QTY_MAX, QTY_MIN
from host.model.pipeline import PipelineConfig
from host.model.trigger import Rule, RuleKind, Trigger
from host.wire import OrderIntent
from host.wire.declare import field_struct
from host.wire.enums import BookAction, OrderSide, Side, TradingStatus
from host.wire.feed import (
    BEST_BID_OFFER,
    BOOK_LEVEL,
    HEARTBEAT,
    MARKET_STATUS,
    MESSAGE_HEADER,
    MESSAGE_HEADER_SIZE,
    PACKET_HEADER,
    SCHEMA_VERSION,
    TRADE,
)

_new = tuple.__new__  # a record without its class's Python-level __new__
_U32, _U64 = 0xFFFF_FFFF, 0xFFFF_FFFF_FFFF_FFFF
_EMPTY = (0, 0, 0)  # a slot: (valid, price, qty), as in top_of_book.py
_STALE = -1         # a market's expected rpt_seq while it waits for a BestBidOffer

_HEADER = field_struct(PACKET_HEADER, ("session", "msg_count", "schema_version", "sequence"))
_LENGTH = field_struct(MESSAGE_HEADER, ("length",))
_BOOK = field_struct(BOOK_LEVEL, ("length", "market_id", "side", "action", "rpt_seq", "level",
                                  "price", "qty"))
_BBO = field_struct(BEST_BID_OFFER, ("length", "market_id", "rpt_seq", "bid_price", "bid_qty",
                                     "ask_price", "ask_qty"))
_TRADE = field_struct(TRADE, ("length", "market_id", "aggressor", "rpt_seq", "price", "qty"))
_STATUS = field_struct(MARKET_STATUS, ("length", "market_id", "status", "rpt_seq"))
_TEMPLATE_AT = MESSAGE_HEADER.by_name["template_id"].offset
_T_BOOK, _S_BOOK = BOOK_LEVEL.template_id, BOOK_LEVEL.size
_T_BBO, _S_BBO = BEST_BID_OFFER.template_id, BEST_BID_OFFER.size
_T_TRADE, _S_TRADE = TRADE.template_id, TRADE.size
_T_STATUS, _S_STATUS = MARKET_STATUS.template_id, MARKET_STATUS.size
_T_HEARTBEAT, _S_HEARTBEAT = HEARTBEAT.template_id, HEARTBEAT.size
_unpack_book, _unpack_bbo = _BOOK.unpack_from, _BBO.unpack_from
_unpack_trade, _unpack_status = _TRADE.unpack_from, _STATUS.unpack_from


def _allowed(layout, name: str) -> frozenset[int]:
    return frozenset(int(m) for m in layout.by_name[name].field.enum)


_SIDES = _allowed(BOOK_LEVEL, "side")
_ACTIONS = _allowed(BOOK_LEVEL, "action")
_AGGRESSORS = _allowed(TRADE, "aggressor")
_STATUSES = _allowed(MARKET_STATUS, "status")
_BID, _ASK = int(Side.BID), int(Side.ASK)  # also the index of a side's slots
assert {_BID, _ASK} == _SIDES
# Plain ints: comparing with an enum member costs an attribute lookup per message.
_NEW, _CHANGE = int(BookAction.NEW), int(BookAction.CHANGE)
_TRADING = int(TradingStatus.TRADING)
_ARBITRAGE = int(RuleKind.ARBITRAGE)
_BUY, _SELL = OrderSide.BUY, OrderSide.SELL

# Counter indices, in COUNTER_NAMES order (the model's `counters` order).
(_PACKETS, _MESSAGES, _TICKS, _TRUNCATED, _SCHEMA, _STALE_PACKETS, _PACKET_GAPS,
 _UNKNOWN_TEMPLATE, _BAD_LENGTH, _BAD_VALUE, _MARKET_GAPS, _STALE_DROPS, _BEYOND_DEPTH,
 _DEPTH_EXHAUSTED, _EVALUATIONS, _INTENTS) = range(16)
assert COUNTER_NAMES == ("packets", "messages", "ticks", "truncated", "schema",
                         "stale_packets", "packet_gaps", "unknown_template", "bad_length",
                         "bad_value", "market_gaps", "stale_drops", "beyond_depth",
                         "depth_exhausted", "evaluations", "intents")


_DEFAULT_CONFIG = PipelineConfig()


def _short(buf, pos: int, size: int) -> int:
    """The fault of a message with fewer than `size` bytes left: its length field outranks
    the truncation, as in the model."""
    return _BAD_LENGTH if _LENGTH.unpack_from(buf, pos)[0] != size else _TRUNCATED


class FastPipeline:
    """Sans-I/O, with the interface of host.model.pipeline.Pipeline: `payload(buf)` returns
    the events of one UDP payload, `counters` the pipeline's counters."""

    def __init__(self, config: PipelineConfig = _DEFAULT_CONFIG) -> None:
        if config.depth < 1:
            raise ValueError(f"depth must be at least 1, not {config.depth}")
        self.config = config
        self.depth = config.depth
        self._counts = [0] * len(COUNTER_NAMES)
        self._session: int | None = None
        self._next_sequence = 0
        self._expected = [1] * MARKETS
        self._status = [_TRADING] * MARKETS
        # _slots[side][market]: the side's `depth` slots, best first (index 0 is unused).
        self._slots = [None, *([[_EMPTY] * config.depth for _ in range(MARKETS)]
                               for _ in (_BID, _ASK))]
        self._tail = [_EMPTY] * (config.depth - 1)
        self._client_order_id_base = config.client_order_id_base
        # Rules go through the model's trigger first, so bad ones fail with its errors.
        self._checker = Trigger(client_order_id_base=config.client_order_id_base)
        self._rules: list[tuple | None] = [None] * MARKETS
        self._was_buy = [False] * MARKETS
        self._was_sell = [False] * MARKETS
        for market, rule in config.rules:
            self.write_rule(market, rule)

    def write_rule(self, market: int, rule: Rule) -> None:
        """Install a market's rule and reset its edge state, as Trigger.write_rule does."""
        self._checker.write_rule(market, rule)
        self._rules[market] = None if rule.kind == RuleKind.NONE else (
            int(rule.kind), rule.target, rule.threshold_bp, rule.buy_below, rule.sell_above,
            rule.qty)
        self._was_buy[market] = self._was_sell[market] = False

    @property
    def counters(self) -> dict[str, int]:
        return dict(zip(COUNTER_NAMES, self._counts, strict=True))

    def top(self, market: int) -> BookTop:
        """The market's best bid and ask now, as the BookTop record the model reports."""
        return _new(BookTop, (market, *self._slots[_BID][market][0],
                              *self._slots[_ASK][market][0]))

    def payload(self, buf) -> list:
        c = self._counts
        c[_PACKETS] += 1
        out: list = []
        end = len(buf)
        if end < PACKET_HEADER.size:
            c[_TRUNCATED] += 1
            return out
        session, count, schema, sequence = _HEADER.unpack_from(buf, 0)
        if schema != SCHEMA_VERSION:
            c[_SCHEMA] += 1
            return out
        if session != self._session:
            self._session = session
        elif sequence < self._next_sequence:
            c[_STALE_PACKETS] += 1
            return out
        elif sequence > self._next_sequence:
            c[_PACKET_GAPS] += 1
            out.append(_new(PacketGap, (self._next_sequence, sequence)))
        self._next_sequence = (sequence + count) & _U64

        append = out.append
        expecteds, statuses, slots_of = self._expected, self._status, self._slots
        bids_of, asks_of = slots_of[_BID], slots_of[_ASK]
        rules, was_buy, was_sell = self._rules, self._was_buy, self._was_sell
        depth, tail = self.depth, self._tail
        ticks = heartbeats = evaluations = 0
        fault = -1
        pos = PACKET_HEADER.size
        for _ in range(count):
            room = end - pos
            if room < MESSAGE_HEADER_SIZE:
                fault = _TRUNCATED
                break
            template = buf[pos + _TEMPLATE_AT]
            if template == _T_BOOK:
                if room < _S_BOOK:
                    fault = _short(buf, pos, _S_BOOK)
                    break
                length, m, side, action, seq, level, price, qty = _unpack_book(buf, pos)
                if length != _S_BOOK:
                    fault = _BAD_LENGTH
                    break
                pos += _S_BOOK
                if not (m < MARKETS and side in _SIDES and action in _ACTIONS
                        and PRICE_MIN <= price <= PRICE_MAX and QTY_MIN <= qty <= QTY_MAX):
                    c[_BAD_VALUE] += 1
                    continue
                ticks += 1
                expected = expecteds[m]
                if seq != expected:
                    if expected != _STALE:
                        c[_MARKET_GAPS] += 1
                        append(_new(MarketGap, (m, expected, seq)))
                        expecteds[m] = _STALE
                    c[_STALE_DROPS] += 1
                    continue
                expecteds[m] = (seq + 1) & _U32
                if level >= depth:
                    c[_BEYOND_DEPTH] += 1
                    continue
                slots = slots_of[side][m]
                if level:  # below the best: the top cannot change
                    if action == _NEW:
                        slots.insert(level, (1, price, qty))
                        slots.pop()
                    elif action == _CHANGE:
                        slots[level] = (1, price, qty)
                    else:
                        if slots[-1][0]:
                            c[_DEPTH_EXHAUSTED] += 1
                        del slots[level]
                        slots.append(_EMPTY)
                else:
                    before = slots[0]
                    if action == _NEW:
                        slots.insert(0, (1, price, qty))
                        slots.pop()
                    elif action == _CHANGE:
                        slots[0] = (1, price, qty)
                    else:
                        if slots[-1][0]:
                            c[_DEPTH_EXHAUSTED] += 1
                        del slots[0]
                        slots.append(_EMPTY)
                    if slots[0] != before:
                        append(_new(BookTop, (m,) + bids_of[m][0] + asks_of[m][0]))
            elif template == _T_BBO:
                if room < _S_BBO:
                    fault = _short(buf, pos, _S_BBO)
                    break
                length, m, seq, bid_price, bid_qty, ask_price, ask_qty = _unpack_bbo(buf, pos)
                if length != _S_BBO:
                    fault = _BAD_LENGTH
                    break
                pos += _S_BBO
                if not (m < MARKETS and PRICE_MIN <= bid_price <= PRICE_MAX
                        and QTY_MIN <= bid_qty <= QTY_MAX and PRICE_MIN <= ask_price <= PRICE_MAX
                        and QTY_MIN <= ask_qty <= QTY_MAX):
                    c[_BAD_VALUE] += 1
                    continue
                ticks += 1
                expected = expecteds[m]
                if seq != expected and expected != _STALE:
                    c[_MARKET_GAPS] += 1
                    append(_new(MarketGap, (m, expected, seq)))
                expecteds[m] = (seq + 1) & _U32  # a BestBidOffer resynchronises
                bids, asks = bids_of[m], asks_of[m]
                bid = (1, bid_price, bid_qty) if bid_qty else _EMPTY
                ask = (1, ask_price, ask_qty) if ask_qty else _EMPTY
                changed = bid != bids[0] or ask != asks[0]
                bids[0], asks[0] = bid, ask
                bids[1:] = tail
                asks[1:] = tail
                if changed:
                    append(_new(BookTop, (m,) + bid + ask))
            elif template == _T_TRADE:
                if room < _S_TRADE:
                    fault = _short(buf, pos, _S_TRADE)
                    break
                length, m, aggressor, seq, price, qty = _unpack_trade(buf, pos)
                if length != _S_TRADE:
                    fault = _BAD_LENGTH
                    break
                pos += _S_TRADE
                if not (m < MARKETS and aggressor in _AGGRESSORS
                        and PRICE_MIN <= price <= PRICE_MAX and QTY_MIN <= qty <= QTY_MAX):
                    c[_BAD_VALUE] += 1
                    continue
                ticks += 1
                expected = expecteds[m]
                if seq == expected:
                    expecteds[m] = (seq + 1) & _U32
                    continue
                if expected != _STALE:
                    c[_MARKET_GAPS] += 1
                    append(_new(MarketGap, (m, expected, seq)))
                    expecteds[m] = _STALE
                c[_STALE_DROPS] += 1
                continue
            elif template == _T_STATUS:
                if room < _S_STATUS:
                    fault = _short(buf, pos, _S_STATUS)
                    break
                length, m, status, seq = _unpack_status(buf, pos)
                if length != _S_STATUS:
                    fault = _BAD_LENGTH
                    break
                pos += _S_STATUS
                if not (m < MARKETS and status in _STATUSES):
                    c[_BAD_VALUE] += 1
                    continue
                ticks += 1
                expected = expecteds[m]
                if seq == expected:
                    expecteds[m] = (seq + 1) & _U32
                elif expected != _STALE:
                    c[_MARKET_GAPS] += 1
                    append(_new(MarketGap, (m, expected, seq)))
                    expecteds[m] = _STALE
                statuses[m] = status  # a halt is applied even while stale
                continue
            elif template == _T_HEARTBEAT:
                if room < _S_HEARTBEAT:
                    fault = _short(buf, pos, _S_HEARTBEAT)
                    break
                if _LENGTH.unpack_from(buf, pos)[0] != _S_HEARTBEAT:
                    fault = _BAD_LENGTH
                    break
                pos += _S_HEARTBEAT
                heartbeats += 1
                continue
            else:
                fault = _UNKNOWN_TEMPLATE
                break

            # An applied BookLevel or BestBidOffer of market m: run m's rule (trigger.py).
            rule = rules[m]
            if rule is None:
                continue
            evaluations += 1
            kind, target, threshold_bp, buy_below, sell_above, rule_qty = rule
            if kind == _ARBITRAGE:
                traded = target
                p_bid, p_ask = bids_of[m][0], asks_of[m][0]
                s_bid, s_ask = bids_of[target][0], asks_of[target][0]
                buy = sell = False
                if (statuses[m] == _TRADING
                        and statuses[target] == _TRADING
                        and p_bid[0] and p_ask[0] and s_bid[0] and s_ask[0]):
                    sum_s = s_bid[1] + s_ask[1]
                    if sum_s > 0:
                        lead = (p_bid[1] + p_ask[1] - sum_s) * 10000
                        bar = threshold_bp * sum_s
                        buy, sell = lead >= bar, -lead >= bar
                buy_price, sell_price = s_ask[1], s_bid[1]
            else:
                traded = m
                bid, ask = bids_of[m][0], asks_of[m][0]
                trading = statuses[m] == _TRADING
                buy = trading and ask[0] and ask[1] <= buy_below
                sell = trading and bid[0] and bid[1] >= sell_above
                buy_price, sell_price = ask[1], bid[1]
            fire_buy = buy and not was_buy[m]
            fire_sell = sell and not was_sell[m]  # the intent is a buy if both fire
            was_buy[m], was_sell[m] = buy, sell
            if fire_buy or fire_sell:
                emitted = c[_INTENTS]
                c[_INTENTS] = emitted + 1
                append(_new(OrderIntent, (
                    0, traded, _BUY if fire_buy else _SELL, m, seq,
                    buy_price if fire_buy else sell_price, rule_qty,
                    (self._client_order_id_base + emitted) & _U64, 0)))
        else:
            if pos != end:
                fault = _BAD_LENGTH
        c[_MESSAGES] += ticks + heartbeats
        c[_TICKS] += ticks
        c[_EVALUATIONS] += evaluations
        if fault >= 0:
            c[fault] += 1
        return out
