"""UART receiver, 8N1, at a constructor-given number of clock cycles per bit."""

from amaranth import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

from hdl.uart_baud import MIN_DIVISOR


class UartRx(wiring.Component):
    """Receives 8N1 bytes from `rx` (asynchronous to the clock: it is synchronised first).

    A falling edge starts a byte; the start bit is checked again half a bit later (a shorter
    glitch is ignored), then each bit is sampled in its middle. A byte whose stop bit is low
    is dropped and `framing_error` pulses; the receiver then waits for the line to go high
    before it looks for a start bit again, so a held-low line (a break) gives one error, not a
    stream of zero bytes. `o` cannot wait: the line does not stop.
    """

    rx: In(1, init=1)
    o: Out(stream.Signature(8, always_ready=True))
    framing_error: Out(1)

    def __init__(self, divisor: int):
        if divisor < MIN_DIVISOR:
            raise ValueError(f"divisor {divisor} is below {MIN_DIVISOR} cycles per bit")
        self.divisor = divisor
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        line = Signal(init=1)
        m.submodules.sync = FFSynchronizer(self.rx, line, init=1)

        timer = Signal(range(self.divisor))
        shift = Signal(8)
        count = Signal(range(8))

        m.d.sync += [self.o.valid.eq(0), self.framing_error.eq(0)]
        with m.FSM():
            with m.State("IDLE"), m.If(~line):
                # The start edge is seen 2 to 3 cycles late (the synchroniser, then this
                # state); count so the check falls within a cycle of the start bit's middle.
                m.d.sync += timer.eq((self.divisor - 3) // 2)
                m.next = "START"
            with m.State("START"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Elif(line):
                    m.next = "IDLE"  # a glitch, not a start bit
                with m.Else():
                    m.d.sync += [timer.eq(self.divisor - 1), count.eq(0)]
                    m.next = "DATA"
            with m.State("DATA"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Else():
                    m.d.sync += [shift.eq(Cat(shift[1:], line)), count.eq(count + 1),
                                 timer.eq(self.divisor - 1)]
                    with m.If(count == 7):
                        m.next = "STOP"
            with m.State("STOP"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Elif(line):
                    m.d.sync += [self.o.valid.eq(1), self.o.payload.eq(shift)]
                    m.next = "IDLE"
                with m.Else():
                    m.d.sync += self.framing_error.eq(1)
                    m.next = "BREAK"
            with m.State("BREAK"), m.If(line):
                m.next = "IDLE"
        return m
