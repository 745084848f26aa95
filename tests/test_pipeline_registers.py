"""host/fpga/pipeline_registers.py against the `none` backend's register file: each helper
writes and reads the registers the map names for it."""

import pytest

from host.fpga.interface import open_fpga
from host.fpga.pipeline_registers import (
    COUNTER_VALUES,
    read_counters,
    read_top,
    set_filter,
    write_rule,
)
from host.model.counters import PIPELINE_COUNTERS
from host.model.events import BookTop
from host.model.frame_filter import COUNTERS as FILTER_COUNTERS
from host.model.trigger import Rule, RuleKind


def test_a_rule_is_staged_whole_then_committed():
    with open_fpga("none") as fpga:
        written = []
        fpga.backend.bank.on_pulse = lambda name, value: written.append(
            (name, fpga.read_many(["rule_index", "rule_kind", "rule_target",
                                   "rule_threshold_bp", "rule_buy_below", "rule_sell_above",
                                   "rule_qty"])))
        write_rule(fpga, 7, Rule(RuleKind.LIMIT, buy_below=-5, sell_above=1 << 30, qty=3))
        assert written == [("rule_commit", {
            "rule_index": 7, "rule_kind": 2, "rule_target": 0, "rule_threshold_bp": 8,
            "rule_buy_below": -5, "rule_sell_above": 1 << 30, "rule_qty": 3})]


def test_a_rule_outside_the_gateware_ranges_is_refused_before_any_write():
    with open_fpga("none") as fpga:
        with pytest.raises(ValueError, match="target"):
            write_rule(fpga, 1, Rule(RuleKind.ARBITRAGE, target=256))
        assert fpga.read("rule_index") == 0


def test_filter_counters_and_top_of_book_by_name():
    with open_fpga("none") as fpga:
        set_filter(fpga, 0xEF010101, 31337)
        assert fpga.read_many(["filter_dst_ip", "filter_dst_port"]) == {
            "filter_dst_ip": 0xEF010101, "filter_dst_port": 31337}
        assert set(read_counters(fpga)) == set(COUNTER_VALUES)
        assert len(COUNTER_VALUES) == len(FILTER_COUNTERS) + len(PIPELINE_COUNTERS)
        assert read_top(fpga, 200) == BookTop(200, False, 0, 0, False, 0, 0)
        assert fpga.read("tob_index") == 200
