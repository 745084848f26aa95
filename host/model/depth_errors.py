"""Typed errors for malformed depth data: a bad decimal string, a bad level list, a bad message.

Each class carries a `reason` code that counters can key on, like host.wire's WireError. A
message that raises one of these has changed nothing: the book validates a side before it
touches its levels.
"""

from __future__ import annotations


class DepthError(ValueError):
    """Base class: the venue's depth data is not what the book accepts."""

    reason = "malformed"


class BadDecimal(DepthError):
    """Not a plain unsigned decimal string such as "61800.20" (no sign, exponent or spaces)."""

    reason = "bad_decimal"


class TooPrecise(DepthError):
    """More significant decimal places than the market's tick or lot allows."""

    reason = "too_precise"


class OutOfRange(DepthError):
    """The value does not fit an int64 tick or lot count."""

    reason = "out_of_range"


class BadLevels(DepthError):
    """A level list that is not a list of [price, qty] string pairs."""

    reason = "bad_levels"


class BadMessage(DepthError):
    """A depth diff or snapshot without its update ids or sides, or with impossible ids."""

    reason = "bad_message"


ALL_DEPTH_ERRORS: tuple[type[DepthError], ...] = (
    BadDecimal, TooPrecise, OutOfRange, BadLevels, BadMessage,
)
