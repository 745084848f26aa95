"""Typed errors and reason codes.

Every refusal the venue makes carries a machine-readable code from `Reason`: the same code
goes into an `order_reject`, a `cancel_reject`, a WebSocket `error` message and a REST error
body. Exceptions are for input that cannot be understood; a well-formed order the venue
refuses is an event (`Rejected`), not an exception.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    # The message itself.
    BAD_JSON = "bad_json"
    NOT_OBJECT = "not_object"
    UNKNOWN_TYPE = "unknown_type"
    MISSING_FIELD = "missing_field"
    BAD_FIELD = "bad_field"
    BINARY_FRAME = "binary_not_supported"
    PRICE_NOT_ON_TICK = "price_not_on_tick"
    QTY_NOT_ON_LOT = "qty_not_on_lot"
    # Who is asking.
    NOT_AUTHENTICATED = "not_authenticated"
    BAD_API_KEY = "bad_api_key"
    ALREADY_AUTHENTICATED = "already_authenticated"
    # Limits.
    ORDER_RATE = "order_rate_limited"
    CANCEL_RATE = "cancel_rate_limited"
    TOO_MANY_SUBSCRIPTIONS = "too_many_subscriptions"
    TOO_MANY_CONNECTIONS = "too_many_connections"
    TOO_MANY_OPEN_ORDERS = "too_many_open_orders"
    # The order against the market and the account.
    UNKNOWN_MARKET = "unknown_market"
    UNKNOWN_CHANNEL = "unknown_channel"
    UNKNOWN_ORDER = "unknown_order"
    DUPLICATE_ORDER_ID = "duplicate_order_id"
    QTY_TOO_SMALL = "qty_too_small"
    MARKET_HALTED = "market_halted"
    POST_ONLY_WOULD_CROSS = "post_only_would_cross"
    NO_LIQUIDITY = "no_liquidity"
    INSUFFICIENT_MARGIN = "insufficient_margin"
    # Injected faults.
    VENUE_BUSY = "venue_busy"


class CancelReason(StrEnum):
    """Why a live order stopped resting or stopped matching."""

    USER = "user"
    IOC = "ioc_remainder"
    MARKET_REMAINDER = "market_remainder"
    SELF_TRADE = "self_trade"
    HOUSE = "liquidity_withdrawn"


class VenueError(Exception):
    """Input the venue cannot act on. `code` is a `Reason`; `field` names the culprit."""

    code: Reason = Reason.BAD_FIELD
    order_id: str | None = None  # set when the culprit is an order whose id could be read

    def __init__(self, message: str, *, code: Reason | str | None = None,
                 field: str | None = None):
        super().__init__(message)
        if code is not None:
            self.code = Reason(code)
        self.field = field

    @property
    def message(self) -> str:
        return str(self)


class ProtocolError(VenueError):
    """A WebSocket or REST message that is not valid JSON, not an object, or of no known type."""

    code = Reason.BAD_JSON


class BadField(VenueError):
    """A field is missing, of the wrong type, or out of range."""

    code = Reason.BAD_FIELD
