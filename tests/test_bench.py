"""The bench commands run end to end on a slice of the real data (untimed: no figure is
asserted), and the percentile helpers others reuse are right."""

from __future__ import annotations

import pytest

from host import cli
from host.bench.stats import Summary, percentile, ratios, table, time_two_phase
from host.feeds import binance


def test_percentile_is_nearest_rank():
    samples = list(range(1, 101))
    assert percentile(samples, 50) == 50
    assert percentile(samples, 99) == 99
    assert percentile(samples, 100) == 100
    assert percentile([7], 50) == 7
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile(samples, 0)


def test_summary_table_and_ratios():
    ours = Summary.of([1000, 2000, 3000, 4000])
    assert (ours.count, ours.p50, ours.p90, ours.p99, ours.max) == (4, 2000, 4000, 4000, 4000)
    assert "2.00" in table([("ours", ours)])
    assert ratios(ours, Summary.of([4000, 8000])).startswith("p50 2.0x")


def test_two_phase_timing_counts_the_whole_item_when_no_decision_stands():
    reads = []
    outcomes = iter([("top", True), (None, True), ("top", False)])  # decided, not, revoked
    state = {}

    def decide(item):
        state["decided"], state["stood"] = next(outcomes)
        return state["decided"]

    decisions, wholes = time_two_phase(decide, lambda: state["stood"],
                                       lambda: reads.append(1), range(3))
    assert len(reads) == 2  # the top is read after finish when no decision stood
    assert decisions[0] <= wholes[0]
    assert decisions[1] == wholes[1] and decisions[2] == wholes[2]


def _need_data():
    if binance.find_recording(binance.USDM_FILE) is None:
        pytest.skip(binance.missing_recording_message(binance.USDM_FILE))


def test_bench_depth_runs_on_a_slice(capsys):
    _need_data()
    assert cli.main(["bench", "depth", "--limit", "150", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    for name in ("tickwire fast path: to decision", "tickwire fast path: whole message",
                 "tickwire full path: msgspec", "seed design", "SortedDict",
                 "parse alone: orjson"):
        assert name in out
    assert "after each of 150 messages; the fast path decided" in out
    assert "(0 revoked;" in out
    assert binance.USDM_FILE in out
    # Both references against both of our figures, fastest-of-passes and pooled.
    assert out.count(" / tickwire fast path: to decision: p50 ") == 4
    assert out.count(" / tickwire fast path: whole message: p50 ") == 4
    assert out.count(" / tickwire fast path: decision + trigger + risk: p50 ") == 4
    assert ("judged on the time to decision with the trigger (a market maker's on_top) and a "
            "risk check included: tickwire p50 ") in out
    assert "would have waited for the one before" in out


def test_bench_ticker_runs_on_a_slice(capsys):
    _need_data()
    assert cli.main(["bench", "ticker", "--limit", "500", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert "500 USD-M bookTicker messages" in out and "ratio seed design" in out


@pytest.mark.parametrize("target", ["depth", "ticker"])
def test_bench_reports_missing_data(capsys, tmp_path, target):
    assert cli.main(["bench", target, "--data", str(tmp_path / "none.gz")]) == 2
    assert "not found" in capsys.readouterr().out


@pytest.mark.bench
def test_bench_depth_full_data(capsys):
    _need_data()
    assert cli.main(["bench", "depth"]) == 0
    print(capsys.readouterr().out)


def test_bench_feed_runs_the_fast_pipeline_beside_its_references(capsys):
    assert cli.main(["bench", "feed", "--packets", "300", "--rounds", "0"]) == 0
    out = capsys.readouterr().out
    for name in ("fast pipeline (parse + book + trigger)", "model pipeline",
                 "reference: wire.decode_packet only", "equal the model's on this data: yes",
                 "batch decode (numpy"):
        assert name in out
