"""The built-in sample: a small, deterministic colo-feed capture as Ethernet frames.

Four markets random-walk around their own prices. The capture holds every message type, a
halt and resume, one lost packet (a sequence gap), VLAN-tagged frames, and a handful of
malformed frames of each kind a receiver must reject.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from host import wire
from host.wire import AggressorSide, BookAction, Side, TradingStatus

MARKETS = {0: ("BTC-PERP", 6_000_000), 1: ("ETH-PERP", 260_000), 2: ("SOL-PERP", 15_000),
           3: ("BTC-SPOT", 6_000_100)}
FEED_IP, GROUP_IP, FEED_PORT = 0x0A000001, 0xEF010101, 31_337
VENUE_MAC, NIC_MAC = 0x02_00_00_00_00_01, 0x01_00_5E_01_01_01
SESSION = 20261124


@dataclass
class _Market:
    mid: int
    rpt_seq: int = 0


def _frame(payload: bytes, ident: int, vlan: int | None = None) -> bytes:
    return wire.build_frame(payload, dst_mac=NIC_MAC, src_mac=VENUE_MAC, src_ip=FEED_IP,
                            dst_ip=GROUP_IP, src_port=FEED_PORT, dst_port=FEED_PORT,
                            vlan_id=vlan, identification=ident & 0xFFFF)


def _messages(rng: random.Random, books: dict[int, _Market], halted: set[int]) -> list:
    out = []
    for _ in range(rng.randint(1, 12)):
        market_id = rng.choice(list(books))
        m = books[market_id]
        m.rpt_seq += 1
        if market_id in halted:
            halted.discard(market_id)
            out.append(wire.MarketStatus(flags=1, market_id=market_id, rpt_seq=m.rpt_seq,
                                         status=TradingStatus.TRADING, reason=0))
            continue
        m.mid += rng.choice((-1, 0, 0, 1))
        kind = rng.random()
        if kind < 0.6:
            side = rng.choice((Side.BID, Side.ASK))
            level = rng.randint(0, 4)
            price = m.mid - 1 - level if side == Side.BID else m.mid + 1 + level
            out.append(wire.BookLevel(flags=1, market_id=market_id, side=side,
                                      action=rng.choice(list(BookAction)), rpt_seq=m.rpt_seq,
                                      level=level, order_count=rng.randint(1, 9), price=price,
                                      qty=rng.randint(1, 500)))
        elif kind < 0.8:
            out.append(wire.Trade(flags=1, market_id=market_id, rpt_seq=m.rpt_seq,
                                  aggressor=rng.choice(list(AggressorSide)),
                                  trade_id=rng.getrandbits(32), price=m.mid,
                                  qty=rng.randint(1, 50)))
        else:
            out.append(wire.BestBidOffer(flags=1, market_id=market_id, rpt_seq=m.rpt_seq,
                                         bid_price=m.mid - 1, bid_qty=rng.randint(1, 900),
                                         ask_price=m.mid + 1, ask_qty=rng.randint(1, 900)))
    return out


def _malformed(good: bytes) -> list[tuple[str, bytes]]:
    """One payload or frame per kind of damage, derived from a good packet."""
    header = wire.PACKET_HEADER_SIZE
    lying = bytearray(good)
    lying[header:header + 2] = (200).to_bytes(2, "little")
    unknown = bytearray(good)
    unknown[header + 2] = 99
    miscounted = bytearray(good)
    miscounted[4:6] = (int.from_bytes(good[4:6], "little") + 1).to_bytes(2, "little")
    bad_checksum = bytearray(_frame(good, 0))
    bad_checksum[14 + 10] ^= 0xFF
    return [("truncated", _frame(good[:header + 5], 0)),
            ("lying length", _frame(bytes(lying), 0)),
            ("unknown template", _frame(bytes(unknown), 0)),
            ("count mismatch", _frame(bytes(miscounted), 0)),
            ("bad IPv4 checksum", bytes(bad_checksum)),
            ("runt", _frame(good, 0)[:40])]


def sample_frames(packets: int = 2000, seed: int = 7) -> list[bytes]:
    """The sample capture, as a list of Ethernet frames (FCS excluded)."""
    rng = random.Random(seed)
    books = {i: _Market(mid) for i, (_, mid) in MARKETS.items()}
    halted: set[int] = set()
    frames, sequence = [], 1
    lost = packets // 3
    for n in range(packets):
        if n == packets // 2:
            market_id = 1
            books[market_id].rpt_seq += 1
            halted.add(market_id)
            messages = [wire.MarketStatus(flags=1, market_id=market_id,
                                          rpt_seq=books[market_id].rpt_seq,
                                          status=TradingStatus.HALTED, reason=7)]
        elif n % 50 == 49:
            messages = [wire.Heartbeat(flags=0)]
        else:
            messages = _messages(rng, books, halted)
        payload = wire.encode_packet(messages, session=SESSION, sequence=sequence,
                                     send_time=1_790_000_000_000_000_000 + n * 25_000)
        sequence += len(messages)
        if n == lost:
            continue  # lost in the network: the receiver sees a gap
        frames.append(_frame(payload, n, vlan=100 if n % 7 == 0 else None))
        if n == packets // 4:
            frames.extend(frame for _, frame in _malformed(payload))
    return frames
