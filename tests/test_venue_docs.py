"""docs/venue.md names what the code declares: every reason code, every market with its
id, tick and lot, every channel and message type, and the test key."""

from __future__ import annotations

from pathlib import Path

from sim.venue import DEFAULT_MARKETS, TEST_API_KEY, CancelReason, Reason
from sim.venue.protocol import CHANNELS, MESSAGE_TYPES

DOC = (Path(__file__).resolve().parents[1] / "docs" / "venue.md").read_text()


def test_every_reason_code_is_documented():
    missing = [r.value for r in (*Reason, *CancelReason) if f"`{r.value}`" not in DOC]
    assert not missing


def test_the_market_table_matches_the_declaration():
    for m in DEFAULT_MARKETS:
        row = f"| {m.name} | {m.market_id} | {m.tick_size} | {m.lot_size} | {m.max_leverage} |"
        assert row in DOC


def test_channels_message_types_and_the_test_key_are_documented():
    assert TEST_API_KEY in DOC
    assert all(f"`{c}`" in DOC for c in CHANNELS)
    assert all(f"`{t}`" in DOC for t in MESSAGE_TYPES)
