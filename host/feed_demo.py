"""`tickwire feed-demo`: replay the built-in sample capture through the software receive
path and print what it saw. (`tickwire demo` trades against the local venue instead.)
"""

from __future__ import annotations

import time

from host import wire
from host.feed_replay import replay
from sim.sample_feed import MARKETS, sample_frames


def run(packets: int = 2000) -> int:
    frames = sample_frames(packets)
    tally, seconds = replay(frames)
    total = sum(tally.messages.values())
    print(f"tickwire feed-demo: replayed the built-in sample, {tally.frames} frames "
          f"({packets} packets sent, 1 lost on purpose, malformed frames mixed in)")
    print(f"  packets decoded  {tally.packets}")
    print(f"  messages         {total}: " + ", ".join(
        f"{name} {n}" for name, n in sorted(tally.messages.items())))
    print(f"  packet gaps      {tally.packet_gaps}; per-market rpt_seq gaps "
          f"{dict(sorted(tally.market_gaps.items()))}")
    print("  rejected frames  " + ", ".join(
        f"{reason} {n}" for reason, n in sorted(tally.rejected.items())))
    print("  markets:")
    for market_id, (name, _) in MARKETS.items():
        bbo = tally.last_bbo.get(market_id)
        quote = (f"bid {bbo.bid_qty} @ {bbo.bid_price}  ask {bbo.ask_qty} @ {bbo.ask_price}"
                 if bbo else "no quote")
        status = wire.TradingStatus(tally.status.get(market_id, wire.TradingStatus.TRADING))
        print(f"    {market_id} {name:<9} {status.name:<8} {quote}  traded "
              f"{tally.traded_lots[market_id]} lots")
    print(f"  streamed decode  {seconds / max(total, 1) * 1e6:.2f} us per message "
          f"(frame parse + packet decode + tally, pure Python)")
    payloads = [wire.parse_frame(f).payload for f in frames if _decodes(f)]
    start = time.perf_counter()
    batch = wire.decode_batch(payloads)
    elapsed = time.perf_counter() - start
    batched = len(batch)
    streamed_rate = total / seconds
    print(f"  batch decode     {batched} messages in {elapsed * 1e3:.1f} ms = "
          f"{batched / elapsed / 1e6:.2f} M messages/s (numpy, {len(payloads)} packets), "
          f"{batched / elapsed / streamed_rate:.1f}x the streamed path")
    return 0


def _decodes(frame: bytes) -> bool:
    try:
        wire.decode_packet(wire.parse_frame(frame).payload)
    except wire.WireError:
        return False
    return True
