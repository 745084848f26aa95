"""Amaranth views of the wire layouts, generated from host.wire's one declaration.

Bit numbering: a layout's bits are the layout read as one integer in its own byte order.
- For a little-endian message, that is `int.from_bytes(msg, "little")`: the value a shift
  register holds after shifting bytes in from the top (`sr = (sr >> 8) | (byte << (N - 8))`).
- For a big-endian network header, it is `int.from_bytes(hdr, "big")`: the value after shifting
  bytes in from the bottom (`sr = (sr << 8) | byte`).

Either way, every field is a contiguous bit range that holds its value directly.
"""

from __future__ import annotations

import types
from enum import IntEnum

from amaranth.hdl import signed, unsigned
from amaranth.lib import data, enum

from host import wire
from host.wire.declare import Layout

_AMARANTH_ENUMS: dict[type[IntEnum], type[enum.Enum]] = {}


def amaranth_enum(python_enum: type[IntEnum], bits: int) -> type[enum.Enum]:
    """The Amaranth enum (with an explicit shape) mirroring a host.wire IntEnum."""
    if python_enum not in _AMARANTH_ENUMS:
        def body(namespace):
            for member in python_enum:
                namespace[member.name] = int(member)
        _AMARANTH_ENUMS[python_enum] = types.new_class(
            python_enum.__name__, (enum.Enum,), {"shape": unsigned(bits)}, body)
    return _AMARANTH_ENUMS[python_enum]


def struct_for(layout: Layout) -> type[data.Struct]:
    """A `data.Struct` subclass with the layout's fields at the layout's bit positions."""
    annotations = {}
    for p in sorted(layout.placed, key=lambda p: p.bit):
        f = p.field
        if f.enum is not None:
            shape = amaranth_enum(f.enum, f.bits)
        else:
            shape = signed(f.bits) if f.signed else unsigned(f.bits)
        annotations[f.name] = shape
    cls = type(layout.name, (data.Struct,), {
        "__annotations__": annotations,
        "__doc__": layout.doc.strip(),
        "__module__": __name__,
    })
    # The Struct packs fields in order with no gaps, so the positions must come out equal.
    got = {name: field.offset for name, field in data.Layout.cast(cls)}
    want = {p.field.name: p.bit for p in layout.placed}
    if got != want:
        raise AssertionError(f"{layout.name}: Amaranth offsets {got} differ from {want}")
    return cls


EthernetHeader = struct_for(wire.ETHERNET)
VlanTag = struct_for(wire.VLAN_TAG)
Ipv4Header = struct_for(wire.IPV4)
UdpHeader = struct_for(wire.UDP)
PacketHeader = struct_for(wire.PACKET_HEADER)
MessageHeader = struct_for(wire.MESSAGE_HEADER)
Heartbeat = struct_for(wire.HEARTBEAT)
MarketStatus = struct_for(wire.MARKET_STATUS)
BookLevel = struct_for(wire.BOOK_LEVEL)
Trade = struct_for(wire.TRADE)
BestBidOffer = struct_for(wire.BEST_BID_OFFER)
OrderIntent = struct_for(wire.ORDER_INTENT)

Side = amaranth_enum(wire.Side, 8)
BookAction = amaranth_enum(wire.BookAction, 8)
AggressorSide = amaranth_enum(wire.AggressorSide, 8)
TradingStatus = amaranth_enum(wire.TradingStatus, 8)
OrderSide = amaranth_enum(wire.OrderSide, 8)
TemplateId = amaranth_enum(wire.TemplateId, 8)

STRUCTS: dict[str, type[data.Struct]] = {
    layout.name: globals()[layout.name] for layout in wire.ALL_LAYOUTS
}
