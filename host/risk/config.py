"""What the risk engine enforces: one frozen, validated `RiskConfig`, parsed from `[risk]`.

Money is USDC (float), times are seconds or milliseconds as the key's suffix says. The
hardware rules are the FPGA kill switch's registers (host.model.kill_switch.Limits); the
software engine runs the same model on them, so both paths trip on the same orders. Their
time fields are nanoseconds, the software path's unit (a board's driver converts to cycles).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

from host.config_parse import (
    ConfigError,
    get_float,
    get_int,
    get_str_list,
    need_table,
    reject_unknown,
)
from host.model.kill_switch import LIMIT_BITS, KillSwitchError, Limits

NS_PER_S = 1_000_000_000


@dataclass(frozen=True)
class CircuitBreaker:
    """Past `max_orders_per_s` orders in any 1 s window, orders are held to
    `throttled_orders_per_s` until `cool_off_s` pass without another breach."""

    max_orders_per_s: int = 50
    throttled_orders_per_s: int = 5
    cool_off_s: float = 5.0

    def __post_init__(self):
        _check(self.max_orders_per_s >= 1, "risk.circuit_breaker.max_orders_per_s",
               f"must be at least 1, got {self.max_orders_per_s}")
        _check(1 <= self.throttled_orders_per_s <= self.max_orders_per_s,
               "risk.circuit_breaker.throttled_orders_per_s",
               f"must be in [1, max_orders_per_s={self.max_orders_per_s}], "
               f"got {self.throttled_orders_per_s}")
        _check(self.cool_off_s > 0, "risk.circuit_breaker.cool_off_s",
               f"must be positive, got {self.cool_off_s}")


@dataclass(frozen=True)
class Backoff:
    """After the venue's rate-limit refusal (`order_rate_limited`, HTTP 429): no orders for
    base_s x 2^(n-1) seconds at the n-th refusal in a row, at most cap_s; an ack resets n."""

    base_s: float = 0.1
    cap_s: float = 5.0

    def __post_init__(self):
        _check(self.base_s > 0, "risk.backoff.base_s", f"must be positive, got {self.base_s}")
        _check(self.cap_s >= self.base_s, "risk.backoff.cap_s",
               f"must be at least base_s={self.base_s}, got {self.cap_s}")

    def delay_ns(self, streak: int) -> int:
        seconds = min(self.cap_s, self.base_s * 2 ** min(streak - 1, 62))
        return int(seconds * NS_PER_S)


DEFAULT_HARDWARE = Limits(heartbeat_timeout=0, rate_tokens=100, rate_window=NS_PER_S,
                          max_qty=1_000_000_000, max_notional=10**15, collar_bp=200,
                          max_rejects=0, max_position=1_000_000_000)


@dataclass(frozen=True)
class RiskConfig:
    max_consecutive_rejects: int = 5
    # Venue refusals that do not count towards the reject kill: a post-only order meeting a
    # moving book is the normal cost of quoting, not a sign of a broken strategy.
    reject_kill_ignores: tuple[str, ...] = ("post_only_would_cross",)
    pnl_kill_drawdown_usd: float = 1_000.0
    max_position_usd: float = 5_000.0
    max_daily_loss_usd: float = 500.0
    stale_market_data_ms: float = 50.0
    circuit_breaker: CircuitBreaker = field(default_factory=CircuitBreaker)
    backoff: Backoff = field(default_factory=Backoff)
    hardware: Limits = DEFAULT_HARDWARE

    def __post_init__(self):
        _check(1 <= self.max_consecutive_rejects <= 0xFFFF, "risk.max_consecutive_rejects",
               f"must be in [1, 65535] (the gateware's 16-bit register), got "
               f"{self.max_consecutive_rejects}")
        for name in ("pnl_kill_drawdown_usd", "max_position_usd", "max_daily_loss_usd",
                     "stale_market_data_ms"):
            value = getattr(self, name)
            _check(value > 0, f"risk.{name}", f"must be positive, got {value}")
        hw = self.hardware
        for name in ("rate_tokens", "max_qty", "max_notional"):
            _check(getattr(hw, name) > 0, f"risk.hardware.{name}",
                   "0 would trip the kill switch on every order")
        _check(hw.rate_window > 0, "risk.hardware.rate_window_ns",
               "0 turns the hardware rate limit off; set a window")

    @property
    def board_limits(self) -> Limits:
        """The registers a board gets: the hardware rules plus the reject kill."""
        return replace(self.hardware, max_rejects=self.max_consecutive_rejects)

    @property
    def model_limits(self) -> Limits:
        """The software path's copy: no watchdog, because this process is the host it
        watches."""
        return replace(self.board_limits, heartbeat_timeout=0)

    @property
    def stale_ns(self) -> int:
        return int(self.stale_market_data_ms * 1_000_000)


def _check(ok: bool, key: str, detail: str) -> None:
    if not ok:
        raise ConfigError(None, key, "out_of_range", detail)


# TOML key -> Limits field; time fields carry their unit, max_rejects comes from
# risk.max_consecutive_rejects.
_HARDWARE_KEYS = {"rate_window_ns": "rate_window", "heartbeat_timeout_ns": "heartbeat_timeout"}
_HARDWARE_FIELDS = [f.name for f in fields(Limits) if f.name != "max_rejects"]
_TOP_KEYS = ("max_consecutive_rejects", "reject_kill_ignores", "pnl_kill_drawdown_usd",
             "max_position_usd", "max_daily_loss_usd", "stale_market_data_ms",
             "circuit_breaker", "backoff", "hardware")


def parse_risk(table: Mapping, path: str | None = None) -> RiskConfig:
    """`[risk]` (with `[risk.circuit_breaker]`, `[risk.backoff]`, `[risk.hardware]`) ->
    RiskConfig. Absent keys take the defaults above; unknown keys are errors."""
    try:
        return _parse(need_table(table, "risk"))
    except ConfigError as exc:
        raise exc.at(path) from None


def _parse(table: Mapping) -> RiskConfig:
    d = RiskConfig()
    reject_unknown(table, _TOP_KEYS, "risk")
    cb_table = need_table(table.get("circuit_breaker", {}), "risk.circuit_breaker")
    reject_unknown(cb_table, [f.name for f in fields(CircuitBreaker)], "risk.circuit_breaker")
    cb = CircuitBreaker(
        max_orders_per_s=get_int(cb_table, "max_orders_per_s", "risk.circuit_breaker",
                                 d.circuit_breaker.max_orders_per_s),
        throttled_orders_per_s=get_int(cb_table, "throttled_orders_per_s",
                                       "risk.circuit_breaker",
                                       d.circuit_breaker.throttled_orders_per_s),
        cool_off_s=get_float(cb_table, "cool_off_s", "risk.circuit_breaker",
                             d.circuit_breaker.cool_off_s))
    bo_table = need_table(table.get("backoff", {}), "risk.backoff")
    reject_unknown(bo_table, ("base_s", "cap_s"), "risk.backoff")
    backoff = Backoff(base_s=get_float(bo_table, "base_s", "risk.backoff", d.backoff.base_s),
                      cap_s=get_float(bo_table, "cap_s", "risk.backoff", d.backoff.cap_s))
    return RiskConfig(
        max_consecutive_rejects=get_int(table, "max_consecutive_rejects", "risk",
                                        d.max_consecutive_rejects),
        reject_kill_ignores=get_str_list(table, "reject_kill_ignores", "risk",
                                         d.reject_kill_ignores),
        pnl_kill_drawdown_usd=get_float(table, "pnl_kill_drawdown_usd", "risk",
                                        d.pnl_kill_drawdown_usd),
        max_position_usd=get_float(table, "max_position_usd", "risk", d.max_position_usd),
        max_daily_loss_usd=get_float(table, "max_daily_loss_usd", "risk", d.max_daily_loss_usd),
        stale_market_data_ms=get_float(table, "stale_market_data_ms", "risk",
                                       d.stale_market_data_ms),
        circuit_breaker=cb, backoff=backoff,
        hardware=_parse_hardware(need_table(table.get("hardware", {}), "risk.hardware")))


def _parse_hardware(table: Mapping) -> Limits:
    toml_keys = {_toml_key(name): name for name in _HARDWARE_FIELDS}
    if "max_rejects" in table:
        raise ConfigError(None, "risk.hardware.max_rejects", "inconsistent",
                          "set risk.max_consecutive_rejects; the kill switch takes it from there")
    reject_unknown(table, toml_keys, "risk.hardware")
    values = {}
    for key, name in toml_keys.items():
        values[name] = get_int(table, key, "risk.hardware", getattr(DEFAULT_HARDWARE, name),
                               low=0, high=(1 << LIMIT_BITS[name]) - 1)
    try:
        return Limits(**values)
    except KillSwitchError as exc:  # unreachable after the bounds above, kept as a guard
        raise ConfigError(None, "risk.hardware", "out_of_range", str(exc)) from None


def _toml_key(field_name: str) -> str:
    for key, name in _HARDWARE_KEYS.items():
        if name == field_name:
            return key
    return field_name


SETTING_DOCS: dict[str, str] = {
    "max_consecutive_rejects": "Venue rejects in a row that halt (an ack ends the run). Also "
                               "the kill switch's `max_rejects`.",
    "reject_kill_ignores": "Reject codes that neither count towards nor end the run.",
    "pnl_kill_drawdown_usd": "Halt when realised + unrealised PnL falls this far below its "
                             "high-water mark (since start or the last resume).",
    "max_position_usd": "Per market, at the mark. An order that would pass it is denied; a "
                        "position over it puts the engine in `reducing`.",
    "max_daily_loss_usd": "Halt (and notify) when the UTC day's realised + unrealised loss "
                          "exceeds this.",
    "stale_market_data_ms": "Deny orders whose market data (venue `ts_ns`) is older than this "
                            "by the local wall clock.",
    "circuit_breaker.max_orders_per_s": "Orders in any 1 s window before the breaker engages.",
    "circuit_breaker.throttled_orders_per_s": "The per-second limit while it cools off.",
    "circuit_breaker.cool_off_s": "Seconds without a refused order before the full rate "
                                  "returns.",
    "backoff.base_s": "First backoff after a rate-limit refusal; doubles per refusal in a row.",
    "backoff.cap_s": "Longest backoff (a longer `Retry-After` wins).",
    "hardware.*": "The kill switch's limits (table below); times in ns, `rate_window_ns` and "
                  "`heartbeat_timeout_ns`.",
}
"""Each `[risk]` key, for docs/risk-engine.md."""
