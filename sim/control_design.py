"""The control_top the benches and the integration test share (one Verilator build).

The benches run the UART at 4 clock cycles per bit so a round trip costs a few thousand
cycles; a board at 100 MHz uses 868 (115200 baud) to 33 (3 Mbaud): see hdl/uart_baud.py.
"""

from hdl.control_top import ControlTop

CLOCK_NS = 10
DIVISOR = 4
BIT_NS = DIVISOR * CLOCK_NS
# A fixed build id keeps the cached Verilator build valid across edits elsewhere in hdl/;
# a board gets hdl.build_id.source_build_id() by default.
BUILD_ID = 0x7E57_B11D
NAME = "control_top"


def control_top() -> ControlTop:
    return ControlTop(DIVISOR, build_id=BUILD_ID)
