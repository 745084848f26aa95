"""Feed packets: a PacketHeader followed by msg_count messages, walked by length field.

`decode_packet` validates the whole packet before it returns anything, so a consumer that
applies packets atomically never half-applies a malformed one. Framing errors (truncation,
template, length, count) outrank value errors, so every decoder names the same first fault.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from host.wire.errors import (
    BadFieldValue,
    CountMismatch,
    LengthMismatch,
    SchemaMismatch,
    Truncated,
    UnknownTemplate,
)
from host.wire.feed import FEED_BY_TEMPLATE, MESSAGE_HEADER_SIZE, PACKET_HEADER, SCHEMA_VERSION

PACKET_HEADER_SIZE = PACKET_HEADER.size
PacketHeader = PACKET_HEADER.record

_MESSAGE_HEADER = struct.Struct("<HB")


class Packet(NamedTuple):
    header: PacketHeader
    messages: tuple


def decode_packet_header(buf: bytes | bytearray | memoryview) -> PacketHeader:
    """Decode the header at the start of a UDP payload. Looks at the first 24 bytes only."""
    return PACKET_HEADER.decode(buf, 0)


def decode_packet(buf: bytes | bytearray | memoryview) -> Packet:
    """Decode a whole UDP payload, or raise a WireError naming what is wrong and where."""
    header = decode_packet_header(buf)
    if header.schema_version != SCHEMA_VERSION:
        raise SchemaMismatch(f"schema version {header.schema_version}, this decoder speaks "
                             f"{SCHEMA_VERSION}", offset=6)
    end = len(buf)
    pos = PACKET_HEADER_SIZE
    messages = []
    bad_value = None
    for index in range(header.msg_count):
        if end - pos < MESSAGE_HEADER_SIZE:
            if pos == end:
                raise CountMismatch(f"header says {header.msg_count} messages, payload ends "
                                    f"after {index}", offset=pos)
            raise Truncated(f"message {index} header needs {MESSAGE_HEADER_SIZE} bytes, "
                            f"{end - pos} remain", offset=pos)
        length, template = _MESSAGE_HEADER.unpack_from(buf, pos)
        layout = FEED_BY_TEMPLATE.get(template)
        if layout is None:
            raise UnknownTemplate(f"message {index} has unknown template id {template}",
                                  offset=pos)
        if length != layout.size:
            raise LengthMismatch(f"message {index} ({layout.name}) says length {length}, the "
                                 f"template is {layout.size} bytes", offset=pos)
        if end - pos < length:
            raise Truncated(f"message {index} ({layout.name}) needs {length} bytes, "
                            f"{end - pos} remain", offset=pos)
        try:
            messages.append(layout.decode_sized(buf, pos))
        except BadFieldValue as exc:
            # Framing errors outrank value errors, so keep walking to find any first.
            bad_value = bad_value or exc
        pos += length
    if pos != end:
        raise CountMismatch(f"{end - pos} bytes follow the {header.msg_count} messages the "
                            f"header counts", offset=pos)
    if bad_value is not None:
        raise bad_value
    return Packet(header, tuple(messages))


def encode_packet(messages, *, session: int, sequence: int, send_time: int,
                  schema_version: int = SCHEMA_VERSION) -> bytes:
    """Encode a packet from feed message records (each knows its own layout)."""
    parts = [PACKET_HEADER.encode(session=session, msg_count=len(messages),
                                  schema_version=schema_version, sequence=sequence,
                                  send_time=send_time)]
    for message in messages:
        layout = getattr(message, "layout", None)
        if layout is None or layout.template_id not in FEED_BY_TEMPLATE:
            raise TypeError(f"{type(message).__name__} is not a feed message record")
        parts.append(layout.encode(message))
    return b"".join(parts)
