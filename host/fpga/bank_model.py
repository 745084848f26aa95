"""The register bank's semantics in Python: the reference for hdl/register_bank.py, and the
register file of the `none` backend.

RW values live here. RO and W1C values are read from `sources` (callables by value name);
W1P and W1C writes are handed to `on_pulse(name, value)` and `on_clear(name, mask)`, and a
committed RW write to `on_write(name, value)`. Two-word
values follow the map's atomicity rule: a `_lo` read latches the high half for the `_hi` read,
a `_lo` write is staged until the `_hi` write commits both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from host.fpga.regmap import WORD_BITS, Access, RegisterMap, Value

WORD_MASK = (1 << WORD_BITS) - 1


def _nothing(name: str, value: int) -> None:
    return None


class BankModel:
    def __init__(self, regmap: RegisterMap, *,
                 sources: Mapping[str, Callable[[], int | None]] | None = None,
                 on_pulse: Callable[[str, int], None] = _nothing,
                 on_clear: Callable[[str, int], None] = _nothing,
                 on_write: Callable[[str, int], None] = _nothing):
        self.map = regmap
        self.sources = dict(sources or {})
        self.on_pulse = on_pulse
        self.on_clear = on_clear
        self.on_write = on_write
        self.held: dict[str, int] = {}  # RW values and the last W1P data, as raw bits
        self._staged_lo: dict[str, int] = {}
        self._shadow_hi: dict[str, int | None] = {}
        for v in regmap.values:
            if v.access is Access.RW:
                raw = v.to_raw(v.reset)
                self.held[v.name] = raw
                if v.words == 2:
                    self._staged_lo[v.name] = raw & WORD_MASK
            elif v.access is Access.W1P:
                self.held[v.name] = 0
            if v.words == 2:
                self._shadow_hi[v.name] = 0

    def known(self, address: int) -> bool:
        return address in self.map.at

    def writable(self, address: int) -> bool:
        return self.map.at[address].value.access is not Access.RO

    def value_raw(self, v: Value) -> int | None:
        """The raw bits of a value as the bank sees them now (None if nobody knows)."""
        if v.access in (Access.RW, Access.W1P):
            return self.held[v.name]
        source = self.sources.get(v.name)
        raw = source() if source is not None else 0
        return None if raw is None else raw & ((1 << v.width) - 1)

    def read(self, address: int) -> int | None:
        """A read with the bank's side effects; None where the value is unknown to the model."""
        word = self.map.at[address]
        v = word.value
        if v.words == 1:
            return self.value_raw(v)
        if word.part == 1:
            return self._shadow_hi[v.name]
        raw = self.value_raw(v)
        self._shadow_hi[v.name] = None if raw is None else raw >> WORD_BITS
        return None if raw is None else raw & WORD_MASK

    def write(self, address: int, data: int) -> None:
        word = self.map.at[address]
        v = word.value
        data &= WORD_MASK
        if v.access is Access.RO:
            raise PermissionError(f"{word.name} is read-only")
        if v.access is Access.W1C:
            self.on_clear(v.name, data & ((1 << v.width) - 1))
            return
        if v.access is Access.W1P:
            self.held[v.name] = data & ((1 << v.width) - 1) if v.width else 0
            self.on_pulse(v.name, self.held[v.name])
            return
        if v.words == 1:
            self.held[v.name] = data & ((1 << v.width) - 1)
        elif word.part == 0:
            self._staged_lo[v.name] = data
            return
        else:
            high = data & ((1 << (v.width - WORD_BITS)) - 1)
            self.held[v.name] = (high << WORD_BITS) | self._staged_lo[v.name]
        self.on_write(v.name, v.from_raw(self.held[v.name]))

    def get(self, name: str) -> int | None:
        """A value (signed where declared) without read side effects."""
        v = self.map.value[name]
        raw = self.value_raw(v)
        return None if raw is None else v.from_raw(raw)
