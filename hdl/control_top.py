"""The control-link top: the UART, the request engine, the register bank and what the bank
drives, as one design for the link bench and the host-in-the-loop integration test.

It has no feed pipeline: the book stream and pipeline orders come in on ports, the
pipeline's counters read zero and the trigger-rule and filter registers drive nothing. The
full design, hdl/trading_system.py, connects them.
"""

from amaranth import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hdl.book_top import BookTop
from hdl.control_link import ControlLink
from hdl.kill_switch import KillSwitch
from hdl.layouts import OrderIntent
from hdl.register_wiring import drive_host_orders, drive_kill_switch, drive_top_of_book


class ControlTop(wiring.Component):
    """UART pins in and out, a kill input pin, the book and order streams of the pipeline.

    - `rx`/`tx`: the control link (8N1, `divisor` clock cycles per bit).
    - `book`: top-of-book updates (the kill switch's collar, and the `tob_*` registers
      through a TopShadow).
    - `pipeline`: order intents from the trigger stage; `orders`: what leaves the egress
      gate (hdl/kill_switch.py), pipeline and host orders together.
    - `kill_pin`: the board's kill input; `armed`: the switch's state, for an LED.
    - `build_id`: the value of `id_build` (default: a hash of the gateware sources).
    """

    rx: In(1, init=1)
    tx: Out(1, init=1)
    kill_pin: In(1)
    book: In(stream.Signature(BookTop))
    pipeline: In(stream.Signature(OrderIntent))
    orders: Out(stream.Signature(OrderIntent))
    armed: Out(1)

    def __init__(self, divisor: int, build_id: int | None = None):
        self._link = ControlLink(divisor, build_id)
        self.divisor = divisor
        self.build_id = self._link.build_id
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        m.submodules.link = link = self._link
        m.submodules.kill_switch = ks = KillSwitch()
        m.d.comb += [link.rx.eq(self.rx), self.tx.eq(link.tx), self.book.ready.eq(1)]
        drive_top_of_book(m, link, self.book.valid, self.book.payload)
        drive_host_orders(m, link, ks)
        drive_kill_switch(m, link, ks, self.kill_pin)
        wiring.connect(m, wiring.flipped(self.pipeline), ks.pipeline)
        wiring.connect(m, ks.o, wiring.flipped(self.orders))
        m.d.comb += [ks.book.valid.eq(self.book.valid), ks.book.payload.eq(self.book.payload),
                     self.armed.eq(ks.armed)]
        return m
