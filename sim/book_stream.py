"""Consistent random market data: full books per market, published as MDP3-style level diffs.

Each market keeps a true full-depth book. After every change the top `published_depth` levels
of the changed side are diffed against what was published before, and the diff goes out as
BookLevel messages (deletes first, then one NEW or CHANGE per level, top down), followed by a
BestBidOffer when the best bid or ask moved. Applying the messages in order to the previously
published levels gives the new ones exactly, which is what the venue's feed promises too.

`faults` turns on the damage a receiver must survive: lost packets (sequence and rpt_seq
gaps), duplicated packets and out-of-range values.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from host import wire
from host.wire import BookAction, Side, TradingStatus

Level = tuple[int, int]  # (price, qty)


def diff_levels(old: list[Level], new: list[Level]) -> list[tuple[BookAction, int, Level]]:
    """(action, level, (price, qty)) messages turning `old` into `new`, both best first."""
    ops: list[tuple[BookAction, int, Level]] = []
    keep = {p for p, _ in new}
    work = list(old)
    i = 0
    while i < len(work):
        if work[i][0] not in keep:
            ops.append((BookAction.DELETE, i, work[i]))
            del work[i]
        else:
            i += 1
    for i, level in enumerate(new):
        if i < len(work) and work[i][0] == level[0]:
            if work[i][1] != level[1]:
                ops.append((BookAction.CHANGE, i, level))
                work[i] = level
        else:
            ops.append((BookAction.NEW, i, level))
            work.insert(i, level)
    assert work == new, (work, new)
    return ops


@dataclass
class MarketState:
    market_id: int
    mid: int
    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)
    published: dict[Side, list[Level]] = field(default_factory=dict)
    rpt_seq: int = 0
    halted: bool = False

    def levels(self, side: Side, depth: int) -> list[Level]:
        book = self.bids if side == Side.BID else self.asks
        prices = sorted(book, reverse=side == Side.BID)[:depth]
        return [(p, book[p]) for p in prices]

    def best(self) -> tuple[Level | None, Level | None]:
        bid = max(self.bids) if self.bids else None
        ask = min(self.asks) if self.asks else None
        return ((bid, self.bids[bid]) if bid is not None else None,
                (ask, self.asks[ask]) if ask is not None else None)


class BookStream:
    """Deterministic packets of consistent market data for `markets` markets."""

    def __init__(self, markets: int = 256, published_depth: int = 6, seed: int = 1,
                 session: int = 7, faults: bool = False, bbo: bool = True,
                 spread: int = 12, paired: bool = False) -> None:
        self.rng = random.Random(seed)
        self.depth = published_depth
        self.session = session
        self.faults = faults
        self.bbo = bbo
        self.spread = spread
        # Paired, each odd market shadows the even one before it with a lag, as a perp lags
        # its spot market: their mids diverge and converge, so arbitrage rules fire and reset.
        self.paired = paired
        self.markets = [MarketState(m, 100_000 + 1000 * (m // 2 if paired else m))
                        for m in range(markets)]
        for m in self.markets:
            m.published = {Side.BID: [], Side.ASK: []}
        self.sequence = 1

    def _next(self, m: MarketState) -> int:
        m.rpt_seq += 1
        return m.rpt_seq

    def event(self, m: MarketState) -> list:
        """The messages of one venue event on market m."""
        rng = self.rng
        out: list = []
        if rng.random() < 0.01:
            m.halted = not m.halted
            status = TradingStatus.HALTED if m.halted else TradingStatus.TRADING
            out.append(wire.MarketStatus(flags=0, market_id=m.market_id, status=status,
                                         reason=0, rpt_seq=self._next(m)))
        elif rng.random() < 0.1:
            out.append(wire.Trade(flags=0, market_id=m.market_id, aggressor=rng.randint(0, 2),
                                  rpt_seq=self._next(m), trade_id=rng.getrandbits(32),
                                  price=m.mid, qty=rng.randint(1, 50)))
        else:
            before = m.best()
            self._mutate(m)
            for side in (Side.BID, Side.ASK):
                new = m.levels(side, self.depth)
                for action, level, (price, qty) in diff_levels(m.published[side], new):
                    out.append(wire.BookLevel(
                        flags=0, market_id=m.market_id, side=side, action=action,
                        rpt_seq=self._next(m), level=level, order_count=1, price=price,
                        qty=qty if action != BookAction.DELETE else 0))
                m.published[side] = new
            after = m.best()
            if self.bbo and after != before:
                bid, ask = after
                out.append(wire.BestBidOffer(
                    flags=0, market_id=m.market_id, rpt_seq=self._next(m),
                    bid_price=bid[0] if bid else 0, bid_qty=bid[1] if bid else 0,
                    ask_price=ask[0] if ask else 0, ask_qty=ask[1] if ask else 0))
        if out:
            out[-1] = out[-1]._replace(flags=int(wire.MessageFlags.END_OF_EVENT))
        return out

    def _mutate(self, m: MarketState) -> None:
        rng = self.rng
        if self.paired and m.market_id % 2:
            lead = self.markets[m.market_id - 1].mid
            m.mid += max(-3, min(3, lead - m.mid)) + rng.choice((-1, 0, 1))
        else:
            m.mid += rng.choice((-2, -1, 0, 0, 1, 2))
        for _ in range(rng.randint(1, 3)):
            side = rng.choice((Side.BID, Side.ASK))
            book = m.bids if side == Side.BID else m.asks
            offset = rng.randint(1, self.spread)
            price = m.mid - offset if side == Side.BID else m.mid + offset
            if price in book and rng.random() < 0.4:
                del book[price]
            else:
                book[price] = rng.randint(1, 1000)
        # The true book never crosses: trim levels that the mid has run through.
        for p in [p for p in m.bids if p >= m.mid]:
            del m.bids[p]
        for p in [p for p in m.asks if p <= m.mid]:
            del m.asks[p]

    def packet(self, max_messages: int = 40, send_time: int = 0) -> bytes:
        """One UDP payload holding whole events, sequence-numbered."""
        messages: list = []
        while len(messages) < self.rng.randint(1, max_messages):
            messages.extend(self.event(self.rng.choice(self.markets)))
        if self.faults and self.rng.random() < 0.02:
            i = self.rng.randrange(len(messages))
            if hasattr(messages[i], "qty"):
                messages[i] = messages[i]._replace(qty=1 << 40)  # out of the gateware's range
        payload = wire.encode_packet(messages, session=self.session, sequence=self.sequence,
                                     send_time=send_time)
        self.sequence += len(messages)
        return payload

    def packets(self, count: int, max_messages: int = 40) -> list[bytes]:
        """`count` payloads; with faults, some are lost and some are sent twice."""
        out: list[bytes] = []
        for n in range(count):
            payload = self.packet(max_messages, send_time=n)
            if self.faults and self.rng.random() < 0.02:
                continue
            out.append(payload)
            if self.faults and self.rng.random() < 0.02:
                out.append(payload)
        return out
