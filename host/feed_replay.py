"""Replays captured colo-feed frames through the software receive path and tallies what it
saw: messages by type, packet and per-market sequence gaps, rejected frames by reason, and
each market's last best bid/offer.

Sans-I/O: `FeedTally.on_frame` takes bytes and updates counters; the caller owns the input.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from host import wire


@dataclass
class FeedTally:
    frames: int = 0
    packets: int = 0
    messages: Counter = field(default_factory=Counter)
    rejected: Counter = field(default_factory=Counter)
    packet_gaps: int = 0
    market_gaps: Counter = field(default_factory=Counter)
    status: dict[int, int] = field(default_factory=dict)
    last_bbo: dict[int, object] = field(default_factory=dict)
    traded_lots: Counter = field(default_factory=Counter)
    _next_sequence: int | None = None
    _rpt_seq: dict[int, int] = field(default_factory=dict)

    def on_frame(self, frame: bytes) -> None:
        self.frames += 1
        try:
            packet = wire.decode_packet(wire.parse_frame(frame).payload)
        except wire.WireError as exc:
            # The whole packet is refused, so nothing from a damaged packet is applied.
            self.rejected[exc.reason] += 1
            return
        self.packets += 1
        header = packet.header
        if self._next_sequence is not None and header.sequence > self._next_sequence:
            self.packet_gaps += 1
        if self._next_sequence is not None and header.sequence < self._next_sequence:
            self.rejected["duplicate"] += 1
            return
        self._next_sequence = header.sequence + header.msg_count
        for message in packet.messages:
            self._on_message(message)

    def _on_message(self, message) -> None:
        name = type(message).__name__
        self.messages[name] += 1
        market_id = getattr(message, "market_id", None)
        if market_id is None:
            return
        expected = self._rpt_seq.get(market_id, message.rpt_seq - 1) + 1
        if message.rpt_seq != expected:
            self.market_gaps[market_id] += 1
        self._rpt_seq[market_id] = message.rpt_seq
        if name == "BestBidOffer":
            self.last_bbo[market_id] = message
        elif name == "Trade":
            self.traded_lots[market_id] += message.qty
        elif name == "MarketStatus":
            self.status[market_id] = message.status


def replay(frames: list[bytes]) -> tuple[FeedTally, float]:
    """Tally every frame; returns the tally and the wall time it took, in seconds."""
    tally = FeedTally()
    start = time.perf_counter()
    for frame in frames:
        tally.on_frame(frame)
    return tally, time.perf_counter() - start
