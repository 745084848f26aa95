"""`tickwire bench ticker`: a bookTicker message to an updated best bid and ask, per message.

Replays the USD-M recording's bookTicker messages. Ours decodes with msgspec and converts the
four decimal strings to ticks and lots through the same cached DecimalScales the depth book
uses; the reference is the seed's way, stdlib json and float(). Timing as in `bench depth`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from host.bench.stats import Summary, quiet_gc, ratios, table, time_each
from host.feeds import binance
from host.model.decimal_ticks import DecimalScale

GOAL = "DESIGN.md goal for a ticker message to decision: p50 <= 2 µs, p99 <= 6 µs"


class TickwireTicker:
    name = "tickwire: msgspec + cached int ticks"

    __slots__ = ("prices", "qtys", "update_id", "bid", "bid_lots", "ask", "ask_lots")

    def __init__(self, price_decimals: int = 2, qty_decimals: int = 3):
        self.prices = DecimalScale(price_decimals)
        self.qtys = DecimalScale(qty_decimals)
        self.update_id = self.bid = self.bid_lots = self.ask = self.ask_lots = 0

    def on_message(self, raw: bytes, _decode=binance.decode_book_ticker) -> None:
        ticker = _decode(raw).data
        prices, qtys = self.prices, self.qtys
        self.update_id = ticker.u
        self.bid = prices[ticker.b]
        self.bid_lots = qtys[ticker.B]
        self.ask = prices[ticker.a]
        self.ask_lots = qtys[ticker.A]


class TickwireTickerDecision(TickwireTicker):
    """The same, then the decision stage the depth bench uses: a strategy's on_top and a
    risk check (host/bench/depth_decision.py). Prices there are the book's 0.01 units."""

    name = "tickwire: + trigger + risk (decision)"
    __slots__ = ("act",)

    def __init__(self):
        from host.bench.depth_decision import DecisionStage

        super().__init__()
        self.act = DecisionStage().act

    def on_message(self, raw: bytes, _decode=binance.decode_book_ticker) -> None:
        TickwireTicker.on_message(self, raw, _decode)
        self.act((self.bid, self.bid_lots, self.ask, self.ask_lots))


class SeedStyleTicker:
    name = "seed design: json + float"

    def __init__(self):
        self.best: dict[str, float] = {}

    def on_message(self, raw: bytes) -> None:
        data = json.loads(raw)["data"]
        best = self.best
        best["bid"] = float(data["b"])
        best["bid_qty"] = float(data["B"])
        best["ask"] = float(data["a"])
        best["ask_qty"] = float(data["A"])


def load(path: Path, limit: int | None = None) -> list[bytes]:
    tickers = [r.message for r in binance.read_raw(path)
               if r.kind is binance.StreamKind.BOOK_TICKER]
    return tickers[:limit]


def report(path: Path, messages: list[bytes], rounds: int) -> str:
    designs = (TickwireTicker, SeedStyleTicker, TickwireTickerDecision)
    samples: dict[str, list[int]] = {cls.name: [] for cls in designs}
    for round_number in range(rounds + 1):
        for cls in designs:
            design = cls()  # fresh caches each pass
            with quiet_gc():
                taken = time_each(design.on_message, messages)
            if round_number:
                samples[cls.name] += taken
    ours, reference, decided = (Summary.of(samples[cls.name]) for cls in designs)
    verdict = "met" if ours.p50 <= 2_000 and ours.p99 <= 6_000 else "NOT met"
    with_risk = "met" if decided.p50 <= 2_000 and decided.p99 <= 6_000 else "NOT met"
    return "\n".join([
        "tickwire bench ticker: one message = parse + best bid/ask update (ints)",
        f"data: {path}, {len(messages):,} USD-M bookTicker messages",
        f"method: perf_counter_ns per message, gc frozen and off, 1 warm-up pass + {rounds} "
        f"measured passes pooled ({ours.count:,} samples per design)",
        table([(designs[0].name, ours), (designs[2].name, decided),
               (designs[1].name, reference)]),
        f"  ratio {designs[1].name} / tickwire: {ratios(ours, reference)}",
        f"  ratio {designs[1].name} / tickwire with trigger + risk: {ratios(decided, reference)}",
        f"{GOAL}: tickwire to the top p50 {ours.us('p50'):.2f} µs, p99 {ours.us('p99'):.2f} µs "
        f"({verdict}); with trigger and risk p50 {decided.us('p50'):.2f} µs, "
        f"p99 {decided.us('p99'):.2f} µs ({with_risk})",
    ])


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rounds", type=int, default=3, help="measured passes (default 3)")
    parser.add_argument("--limit", type=int, default=None,
                        help="replay only the first N bookTicker messages")
    parser.add_argument("--data", type=Path, default=None,
                        help=f"the USD-M recording (default: {binance.USDM_FILE} in shared/data)")


def run(args: argparse.Namespace) -> int:
    path, problem = binance.locate_recording(args.data, binance.USDM_FILE)
    if path is None:
        print(problem)
        return 2
    print(report(path, load(path, args.limit), max(args.rounds, 1)))
    return 0
