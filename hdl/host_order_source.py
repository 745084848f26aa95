"""Turns the host-order registers into an order-intent stream for the egress gate."""

from amaranth import Module
from amaranth.hdl import signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hdl.layouts import OrderIntent
from host.wire import ORDER_INTENT, TemplateId

HOST_RULE_ID = 0xFF  # rule_id of an order the host sent, not a trigger rule


class HostOrderSource(wiring.Component):
    """On `send`, offers one OrderIntent built from the field inputs on `o`.

    The intent carries `rule_id` 0xFF (no trigger rule), `tick_seq` 0 and the `timestamp`
    input as its `trigger_time`. A `send` while the previous intent is still on offer is
    refused and counted in `overruns`; `sent` counts the intents offered.
    """

    market: In(16)
    side: In(8)
    price: In(signed(64))
    qty: In(signed(64))
    client_id: In(64)
    timestamp: In(64)
    send: In(1)
    o: Out(stream.Signature(OrderIntent))
    sent: Out(32)
    overruns: Out(32)

    def elaborate(self, platform):
        m = Module()
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        with m.If(self.send):
            with m.If(self.o.valid & ~self.o.ready):
                m.d.sync += self.overruns.eq(self.overruns + 1)
            with m.Else():
                p = self.o.payload
                m.d.sync += [
                    self.o.valid.eq(1),
                    self.sent.eq(self.sent + 1),
                    p.length.eq(ORDER_INTENT.size),
                    p.template_id.eq(TemplateId.ORDER_INTENT),
                    p.flags.eq(0),
                    p.market_id.eq(self.market),
                    p.side.eq(self.side),
                    p.rule_id.eq(HOST_RULE_ID),
                    p.tick_seq.eq(0),
                    p.reserved.eq(0),
                    p.price.eq(self.price),
                    p.qty.eq(self.qty),
                    p.client_order_id.eq(self.client_id),
                    p.trigger_time.eq(self.timestamp),
                ]
        return m


