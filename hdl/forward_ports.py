"""Pass a submodule's ports through to the component that wraps it, under the same names."""

from amaranth import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In


def forward_ports(m: Module, outer: wiring.Component, inner: wiring.Component, names) -> None:
    """Connect each port in `names` of `inner` to the same-named port of `outer`: inputs flow
    in, outputs flow out, streams are connected whole."""
    members = inner.signature.members
    for name in names:
        member, ours, theirs = members[name], getattr(outer, name), getattr(inner, name)
        if member.is_port:
            m.d.comb += theirs.eq(ours) if member.flow == In else ours.eq(theirs)
        elif member.flow == In:
            wiring.connect(m, wiring.flipped(ours), theirs)
        else:
            wiring.connect(m, theirs, wiring.flipped(ours))
