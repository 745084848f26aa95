"""The register bank, generated from the one declaration of the register map."""

import operator
from functools import reduce

from amaranth import Cat, Module, Signal, Value
from amaranth.hdl import signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from hdl.register_bus import RegisterBus
from host.fpga.registers import REGISTERS
from host.fpga.regmap import WORD_BITS, Access, RegisterMap
from host.fpga.regmap import Value as Declared

READ_CHUNK = 8  # words per first-level read multiplexer


def value_shape(v: Declared):
    """The port shape of a declared value: a layout of its fields if it has any."""
    if v.fields:
        return data.FlexibleLayout(v.width, {
            f.name: data.Field(unsigned(f.width), f.lsb) for f in v.fields})
    return signed(v.width) if v.signed else unsigned(v.width)


def _init(v: Declared):
    if not v.fields:
        return v.reset
    return {f.name: (v.to_raw(v.reset) >> f.lsb) & ((1 << f.width) - 1) for f in v.fields}


def bank_members(regmap: RegisterMap) -> dict:
    """The ports of a bank for `regmap`, by name: one per value, two for a W1P with data or
    a W1C, and the bus to the control engine."""
    members = {"bus": In(RegisterBus())}
    for v in regmap.values:
        shape = value_shape(v)
        if v.access is Access.RW:
            new = {v.name: Out(shape, init=_init(v))}
        elif v.access is Access.RO:
            new = {v.name: In(shape)}
        elif v.access is Access.W1P:
            new = {v.name: Out(1)}
            if v.width:
                new[f"{v.name}_value"] = Out(shape)
        else:
            new = {v.name: In(shape), f"{v.name}_clear": Out(1),
                   f"{v.name}_mask": Out(v.width)}
        for name in new:
            if name in members:
                raise ValueError(f"bank port {name} is declared twice")
        members.update(new)
    return members


class RegisterBank(wiring.Component):
    """The register map as ports (see `bank_members`) behind a RegisterBus.

    - RW: `<name>` drives the value (from its reset value); a write replaces it.
    - RO: `<name>` is sampled when read.
    - W1P: a write pulses `<name>` for one cycle with `<name>_value` (the data) beside it.
    - W1C: `<name>` is the status read; a write pulses `<name>_clear` with `<name>_mask`.
    - A two-word value reads atomically: its `_lo` read latches the high half for `_hi`;
      its `_lo` write is staged and its `_hi` write commits both halves at once.

    Every address comes from the declaration (host/fpga/registers.py); none is written here.
    """

    def __init__(self, regmap: RegisterMap = REGISTERS):
        self.regmap = regmap
        super().__init__(bank_members(regmap))

    def elaborate(self, platform):
        m = Module()
        bus = self.bus
        # The decode is registered: the engine reads it a cycle after setting `addr`, so the
        # sparse 16-bit address compare is not in series with its state machine.
        m.d.sync += [bus.known.eq(0), bus.writable.eq(0)]
        with m.Switch(bus.addr):
            for w in self.regmap.words:
                with m.Case(w.address):
                    m.d.sync += [bus.known.eq(1),
                                 bus.writable.eq(w.value.access is not Access.RO)]

        shadows = {}  # high halves latched by a _lo read
        staged = {}  # low halves staged by a _lo write
        for v in self.regmap.values:
            if v.words == 2:
                shadows[v.name] = Signal(v.width - WORD_BITS, name=f"{v.name}_hi_shadow")
                if v.access is Access.RW:
                    staged[v.name] = Signal(WORD_BITS, name=f"{v.name}_lo_staged",
                                            init=v.to_raw(v.reset) & ((1 << WORD_BITS) - 1))
            if v.access is Access.W1P:
                m.d.sync += getattr(self, v.name).eq(0)
            if v.access is Access.W1C:
                m.d.sync += getattr(self, f"{v.name}_clear").eq(0)

        # A read is two levels: each chunk of READ_CHUNK words registers its word (zero if
        # the address is not in the chunk), and `r_data` ORs the chunks. Both hold until the
        # next read, so `r_data` still holds the word from the cycle after `read` on; the
        # big address-to-data multiplexer is no longer one cycle's work.
        words = list(self.regmap.words)
        partials = []
        for start in range(0, len(words), READ_CHUNK):
            partial = Signal(WORD_BITS, name=f"read_chunk{start // READ_CHUNK}")
            partials.append(partial)
            with m.If(bus.read):
                m.d.sync += partial.eq(0)
                with m.Switch(bus.addr):
                    for w in words[start:start + READ_CHUNK]:
                        with m.Case(w.address):
                            m.d.sync += self._read(w, shadows, partial)
        m.d.comb += bus.r_data.eq(reduce(operator.or_, partials))
        with m.If(bus.write), m.Switch(bus.addr):
            for w in self.regmap.words:
                if w.value.access is not Access.RO:
                    with m.Case(w.address):
                        m.d.sync += self._write(w, staged)
        return m

    def _raw(self, v: Declared) -> Value:
        if v.access is Access.W1P:
            if not v.width:
                return Value.cast(0)
            return Value.cast(getattr(self, f"{v.name}_value")).as_unsigned()
        return Value.cast(getattr(self, v.name)).as_unsigned()

    def _read(self, w, shadows, into):
        v, raw = w.value, self._raw(w.value)
        if v.words == 1:
            return [into.eq(raw)]
        if w.part == 0:
            return [into.eq(raw[:WORD_BITS]), shadows[v.name].eq(raw[WORD_BITS:])]
        return [into.eq(shadows[v.name])]

    def _write(self, w, staged):
        v, data_in = w.value, self.bus.w_data
        if v.access is Access.W1C:
            return [getattr(self, f"{v.name}_clear").eq(1),
                    getattr(self, f"{v.name}_mask").eq(data_in[:v.width])]
        if v.access is Access.W1P:
            out = [getattr(self, v.name).eq(1)]
            if v.width:
                out.append(getattr(self, f"{v.name}_value").eq(data_in[:v.width]))
            return out
        port = getattr(self, v.name)
        if v.words == 1:
            return [port.eq(data_in[:v.width])]
        if w.part == 0:
            return [staged[v.name].eq(data_in)]
        return [port.eq(Cat(staged[v.name], data_in[:v.width - WORD_BITS]))]
