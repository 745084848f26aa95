"""The binary colo feed: venue events packed into host.wire packets, sent over UDP.

`FeedEncoder` is sans-I/O. One venue event (one engine command, or one replayed record) is a
run of messages closed by `end_event()`, which sets END_OF_EVENT on its last message. Every
market message takes the next `rpt_seq` of its market (1, 2, 3, ... per market and session).
Messages are packed into packets of at most `max_payload` bytes; an event may span packets. A
packet's `sequence` is the sequence number of its first message; the next packet's is that plus
`msg_count` (MoldUDP64). Sequences start at 1 and `session` is fixed for the encoder's life.

`FeedSender` owns the UDP socket: unicast to each target, or multicast on loopback, with the
feed faults (loss, reordering, delay) applied per packet.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable

from host import wire
from host.wire import MessageFlags

MAX_PAYLOAD = 1400
_END = int(MessageFlags.END_OF_EVENT)
_CODES = {(8, False): "B", (16, False): "H", (32, False): "I", (64, False): "Q",
          (8, True): "b", (16, True): "h", (32, True): "i", (64, True): "q"}


class _Packer:
    """A struct packer derived from a feed message's Layout, for the publishing hot path:
    values go in positionally in the layout's field order, framing fields are fixed, and
    reserved bytes are zero. tests/test_venue_feed_semantics.py checks it byte for byte
    against Layout.encode."""

    def __init__(self, layout: wire.Layout):
        if layout.byteorder != "little" or not layout.byte_aligned:
            raise ValueError(f"{layout.name} is not a byte-aligned little-endian message")
        codes, self.names = [], []
        for f in layout.fields:
            if f.reserved:
                codes.append(f"{f.bits // 8}x")
            else:
                codes.append(_CODES[(f.bits, f.signed)])
                self.names.append(f.name)
        self.struct = struct.Struct("<" + "".join(codes))
        self.layout = layout
        self.template = [layout.size if n == "length" else
                         layout.template_id if n == "template_id" else 0 for n in self.names]
        self.slot = {n: i for i, n in enumerate(self.names)}
        # What end_event fills in (absent from the Heartbeat, which end_event never sees).
        self.flags_at = self.slot.get("flags")
        self.rpt_at = self.slot.get("rpt_seq")
        self.market_at = self.slot.get("market_id")

    def values(self, **fields) -> list:
        values = list(self.template)
        for name, value in fields.items():
            values[self.slot[name]] = value
        return values

    def pack(self, values: list) -> bytes:
        return self.struct.pack(*values)


_BOOK, _TRADE, _BBO, _STATUS, _HEARTBEAT = (
    _Packer(wire.BOOK_LEVEL), _Packer(wire.TRADE), _Packer(wire.BEST_BID_OFFER),
    _Packer(wire.MARKET_STATUS), _Packer(wire.HEARTBEAT))
_BOOK_ORDER = ["length", "template_id", "flags", "market_id", "side", "action", "rpt_seq",
               "level", "order_count", "price", "qty"]
if _BOOK.names != _BOOK_ORDER:  # book_level() builds its values in this order, for speed
    raise ImportError(f"BookLevel fields are now {_BOOK.names}: update book_level()")
_BOOK_NEW = _BOOK.template
# trade() and bbo() build their values positionally too, in these orders.
_TRADE_ORDER = ["length", "template_id", "flags", "market_id", "aggressor", "rpt_seq",
                "trade_id", "price", "qty"]
_BBO_ORDER = ["length", "template_id", "flags", "market_id", "rpt_seq", "bid_price",
              "bid_qty", "ask_price", "ask_qty"]
for _packer, _order in ((_TRADE, _TRADE_ORDER), (_BBO, _BBO_ORDER)):
    if _packer.names != _order:
        raise ImportError(f"{_packer.layout.name} fields are now {_packer.names}: "
                          "update trade() and bbo()")
del _packer, _order
_TRADE_HEAD, _BBO_HEAD = _TRADE.template[:2], _BBO.template[:2]
_HEADER = _Packer(wire.PACKET_HEADER)
if _HEADER.names != ["session", "msg_count", "schema_version", "sequence", "send_time"]:
    raise ImportError(f"PacketHeader fields are now {_HEADER.names}: update _close()")


class FeedEncoder:
    def __init__(self, session: int, *, max_payload: int = MAX_PAYLOAD,
                 clock: Callable[[], int] = time.time_ns):
        if max_payload < wire.PACKET_HEADER_SIZE + wire.MAX_MESSAGE_SIZE:
            raise ValueError(f"max_payload {max_payload} cannot hold one message")
        self.session = session
        self.max_payload = max_payload
        self.clock = clock
        self.next_sequence = 1
        self.rpt_seq: dict[int, int] = {}
        self.messages_out = 0
        self._event: list[tuple[_Packer, list]] = []
        self._parts: list[bytes] = []
        self._size = wire.PACKET_HEADER_SIZE
        self._first = 1
        self._done: list[bytes] = []

    # -- one event's messages ----------------------------------------------------------------

    def book_level(self, market_id: int, side: int, action: int, level: int, price: int,
                   qty: int, order_count: int) -> None:
        # In _BOOK_ORDER, the declaration's order (checked when this module loads).
        self._event.append((_BOOK, [_BOOK_NEW[0], _BOOK_NEW[1], 0, market_id, side, action, 0,
                                    level, min(order_count, 0xFFFF), price, qty]))

    def trade(self, market_id: int, aggressor: int, trade_id: int, price: int,
              qty: int) -> None:
        length, template = _TRADE_HEAD
        self._event.append((_TRADE, [length, template, 0, market_id, aggressor, 0,
                                     trade_id & 0xFFFFFFFF, price, qty]))

    def bbo(self, market_id: int, bid_price: int, bid_qty: int, ask_price: int,
            ask_qty: int) -> None:
        length, template = _BBO_HEAD
        self._event.append((_BBO, [length, template, 0, market_id, 0, bid_price, bid_qty,
                                   ask_price, ask_qty]))

    def status(self, market_id: int, status: int, reason: int = 0) -> None:
        self._event.append((_STATUS, _STATUS.values(market_id=market_id, status=status,
                                                    reason=reason & 0xFF)))

    def end_event(self) -> None:
        """Number and pack the event's messages; the last one carries END_OF_EVENT."""
        event, self._event = self._event, []
        last = len(event) - 1
        rpt = self.rpt_seq
        for index, (packer, values) in enumerate(event):
            market_id = values[packer.market_at]
            seq = rpt.get(market_id, 0) + 1
            rpt[market_id] = seq
            values[packer.rpt_at] = seq & 0xFFFFFFFF
            values[packer.flags_at] = _END if index == last else 0
            self._append(packer.pack(values))

    def heartbeat(self) -> None:
        """A Heartbeat message: it takes a sequence number, belongs to no market and no event."""
        self._append(_HEARTBEAT.pack(_HEARTBEAT.values(flags=0)))

    # -- packets -----------------------------------------------------------------------------

    def _append(self, message: bytes) -> None:
        if self._size + len(message) > self.max_payload:
            self._close()
        if not self._parts:
            self._first = self.next_sequence
        self._parts.append(message)
        self._size += len(message)
        self.next_sequence += 1
        self.messages_out += 1

    def _close(self) -> None:
        if not self._parts:
            return
        header = _HEADER.pack([self.session, len(self._parts), wire.SCHEMA_VERSION,
                               self._first, self.clock()])
        self._done.append(header + b"".join(self._parts))
        self._parts = []
        self._size = wire.PACKET_HEADER_SIZE

    @property
    def pending(self) -> bool:
        return bool(self._parts or self._done)

    def flush(self) -> list[bytes]:
        """Close the open packet and hand over every finished one, oldest first."""
        self._close()
        done, self._done = self._done, []
        return done

    def current_rpt_seq(self, market_id: int) -> int:
        return self.rpt_seq.get(market_id, 0)


class FeedSender:
    """Sends feed packets over UDP to unicast targets and/or a multicast group on loopback."""

    def __init__(self, targets: list[tuple[str, int]], *, multicast_ttl: int = 1,
                 interface: str = "127.0.0.1"):
        self.targets = list(targets)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                             socket.inet_aton(interface))
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, multicast_ttl)
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        self.sent = 0
        self.send_errors = 0

    def add_target(self, addr: tuple[str, int]) -> None:
        if addr not in self.targets:
            self.targets.append(addr)

    def send(self, packet: bytes) -> None:
        for target in self.targets:
            try:
                self.sock.sendto(packet, target)
                self.sent += 1
            except OSError:
                # A full socket buffer drops the datagram, as a switch would.
                self.send_errors += 1

    def close(self) -> None:
        self.sock.close()


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port nobody holds right now, for a feed target when the caller gave port 0."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
