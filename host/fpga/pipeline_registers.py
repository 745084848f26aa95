"""The pipeline's registers through the FPGA interface: trigger rules, the header filter's
destination, the counters and the top of book of one market. Register names and meanings
are host/fpga/registers.py's; the values are host/model's types."""

from __future__ import annotations

from host.fpga.interface import FpgaInterface
from host.fpga.registers import REGISTERS
from host.model.events import BookTop
from host.model.trigger import Rule, check_rule

COUNTER_GROUPS = ("filter", "parser", "book", "trigger")
COUNTER_VALUES = tuple(v.name for g in REGISTERS.groups if g.name in COUNTER_GROUPS
                       for v in g.values)
TOP_VALUES = ("tob_valid", "tob_bid_price", "tob_bid_qty", "tob_ask_price", "tob_ask_qty")


def write_rule(fpga: FpgaInterface, market: int, rule: Rule) -> None:
    """Stage every field of `rule`, then commit it into slot `market` (the rule's edge state
    starts afresh, as host.model.trigger.Trigger.write_rule's does)."""
    check_rule(rule)
    fpga.write_many({
        "rule_index": market, "rule_kind": int(rule.kind), "rule_target": rule.target,
        "rule_threshold_bp": rule.threshold_bp, "rule_buy_below": rule.buy_below,
        "rule_sell_above": rule.sell_above, "rule_qty": rule.qty})
    fpga.write("rule_commit", 0)


def set_filter(fpga: FpgaInterface, dst_ip: int, dst_port: int) -> None:
    """Accept only datagrams to `dst_ip`:`dst_port` (zero: any)."""
    fpga.write_many({"filter_dst_ip": dst_ip, "filter_dst_port": dst_port})


def read_counters(fpga: FpgaInterface) -> dict[str, int]:
    """Every filter, parser, book and trigger counter, by register name."""
    return fpga.read_many(COUNTER_VALUES)


def read_top(fpga: FpgaInterface, market: int) -> BookTop:
    """The gateware's top of book of `market` (an empty side reads as not valid, zeros)."""
    fpga.write("tob_index", market)
    v = fpga.read_many(TOP_VALUES)
    return BookTop(market, bool(v["tob_valid"] & 1), v["tob_bid_price"], v["tob_bid_qty"],
                   bool(v["tob_valid"] & 2), v["tob_ask_price"], v["tob_ask_qty"])
