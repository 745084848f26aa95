"""The released bitstream (bitstreams/) belongs to the current gateware sources and met timing,
and the build's report parser reads nextpnr's JSON and refuses anything else. No build runs."""

import json

import pytest

from hdl.boards.designs import DESIGNS
from hdl.build_id import _ROOT, gateware_sources, source_build_id
from host.fpga import release
from host.fpga.pnr_report import BadReport, parse_report

REBUILD = ("the gateware sources changed since bitstreams/ was released: run "
           "`make release-bitstream` and commit bitstreams/ and docs/bitstream.md")


def _report(fmax: dict, used: int = 100) -> str:
    return json.dumps({
        "utilization": {"TRELLIS_COMB": {"used": used, "available": 83640},
                        "TRELLIS_FF": {"used": 50, "available": 83640},
                        "DP16KD": {"used": 3, "available": 208},
                        "TRELLIS_IO": {"used": 13, "available": 365}},
        "fmax": fmax,
        "critical_paths": [],
    })


def test_release_matches_the_current_sources():
    manifest = release.load()
    assert manifest.build_id == source_build_id(), REBUILD


def test_released_bitstream_is_the_one_recorded():
    manifest = release.load()
    bit = release.RELEASE_DIR / release.BITSTREAM
    assert bit.stat().st_size > 100_000, "an ECP5-85 bitstream is megabytes, not a stub"
    assert release.sha256(bit) == manifest.bitstream_sha256


def test_release_records_every_design_against_its_clock():
    # Whether each clock met its target is recorded (docs/bitstream.md shows it); meeting it
    # is what `make bitstream` enforces, by failing.
    manifest = release.load()
    assert {d.name for d in manifest.designs} == set(DESIGNS)
    for d in manifest.designs:
        assert d.report.clocks, d.name
        assert d.target_mhz == DESIGNS[d.name].clock_hz / 1e6
        assert all(c.target_mhz == d.target_mhz for c in d.report.clocks), d.name
        assert d.report.usage["LUT"].used > 1000, d.name
    assert set(manifest.latency_cycles) == {8, 64}
    assert max(manifest.latency_cycles.values()) <= 12


def test_report_parser_reads_clocks_and_usage():
    report = parse_report(_report({"$glbnet$clk": {"achieved": 130.5, "constraint": 125.0}}),
                          125e6)
    (clock,) = report.clocks
    assert (clock.name, clock.achieved_mhz, clock.target_mhz, clock.met) == ("clk", 130.5,
                                                                             125.0, True)
    assert report.usage["LUT"].used == 100 and report.usage["BRAM"].used == 3
    assert report.usage["DSP"].used == 0  # absent from the report: none used


def test_report_parser_flags_a_slow_clock():
    report = parse_report(_report({"clk": {"achieved": 124.99, "constraint": 125.0},
                                   "rx": {"achieved": 200.0, "constraint": 125.0}}), 125e6)
    assert [c.name for c in report.failing()] == ["clk"]
    assert report.slowest.name == "clk"


def test_a_clock_the_constraints_missed_is_timed_against_the_design_clock():
    report = parse_report(_report({"rx": {"achieved": 100.0, "constraint": 12.0}}), 125e6)
    assert report.clocks[0].target_mhz == 125.0 and not report.clocks[0].met


@pytest.mark.parametrize("text", ["", "{}", "[1]", _report({}),
                                  json.dumps({"fmax": {"clk": {}}, "utilization": {}})])
def test_report_parser_refuses_what_is_not_a_report(text):
    with pytest.raises(BadReport) as error:
        parse_report(text, 125e6)
    assert error.value.reason == "bad_report"


def test_build_id_covers_what_the_gateware_imports_and_nothing_else():
    sources = {str(p.relative_to(_ROOT)) for p in gateware_sources()}
    assert {str(p.relative_to(_ROOT)) for p in (_ROOT / "hdl").rglob("*.py")} <= sources
    # Register map, wire layouts and the models' constants are built into the gateware...
    assert {"host/fpga/registers.py", "host/fpga/regmap.py", "host/wire/feed.py",
            "host/wire/net.py", "host/model/counters.py", "host/model/kill_switch.py"} <= sources
    # ...the numpy batch decoder and the host's tools are not.
    assert not {"host/wire/batch.py", "host/wire/docgen.py", "host/fpga/interface.py",
                "host/model/fast_pipeline.py"} & sources


def test_parts_build_alone_and_stay_out_of_the_release():
    import argparse

    from hdl.boards.designs import PARTS, lookup
    from host.fpga import build_cli

    parser = argparse.ArgumentParser()
    build_cli.add_arguments(parser)
    args = parser.parse_args(["--part", "book", "--part", "parser64"])
    assert build_cli.chosen(args) == ["book", "parser64"]
    assert build_cli.chosen(parser.parse_args([])) == ["ecpix5"]
    assert not set(PARTS) & set(DESIGNS)
    assert all(lookup(name).board is False for name in PARTS)
