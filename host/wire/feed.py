"""The colo market-data feed: one packet header, then fixed-layout messages.

This module is the declaration. Offsets, sizes and codecs are derived from it.
"""

from __future__ import annotations

from dataclasses import replace

from host.wire.declare import Field, Layout, i64, pad, u8, u16, u32, u64
from host.wire.enums import (
    AggressorSide,
    BookAction,
    OrderSide,
    Side,
    TemplateId,
    TradingStatus,
)

SCHEMA_VERSION = 1

PACKET_HEADER = Layout("PacketHeader", [
    u32("session", "Feed session id; a new session restarts every sequence at 1."),
    u16("msg_count", "Number of messages that follow the header in this packet."),
    u16("schema_version", f"Schema version of the messages; this is version {SCHEMA_VERSION}."),
    u64("sequence", "Sequence number of the first message in the packet; the next packet's "
                    "is this plus msg_count, as in MoldUDP64."),
    u64("send_time", "Venue send time, ns since the Unix epoch."),
], byteorder="little", doc="""
Starts every UDP payload. Modelled on MoldUDP64's downstream packet, with fixed-width,
little-endian fields and the send time added. A packet with msg_count 0 is legal and carries
no messages (an idle packet).
""")


MESSAGE_HEADER = Layout("MessageHeader", [
    u16("length", "Message length in bytes, this header included; a multiple of 8."),
    u8("template_id", "Which message follows (TemplateId)."),
    u8("flags", "Bit 0: END_OF_EVENT, the last message of one venue event. Other bits are "
                "zero."),
], byteorder="little", doc="""
Starts every message, SBE style. The length must equal the template's fixed size: a receiver
that meets a length it does not expect treats the packet as malformed.
""")
MESSAGE_HEADER_SIZE = MESSAGE_HEADER.size


def _message(name: str, template: TemplateId, body: list[Field], doc: str) -> Layout:
    # length and template_id are framing: the encoder fills them in and the packet walker
    # checks them, so records hold only flags and the body.
    framing = {"length", "template_id"}
    header = [replace(f, framing=f.name in framing) for f in MESSAGE_HEADER.fields]
    layout = Layout(name, header + body, byteorder="little", doc=doc, template_id=int(template))
    if layout.size % 8:
        raise ValueError(f"{name} is {layout.size} bytes; messages are a multiple of 8")
    return layout


def _market_prefix(byte6: Field, byte7: Field) -> list[Field]:
    # Every market message starts the same way, so one parser state decodes market and
    # sequence before it knows which template follows.
    return [
        u16("market_id", "Market index, 0..255 in the gateware."),
        byte6,
        byte7,
        u32("rpt_seq", "Per-market sequence: 1 more than the previous message for this "
                       "market in the session."),
    ]


HEARTBEAT = _message("Heartbeat", TemplateId.HEARTBEAT, [
    pad("reserved", 4),
], doc="""
Sent when a channel is otherwise idle, so a receiver can tell a quiet market from a dead
feed. It belongs to no market and carries no per-market sequence.
""")

MARKET_STATUS = _message("MarketStatus", TemplateId.MARKET_STATUS, _market_prefix(
    u8("status", "New trading status of the market.", enum=TradingStatus),
    u8("reason", "Venue reason code for the change; 0 when none is given."),
) + [
    pad("reserved", 4),
], doc="""
A market halts, resumes or closes. While a market is not TRADING, nothing may trigger on it.
""")

BOOK_LEVEL = _message("BookLevel", TemplateId.BOOK_LEVEL, _market_prefix(
    u8("side", "Book side.", enum=Side),
    u8("action", "NEW inserts at `level`, CHANGE replaces, DELETE removes.", enum=BookAction),
) + [
    u8("level", "Price level, 0 = best. Bounded by the receiver's book depth."),
    pad("reserved", 1),
    u16("order_count", "Orders resting at the level; 0 when the venue does not say."),
    i64("price", "Level price in ticks of the market."),
    i64("qty", "Level quantity in lots of the market."),
], doc="""
A level-indexed update of a bounded-depth book, as in CME MDP3's incremental refresh:
NEW / CHANGE / DELETE at level k of one side.
""")

TRADE = _message("Trade", TemplateId.TRADE, _market_prefix(
    u8("aggressor", "Side of the taking order.", enum=AggressorSide),
    pad("reserved0", 1),
) + [
    u32("trade_id", "Venue trade id, low 32 bits."),
    i64("price", "Trade price in ticks."),
    i64("qty", "Traded quantity in lots."),
], doc="""
One print: a trade between a resting and a taking order.
""")

BEST_BID_OFFER = _message("BestBidOffer", TemplateId.BEST_BID_OFFER, _market_prefix(
    pad("reserved0", 1),
    pad("reserved1", 1),
) + [
    pad("reserved2", 4),
    i64("bid_price", "Best bid in ticks."),
    i64("bid_qty", "Quantity at the best bid in lots; 0 means the bid side is empty."),
    i64("ask_price", "Best ask in ticks."),
    i64("ask_qty", "Quantity at the best ask in lots; 0 means the ask side is empty."),
], doc="""
Top of book for one market, both sides at once: the feed for receivers that keep no depth.
""")

ORDER_INTENT = _message("OrderIntent", TemplateId.ORDER_INTENT, [
    u16("market_id", "Market the order is for."),
    u8("side", "Order side.", enum=OrderSide),
    u8("rule_id", "Trigger rule that fired (index into the market's rule table)."),
    u32("tick_seq", "rpt_seq of the feed message that caused the trigger."),
    pad("reserved", 4),
    i64("price", "Limit price in ticks."),
    i64("qty", "Quantity in lots."),
    u64("client_order_id", "Client order id, unique across restarts: the host's prefix in "
                           "the high bits, the emitter's counter in the low bits."),
    u64("trigger_time", "When the trigger fired, ns on the emitter's timestamp counter."),
], doc="""
The frame the trigger stage emits, in hardware or in the software path. It is not a feed
message: it travels from the trigger to the host and the egress gate, and carries the same
4-byte message header so one framer handles both.
""")

FEED_MESSAGES: tuple[Layout, ...] = (HEARTBEAT, MARKET_STATUS, BOOK_LEVEL, TRADE,
                                     BEST_BID_OFFER)
FEED_BY_TEMPLATE: dict[int, Layout] = {m.template_id: m for m in FEED_MESSAGES}
MAX_MESSAGE_SIZE = max(m.size for m in FEED_MESSAGES)
