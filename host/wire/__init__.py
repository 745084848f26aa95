"""The one declaration of every tickwire wire layout, and the codecs derived from it.

- feed.py: the colo market-data feed (packet header and messages) and the order intent;
- net.py: Ethernet, 802.1Q, IPv4 and UDP around the feed;
- packet.py: packet encode/decode; batch.py: numpy dtypes and vectorised decoding;
- errors.py: the typed errors every decoder raises.
"""

from host.wire.batch import FEED_DTYPES, PACKET_HEADER_DTYPE, Batch, decode_batch, numpy_dtype
from host.wire.declare import Field, Layout
from host.wire.enums import (
    AggressorSide,
    BookAction,
    MessageFlags,
    OrderSide,
    Side,
    TemplateId,
    TradingStatus,
)
from host.wire.errors import (
    ALL_ERRORS,
    BadChecksum,
    BadFieldValue,
    CountMismatch,
    Fragmented,
    LengthMismatch,
    NotIpv4,
    NotUdp,
    Runt,
    SchemaMismatch,
    Truncated,
    UnknownTemplate,
    WireError,
)
from host.wire.feed import (
    BEST_BID_OFFER,
    BOOK_LEVEL,
    FEED_BY_TEMPLATE,
    FEED_MESSAGES,
    HEARTBEAT,
    MARKET_STATUS,
    MAX_MESSAGE_SIZE,
    MESSAGE_HEADER,
    MESSAGE_HEADER_SIZE,
    ORDER_INTENT,
    PACKET_HEADER,
    SCHEMA_VERSION,
    TRADE,
)
from host.wire.net import (
    ETHERNET,
    IPV4,
    MIN_FRAME,
    UDP,
    VLAN_TAG,
    Datagram,
    build_frame,
    parse_frame,
)
from host.wire.packet import (
    PACKET_HEADER_SIZE,
    Packet,
    decode_packet,
    decode_packet_header,
    encode_packet,
)

Heartbeat = HEARTBEAT.record
MarketStatus = MARKET_STATUS.record
BookLevel = BOOK_LEVEL.record
Trade = TRADE.record
BestBidOffer = BEST_BID_OFFER.record
OrderIntent = ORDER_INTENT.record
PacketHeader = PACKET_HEADER.record


def decode_order_intent(buf: bytes | bytearray | memoryview, offset: int = 0) -> OrderIntent:
    """Decode an order-intent frame, checking its length and template fields."""
    if len(buf) - offset >= MESSAGE_HEADER_SIZE:
        length = int.from_bytes(bytes(buf[offset:offset + 2]), "little")
        template = buf[offset + 2]
        if template != ORDER_INTENT.template_id:
            raise UnknownTemplate(f"template id {template} is not an order intent",
                                  offset=offset)
        if length != ORDER_INTENT.size:
            raise LengthMismatch(f"order intent says length {length}, the layout is "
                                 f"{ORDER_INTENT.size} bytes", offset=offset)
    return ORDER_INTENT.decode(buf, offset)


def encode_order_intent(intent: OrderIntent) -> bytes:
    return ORDER_INTENT.encode(intent)


ALL_LAYOUTS: tuple[Layout, ...] = (ETHERNET, VLAN_TAG, IPV4, UDP, PACKET_HEADER, MESSAGE_HEADER,
                                   *FEED_MESSAGES, ORDER_INTENT)


