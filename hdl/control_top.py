"""The control-link top: the UART, the request engine, the register bank and what the bank
drives, as one design for the link bench and the host-in-the-loop integration test."""

from amaranth import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

from hdl.book_top import BookTop
from hdl.build_id import source_build_id
from hdl.control_engine import ControlEngine
from hdl.frame_codec.frame_receiver import FrameReceiver
from hdl.frame_codec.frame_sender import FrameSender
from hdl.host_order_source import HostOrderSource
from hdl.kill_switch import KillSwitch
from hdl.layouts import OrderIntent
from hdl.register_bank import RegisterBank
from hdl.tob_placeholder import TobPlaceholder
from hdl.uart_rx import UartRx
from hdl.uart_tx import UartTx
from host.fpga.registers import MAGIC, REGISTERS, VERSION_WORD
from host.model.kill_switch import LIMIT_BITS


class ControlTop(wiring.Component):
    """UART pins in and out, a kill input pin, the book and order streams of the pipeline.

    - `rx`/`tx`: the control link (8N1, `divisor` clock cycles per bit).
    - `book`: top-of-book updates (the kill switch's collar, and the `tob_*` registers
      through a placeholder store until the book stage provides its read port).
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
        self.divisor = divisor
        self.build_id = source_build_id() if build_id is None else build_id
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        m.submodules.uart_rx = uart_rx = UartRx(self.divisor)
        m.submodules.receiver = receiver = FrameReceiver()
        m.submodules.engine = engine = ControlEngine()
        m.submodules.sender = sender = FrameSender()
        m.submodules.uart_tx = uart_tx = UartTx(self.divisor)
        m.submodules.bank = bank = RegisterBank(REGISTERS)

        m.d.comb += [uart_rx.rx.eq(self.rx), self.tx.eq(uart_tx.tx),
                     receiver.poison.eq(uart_rx.framing_error)]
        wiring.connect(m, uart_rx.o, receiver.i)
        wiring.connect(m, receiver.o, engine.i)
        wiring.connect(m, engine.o, sender.i)
        wiring.connect(m, sender.o, uart_tx.i)
        wiring.connect(m, engine.bus, bank.bus)

        uart_errors = Signal(32)
        with m.If(uart_rx.framing_error):
            m.d.sync += uart_errors.eq(uart_errors + 1)
        m.d.comb += [
            bank.id_magic.eq(MAGIC),
            bank.id_version.eq(VERSION_WORD),
            bank.id_map_hash.eq(REGISTERS.digest),
            bank.id_build.eq(self.build_id),
            bank.link_requests.eq(engine.requests),
            bank.link_errors.eq(engine.errors),
            bank.link_dropped.eq(engine.dropped),
            bank.link_uart_errors.eq(uart_errors),
            bank.link_replays.eq(engine.replays),
        ]
        # This top has no feed pipeline: its counters read zero and the trigger-rule and
        # filter registers drive nothing. The full design's top connects them.
        self._top_of_book(m, bank)
        self._gate(m, bank)
        return m

    def _top_of_book(self, m, bank):
        m.submodules.tob = tob = TobPlaceholder()
        m.d.comb += [
            self.book.ready.eq(1),
            tob.book.valid.eq(self.book.valid),
            tob.book.payload.eq(self.book.payload),
            tob.index.eq(bank.tob_index),
            bank.tob_valid.eq(Cat(tob.top.bid_valid, tob.top.ask_valid)),
            bank.tob_bid_price.eq(tob.top.bid_price),
            bank.tob_bid_qty.eq(tob.top.bid_qty),
            bank.tob_ask_price.eq(tob.top.ask_price),
            bank.tob_ask_qty.eq(tob.top.ask_qty),
        ]

    def _gate(self, m, bank):
        m.submodules.host_order = host = HostOrderSource()
        m.submodules.kill_switch = ks = KillSwitch()
        m.d.comb += [
            host.market.eq(bank.order_market),
            host.side.eq(bank.order_side),
            host.price.eq(bank.order_price),
            host.qty.eq(bank.order_qty),
            host.client_id.eq(bank.order_client_id),
            host.send.eq(bank.order_send),
            host.timestamp.eq(ks.cycle),
            bank.order_sent.eq(host.sent),
            bank.order_overruns.eq(host.overruns),
        ]
        wiring.connect(m, host.o, ks.host)
        wiring.connect(m, wiring.flipped(self.pipeline), ks.pipeline)
        wiring.connect(m, ks.o, wiring.flipped(self.orders))
        m.d.comb += [ks.book.valid.eq(self.book.valid), ks.book.payload.eq(self.book.payload)]

        event = bank.ks_event_value
        kill_pin = Signal()
        m.submodules.kill_pin_sync = FFSynchronizer(self.kill_pin, kill_pin)
        m.d.comb += [
            ks.kill_pin.eq(self.kill_pin),
            ks.heartbeat.eq(bank.ks_heartbeat),
            ks.kill.eq(bank.ks_kill),
            ks.clear.eq(bank.ks_reasons_clear),
            ks.clear_mask.eq(bank.ks_reasons_mask),
            ks.arm.eq(bank.ks_arm),
            ks.arm_value.eq(bank.ks_arm_value),
            ks.event.eq(bank.ks_event),
            ks.event_kind.eq(event.kind),
            ks.event_side.eq(event.side),
            ks.event_market.eq(event.market),
            ks.event_qty.eq(bank.ks_event_qty),
            *(getattr(ks, name).eq(getattr(bank, f"ks_{name}")) for name in LIMIT_BITS),
            bank.ks_state.armed.eq(ks.armed),
            bank.ks_state.kill_pin.eq(kill_pin),
            bank.ks_state.arm_pending.eq(ks.arm_pending),
            bank.ks_reasons.eq(ks.reasons),
            bank.ks_trip_time.eq(ks.trip_time),
            bank.ks_cycle.eq(ks.cycle),
            bank.ks_passed.eq(ks.passed),
            bank.ks_dropped_pipeline.eq(ks.dropped_pipeline),
            bank.ks_dropped_host.eq(ks.dropped_host),
            bank.ks_arm_failures.eq(ks.arm_failures),
            self.armed.eq(ks.armed),
        ]
