"""`tickwire bench client-decode`: what one venue frame costs the client, per message type.

Frames are recorded from the real local venue first (synthetic markets, our own crossing
orders for acks and fills), then replayed in process through:

- `orjson.loads` alone: the floor any JSON client pays;
- the seed's way: stdlib `json.loads` and `float()` of every number (a reference);
- `Decoder.decode`: orjson, integer ticks and lots, a typed event (what the codec does);
- `Session.receive`: decode, the L2 book and top of book, the actions (the whole hot path
  before the daemon's callback).

Timing: perf_counter_ns around each call, gc frozen and off, one warm-up pass, then
`--rounds` passes pooled. The figures are this machine's, under whatever else it runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json

import orjson

from host.bench.stats import Summary, quiet_gc, table, time_each
from host.venue_client.codec import Decoder
from host.venue_client.markets import MarketTable
from host.venue_client.session import Session, Subscription

KINDS = ("ticker", "book_update", "order_ack", "fill")
HOT_BOOKS = ("BTC-PERP", "ETH-PERP", "SOL-PERP", "BTC-SPOT")


async def record(frames_per_kind: int, seed: int = 1) -> tuple[MarketTable, list[bytes]]:
    """Every frame a trading client received, in arrival order."""
    from sim.venue import (
        DEFAULT_MARKETS,
        TEST_API_KEY,
        UNLIMITED,
        GeneratorConfig,
        Venue,
        VenueConfig,
    )
    from sim.venue.testing import WsClient

    markets = MarketTable.from_json([spec.describe() for spec in DEFAULT_MARKETS])
    config = VenueConfig(source=GeneratorConfig(seed=seed), limits=UNLIMITED)
    async with Venue(config) as venue:
        client = await WsClient.connect(venue.ws_url, TEST_API_KEY)
        await client.send(type="subscribe", channels=["orderbook", "ticker"],
                          markets=list(HOT_BOOKS), depth=10)
        frames: list[bytes] = []
        counts = dict.fromkeys(KINDS, 0)
        side = "buy"
        order = 0
        while min(counts.values()) < frames_per_kind:
            raw = await asyncio.wait_for(client.ws.recv(decode=False), 5)
            frames.append(raw)
            kind = orjson.loads(raw).get("type")
            if kind in counts:
                counts[kind] += 1
            if kind == "ticker" and counts["fill"] < frames_per_kind:
                order += 1
                side = "sell" if side == "buy" else "buy"
                await client.send(type="order", order_id=f"b{order}", market="BTC-PERP",
                                  side=side, order_type="market", qty=0.001)
        await client.close()
    return markets, frames


def report(markets: MarketTable, frames: list[bytes], rounds: int) -> str:
    by_kind = {kind: [f for f in frames if orjson.loads(f)["type"] == kind] for kind in KINDS}
    subs = [Subscription("orderbook", HOT_BOOKS, 10), Subscription("ticker", HOT_BOOKS)]

    def live_session() -> Session:
        session = Session("bench-key", markets, subs)
        session.start(0)
        session.connected(0)
        session.receive(b'{"type":"auth_ok","agent_id":"a","account_id":1}', 0)
        for sub in subs:
            for market in sub.markets:
                session.receive(orjson.dumps({"type": "subscribed", "channel": sub.channel,
                                              "market": market, "depth": sub.depth}), 0)
        return session

    def seed_style(raw: bytes) -> dict:
        msg = json.loads(raw)
        for key, value in msg.items():
            if isinstance(value, float):
                msg[key] = float(value)
        return msg

    rows = []
    for kind in KINDS:
        messages = by_kind[kind]
        pools: dict[str, list[int]] = {"orjson.loads alone": [], "seed: json.loads + float": [],
                                       "Decoder.decode": []}
        if kind in ("ticker", "book_update"):
            pools["Session.receive (+ book, top)"] = []
        for round_number in range(rounds + 1):
            decoder = Decoder(markets)
            calls = {"orjson.loads alone": orjson.loads, "seed: json.loads + float": seed_style,
                     "Decoder.decode": decoder.decode}
            if "Session.receive (+ book, top)" in pools:
                session = live_session()
                # Books need their snapshots: replay the whole recording up to the first
                # message of this kind, then time only this kind's frames in order.
                for raw in frames:
                    if raw is messages[0]:
                        break
                    session.receive(raw, 0)
                receive = session.receive
                calls["Session.receive (+ book, top)"] = lambda raw, r=receive: r(raw, 0)
            for name, call in calls.items():
                with quiet_gc():
                    taken = time_each(call, messages)
                if round_number:
                    pools[name] += taken
            if "Session.receive (+ book, top)" in pools and session.stats.gaps:
                raise RuntimeError("the replay lost book sync: the timing would be wrong")
        rows.append((kind, len(messages), [(n, Summary.of(s)) for n, s in pools.items()]))
    lines = ["tickwire bench client-decode: one venue frame -> typed event (ints), per message",
             f"data: {len(frames):,} frames recorded from the local venue (synthetic markets, "
             "4 books at depth 10, tickers, our own market orders)",
             f"method: perf_counter_ns per call, gc frozen and off, 1 warm-up + {rounds} "
             "measured passes pooled"]
    for kind, count, summaries in rows:
        lines.append(f"{kind} ({count:,} frames, mean {_mean_len(by_kind[kind])} bytes)")
        lines.append(table(summaries))
    return "\n".join(lines)


def _mean_len(frames: list[bytes]) -> int:
    return sum(map(len, frames)) // max(len(frames), 1)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--frames", type=int, default=300,
                        help="record at least this many frames of each type (default 300)")
    parser.add_argument("--rounds", type=int, default=5, help="measured passes (default 5)")
    parser.add_argument("--seed", type=int, default=1)


def run(args: argparse.Namespace) -> int:
    markets, frames = asyncio.run(record(max(args.frames, 10), args.seed))
    print(report(markets, frames, max(args.rounds, 1)))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    configure(parser)
    raise SystemExit(run(parser.parse_args()))
