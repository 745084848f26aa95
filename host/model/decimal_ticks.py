"""Venue decimal strings to integer ticks or lots, once, at the edge (DESIGN.md decision 3).

A `DecimalScale` with 2 decimal places turns "61800.20" into 6180020. Strings may carry more
places than the scale if the extra ones are zeros (spot sends "61837.63000000"), so one scale
serves every venue format of a market. Nothing else is accepted: no sign, no exponent, no
spaces or underscores (all of which int() and float() would let through), no value beyond
int64.

Prices and quantities repeat, so the scale is itself a bounded dict from string to integer:
`scale[text]` is one C-level lookup on a hit, and `__missing__` runs the validating parse once
per distinct string. When the cache is full it is dropped whole, which keeps the bound with
no per-entry bookkeeping; the strings near the touch come back within a few messages.
"""

from __future__ import annotations

from host.model.depth_errors import BadDecimal, OutOfRange, TooPrecise

INT64_MAX = (1 << 63) - 1
DEFAULT_CACHE_ENTRIES = 1 << 16
_MAX_CHARS = 40  # far beyond any int64 at any scale; bounds the work a hostile string costs


class DecimalScale(dict):
    """Decimal string -> integer in units of 10**-decimals: `scale["0.014"] == 14` at 3."""

    __slots__ = ("decimals", "max_cache", "misses")

    def __init__(self, decimals: int, *, max_cache: int = DEFAULT_CACHE_ENTRIES):
        super().__init__()
        if not 0 <= decimals <= 18:
            raise ValueError(f"decimals must be 0..18, got {decimals}")
        if max_cache < 1:
            raise ValueError("max_cache must be positive")
        self.decimals = decimals
        self.max_cache = max_cache
        self.misses = 0

    def __missing__(self, text: str) -> int:
        # Venue strings nearly always carry exactly the scale's places: convert those
        # without the general parse. Under 20 characters, 18 digits cannot pass int64.
        if type(text) is str and text.isascii() and len(text) < 20:
            whole, dot, frac = text.partition(".")
            if dot and len(frac) == self.decimals and whole.isdigit() and frac.isdigit():
                value = int(whole + frac)
            else:
                value = self.parse(text)
        else:
            value = self.parse(text)
        self.misses += 1
        if len(self) >= self.max_cache:
            self.clear()
        self[text] = value
        return value

    def parse(self, text: object) -> int:
        """The validating conversion, uncached. Raises a DepthError subclass."""
        if type(text) is not str:
            raise BadDecimal(f"expected a decimal string, got {type(text).__name__}")
        if len(text) > _MAX_CHARS or not text.isascii():
            raise BadDecimal(f"not a decimal string: {text[:_MAX_CHARS]!r}")
        whole, dot, frac = text.partition(".")
        # On ASCII text isdigit() means exactly 0-9, and an empty part fails it.
        if not whole.isdigit() or (dot and not frac.isdigit()):
            raise BadDecimal(f"not a decimal string: {text!r}")
        places = self.decimals
        if len(frac) != places:
            if len(frac) > places:
                if frac[places:].strip("0"):
                    raise TooPrecise(f"{text!r} has more than {places} significant decimal "
                                     "places")
                frac = frac[:places]
            else:
                frac += "0" * (places - len(frac))
        value = int(whole + frac)
        if value > INT64_MAX:
            raise OutOfRange(f"{text!r} does not fit int64 at {places} decimal places")
        return value

    def format(self, value: int) -> str:
        """The canonical decimal string of an integer at this scale (for display and tests)."""
        if self.decimals == 0:
            return str(value)
        whole, frac = divmod(value, 10 ** self.decimals)
        return f"{whole}.{frac:0{self.decimals}d}"
