"""The bus between the control engine and the register bank."""

from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from host.fpga.regmap import ADDRESS_BITS, WORD_BITS


class RegisterBus(wiring.Signature):
    """The engine's side (flip it for the bank's).

    - `known` and `writable` describe the `addr` of the cycle before (a registered decode),
      so the engine can refuse a request before it touches anything.
    - `read` for one cycle reads `addr`: `r_data` holds the word from the next cycle on.
    - `write` for one cycle writes `w_data` to `addr`.
    """

    def __init__(self):
        super().__init__({
            "addr": Out(ADDRESS_BITS),
            "read": Out(1),
            "write": Out(1),
            "w_data": Out(WORD_BITS),
            "r_data": In(WORD_BITS),
            "known": In(1),
            "writable": In(1),
        })
