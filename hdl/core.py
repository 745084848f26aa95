"""The trading core: the receive pipeline with the kill switch's egress gate on its order path.

Ethernet frames in; gated order intents out. The pipeline's top-of-book changes feed the
gate's price collar. Every pipeline port except `o`, and every kill-switch port except the
internal `pipeline` and `book` streams, appear here under their own names.
"""

from amaranth import Module
from amaranth.lib import wiring

from hdl.forward_ports import forward_ports
from hdl.kill_switch import KillSwitch
from hdl.pipeline import Pipeline

_INTERNAL = {"pipeline", "pipeline_next", "book"}
_PIPELINE_INTERNAL = {"o", "o_next_market"}


class Core(wiring.Component):
    def __init__(self, data_bytes: int, depth: int = 4, clock_hz: float = 156.25e6):
        self._pipeline = Pipeline(data_bytes, depth, clock_hz)
        self._kill_switch = KillSwitch()
        pipe = self._pipeline.signature.members
        gate = self._kill_switch.signature.members
        members = {name: m for name, m in pipe.items() if name not in _PIPELINE_INTERNAL}
        clash = set(members) & (set(gate) - _INTERNAL)
        if clash:
            raise AssertionError(f"pipeline and kill switch both have ports {sorted(clash)}")
        members.update({name: m for name, m in gate.items() if name not in _INTERNAL})
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        m.submodules.pipeline = pipe = self._pipeline
        m.submodules.kill_switch = gate = self._kill_switch
        wiring.connect(m, pipe.o, gate.pipeline)
        m.d.comb += gate.pipeline_next.eq(pipe.o_next_market)
        m.d.comb += [gate.book.valid.eq(pipe.top.valid), gate.book.payload.eq(pipe.top.payload)]
        forward_ports(m, self, pipe, [n for n in pipe.signature.members
                                      if n not in _PIPELINE_INTERNAL])
        forward_ports(m, self, gate, [n for n in gate.signature.members if n not in _INTERNAL])
        return m
