"""The built-in sample and the software receive path that `tickwire feed-demo` runs."""

from __future__ import annotations

from host import cli
from host.feed_replay import replay
from sim.sample_feed import sample_frames


def test_sample_replay_sees_the_gap_and_rejects_every_malformed_frame():
    tally, _ = replay(sample_frames(400))
    assert tally.packets == 400 - 1
    assert tally.packet_gaps == 1
    assert dict(tally.rejected) == {"truncated": 1, "bad_length": 1, "unknown_template": 1,
                                    "bad_count": 1, "bad_checksum": 1, "runt": 1}
    assert set(tally.messages) == {"BookLevel", "Trade", "BestBidOffer", "Heartbeat",
                                   "MarketStatus"}
    # The lost packet skipped some markets' rpt_seq; nothing else may.
    assert 1 <= sum(tally.market_gaps.values()) <= 4


def test_sample_is_deterministic():
    assert sample_frames(50) == sample_frames(50)


def test_feed_demo_command_prints_a_summary(capsys):
    assert cli.main(["feed-demo", "--packets", "300"]) == 0
    out = capsys.readouterr().out
    assert "packet gaps      1" in out
    assert "bad_checksum 1" in out
    assert "BTC-PERP" in out
    assert "M messages/s" in out
