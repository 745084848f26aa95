"""Gateware smoke tests: the header capture block in simulation, and the harness itself."""

import re
from pathlib import Path

import pytest

from hdl.feed_header_capture import FeedHeaderCapture
from sim.cocotb_runner import run_bench


def test_feed_header_capture_matches_reference_decoder():
    run_bench(
        FeedHeaderCapture,
        name="feed_header_capture",
        bench_module="sim.benches.feed_header_capture",
    )


def test_failing_bench_raises_and_keeps_a_waveform(monkeypatch):
    monkeypatch.delenv("TICKWIRE_SEED", raising=False)
    # Same design and name as above, so the plain build is shared; only the traced one is new.
    with pytest.raises(AssertionError) as failure:
        run_bench(
            FeedHeaderCapture,
            name="feed_header_capture",
            bench_module="sim.benches.always_fails",
            seed=1234,
        )
    message = str(failure.value)
    assert "fails_on_purpose" in message
    assert "seed 1234" in message
    waveform = re.search(r"^waveform: (.+)$", message, re.MULTILINE)
    assert waveform, message
    assert Path(waveform[1]).stat().st_size > 0
