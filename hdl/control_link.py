"""The control link: UART pins in and out, the register map's values as ports.

The UART, the COBS/CRC frame codec, the request engine and the register bank, with the
identity and link-statistics values tied off inside. Every other value of the register map
(host/fpga/registers.py) is a port of this component under the bank's name for it, so a top
connects what each register names and nothing else: RW values and W1P strobes are outputs,
RO values and W1C statuses are inputs (see hdl/register_bank.py for the port conventions).
"""

from amaranth import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hdl.build_id import source_build_id
from hdl.control_engine import ControlEngine
from hdl.forward_ports import forward_ports
from hdl.frame_codec.frame_receiver import FrameReceiver
from hdl.frame_codec.frame_sender import FrameSender
from hdl.register_bank import RegisterBank, bank_members
from hdl.uart_rx import UartRx
from hdl.uart_tx import UartTx
from host.fpga.registers import MAGIC, REGISTERS, VERSION_WORD

# Bank ports the link drives itself.
INTERNAL = ("bus", "id_magic", "id_version", "id_map_hash", "id_build", "link_requests",
            "link_errors", "link_dropped", "link_uart_errors", "link_replays")


class ControlLink(wiring.Component):
    """`rx`/`tx`: 8N1 at `divisor` clock cycles per bit. `build_id` is the value of
    `id_build` (default: a hash of the gateware sources)."""

    def __init__(self, divisor: int, build_id: int | None = None):
        self.divisor = divisor
        self.build_id = source_build_id() if build_id is None else build_id
        members = {name: m for name, m in bank_members(REGISTERS).items()
                   if name not in INTERNAL}
        super().__init__({"rx": In(1, init=1), "tx": Out(1, init=1), **members})

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
        forward_ports(m, self, bank, [n for n in bank.signature.members if n not in INTERNAL])
        return m
