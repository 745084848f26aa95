"""Typed errors for malformed wire data.

Every decoder in host.wire raises one of these, never an IndexError or a struct.error. Each
carries the byte offset where the problem was found, and a `reason` code that counters and
drop statistics can key on.
"""

from __future__ import annotations


class WireError(ValueError):
    """Base class: the bytes are not a valid tickwire frame, packet or message."""

    reason = "malformed"

    def __init__(self, message: str, *, offset: int | None = None):
        super().__init__(message if offset is None else f"{message} (at byte {offset})")
        self.offset = offset


class Truncated(WireError):
    """The data ends before the layout it claims to hold."""

    reason = "truncated"


class UnknownTemplate(WireError):
    """A message header names a template id this schema does not define."""

    reason = "unknown_template"


class LengthMismatch(WireError):
    """A length field disagrees with the template's size or with the bytes present."""

    reason = "bad_length"


class CountMismatch(WireError):
    """A packet's message count disagrees with the messages its payload holds."""

    reason = "bad_count"


class SchemaMismatch(WireError):
    """A packet header carries a schema version this decoder does not speak."""

    reason = "bad_schema"


class BadFieldValue(WireError):
    """A field holds a value outside its type or its enumeration."""

    reason = "bad_value"


class Runt(WireError):
    """An Ethernet frame shorter than the 60-byte minimum (FCS excluded) or its headers."""

    reason = "runt"


class NotIpv4(WireError):
    """The frame's EtherType (after any VLAN tag) is not IPv4."""

    reason = "not_ipv4"


class NotUdp(WireError):
    """The IPv4 protocol is not UDP."""

    reason = "not_udp"


class BadChecksum(WireError):
    """The IPv4 header checksum does not verify."""

    reason = "bad_checksum"


class Fragmented(WireError):
    """An IPv4 fragment: the feed never fragments, so a fragment is not decoded."""

    reason = "fragmented"


ALL_ERRORS: tuple[type[WireError], ...] = (
    Truncated, UnknownTemplate, LengthMismatch, CountMismatch, SchemaMismatch, BadFieldValue,
    Runt, NotIpv4, NotUdp, BadChecksum, Fragmented,
)
