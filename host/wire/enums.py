"""Enumerated field values. Zero is never a valid member where a value is required, so an
all-zero (never written) message is caught by the decoder."""

from __future__ import annotations

from enum import IntEnum


class TemplateId(IntEnum):
    """Message template ids: the third byte of every message."""

    HEARTBEAT = 1
    MARKET_STATUS = 2
    BOOK_LEVEL = 3
    TRADE = 4
    BEST_BID_OFFER = 5
    ORDER_INTENT = 64


class Side(IntEnum):
    BID = 1
    ASK = 2


class AggressorSide(IntEnum):
    """The side of the incoming (taking) order; UNKNOWN where the venue does not say."""

    UNKNOWN = 0
    BUY = 1
    SELL = 2


class BookAction(IntEnum):
    """What a level update does at level k of a side, as in CME MDP3."""

    NEW = 1  # insert at k; levels k.. shift down one, the last falls off a bounded book
    CHANGE = 2  # replace the quantity (and order count) at k; the price is unchanged
    DELETE = 3  # remove k; levels below shift up one


class TradingStatus(IntEnum):
    TRADING = 1
    HALTED = 2
    CLOSED = 3


class OrderSide(IntEnum):
    BUY = 1
    SELL = 2


class MessageFlags(IntEnum):
    """Bits of the message header's flags byte."""

    END_OF_EVENT = 0x01  # last message of one venue event; a book is consistent after it
