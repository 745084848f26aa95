"""Ports and increments for the status counters declared in host.model.counters."""

from amaranth import Module
from amaranth.lib.wiring import Out

from host.model.counters import Counter

COUNTER_BITS = 32


def counter_ports(counters: tuple[Counter, ...]) -> dict:
    """Signature members: one wrapping 32-bit output per counter, named as declared."""
    return {c.name: Out(COUNTER_BITS) for c in counters}


def bump(m: Module, component, name: str, condition=1) -> None:
    """Count one on `name` in any cycle where `condition` holds."""
    port = getattr(component, name)
    with m.If(condition):
        m.d.sync += port.eq(port + 1)
