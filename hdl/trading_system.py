"""The full design: the trading core behind its control link, every register connected.

Ethernet frames come in on `i` (FCS stripped, as a MAC delivers them); order intents that
pass the kill switch leave on `o`; the host configures and watches everything over the UART
(`rx`/`tx`) with the register map of host/fpga/registers.py:

- `ks_*`: the kill switch's limits, commands, events, state and counters;
- `order_*`: host orders, sent out through the same egress gate;
- `rule_*` and `trigger_client_order_id_base`: the trigger's rule table (write the staging
  fields, then `rule_commit`);
- `filter_dst_ip`/`filter_dst_port`: what the header filter accepts (zero: anything);
- `filter_*`, `parser_*`, `book_*`, `trigger_*` counters: the pipeline's own counters;
- `tob_*`: the top of book of any market, from a shadow of the book stage's tops.

A board top adds the MAC, the clock and the pins; docs/trading-system.md explains the design.
"""

from amaranth import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hdl.beat import beat_layout
from hdl.book_top import BookTop
from hdl.control_link import ControlLink
from hdl.core import Core
from hdl.layouts import OrderIntent
from hdl.register_wiring import drive_host_orders, drive_kill_switch, drive_top_of_book
from hdl.uart_baud import divisor_for
from host.model.counters import PIPELINE_COUNTERS
from host.model.frame_filter import COUNTERS as FILTER_COUNTERS

DEFAULT_BAUD = 115_200
RULE_FIELDS = ("kind", "target", "threshold_bp", "buy_below", "sell_above", "qty")


class TradingSystem(wiring.Component):
    """- `i`: Ethernet frames, `data_bytes` bytes a beat (the Pipeline's input).
    - `o`: order intents leaving the kill switch's egress gate, pipeline and host orders.
    - `top`: every top-of-book change, for a host-side mirror (may be left unconnected).
    - `rx`/`tx`: the control link, 8N1 at `uart_divisor` cycles per bit (default:
      115200 baud at `clock_hz`).
    - `kill_pin`: the board's kill input (asynchronous; synchronised inside).
    - `armed`: orders may pass. `tripped`: trip reasons are latched (they stay until the
      host clears them, armed or not), for LEDs.
    """

    def __init__(self, data_bytes: int, depth: int = 4, clock_hz: float = 125e6,
                 uart_divisor: int | None = None, build_id: int | None = None):
        if uart_divisor is None:
            uart_divisor = divisor_for(int(clock_hz), DEFAULT_BAUD)
        self.data_bytes, self.depth, self.clock_hz = data_bytes, depth, clock_hz
        self.uart_divisor = uart_divisor
        self._core = Core(data_bytes, depth, clock_hz)
        self._link = ControlLink(uart_divisor, build_id)
        self.build_id = self._link.build_id
        super().__init__({
            "i": In(stream.Signature(beat_layout(data_bytes))),
            "o": Out(stream.Signature(OrderIntent)),
            "top": Out(stream.Signature(BookTop, always_ready=True)),
            "rx": In(1, init=1),
            "tx": Out(1, init=1),
            "kill_pin": In(1),
            "armed": Out(1),
            "tripped": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = core = self._core
        m.submodules.link = link = self._link
        wiring.connect(m, wiring.flipped(self.i), core.i)
        wiring.connect(m, core.o, wiring.flipped(self.o))
        m.d.comb += [
            self.top.valid.eq(core.top.valid),
            self.top.payload.eq(core.top.payload),
            link.rx.eq(self.rx),
            self.tx.eq(link.tx),
            self.armed.eq(core.armed),
            self.tripped.eq(core.reasons != 0),
        ]
        drive_kill_switch(m, link, core, self.kill_pin)
        drive_host_orders(m, link, core)
        drive_top_of_book(m, link, core.top.valid, core.top.payload)
        self._drive_pipeline(m, link, core)
        return m

    @staticmethod
    def _drive_pipeline(m, link, core) -> None:
        m.d.comb += [
            core.dst_ip.eq(link.filter_dst_ip),
            core.dst_port.eq(link.filter_dst_port),
            core.rule_write.eq(link.rule_commit),
            core.rule_index.eq(link.rule_index),
            *(getattr(core.rule, name).eq(getattr(link, f"rule_{name}"))
              for name in RULE_FIELDS),
            core.client_order_id_base.eq(link.trigger_client_order_id_base),
        ]
        # Counter registers are named <stage>_<counter> after the model's declarations; the
        # core's ports carry the filter's with a `filter_` prefix and the others bare.
        for name in FILTER_COUNTERS:
            m.d.comb += getattr(link, f"filter_{name}").eq(getattr(core, f"filter_{name}"))
        for c in PIPELINE_COUNTERS:
            m.d.comb += getattr(link, f"{c.stage}_{c.name}").eq(getattr(core, c.name))
