"""UART transmitter, 8N1, at a constructor-given number of clock cycles per bit."""

from amaranth import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hdl.uart_baud import MIN_DIVISOR


class UartTx(wiring.Component):
    """Sends each byte of `i` on `tx`: a start bit (0), eight data bits LSB first, a stop bit
    (1), every bit `divisor` cycles long; bytes go back to back when `i` keeps up.

    `divisor` is the clock frequency over the baud rate (see hdl.uart_baud.divisor_for): 868
    for 115200 baud and 33 for 3 Mbaud at the ECPIX-5's 100 MHz; the benches use 4.
    """

    i: In(stream.Signature(8))
    tx: Out(1, init=1)

    def __init__(self, divisor: int):
        if divisor < MIN_DIVISOR:
            raise ValueError(f"divisor {divisor} is below {MIN_DIVISOR} cycles per bit")
        self.divisor = divisor
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        bits = Signal(9)  # the data bits then the stop bit, shifted out LSB first
        left = Signal(range(10))  # bits still to start after the current one
        timer = Signal(range(self.divisor))
        busy = Signal()

        # The last cycle of a stop bit may already load the next byte: bytes go back to back.
        stop_ends = busy & (timer == 0) & (left == 0)
        m.d.comb += self.i.ready.eq(~busy | stop_ends)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [busy.eq(1), self.tx.eq(0), bits.eq(Cat(self.i.payload, 1)),
                         left.eq(9), timer.eq(self.divisor - 1)]
        with m.Elif(busy):
            with m.If(timer != 0):
                m.d.sync += timer.eq(timer - 1)
            with m.Elif(left != 0):
                m.d.sync += [self.tx.eq(bits[0]), bits.eq(bits >> 1), left.eq(left - 1),
                             timer.eq(self.divisor - 1)]
            with m.Else():
                # The stop bit has lasted its whole period: the line is idle (high) now.
                m.d.sync += busy.eq(0)
        return m
