"""The top-of-book record the book stage publishes, and the value ranges the gateware keeps.

The wire carries int64 prices and quantities. The gateware narrows them (DESIGN.md,
decision 3, allows it where the docs state the range): prices are signed 32-bit ticks and
quantities unsigned 31-bit lots held in 32 bits. A feed message whose price or quantity falls
outside these ranges is dropped and counted by the parser, in the model and in the gateware.
"""

from amaranth.hdl import signed, unsigned
from amaranth.lib import data

MARKETS = 256
PRICE_BITS = 32
QTY_BITS = 32
PRICE_MIN, PRICE_MAX = -(1 << (PRICE_BITS - 1)), (1 << (PRICE_BITS - 1)) - 1
QTY_MIN, QTY_MAX = 0, (1 << (QTY_BITS - 1)) - 1


class BookTop(data.Struct):
    """Best bid and ask of one market after a book change; a side with `valid` low is empty
    (its price and quantity are zero)."""

    market: unsigned(8)
    bid_valid: unsigned(1)
    ask_valid: unsigned(1)
    bid_price: signed(PRICE_BITS)
    bid_qty: unsigned(QTY_BITS)
    ask_price: signed(PRICE_BITS)
    ask_qty: unsigned(QTY_BITS)
