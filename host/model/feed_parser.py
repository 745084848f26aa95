"""Cut-through feed parser: UDP payloads in, ticks and gap events out.

It acts on each message the moment its last byte is in, as the gateware does, so a packet that
turns out truncated or malformed part-way keeps the messages that completed before the fault.
(host.wire.decode_packet is the store-and-forward decoder for tools that want all or nothing.)

Per payload, in byte order:
1. The 24-byte packet header. A payload ending inside it is `truncated`. A schema version other
   than 1 is `schema`. Then the sequence: the first packet, or a new session, sets the
   expectation; a sequence below it is `stale_packets` (skipped whole); above it is
   `packet_gaps` (reported, then the packet is processed); the next expected sequence is
   sequence + msg_count.
2. msg_count messages. Once a message's 4-byte header is in, an unknown template is
   `unknown_template` and a length other than the template's size is `bad_length`; either
   skips the rest of the payload. A payload that ends inside a message, or before msg_count
   messages, is `truncated`. A complete message with an out-of-range value is `bad_value` and
   only that message is skipped.
3. Bytes after the last counted message are `bad_length` (counted once).
"""

from __future__ import annotations

import struct

from host.model.counters import PARSER_COUNTERS, zeroed
from host.model.events import PacketGap, Tick, TickKind
from host.wire.enums import AggressorSide, BookAction, Side, TemplateId, TradingStatus
from host.wire.feed import PACKET_HEADER, SCHEMA_VERSION

MARKETS = 256
PRICE_MIN, PRICE_MAX = -(1 << 31), (1 << 31) - 1
QTY_MIN, QTY_MAX = 0, (1 << 31) - 1

_HEADER = struct.Struct("<IHHQQ")
_MSG_HEADER = struct.Struct("<HB")
_STATUS = struct.Struct("<HBBI")             # market, status, reason, rpt_seq at 4
_BOOK = struct.Struct("<HBBIBxHqq")          # market, side, action, rpt_seq, level, count,
#                                              price, qty at 4
_TRADE = struct.Struct("<HBxIIqq")           # market, aggressor, rpt_seq, trade_id, price, qty
_BBO = struct.Struct("<HxxI4xqqqq")          # market, rpt_seq, bid p/q, ask p/q at 4
_SIZES = {TemplateId.HEARTBEAT: 8, TemplateId.MARKET_STATUS: 16, TemplateId.BOOK_LEVEL: 32,
          TemplateId.TRADE: 32, TemplateId.BEST_BID_OFFER: 48}
_SIDES = frozenset(int(s) for s in Side)
_ACTIONS = frozenset(int(a) for a in BookAction)
_STATUSES = frozenset(int(s) for s in TradingStatus)
_AGGRESSORS = frozenset(int(a) for a in AggressorSide)
assert _HEADER.size == PACKET_HEADER.size


def _price_ok(p: int) -> bool:
    return PRICE_MIN <= p <= PRICE_MAX


def _qty_ok(q: int) -> bool:
    return QTY_MIN <= q <= QTY_MAX


def decode_tick(template: int, buf: bytes, pos: int) -> Tick | None:
    """The tick a complete market message carries, or None if a value is out of range.

    Heartbeats are not ticks; the caller handles them.
    """
    if template == TemplateId.BOOK_LEVEL:
        market, side, action, seq, level, _count, price, qty = _BOOK.unpack_from(buf, pos + 4)
        if (market < MARKETS and side in _SIDES and action in _ACTIONS and _price_ok(price)
                and _qty_ok(qty)):
            return Tick(TickKind.BOOK, market, seq, side, action, level, 0, price, qty)
        return None
    if template == TemplateId.BEST_BID_OFFER:
        market, seq, bp, bq, ap, aq = _BBO.unpack_from(buf, pos + 4)
        if (market < MARKETS and _price_ok(bp) and _qty_ok(bq) and _price_ok(ap)
                and _qty_ok(aq)):
            return Tick(TickKind.BBO, market, seq, 0, 0, 0, 0, bp, bq, ap, aq)
        return None
    if template == TemplateId.TRADE:
        market, aggressor, seq, _trade_id, price, qty = _TRADE.unpack_from(buf, pos + 4)
        if market < MARKETS and aggressor in _AGGRESSORS and _price_ok(price) and _qty_ok(qty):
            return Tick(TickKind.TRADE, market, seq, 0, 0, 0, 0, price, qty)
        return None
    market, status, _reason, seq = _STATUS.unpack_from(buf, pos + 4)
    if market < MARKETS and status in _STATUSES:
        return Tick(TickKind.STATUS, market, seq, status=status)
    return None


class FeedParser:
    """Sans-I/O: `payload(bytes)` returns the ticks and PacketGap events it produced, in order.

    `counters` holds the parser's counters (host.model.counters.PARSER_COUNTERS).
    """

    def __init__(self) -> None:
        self.counters = zeroed(PARSER_COUNTERS)
        self._session: int | None = None
        self._next_sequence = 0

    def payload(self, buf: bytes) -> list:
        c = self.counters
        c["packets"] += 1
        out: list = []
        end = len(buf)
        if end < _HEADER.size:
            c["truncated"] += 1
            return out
        session, count, schema, sequence, _send_time = _HEADER.unpack_from(buf, 0)
        if schema != SCHEMA_VERSION:
            c["schema"] += 1
            return out
        if session != self._session:
            self._session = session
        elif sequence < self._next_sequence:
            c["stale_packets"] += 1
            return out
        elif sequence > self._next_sequence:
            c["packet_gaps"] += 1
            out.append(PacketGap(self._next_sequence, sequence))
        self._next_sequence = (sequence + count) & 0xFFFF_FFFF_FFFF_FFFF
        pos = _HEADER.size
        for _ in range(count):
            if end - pos < 4:
                c["truncated"] += 1
                return out
            length, template = _MSG_HEADER.unpack_from(buf, pos)
            size = _SIZES.get(template)
            if size is None:
                c["unknown_template"] += 1
                return out
            if length != size:
                c["bad_length"] += 1
                return out
            if end - pos < size:
                c["truncated"] += 1
                return out
            if template == TemplateId.HEARTBEAT:
                c["messages"] += 1
            else:
                tick = decode_tick(template, buf, pos)
                if tick is None:
                    c["bad_value"] += 1
                else:
                    c["messages"] += 1
                    c["ticks"] += 1
                    out.append(tick)
            pos += size
        if pos != end:
            c["bad_length"] += 1
        return out
