"""Bench: ArbitrageSides against host.model.trigger.arbitrage_sides.

A new set of prices and threshold goes in every cycle, so each cycle's outputs are checked
against the model of the inputs one cycle (the move's sign) and two cycles (buy, sell) before.
The prices are drawn to reach what the pipeline bench's markets never do: the ends of the
32-bit range, sums of either sign and near zero, moves exactly at the threshold (the
comparison's edge, on both sides) and thresholds up to 65535, beside random ones.
"""

from __future__ import annotations

import os
import random
from collections import deque

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly

from host.model.trigger import arbitrage_sides

PRICE_MIN, PRICE_MAX = -(1 << 31), (1 << 31) - 1
CYCLES_ENV = "ARBITRAGE_SIDES_CYCLES"


def _price(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.25:
        return rng.choice((PRICE_MIN, PRICE_MIN + 1, -1, 0, 1, PRICE_MAX - 1, PRICE_MAX))
    if roll < 0.5:
        return rng.randint(PRICE_MIN, PRICE_MAX)
    if roll < 0.75:
        return rng.randint(-(1 << rng.randrange(1, 32)), 1 << rng.randrange(1, 31))
    return rng.randint(90_000, 110_000)


def _threshold(rng: random.Random) -> int:
    return rng.choice((0, 1, 8, 65535, rng.randint(0, 65535), rng.randint(0, 64)))


def _at_the_edge(rng: random.Random, threshold: int) -> tuple[int, int, int, int]:
    """Prices whose move is the threshold's bar to within one tick either way (so the
    comparison's equality and both neighbours are hit), when they fit 32 bits."""
    while True:
        s_bid = rng.randint(1, 1 << rng.randrange(1, 31))
        s_ask = rng.randint(1, 1 << rng.randrange(1, 31))
        sum_s = s_bid + s_ask
        move = -(-threshold * sum_s // 10000) + rng.choice((-1, 0, 1))  # ceil, then nudge
        sum_p = sum_s + rng.choice((1, -1)) * move
        low, high = max(PRICE_MIN, sum_p - PRICE_MAX), min(PRICE_MAX, sum_p - PRICE_MIN)
        if low <= high:
            p_bid = rng.randint(low, high)
            return p_bid, sum_p - p_bid, s_bid, s_ask


@cocotb.test()
async def sides_match_model(dut):
    rng = random.Random(cocotb.RANDOM_SEED)
    cycles = int(os.environ.get(CYCLES_ENV, 20_000))
    Clock(dut.clk, 10, unit="ns").start()
    dut.rst.value = 0
    await ClockCycles(dut.clk, 2)
    sent: deque[tuple] = deque(maxlen=3)  # newest first
    checked = {"buy": 0, "sell": 0, "neither": 0}
    for cycle in range(cycles + 2):
        await FallingEdge(dut.clk)
        threshold = _threshold(rng)
        if rng.random() < 0.3:
            prices = _at_the_edge(rng, threshold)
        else:
            prices = tuple(_price(rng) for _ in range(4))
        for name, value in zip(("p_bid", "p_ask", "s_bid", "s_ask"), prices, strict=True):
            getattr(dut, name).value = value & 0xFFFFFFFF
        dut.threshold_bp.value = threshold
        sent.appendleft((*prices, threshold))
        await ReadOnly()
        if cycle >= 2:
            p_bid, p_ask, s_bid, s_ask, thr = sent[2]
            want = arbitrage_sides(p_bid, p_ask, s_bid, s_ask, thr)
            got = (bool(dut.buy.value), bool(dut.sell.value))
            assert got == want, f"(buy, sell) of {sent[2]}: gateware {got}, model {want}"
            checked["buy" if want[0] else "sell" if want[1] else "neither"] += 1
            p_bid, p_ask, s_bid, s_ask, _ = sent[1]
            want_negative = p_bid + p_ask < s_bid + s_ask
            assert bool(dut.move_negative.value) == want_negative, f"sign of the move {sent[1]}"
    dut._log.info("checked %s", checked)
    assert min(checked.values()) > cycles // 20, f"too few of some outcome: {checked}"
