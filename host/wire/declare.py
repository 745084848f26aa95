"""The vocabulary every wire layout is declared in.

A `Layout` is an ordered list of `Field`s in wire order. Everything else (struct codecs,
numpy dtypes, Amaranth layouts, the tables in docs/wire-format.md) is derived from it, so an
offset is never written down twice.

Little-endian layouts (the feed and the order intent) are byte-aligned, SBE style. Big-endian
layouts (Ethernet, IPv4, UDP) may hold sub-byte fields, listed most significant first as in
an RFC header diagram.
"""

from __future__ import annotations

import struct
from collections import namedtuple
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from host.wire.errors import BadFieldValue, Truncated

_new_tuple = tuple.__new__  # skips namedtuple._make's Python-level length check
_STRUCT_CODES = {(8, False): "B", (16, False): "H", (32, False): "I", (64, False): "Q",
                 (8, True): "b", (16, True): "h", (32, True): "i", (64, True): "q"}


@dataclass(frozen=True)
class Field:
    """One field. `bits` is its width; `signed` makes it two's complement."""

    name: str
    bits: int
    signed: bool = False
    doc: str = ""
    enum: type[IntEnum] | None = None
    # Reserved fields are zero when encoded and ignored when decoded (SBE padding).
    reserved: bool = False
    # Framing fields are filled in by the encoder and checked by the packet walker, so
    # they are not part of the decoded record.
    framing: bool = False

    @property
    def type_name(self) -> str:
        if self.reserved:
            return f"pad[{self.bits // 8}]" if self.bits % 8 == 0 else f"pad:{self.bits}"
        if self.bits % 8 or self.bits > 64:
            return f"u{self.bits}"
        return f"{'i' if self.signed else 'u'}{self.bits}"


def u8(name: str, doc: str = "", enum: type[IntEnum] | None = None) -> Field:
    return Field(name, 8, doc=doc, enum=enum)


def u16(name: str, doc: str = "", enum: type[IntEnum] | None = None) -> Field:
    return Field(name, 16, doc=doc, enum=enum)


def u32(name: str, doc: str = "") -> Field:
    return Field(name, 32, doc=doc)


def u64(name: str, doc: str = "") -> Field:
    return Field(name, 64, doc=doc)


def i64(name: str, doc: str = "") -> Field:
    return Field(name, 64, signed=True, doc=doc)


def uint(name: str, bits: int, doc: str = "") -> Field:
    """An unsigned field of any width, for big-endian network headers."""
    return Field(name, bits, doc=doc)


def pad(name: str, nbytes: int) -> Field:
    return Field(name, 8 * nbytes, doc="Reserved: zero on send, ignored on receipt.",
                 reserved=True)


@dataclass(frozen=True)
class Placed:
    """A field with its position: `offset` in bytes and `bit` within the layout's bit
    numbering (bit 0 is the least significant bit of the layout read as one integer in its
    byte order)."""

    field: Field
    offset: int
    bit: int


class Layout:
    """A fixed-size record on the wire, declared once."""

    def __init__(self, name: str, fields: Sequence[Field], *, byteorder: str, doc: str,
                 template_id: int | None = None):
        if byteorder not in ("little", "big"):
            raise ValueError(f"byteorder must be 'little' or 'big', not {byteorder!r}")
        self.name = name
        self.fields = tuple(fields)
        self.byteorder = byteorder
        self.doc = doc
        self.template_id = template_id
        total_bits = sum(f.bits for f in self.fields)
        if total_bits % 8:
            raise ValueError(f"{name}: {total_bits} bits is not a whole number of bytes")
        self.size = total_bits // 8
        self.placed = self._place()
        self.by_name = {p.field.name: p for p in self.placed}
        if len(self.by_name) != len(self.placed):
            raise ValueError(f"{name}: duplicate field names")
        self.record_fields = tuple(f for f in self.fields if not (f.reserved or f.framing))
        self.record = _make_record(self)
        self._checks = tuple((i, f.name, frozenset(int(m) for m in f.enum))
                             for i, f in enumerate(self.record_fields) if f.enum)
        self._struct = self._make_struct() if self.byte_aligned else None
        self._unpack = (self._struct.unpack_from if self._struct is not None
                        else _compile_bit_unpacker(self))
        self._framing = {"length": self.size, "template_id": self.template_id or 0}
        self._encode_plan = tuple(
            (f, *_bounds(f), frozenset(int(m) for m in f.enum) if f.enum else None)
            for f in self.fields if not f.reserved)

    @property
    def byte_aligned(self) -> bool:
        return all(f.bits in (8, 16, 32, 64) or f.reserved for f in self.fields) and all(
            p.bit % 8 == 0 for p in self.placed)

    def _place(self) -> tuple[Placed, ...]:
        placed, pos = [], 0
        total = self.size * 8
        for f in self.fields:
            if self.byteorder == "little":
                if pos % 8 or f.bits % 8:
                    raise ValueError(f"{self.name}.{f.name}: little-endian fields are bytes")
                bit = pos
            else:
                bit = total - pos - f.bits
            placed.append(Placed(f, pos // 8, bit))
            pos += f.bits
        return tuple(placed)

    def _make_struct(self) -> struct.Struct:
        # Framing and reserved bytes are skipped on decode, so the unpacked tuple is the
        # record itself: no slicing on the hot path. The encoder writes framing fields too;
        # reserved bytes are packed as zeros by the "x" code.
        prefix = "<" if self.byteorder == "little" else ">"
        decode, encode = [], []
        for f in self.fields:
            code = f"{f.bits // 8}x" if f.reserved else _STRUCT_CODES[(f.bits, f.signed)]
            decode.append(f"{f.bits // 8}x" if f.framing else code)
            encode.append(code)
        self._encode_struct = struct.Struct(prefix + "".join(encode))
        return struct.Struct(prefix + "".join(decode))

    # -- codec ---------------------------------------------------------------------------

    def decode(self, buf: bytes | bytearray | memoryview, offset: int = 0):
        """Decode one record at `offset`, checking size and enumerated values."""
        if len(buf) - offset < self.size:
            raise Truncated(f"{self.name} needs {self.size} bytes at offset {offset}, "
                            f"{max(len(buf) - offset, 0)} remain", offset=offset)
        return self.decode_sized(buf, offset)

    def decode_sized(self, buf, offset: int):
        """`decode` for callers that have already checked `size` bytes are present."""
        values = self._unpack(buf, offset)
        for index, name, allowed in self._checks:
            if values[index] not in allowed:
                raise BadFieldValue(f"{self.name}.{name} = {values[index]} is not one of "
                                    f"{sorted(allowed)}", offset=offset)
        return _new_tuple(self.record, values)

    def encode(self, record=None, /, **values) -> bytes:
        """Encode a record (or keyword values). Framing fields are filled in."""
        if record is not None:
            values = record._asdict()
        out = []
        for f, lo, hi, allowed in self._encode_plan:
            v = self._framing[f.name] if f.framing else values.get(f.name)
            if v is None:
                raise TypeError(f"{self.name}: missing field {f.name!r}")
            v = int(v)
            if not lo <= v <= hi:
                raise BadFieldValue(f"{self.name}.{f.name} = {v} does not fit {f.type_name}")
            if allowed is not None and v not in allowed:
                raise BadFieldValue(f"{self.name}.{f.name} = {v} is not a {f.enum.__name__}")
            out.append(v)
        if self._struct is not None:
            return self._encode_struct.pack(*out)
        return self._pack_bits(out)

    def _pack_bits(self, values: list[int]) -> bytes:
        word = 0
        live = [p for p in self.placed if not p.field.reserved]
        for p, v in zip(live, values, strict=True):
            word |= (v & ((1 << p.field.bits) - 1)) << p.bit
        return word.to_bytes(self.size, self.byteorder)

    def __repr__(self) -> str:
        return f"<Layout {self.name} {self.size} bytes {self.byteorder}-endian>"


def field_struct(layout: Layout, names: Sequence[str]) -> struct.Struct:
    """A struct whose unpack_from returns only the named fields, in wire order, and skips
    every other byte: for hot paths that want a few fields of a record without building it.
    Framing fields may be named. `names` must follow the declaration's order, so a caller's
    tuple unpacking cannot bind a value to the wrong name."""
    if not layout.byte_aligned:
        raise TypeError(f"{layout.name} has fields that are not whole bytes")
    order = [p.field.name for p in layout.placed]
    missing = [n for n in names if n not in layout.by_name or layout.by_name[n].field.reserved]
    if missing:
        raise ValueError(f"{layout.name} has no field {missing[0]!r}")
    if [n for n in order if n in names] != list(names):
        raise ValueError(f"{layout.name}: name the fields in wire order {order}")
    codes, skip = [], 0
    for p in layout.placed:
        if p.field.name in names:
            codes.append(f"{skip}x" if skip else "")
            codes.append(_STRUCT_CODES[(p.field.bits, p.field.signed)])
            skip = 0
        else:
            skip += p.field.bits // 8
    # Trailing bytes stay unread so the struct's size is the prefix that holds the fields.
    return struct.Struct(("<" if layout.byteorder == "little" else ">") + "".join(codes))


def _bounds(f: Field) -> tuple[int, int]:
    if f.signed:
        return -(1 << (f.bits - 1)), (1 << (f.bits - 1)) - 1
    return 0, (1 << f.bits) - 1


def _compile_bit_unpacker(layout: Layout):
    """A decoder for a layout with sub-byte or odd-width fields, generated the way namedtuple
    generates its class: struct-unpack whole-byte groups of fields, then shift and mask each
    field out of its group. A generic loop over fields costs several times more per frame."""
    groups, bits, current = [], 0, []
    for p in layout.placed:
        current.append(p)
        bits += p.field.bits
        if bits % 8 == 0:
            groups.append((bits // 8, current))
            bits, current = 0, []
    order = "<" if layout.byteorder == "little" else ">"
    codes, names, values = [], [], []
    for index, (nbytes, members) in enumerate(groups):
        code = {1: "B", 2: "H", 4: "I", 8: "Q"}.get(nbytes, f"{nbytes}s")
        codes.append(code)
        names.append(f"g{index}")
        group = f"g{index}" if code != f"{nbytes}s" else f"_int(g{index}, {layout.byteorder!r})"
        used = 0
        for p in members:
            used += p.field.bits
            shift, mask = nbytes * 8 - used, (1 << p.field.bits) - 1
            if layout.byteorder == "little":
                shift = used - p.field.bits
            if p.field.reserved or p.field.framing:
                continue
            if shift == 0 and p.field.bits == nbytes * 8:
                values.append(group)
            else:
                values.append(f"(({group} >> {shift}) & {mask})")
    source = (f"def unpack(buf, offset):\n"
              f"    {', '.join(names)}, = _unpack(buf, offset)\n"
              f"    return ({', '.join(values)},)\n")
    namespace = {"_unpack": struct.Struct(order + "".join(codes)).unpack_from,
                 "_int": int.from_bytes}
    exec(source, namespace)  # noqa: S102 - source is built from the declaration above
    return namespace["unpack"]


def _make_record(layout: Layout) -> type:
    names = [f.name for f in layout.record_fields]
    base = namedtuple(layout.name, names)
    doc = layout.doc.strip().splitlines()[0] if layout.doc.strip() else layout.name
    return type(layout.name, (base,), {"__slots__": (), "__doc__": doc, "layout": layout,
                                       "__module__": "host.wire"})
