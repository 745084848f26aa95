"""What the risk engine returns: verdicts on orders, events for the journal, its status.

The verdicts and events are frozen msgspec Structs, not frozen dataclasses: a denial builds
one on the tick-to-order path (a halted engine denies every quote), and a Struct is built in C,
several times faster. They stay immutable and equal by value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import msgspec

from host.risk.reasons import DenyReason, EventKind, RiskState
from host.strategy.actions import StrategyAction


class RiskEvent(msgspec.Struct, frozen=True):
    """A trip or state change. `actions` are what the daemon must do about it (CancelAll on a
    halt); `notify` asks for a human's attention beyond the journal."""

    kind: EventKind
    reason: str
    detail: dict
    now_ns: int
    actions: tuple[StrategyAction, ...] = ()
    notify: bool = False


class Allow(msgspec.Struct, frozen=True):
    events: tuple[RiskEvent, ...] = ()

    allowed = True


class Deny(msgspec.Struct, frozen=True):
    reason: DenyReason
    detail: str
    events: tuple[RiskEvent, ...] = ()

    allowed = False


ALLOW = Allow()


@dataclass(frozen=True)
class RiskStatus:
    state: RiskState
    halt_reasons: tuple[str, ...]          # the trips holding the engine halted
    reducing_markets: tuple[str, ...]      # markets over max_position_usd
    throttled: bool
    backoff_until_ns: int                  # 0 when not backing off
    consecutive_rejects: int
    realized_usd: float
    unrealized_usd: float
    daily_pnl_usd: float
    drawdown_usd: float
    positions: dict[str, int]              # signed lots per market, from the fills seen
    checks: int
    allowed: int
    denied: dict[str, int] = field(default_factory=dict)  # DenyReason value -> count
    trips: dict[str, int] = field(default_factory=dict)   # Trip value -> count

    def as_dict(self) -> dict:
        """Plain JSON-ready values, for `tickwire status` and the control socket."""
        out = {name: getattr(self, name) for name in self.__dataclass_fields__}
        out["state"] = str(self.state)
        out["halt_reasons"] = list(self.halt_reasons)
        out["reducing_markets"] = list(self.reducing_markets)
        return out
