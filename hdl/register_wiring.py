"""What the control link's registers drive and read in the parts every top shares: the kill
switch, the host-order source and the top-of-book registers.

`link` is a ControlLink (hdl/control_link.py), or anything with its ports. `switch` is the
KillSwitch or a component that passes its ports through under the same names (hdl/core.py).
"""

from amaranth import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.cdc import FFSynchronizer

from hdl.host_order_source import HostOrderSource
from hdl.top_shadow import TopShadow
from host.model.kill_switch import LIMIT_BITS


def drive_kill_switch(m: Module, link, switch, kill_pin) -> None:
    """Limits, commands and host events in; state and counters out. `kill_pin` is the
    board's pin: the switch synchronises it itself, `ks_state.kill_pin` shows a synchronised
    copy."""
    event = link.ks_event_value
    shown_pin = Signal()
    m.submodules.kill_pin_sync = FFSynchronizer(kill_pin, shown_pin)
    m.d.comb += [
        switch.kill_pin.eq(kill_pin),
        switch.heartbeat.eq(link.ks_heartbeat),
        switch.kill.eq(link.ks_kill),
        switch.clear.eq(link.ks_reasons_clear),
        switch.clear_mask.eq(link.ks_reasons_mask),
        switch.arm.eq(link.ks_arm),
        switch.arm_value.eq(link.ks_arm_value),
        switch.event.eq(link.ks_event),
        switch.event_kind.eq(event.kind),
        switch.event_side.eq(event.side),
        switch.event_market.eq(event.market),
        switch.event_qty.eq(link.ks_event_qty),
        *(getattr(switch, name).eq(getattr(link, f"ks_{name}")) for name in LIMIT_BITS),
        link.ks_state.armed.eq(switch.armed),
        link.ks_state.kill_pin.eq(shown_pin),
        link.ks_state.arm_pending.eq(switch.arm_pending),
        link.ks_reasons.eq(switch.reasons),
        link.ks_trip_time.eq(switch.trip_time),
        link.ks_cycle.eq(switch.cycle),
        link.ks_passed.eq(switch.passed),
        link.ks_dropped_pipeline.eq(switch.dropped_pipeline),
        link.ks_dropped_host.eq(switch.dropped_host),
        link.ks_arm_failures.eq(switch.arm_failures),
    ]


def drive_host_orders(m: Module, link, switch) -> None:
    """The `order_*` registers become orders on the switch's `host` input, stamped with the
    switch's cycle counter."""
    m.submodules.host_order = host = HostOrderSource()
    m.d.comb += [
        host.market.eq(link.order_market),
        host.side.eq(link.order_side),
        host.price.eq(link.order_price),
        host.qty.eq(link.order_qty),
        host.client_id.eq(link.order_client_id),
        host.send.eq(link.order_send),
        host.timestamp.eq(switch.cycle),
        link.order_sent.eq(host.sent),
        link.order_overruns.eq(host.overruns),
    ]
    wiring.connect(m, host.o, switch.host)


def drive_top_of_book(m: Module, link, book_valid, book_payload) -> None:
    """The `tob_*` registers read a TopShadow kept from the book stage's top-of-book
    changes (`book_valid`, `book_payload`: a BookTop stream that cannot wait)."""
    m.submodules.tob = shadow = TopShadow()
    top = shadow.top
    m.d.comb += [
        shadow.book.valid.eq(book_valid),
        shadow.book.payload.eq(book_payload),
        shadow.index.eq(link.tob_index),
        link.tob_valid.eq(Cat(top.bid_valid, top.ask_valid)),
        link.tob_bid_price.eq(top.bid_price),
        link.tob_bid_qty.eq(top.bid_qty),
        link.tob_ask_price.eq(top.ask_price),
        link.tob_ask_qty.eq(top.ask_qty),
    ]
