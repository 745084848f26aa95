"""Which strategies the trigger stage runs, and the rules that express them. Sans-I/O.

The trigger (the gateware's, or its model on the software path) has one rule slot per market
and compares raw ticks. A latency arbitrage becomes an ARBITRAGE rule in its primary's slot
when all of these hold; otherwise it stays a host strategy reading the WebSocket books, and
the plan says why:
- the daemon has a colo feed to run the trigger on (`no_colo_feed`);
- its two markets share one tick size, so raw ticks compare exactly (`tick_grids_differ`);
- it sends IOC orders at the touch, which is what an intent carries (`market_orders`);
- no earlier arbitrage holds its primary's slot (`rule_slot_taken`).
Anything else (the market maker) is not a trigger rule at all (`not_a_trigger_rule`).

The rule's quantity is fixed in the gateware, so it is set from the secondary's mid when the
rules are written: `order_size_usd` at that price, at least one lot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from host.model.trigger import Rule, RuleKind
from host.strategy.config import LatencyArbConfig


@dataclass(frozen=True)
class OffloadedArb:
    strategy: str
    primary: str
    secondary: str
    primary_id: int
    secondary_id: int
    threshold_bp: int
    order_size_usd: float
    notional_unit: float      # USDC of one tick times one lot of the secondary

    def rule(self, secondary_mid_ticks: float) -> Rule:
        qty = max(1, int(self.order_size_usd / (secondary_mid_ticks * self.notional_unit)))
        return Rule(RuleKind.ARBITRAGE, target=self.secondary_id,
                    threshold_bp=self.threshold_bp, qty=qty)


@dataclass(frozen=True)
class OffloadPlan:
    arbs: tuple[OffloadedArb, ...] = ()
    kept: dict[str, str] = field(default_factory=dict)  # strategy -> why it stays on the host

    @property
    def strategies(self) -> frozenset[str]:
        return frozenset(a.strategy for a in self.arbs)

    @property
    def market_ids(self) -> frozenset[int]:
        return frozenset(i for a in self.arbs for i in (a.primary_id, a.secondary_id))

    def by_slot(self, primary_id: int) -> OffloadedArb | None:
        for arb in self.arbs:
            if arb.primary_id == primary_id:
                return arb
        return None

    def describe(self) -> list[str]:
        lines = [f"{a.strategy}: trigger rule in slot {a.primary_id} ({a.primary} -> "
                 f"{a.secondary}, {a.threshold_bp} bp)" for a in self.arbs]
        lines += [f"{name}: host strategy ({why})" for name, why in sorted(self.kept.items())]
        return lines


def plan_offload(strategies, markets, *, has_feed: bool) -> OffloadPlan:
    arbs: list[OffloadedArb] = []
    kept: dict[str, str] = {}
    slots: set[int] = set()
    for config in strategies:
        if not isinstance(config, LatencyArbConfig):
            kept[config.name] = "not_a_trigger_rule"
            continue
        primary, secondary = markets[config.primary], markets[config.secondary]
        if not has_feed:
            kept[config.name] = "no_colo_feed"
        elif Decimal(primary.tick_size) != Decimal(secondary.tick_size):
            kept[config.name] = "tick_grids_differ"
        elif config.order_type != "ioc":
            kept[config.name] = "market_orders"
        elif primary.market_id in slots:
            kept[config.name] = "rule_slot_taken"
        else:
            slots.add(primary.market_id)
            arbs.append(OffloadedArb(config.name, primary.name, secondary.name,
                                     primary.market_id, secondary.market_id,
                                     config.min_spread_bp, config.order_size_usd,
                                     secondary.notional_unit))
    return OffloadPlan(tuple(arbs), kept)
