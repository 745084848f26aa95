"""The exchange as oracle: wherever a bookTicker's update id equals a depth diff's, the book
that has applied that diff must show exactly the bookTicker's best bid and ask, price and
quantity. Runs on the real recordings in shared/data/ and skips when they are absent."""

from __future__ import annotations

import pytest

from host.feeds import binance
from host.feeds.binance import StreamKind
from host.model.depth_book import DepthBook
from host.model.depth_sync import ChainRule, DepthGap, DepthSync, Synced


def replay_against_book_ticker(name: str, rule: ChainRule, price_dp: int, qty_dp: int):
    path = binance.find_recording(name)
    if path is None:
        pytest.skip(binance.missing_recording_message(name))
    book = DepthBook(price_dp, qty_dp)
    sync = DepthSync(book, rule)
    book_tops = {}  # diff u -> the book's top after applying it
    tickers = {}  # bookTicker u -> the venue's top, as ticks and lots
    events = []
    for record in binance.read_recording(path):
        message = record.message
        if record.kind is StreamKind.DEPTH:
            event = sync.on_diff(message.U, message.u, message.pu, message.b, message.a)
            if isinstance(event, (Synced, DepthGap)):
                events.append(event)
            if sync.live:
                top = book.top()
                book_tops[message.u] = (top.bid_tick, top.bid_lots, top.ask_tick, top.ask_lots)
        elif record.kind is StreamKind.SNAPSHOT:
            events.append(sync.on_snapshot(message.lastUpdateId, message.bids, message.asks))
        elif record.kind is StreamKind.BOOK_TICKER:
            tickers[message.u] = (book.prices.parse(message.b), book.qtys.parse(message.B),
                                  book.prices.parse(message.a), book.qtys.parse(message.A))
    points = sorted(set(book_tops) & set(tickers))
    mismatches = [(u, tickers[u], book_tops[u]) for u in points if tickers[u] != book_tops[u]]
    return points, mismatches, events, sync


def test_usdm_book_matches_book_ticker_at_all_629_points():
    points, mismatches, events, sync = replay_against_book_ticker(
        binance.USDM_FILE, ChainRule.FUTURES, 2, 3)
    assert len(points) == 629
    assert mismatches == []
    assert len(events) == 1 and isinstance(events[0], Synced)  # no gap anywhere
    assert sync.applied == 6547 and not sync.gaps


def test_spot_book_matches_book_ticker_where_ids_meet():
    # Spot diffs carry U/u without pu; the chain is U == previous u + 1. Prices have 2
    # significant places, quantities up to 8 (the strings always carry 8).
    points, mismatches, events, sync = replay_against_book_ticker(
        binance.SPOT_FILE, ChainRule.SPOT, 2, 8)
    assert len(points) == 564
    assert mismatches == []
    assert len(events) == 1 and isinstance(events[0], Synced)
    assert sync.applied == 3449 and not sync.gaps
