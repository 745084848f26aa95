"""The software path: the trigger's model (host.model.fast_pipeline, proven equal to the
gateware's reference model) on the colo feed. Sans-I/O.

It runs in every FPGA mode, since its tops are what the gateware's are mirrored against.
It is `live` when its intents are traded: with `--fpga none` from the start, and after a
failover from the FPGA. While the FPGA trades, its intents are only counted (`shadow`), as a
hot standby that holds the same rules and books.
"""

from __future__ import annotations

from host.model.events import BookTop
from host.model.fast_pipeline import FastPipeline
from host.model.pipeline import PipelineConfig
from host.model.trigger import Rule
from host.wire import OrderIntent


class FeedPath:
    def __init__(self, mirror=None, *, live: bool = False, client_order_id_base: int = 0):
        self.pipeline = FastPipeline(PipelineConfig(client_order_id_base=client_order_id_base))
        self.mirror = mirror
        self.live = live
        self.rules: dict[int, Rule] = {}
        self.counters = {"payloads": 0, "intents_traded": 0, "intents_shadow": 0, "gaps": 0}

    def write_rule(self, slot: int, rule: Rule) -> None:
        self.pipeline.write_rule(slot, rule)
        self.rules[slot] = rule

    def top(self, market: int) -> BookTop:
        return self.pipeline.top(market)

    def on_payload(self, payload: bytes) -> list[OrderIntent]:
        """One colo-feed datagram; the intents to trade (none unless live)."""
        self.counters["payloads"] += 1
        intents: list[OrderIntent] = []
        record = self.mirror.record if self.mirror is not None else None
        for event in self.pipeline.payload(payload):
            if type(event) is BookTop:
                if record is not None:
                    record(event)
            elif type(event) is OrderIntent:
                intents.append(event)
            else:
                self.counters["gaps"] += 1
        if not intents:
            return intents
        if self.live:
            self.counters["intents_traded"] += len(intents)
            return intents
        self.counters["intents_shadow"] += len(intents)
        return []
