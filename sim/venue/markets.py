"""Markets and the one place where decimal prices and quantities become integers.

Inside the venue every price is an int64 count of the market's tick and every quantity an
int64 count of its lot (DESIGN.md decision 3). Clients speak decimals: JSON numbers or decimal
strings. `MarketSpec.to_ticks` / `to_lots` convert them on the way in and refuse anything that
is not a whole number of ticks or lots; `price` / `qty` convert back on the way out. Tick and
lot sizes are decimal strings, so the conversion back is one correctly rounded division and the
JSON number a client sees is the shortest decimal for the integer it stands for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sim.venue.errors import BadField


def _scale(size: str) -> tuple[int, int]:
    """'0.001' -> (1, 1000): size = mantissa / divisor, both integers."""
    d = Decimal(size)
    if d <= 0:
        raise ValueError(f"size must be positive, not {size!r}")
    exponent = -d.as_tuple().exponent if d.as_tuple().exponent < 0 else 0
    divisor = 10 ** exponent
    return int(d * divisor), divisor


@dataclass(frozen=True)
class MarketSpec:
    """One market. `market_id` (0..255) names it on the binary feed."""

    name: str
    market_id: int
    tick_size: str
    lot_size: str
    max_leverage: int = 20
    min_lots: int = 1
    _tick: tuple[int, int] = field(init=False, repr=False, compare=False)
    _lot: tuple[int, int] = field(init=False, repr=False, compare=False)
    # USDC value of one tick times one lot: notional = ticks * lots * notional_unit.
    notional_unit: float = field(init=False, repr=False, compare=False)
    # Decimal strings already converted (orders repeat prices and sizes): text -> units.
    _tick_texts: dict = field(init=False, repr=False, compare=False)
    _lot_texts: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if not 0 <= self.market_id <= 255:
            raise ValueError(f"{self.name}: market_id {self.market_id} is outside 0..255")
        object.__setattr__(self, "_tick", _scale(self.tick_size))
        object.__setattr__(self, "_lot", _scale(self.lot_size))
        (tm, td), (lm, ld) = self._tick, self._lot
        object.__setattr__(self, "notional_unit", (tm * lm) / (td * ld))
        object.__setattr__(self, "_tick_texts", {})
        object.__setattr__(self, "_lot_texts", {})

    # -- out: integers to JSON numbers -------------------------------------------------------

    def price(self, ticks: int) -> float:
        m, d = self._tick
        return ticks * m / d

    def qty(self, lots: int) -> float:
        m, d = self._lot
        return lots * m / d

    # -- in: decimals to integers ------------------------------------------------------------

    def to_ticks(self, value, field_name: str = "price") -> int:
        if value.__class__ is str:
            units = self._tick_texts.get(value)
            if units is None:
                units = _remember(self._tick_texts, value, _to_units(
                    value, *self._tick, field_name, "tick_size", self.tick_size))
            return units
        return _to_units(value, *self._tick, field_name, "tick_size", self.tick_size)

    def to_lots(self, value, field_name: str = "qty") -> int:
        if value.__class__ is str:
            units = self._lot_texts.get(value)
            if units is None:
                units = _remember(self._lot_texts, value, _to_units(
                    value, *self._lot, field_name, "lot_size", self.lot_size))
            return units
        return _to_units(value, *self._lot, field_name, "lot_size", self.lot_size)

    def lots_for_notional(self, usd: float, price_ticks: int) -> int:
        """Whole lots that `usd` of notional buys at `price_ticks`, rounded down."""
        return int(usd / (price_ticks * self.notional_unit))

    def describe(self) -> dict:
        return {"market": self.name, "market_id": self.market_id, "tick_size": self.tick_size,
                "lot_size": self.lot_size, "min_qty": str(Decimal(self.lot_size) * self.min_lots),
                "max_leverage": self.max_leverage}


TEXT_CACHE_SIZE = 4096  # per market and direction; refilled from empty when full


def _remember(cache: dict, text: str, units: int) -> int:
    """Only conversions that succeeded are kept: a refused value is judged again each time,
    so its error is always the one `_to_units` gives."""
    if len(cache) >= TEXT_CACHE_SIZE:
        cache.clear()
    cache[text] = units
    return units


def _to_units(value, mantissa: int, divisor: int, field_name: str, what: str, size: str) -> int:
    # bool is an int subclass; True is not a price.
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BadField(f"{field_name} must be a number or a decimal string", field=field_name)
    if isinstance(value, int):
        scaled = value * divisor
        if scaled % mantissa:
            raise BadField(f"{field_name} {value} is not a multiple of the {what} {size}",
                           field=field_name, code=f"{field_name}_not_on_{what[:-5]}")
        return scaled // mantissa
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise BadField(f"{field_name} must be finite", field=field_name)
        scaled_f = value * divisor / mantissa
        units = round(scaled_f)
        # A float off the grid by more than its own rounding error is a client error.
        if abs(scaled_f - units) > 1e-6:
            raise BadField(f"{field_name} {value!r} is not a multiple of the {what} {size}",
                           field=field_name, code=f"{field_name}_not_on_{what[:-5]}")
        return units
    fast = _plain_decimal(value, mantissa, divisor)
    if fast is not None:
        if fast % mantissa:
            raise BadField(f"{field_name} {value} is not a multiple of the {what} {size}",
                           field=field_name, code=f"{field_name}_not_on_{what[:-5]}")
        return fast // mantissa
    try:
        d = Decimal(value)
    except InvalidOperation:
        raise BadField(f"{field_name} {value!r} is not a decimal number",
                       field=field_name) from None
    if not d.is_finite():
        raise BadField(f"{field_name} must be finite", field=field_name)
    scaled_d = d * divisor / mantissa
    if scaled_d != scaled_d.to_integral_value():
        raise BadField(f"{field_name} {value} is not a multiple of the {what} {size}",
                       field=field_name, code=f"{field_name}_not_on_{what[:-5]}")
    return int(scaled_d)


def _plain_decimal(text: str, mantissa: int, divisor: int) -> int | None:
    """`text` times `divisor` for a plain decimal like "61837.63000000", or None when the
    text is anything else (sign, exponent, too many significant decimals) for the exact
    Decimal path to judge. Replayed depth is millions of these, so they skip Decimal."""
    whole, _, frac = text.partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()):
        return None
    places = len(str(divisor)) - 1
    if frac[places:].strip("0"):
        return None
    return int(whole) * divisor + int(frac[:places].ljust(places, "0") or 0)


# Market ids follow sim/sample_feed.py so captures and the venue agree. Tick and lot sizes
# follow Binance's BTCUSDT markets for the two BTC books, so the recordings in shared/data
# replay without rounding, and Purple Flea's published minimum trade sizes for the perps.
DEFAULT_MARKETS: tuple[MarketSpec, ...] = (
    MarketSpec("BTC-PERP", 0, tick_size="0.1", lot_size="0.001", max_leverage=50),
    MarketSpec("ETH-PERP", 1, tick_size="0.01", lot_size="0.01", max_leverage=50),
    MarketSpec("SOL-PERP", 2, tick_size="0.001", lot_size="0.1", max_leverage=30),
    MarketSpec("BTC-SPOT", 3, tick_size="0.01", lot_size="0.000001", max_leverage=50),
)
