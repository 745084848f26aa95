"""Typed events the model stages pass along and report."""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple


class TickKind(IntEnum):
    """What a market message asks of the book stage (the gateware's 2-bit tick kind)."""

    STATUS = 0
    BOOK = 1
    TRADE = 2
    BBO = 3


class Tick(NamedTuple):
    """One market message, reduced to the fields the book and trigger stages use.

    `price0/qty0` hold a BookLevel's or Trade's price and quantity, or a BestBidOffer's bid;
    `price1/qty1` hold a BestBidOffer's ask and are zero otherwise.
    """

    kind: TickKind
    market: int
    rpt_seq: int
    side: int = 0      # BookLevel: Side (1 bid, 2 ask)
    action: int = 0    # BookLevel: BookAction
    level: int = 0     # BookLevel: 0 is the best level
    status: int = 0    # MarketStatus: TradingStatus
    price0: int = 0
    qty0: int = 0
    price1: int = 0
    qty1: int = 0


class PacketGap(NamedTuple):
    expected: int
    got: int


class MarketGap(NamedTuple):
    market: int
    expected: int
    got: int


class BookTop(NamedTuple):
    """Best bid and ask of a market after a change; an empty side has valid 0, price and
    qty 0. Field for field the gateware's hdl.book_top.BookTop."""

    market: int
    bid_valid: int
    bid_price: int
    bid_qty: int
    ask_valid: int
    ask_price: int
    ask_qty: int
