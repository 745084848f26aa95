"""The bench commands run end to end on a slice of the real data (untimed: no figure is
asserted), and the percentile helpers others reuse are right."""

from __future__ import annotations

import pytest

from host import cli
from host.bench.stats import Summary, percentile, ratios, table
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


def _need_data():
    if binance.find_recording(binance.USDM_FILE) is None:
        pytest.skip(binance.missing_recording_message(binance.USDM_FILE))


def test_bench_depth_runs_on_a_slice(capsys):
    _need_data()
    assert cli.main(["bench", "depth", "--limit", "150", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    for name in ("tickwire: msgspec", "seed design", "SortedDict", "parse alone: orjson"):
        assert name in out
    assert "after each of 150 messages" in out
    assert binance.USDM_FILE in out
    assert out.count(" / tickwire: p50 ") == 4  # fastest-of-passes and pooled


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
