"""The tick record the feed parser hands the book stage; field for field host.model Tick."""

from amaranth.hdl import signed, unsigned
from amaranth.lib import data

from hdl.book_top import PRICE_BITS, QTY_BITS


class Tick(data.Struct):
    kind: unsigned(2)       # host.model.events.TickKind
    market: unsigned(8)
    rpt_seq: unsigned(32)
    side: unsigned(2)       # Side: 1 bid, 2 ask
    action: unsigned(2)     # BookAction
    level: unsigned(8)
    status: unsigned(2)     # TradingStatus
    price0: signed(PRICE_BITS)
    qty0: unsigned(QTY_BITS)
    price1: signed(PRICE_BITS)
    qty1: unsigned(QTY_BITS)
