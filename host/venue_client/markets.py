"""Market specs as the client sees them, and the one place a decimal becomes ticks or lots.

The venue publishes tick and lot sizes as decimal strings. A price p is `p / tick_size` ticks;
anything that is not a whole number of ticks is refused with `OffGrid`, never rounded, because
a rounded price is an order the user did not ask for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation


class MarketError(ValueError):
    """A market spec or a value converted through one is unusable. `reason` is the code."""

    reason = "market_error"

    def __init__(self, message: str, *, market: str | None = None):
        super().__init__(message)
        self.market = market


class UnknownMarket(MarketError):
    reason = "unknown_market"


class OffGrid(MarketError):
    reason = "off_grid"


class BadSpec(MarketError):
    reason = "bad_spec"


def _ratio(size: str, name: str) -> tuple[int, int]:
    """'0.001' -> (1, 1000), so size == numerator / denominator exactly."""
    try:
        d = Decimal(size)
    except (InvalidOperation, TypeError):
        raise BadSpec(f"{name} {size!r} is not a decimal") from None
    if not d.is_finite() or d <= 0:
        raise BadSpec(f"{name} must be a positive decimal, not {size!r}")
    num, den = d.as_integer_ratio()
    return num, den


@dataclass(frozen=True)
class MarketSpec:
    """One market. `market_id` (0..255) is its index on the binary colo feed and in the FPGA."""

    name: str
    market_id: int
    tick_size: str
    lot_size: str
    max_leverage: int = 20
    _tick: tuple[int, int] = field(init=False, repr=False, compare=False)
    _lot: tuple[int, int] = field(init=False, repr=False, compare=False)
    # USDC value of one tick times one lot: notional = ticks * lots * notional_unit.
    notional_unit: float = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if not isinstance(self.market_id, int) or not 0 <= self.market_id <= 255:
            raise BadSpec(f"{self.name}: market_id {self.market_id!r} is outside 0..255",
                          market=self.name)
        object.__setattr__(self, "_tick", _ratio(self.tick_size, "tick_size"))
        object.__setattr__(self, "_lot", _ratio(self.lot_size, "lot_size"))
        (tn, td), (ln, ld) = self._tick, self._lot
        object.__setattr__(self, "notional_unit", (tn * ln) / (td * ld))

    @classmethod
    def from_json(cls, item: dict) -> MarketSpec:
        """One entry of `GET /api/v1/markets`."""
        try:
            return cls(name=str(item["market"]), market_id=int(item["market_id"]),
                       tick_size=str(item["tick_size"]), lot_size=str(item["lot_size"]),
                       max_leverage=int(item.get("max_leverage", 20)))
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, MarketError):
                raise
            raise BadSpec(f"market spec {item!r} is incomplete: {exc}") from None

    def to_ticks(self, value) -> int:
        return self._units(value, self._tick, "price", self.tick_size)

    def to_lots(self, value) -> int:
        return self._units(value, self._lot, "qty", self.lot_size)

    def price(self, ticks: int) -> Decimal:
        num, den = self._tick
        return Decimal(ticks * num) / den

    def qty(self, lots: int) -> Decimal:
        num, den = self._lot
        return Decimal(lots * num) / den

    def notional(self, ticks: int, lots: int) -> float:
        """USDC notional of `lots` at `ticks`."""
        return ticks * lots * self.notional_unit

    def _units(self, value, ratio: tuple[int, int], what: str, size: str) -> int:
        num, den = ratio
        if isinstance(value, bool):
            raise OffGrid(f"{self.name}: {what} {value!r} is not a number", market=self.name)
        if isinstance(value, int):
            scaled, rem = divmod(value * den, num)
            if rem:
                raise OffGrid(f"{self.name}: {what} {value} is not a multiple of {size}",
                              market=self.name)
            return scaled
        try:
            # str() first: a JSON float's repr is its shortest decimal, which is what was sent.
            d = value if isinstance(value, Decimal) else Decimal(str(value))
        except InvalidOperation:
            raise OffGrid(f"{self.name}: {what} {value!r} is not a decimal",
                          market=self.name) from None
        if not d.is_finite():
            raise OffGrid(f"{self.name}: {what} {value!r} is not finite", market=self.name)
        scaled_d = d * den / num
        if scaled_d != scaled_d.to_integral_value():
            raise OffGrid(f"{self.name}: {what} {value} is not a multiple of {size}",
                          market=self.name)
        return int(scaled_d)


class MarketTable:
    """Every market of a venue, by name and by feed id."""

    def __init__(self, specs):
        self._by_name: dict[str, MarketSpec] = {}
        self._by_id: dict[int, MarketSpec] = {}
        for spec in specs:
            if spec.name in self._by_name or spec.market_id in self._by_id:
                raise BadSpec(f"market {spec.name} (id {spec.market_id}) is listed twice")
            self._by_name[spec.name] = spec
            self._by_id[spec.market_id] = spec

    @classmethod
    def from_json(cls, items: list) -> MarketTable:
        return cls(MarketSpec.from_json(item) for item in items)

    def __getitem__(self, name: str) -> MarketSpec:
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownMarket(f"no market {name!r}", market=name) from None

    def by_id(self, market_id: int) -> MarketSpec:
        try:
            return self._by_id[market_id]
        except KeyError:
            raise UnknownMarket(f"no market with id {market_id}") from None

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def __iter__(self):
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)
