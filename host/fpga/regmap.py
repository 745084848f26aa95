"""The vocabulary the control-link register map is declared in.

A `Value` is one quantity the host reads or writes (a limit, a counter, a strobe). Values of
up to 32 bits take one 32-bit register; 33- to 64-bit values take two adjacent registers,
`<name>_lo` at the lower address and `<name>_hi` above it. A `Group` places its values at
consecutive addresses from its base, so adding a value to the end of a group moves nothing
else. `RegisterMap` assigns the addresses and checks the declaration; the gateware bank
(hdl/register_bank.py), the host driver (host/fpga/) and docs/register-map.md all read it.

Two-word values are atomic by rule:
- a read of `_lo` returns the low half and latches the high half in a shadow that the next
  read of `_hi` returns (a batch read of `[_lo, _hi]` is therefore one snapshot);
- a write of `_lo` is staged; the write of `_hi` commits both halves in the same cycle.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum

WORD_BITS = 32
ADDRESS_BITS = 16


class Access(Enum):
    """How the host may use a register, and what the gateware bank does on each access."""

    RO = "RO"  # read-only: the design drives the value; writes fail with READ_ONLY
    RW = "RW"  # read-write: the bank holds the value and drives it into the design
    W1P = "W1P"  # write-to-pulse: a write raises a one-cycle strobe with the written value
    W1C = "W1C"  # write-one-to-clear: reads a status; a write pulses a clear with the mask


ACCESS_DOC = {
    Access.RO: "Read-only. The design drives the value; a write fails with `READ_ONLY`.",
    Access.RW: "Read-write. The bank holds the value (from its reset value) and drives it "
               "into the design.",
    Access.W1P: "Write-to-pulse. A write raises the value's strobe for one cycle with the "
                "written value beside it; a read returns the last value written.",
    Access.W1C: "Write-one-to-clear. A read returns a status the design holds; a write "
                "strobes a clear with the written word as the mask of bits to clear.",
}


@dataclass(frozen=True)
class BitField:
    """A named bit range of a value: bits `lsb` to `lsb + width - 1`."""

    name: str
    lsb: int
    width: int = 1
    doc: str = ""

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.lsb


@dataclass(frozen=True)
class Value:
    """One declared quantity. `width` is 0 for a bare strobe (W1P with no data)."""

    name: str
    access: Access
    width: int
    doc: str
    reset: int = 0
    signed: bool = False
    unit: str = ""
    fields: tuple[BitField, ...] = ()

    @property
    def words(self) -> int:
        return 2 if self.width > WORD_BITS else 1

    @property
    def word_names(self) -> tuple[str, ...]:
        return (f"{self.name}_lo", f"{self.name}_hi") if self.words == 2 else (self.name,)

    def to_raw(self, value: int) -> int:
        """The unsigned bit pattern of `value`, checked against the width and signedness."""
        lo, hi = self.bounds
        if not lo <= value <= hi:
            raise ValueError(f"{self.name} = {value} does not fit {self.type_name}")
        return value & ((1 << self.width) - 1) if self.width else 0

    def from_raw(self, raw: int) -> int:
        raw &= (1 << self.width) - 1 if self.width else 0
        if self.signed and raw >> (self.width - 1):
            return raw - (1 << self.width)
        return raw

    @property
    def bounds(self) -> tuple[int, int]:
        if self.signed:
            return -(1 << (self.width - 1)), (1 << (self.width - 1)) - 1
        return 0, (1 << self.width) - 1

    @property
    def type_name(self) -> str:
        if self.width == 0:
            return "strobe"
        return f"{'i' if self.signed else 'u'}{self.width}"

    def check(self) -> None:
        if not self.name.isidentifier() or self.name != self.name.lower():
            raise ValueError(f"register name {self.name!r} is not a lower-case identifier")
        if not 0 <= self.width <= 2 * WORD_BITS:
            raise ValueError(f"{self.name}: width {self.width} is not 0..64")
        if self.width == 0 and self.access is not Access.W1P:
            raise ValueError(f"{self.name}: only a W1P strobe may have no data")
        if self.words == 2 and self.access in (Access.W1P, Access.W1C):
            raise ValueError(f"{self.name}: {self.access.value} values fit in one word")
        if self.signed and self.width < 2:
            raise ValueError(f"{self.name}: a signed value needs 2 bits or more")
        if self.reset and self.access is not Access.RW:
            raise ValueError(f"{self.name}: only RW values have a reset value")
        if self.width:
            self.to_raw(self.reset)
        taken = 0
        for f in self.fields:
            if f.lsb < 0 or f.width < 1 or f.lsb + f.width > self.width:
                raise ValueError(f"{self.name}.{f.name}: bits outside the {self.width}-bit value")
            if taken & f.mask:
                raise ValueError(f"{self.name}.{f.name}: overlaps another field")
            taken |= f.mask


@dataclass(frozen=True)
class Group:
    """Values placed at consecutive addresses from `base`."""

    name: str
    base: int
    doc: str
    values: tuple[Value, ...]


@dataclass(frozen=True)
class Word:
    """One 32-bit register: a whole value, or the low (`part` 0) or high (1) half of one."""

    name: str
    address: int
    value: Value
    part: int
    group: str

    @property
    def bits(self) -> range:
        """The bits of the value this register holds."""
        lo = self.part * WORD_BITS
        return range(lo, min(self.value.width, lo + WORD_BITS))

    @property
    def readable_width(self) -> int:
        return len(self.bits)


@dataclass
class RegisterMap:
    """The placed register map. Lookups by register (word) name or by value name."""

    groups: tuple[Group, ...]
    words: tuple[Word, ...] = field(init=False)
    values: tuple[Value, ...] = field(init=False)

    def __post_init__(self) -> None:
        words: list[Word] = []
        values: list[Value] = []
        for group in self.groups:
            address = group.base
            for value in group.values:
                value.check()
                values.append(value)
                for part, name in enumerate(value.word_names):
                    words.append(Word(name, address, value, part, group.name))
                    address += 1
        words.sort(key=lambda w: w.address)
        for before, after in zip(words, words[1:], strict=False):
            if before.address == after.address:
                raise ValueError(f"{before.name} and {after.name} share address "
                                 f"{before.address:#06x}: move a group base")
        if words and words[-1].address >= 1 << ADDRESS_BITS:
            raise ValueError(f"{words[-1].name} lies beyond the {ADDRESS_BITS}-bit space")
        self.words = tuple(words)
        self.values = tuple(values)
        self.word = {w.name: w for w in words}
        self.value = {v.name: v for v in values}
        self.at = {w.address: w for w in words}
        if len(self.value) != len(values) or len(self.word) != len(words):
            raise ValueError("two values or two registers share a name")

    def words_of(self, name: str) -> tuple[Word, ...]:
        """The registers holding value `name`, low half first."""
        return tuple(self.word[n] for n in self.value[name].word_names)

    def addresses(self, names: Iterable[str]) -> list[int]:
        """Addresses to batch-read so that `names` (values) can be rebuilt, in order."""
        return [w.address for n in names for w in self.words_of(n)]

    def assemble(self, names: Sequence[str], raw_words: Sequence[int]) -> dict[str, int]:
        """Values from the words a batch read of `addresses(names)` returned."""
        out, i = {}, 0
        for n in names:
            v = self.value[n]
            raw = 0
            for part in range(v.words):
                raw |= (raw_words[i] & 0xFFFF_FFFF) << (WORD_BITS * part)
                i += 1
            out[n] = v.from_raw(raw)
        if i != len(raw_words):
            raise ValueError(f"{len(raw_words)} words for {i} registers")
        return out

    @property
    def digest(self) -> int:
        """A 32-bit hash of everything the gateware and host must agree on."""
        h = hashlib.sha256()
        for w in self.words:
            v = w.value
            h.update(f"{w.address}:{w.name}:{v.access.value}:{v.width}:{v.reset}:"
                     f"{int(v.signed)};".encode())
        return int.from_bytes(h.digest()[:4], "little")


def ro(name: str, width: int, doc: str, *, signed: bool = False, unit: str = "",
       fields: Sequence[BitField] = ()) -> Value:
    return Value(name, Access.RO, width, doc, signed=signed, unit=unit, fields=tuple(fields))


def rw(name: str, width: int, doc: str, *, reset: int = 0, signed: bool = False,
       unit: str = "", fields: Sequence[BitField] = ()) -> Value:
    return Value(name, Access.RW, width, doc, reset=reset, signed=signed, unit=unit,
                 fields=tuple(fields))


def w1p(name: str, width: int, doc: str, *, fields: Sequence[BitField] = ()) -> Value:
    return Value(name, Access.W1P, width, doc, fields=tuple(fields))


def w1c(name: str, width: int, doc: str, *, fields: Sequence[BitField] = ()) -> Value:
    return Value(name, Access.W1C, width, doc, fields=tuple(fields))


def counters(prefix: str, names_docs: Sequence[tuple[str, str]], unit: str = "") -> list[Value]:
    """32-bit RO counters named `<prefix>_<name>`; they wrap at 2**32."""
    return [ro(f"{prefix}_{n}", 32, d, unit=unit) for n, d in names_docs]
