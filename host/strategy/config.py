"""Strategy settings from TOML: `[[strategy]]` tables, each with a `kind`.

`load_config(path)` reads a whole tickwire.toml and returns the parts this package owns
(`[risk]` and every `[[strategy]]`); the daemon reads `[venue]` and `[daemon]` itself. Market
names are checked against the venue's table when a strategy is built (host/strategy/build.py),
because the table comes from the venue at start-up, not from the file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, fields
from pathlib import Path

from host.config_parse import (
    ConfigError,
    get_float,
    get_int,
    get_str,
    need_table,
    reject_unknown,
)
from host.risk.config import RiskConfig, parse_risk


@dataclass(frozen=True)
class LatencyArbConfig:
    """The seed's latency arbitrage: when the primary's mid moves `min_spread_bp` away from
    the secondary's, trade the secondary at its touch before it reprices."""

    name: str
    primary: str
    secondary: str
    min_spread_bp: int = 8             # the seed's 0.08 %
    order_size_usd: float = 1_000.0
    max_position_usd: float = 5_000.0
    max_daily_loss_usd: float = 500.0
    staleness_ms: float = 5.0          # a primary update older than this when handled is skipped
    order_type: str = "ioc"            # "ioc" at the secondary's touch, or "market"

    kind = "latency_arb"

    def __post_init__(self):
        key = f"strategy.{self.name}"
        _require(self.primary != self.secondary, f"{key}.secondary",
                 "must differ from primary")
        _require(0 <= self.min_spread_bp <= 0xFFFF, f"{key}.min_spread_bp",
                 "must be in [0, 65535] (the trigger's 16-bit threshold)")
        for name in ("order_size_usd", "max_position_usd", "max_daily_loss_usd", "staleness_ms"):
            _require(getattr(self, name) > 0, f"{key}.{name}", "must be positive")
        _require(self.order_type in ("ioc", "market"), f"{key}.order_type",
                 "must be 'ioc' or 'market'")


@dataclass(frozen=True)
class MarketMakerConfig:
    """Post-only quotes around the mid, skewed against inventory."""

    name: str
    market: str
    quote_lots: int = 1
    half_spread_ticks: int = 5         # each quote's distance from the (skewed) mid
    max_inventory_lots: int = 10       # at +-this, the side that would add is not quoted
    skew_ticks: int = 5                # how far both quotes move at full inventory
    requote_ticks: int = 3             # a quote this far from its target is replaced

    kind = "market_maker"

    def __post_init__(self):
        key = f"strategy.{self.name}"
        for name in ("quote_lots", "half_spread_ticks", "max_inventory_lots", "requote_ticks"):
            _require(getattr(self, name) >= 1, f"{key}.{name}", "must be at least 1")
        _require(self.skew_ticks >= 0, f"{key}.skew_ticks", "must not be negative")


StrategyConfig = LatencyArbConfig | MarketMakerConfig
KINDS: dict[str, type] = {"latency_arb": LatencyArbConfig, "market_maker": MarketMakerConfig}


@dataclass(frozen=True)
class StrategiesConfig:
    risk: RiskConfig
    strategies: tuple[StrategyConfig, ...]


def load_config(path: str | Path) -> StrategiesConfig:
    """Read `[risk]` and `[[strategy]]` from a tickwire.toml."""
    name = str(path)
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except OSError as exc:
        raise ConfigError(name, "<file>", "unreadable", str(exc)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(name, "<file>", "unreadable", f"not valid TOML: {exc}") from None
    return StrategiesConfig(risk=parse_risk(doc.get("risk", {}), name),
                            strategies=parse_strategies(doc.get("strategy", []), name))


def parse_strategies(items: Sequence, path: str | None = None) -> tuple[StrategyConfig, ...]:
    """The `[[strategy]]` array of tables."""
    try:
        if not isinstance(items, list | tuple):
            raise ConfigError(None, "strategy", "wrong_type",
                              "expected an array of tables ([[strategy]])")
        out = tuple(_parse_one(item, i) for i, item in enumerate(items))
        seen: set[str] = set()
        for i, cfg in enumerate(out):
            if cfg.name in seen:
                raise ConfigError(None, f"strategy[{i}].name", "duplicate",
                                  f"another strategy is already named {cfg.name!r}")
            seen.add(cfg.name)
        return out
    except ConfigError as exc:
        raise exc.at(path) from None


def _parse_one(item, index: int) -> StrategyConfig:
    prefix = f"strategy[{index}]"
    table = need_table(item, prefix)
    kind = get_str(table, "kind", prefix)
    cls = KINDS.get(kind)
    if cls is None:
        raise ConfigError(None, f"{prefix}.kind", "unknown_kind",
                          f"{kind!r} is not one of {', '.join(KINDS)}")
    names = [f.name for f in fields(cls)]
    reject_unknown(table, ["kind", *names], prefix)
    values = {}
    for f in fields(cls):
        default = None if f.default is MISSING else f.default
        getter = {"int": get_int, "float": get_float}.get(f.type, get_str)
        values[f.name] = getter(table, f.name, prefix, default)
    try:
        return cls(**values)
    except ConfigError as exc:  # name the array index, as the file does
        key = exc.key.replace(f"strategy.{values['name']}", prefix, 1)
        raise ConfigError(None, key, exc.reason, exc.detail) from None


def _require(ok: bool, key: str, detail: str) -> None:
    if not ok:
        raise ConfigError(None, key, "out_of_range", detail)


def table_of(config: StrategyConfig) -> Mapping:
    """The TOML table that parses back to `config` (for docs and round-trip tests)."""
    return {"kind": config.kind, **{f.name: getattr(config, f.name) for f in fields(config)}}
