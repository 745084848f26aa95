"""The full design's reference, and the traffic its bench sends: sans-I/O, no cocotb.

`SystemModel` is host/model wired as hdl/trading_system.py wires the gateware: the header
filter, the pipeline (parser, book, trigger) and the kill switch, with the register values
the host reads named as the register map names them. Its time is a step counter: the bench
only changes the switch's state while the design is quiet, so each host action and each
pipeline event is a step of its own, in the order the design sees them (on the 8-bit
datapath two book changes are at least 16 cycles apart, so an intent always reaches the gate
before the next tick's book change). The watchdog is modelled in those steps too: the bench
heartbeats while traffic runs, and `starve()` stands for the silence that trips it.

`Traffic` makes Ethernet frames: consistent random market data (sim/book_stream.py) with
lost, duplicated and malformed payloads, damaged frames, and frames of every kind the header
filter must refuse (sim/frame_mix.py).
"""

from __future__ import annotations

import random
from dataclasses import replace

from host.model.events import BookTop
from host.model.frame_filter import FilterConfig, FrameFilter
from host.model.kill_switch import ALL_REASONS, KillSwitch, Limits, OrderSource
from host.model.pipeline import Pipeline, PipelineConfig
from host.model.trigger import Rule, RuleKind
from host.wire import PACKET_HEADER_SIZE, OrderIntent, build_frame
from sim.book_stream import BookStream
from sim.frame_mix import FrameMix, feed_payloads
from sim.sample_feed import FEED_IP, FEED_PORT, GROUP_IP, NIC_MAC, VENUE_MAC

FEED_MARKETS = 32  # markets the random book stream quotes (the sample feed adds its own)
MAX_RULE_QTY = 9


def random_rules(rng: random.Random, count: int) -> list[tuple[int, Rule]]:
    """Rules on `count` distinct markets of the stream: arbitrage from an even market to its
    odd partner (which the stream makes lag it), or limits around an odd market's mid."""
    rules = []
    for market in rng.sample(range(FEED_MARKETS), count):
        mid = 100_000 + 1000 * (market // 2)
        if market % 2 == 0 and rng.random() < 0.7:
            rule = Rule(RuleKind.ARBITRAGE, target=market + 1, threshold_bp=rng.randint(0, 1),
                        qty=rng.randint(1, MAX_RULE_QTY))
        else:  # the quotes sit 1 to 12 ticks from the mid: these levels are crossed often
            rule = Rule(RuleKind.LIMIT, buy_below=mid + rng.randint(2, 8),
                        sell_above=mid - rng.randint(2, 8), qty=rng.randint(1, MAX_RULE_QTY))
        rules.append((market, rule))
    return rules


class Traffic:
    """Frames for the design's Ethernet input, drawn from one seed."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.stream = BookStream(markets=FEED_MARKETS, seed=rng.getrandbits(32), faults=True,
                                 paired=True)
        self.mix = FrameMix(rng, feed_payloads(40))

    def frames(self, packets: int, *, max_messages: int = 8) -> list[bytes]:
        rng = self.rng
        out = []
        for payload in self.stream.packets(packets, max_messages=max_messages):
            if rng.random() < 0.04:
                payload = payload[:rng.randrange(len(payload))]  # truncated anywhere
            elif rng.random() < 0.03:  # the first message's template id: unknown
                at = PACKET_HEADER_SIZE + 2
                payload = payload[:at] + bytes([rng.choice((0, 6, 63, 255))]) + payload[at + 1:]
            vlan = rng.getrandbits(12) if rng.random() < 0.2 else None
            out.append(build_frame(payload, dst_mac=NIC_MAC, src_mac=VENUE_MAC, src_ip=FEED_IP,
                                   dst_ip=GROUP_IP, src_port=FEED_PORT, dst_port=FEED_PORT,
                                   vlan_id=vlan, identification=rng.getrandbits(16)))
            if rng.random() < 0.1:
                out.append(self.mix.frame()[1])  # damaged, foreign or garbage
        return out


class SystemModel:
    def __init__(self, *, dst_ip: int, dst_port: int, client_order_id_base: int,
                 depth: int = 4):
        self.filter = FrameFilter(FilterConfig(dst_ip=dst_ip, dst_port=dst_port))
        self.pipeline = Pipeline(PipelineConfig(depth=depth,
                                                client_order_id_base=client_order_id_base))
        self.switch = KillSwitch()
        self.now = 0
        self.alive = False  # heartbeats are flowing: the watchdog is fed every step
        self.intents = 0    # every intent the trigger emitted, passed or not

    def _step(self) -> int:
        self.now += 1
        if self.alive:
            self.switch.heartbeat(self.now)
        return self.now

    # -- what the host does --------------------------------------------------------------------

    def write_rule(self, market: int, rule: Rule) -> None:
        self.pipeline.trigger.write_rule(market, rule)

    def configure(self, limits: Limits) -> None:
        self.switch.configure(limits, self._step())

    def arm_steps(self, first: int, second: int) -> bool:
        self.switch.arm(first, self._step())
        return self.switch.arm(second, self._step())

    def arm(self, nonce: int) -> bool:
        """The host driver's arm: clear every reason, then the nonce and its complement."""
        self.switch.clear(int(ALL_REASONS), self._step())
        return self.arm_steps(nonce, ~nonce & 0xFFFF_FFFF)

    def kill_pin(self, high: bool) -> None:
        self.switch.kill_pin(high, self._step())

    def host_order(self, order: OrderIntent) -> bool:
        return self.switch.order(order, OrderSource.HOST, self._step()).passed

    def starve(self) -> None:
        """No heartbeat for longer than the timeout."""
        self.alive = False
        self.now += self.switch.limits.heartbeat_timeout + 2
        self.switch.snapshot(self.now)

    # -- what the wire does --------------------------------------------------------------------

    def frames(self, frames: list[bytes]) -> list[OrderIntent]:
        """The intents that leave the gate for these frames, in order."""
        out = []
        for frame in frames:
            payload = self.filter.feed(frame).payload
            if payload is None:
                continue
            for event in self.pipeline.payload(payload):
                if isinstance(event, BookTop):
                    self.switch.book_top(event.market,
                                         event.bid_price if event.bid_valid else None,
                                         event.ask_price if event.ask_valid else None,
                                         self._step())
                elif isinstance(event, OrderIntent):
                    self.intents += 1
                    if self.switch.order(event, OrderSource.PIPELINE, self._step()).passed:
                        out.append(event)
        return out

    # -- what the registers read ---------------------------------------------------------------

    def counters(self) -> dict[str, int]:
        """Every pipeline counter register, by register name."""
        stages = {"filter": self.filter.counters, "parser": self.pipeline.parser.counters,
                  "book": self.pipeline.book.counters, "trigger": self.pipeline.trigger.counters}
        return {f"{stage}_{name}": value for stage, counters in stages.items()
                for name, value in counters.items()}

    def top(self, market: int) -> BookTop:
        return self.pipeline.book.books[market].top(market)

    def status(self) -> dict:
        s = self.switch.snapshot(self.now + 1)
        return {"armed": s.armed, "reason_bits": int(s.reasons), "passed": s.passed,
                "dropped_pipeline": s.dropped_pipeline, "dropped_host": s.dropped_host,
                "arm_failures": s.arm_failures}


def with_limits(limits: Limits, **changes: int) -> Limits:
    return replace(limits, **changes)
