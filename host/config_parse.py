"""The one error every config parser raises, and the few checks they share.

A parser turns a TOML table (a dict from tomllib) into a frozen dataclass. Every refusal is a
`ConfigError` naming the file, the dotted key and a stable reason code, so a user sees which
line to fix and a test can assert which rule fired.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping


class ConfigError(ValueError):
    """A setting that cannot be used. `key` is dotted (`risk.circuit_breaker.cool_off_s`,
    `strategy[1].min_spread_bp`); `reason` is a stable code (`missing`, `wrong_type`,
    `out_of_range`, `unknown_key`, `unknown_kind`, `unknown_market`, `duplicate`,
    `inconsistent`, `unreadable`)."""

    def __init__(self, path: str | None, key: str, reason: str, detail: str = ""):
        self.path = path
        self.key = key
        self.reason = reason
        self.detail = detail
        where = f"{path}: " if path else ""
        super().__init__(f"{where}{key}: {detail or reason} ({reason})")

    def at(self, path: str | None) -> ConfigError:
        """The same error, naming the file it came from."""
        return ConfigError(path, self.key, self.reason, self.detail)


def reject_unknown(table: Mapping, allowed: Iterable[str], prefix: str) -> None:
    """A misspelt key is an error, not a silently ignored setting."""
    known = set(allowed)
    for key in table:
        if key not in known:
            raise ConfigError(None, f"{prefix}.{key}", "unknown_key",
                              f"unknown key; expected one of {', '.join(sorted(known))}")


def need_table(value, key: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise ConfigError(None, key, "wrong_type", f"expected a table, got {value!r}")
    return value


def get_int(table: Mapping, key: str, prefix: str, default=None, low: int | None = None,
            high: int | None = None) -> int:
    value = _get(table, key, prefix, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(None, f"{prefix}.{key}", "wrong_type",
                          f"expected an integer, got {value!r}")
    _bounds(value, f"{prefix}.{key}", low, high)
    return value


def get_float(table: Mapping, key: str, prefix: str, default=None, low: float | None = None,
              high: float | None = None, positive: bool = False) -> float:
    value = _get(table, key, prefix, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(None, f"{prefix}.{key}", "wrong_type",
                          f"expected a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ConfigError(None, f"{prefix}.{key}", "out_of_range", "must be finite")
    if positive and value <= 0:
        raise ConfigError(None, f"{prefix}.{key}", "out_of_range",
                          f"must be positive, got {value}")
    _bounds(value, f"{prefix}.{key}", low, high)
    return value


def get_str(table: Mapping, key: str, prefix: str, default=None,
            choices: Iterable[str] | None = None) -> str:
    value = _get(table, key, prefix, default)
    if not isinstance(value, str) or not value:
        raise ConfigError(None, f"{prefix}.{key}", "wrong_type",
                          f"expected a non-empty string, got {value!r}")
    if choices is not None and value not in set(choices):
        raise ConfigError(None, f"{prefix}.{key}", "out_of_range",
                          f"{value!r} is not one of {', '.join(sorted(choices))}")
    return value


def get_str_list(table: Mapping, key: str, prefix: str, default=()) -> tuple[str, ...]:
    value = _get(table, key, prefix, default)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigError(None, f"{prefix}.{key}", "wrong_type",
                          f"expected a list of strings, got {value!r}")
    return tuple(value)


def _get(table: Mapping, key: str, prefix: str, default):
    if key in table:
        return table[key]
    if default is None:
        raise ConfigError(None, f"{prefix}.{key}", "missing", "required")
    return default


def _bounds(value, key: str, low, high) -> None:
    if (low is not None and value < low) or (high is not None and value > high):
        raise ConfigError(None, key, "out_of_range",
                          f"{value} is outside [{'-inf' if low is None else low}, "
                          f"{'inf' if high is None else high}]")
