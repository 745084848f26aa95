# amaranth: UnusedElaboratable=no
"""The header filter: its reference model on its own, then the gateware scoreboarded against the
model under cocotb and Verilator at both datapath widths.

(The linter comment above: some tests build a component only to read its signature or to see
it refused.)"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from amaranth.hdl import Shape
from amaranth.lib.wiring import Flow

from hdl.header_filter import LATENCY, WIDTHS, HeaderFilter, max_latency
from host import wire
from host.model.frame_filter import (
    COUNTER_BITS,
    COUNTERS,
    DropReason,
    FilterConfig,
    FilterConfigError,
    FrameFilter,
    classify,
)
from sim.benches.header_filter import FRAMES_ENV, REPORT_ENV
from sim.cocotb_runner import run_bench
from sim.frame_mix import (
    DST_IPS,
    DST_PORTS,
    FrameMix,
    feed_payloads,
    ip_header_at,
    set_ip_fields,
    set_udp_fields,
)

PAYLOAD = bytes(range(100, 140))


def frame(payload: bytes = PAYLOAD, *, vlan: int | None = None, dst_ip: int = DST_IPS[0],
          dst_port: int = DST_PORTS[0]) -> bytes:
    return wire.build_frame(payload, dst_mac=1, src_mac=2, src_ip=0x0A000001, dst_ip=dst_ip,
                            src_port=5, dst_port=dst_port, vlan_id=vlan)


def reason(raw: bytes, config: FilterConfig | None = None) -> str | None:
    got = classify(raw, config or FilterConfig()).reason
    return None if got is None else got.value


# --- the model ---------------------------------------------------------------------------

@pytest.mark.parametrize("vlan", [None, 7])
def test_good_frame_forwards_its_payload(vlan):
    verdict = classify(frame(vlan=vlan))
    assert verdict.accepted and verdict.payload == PAYLOAD


def test_padding_and_trailing_bytes_are_not_forwarded():
    padded = frame(b"xy")
    assert len(padded) == wire.MIN_FRAME
    assert classify(padded).payload == b"xy"
    assert classify(frame() + b"trailer").payload == PAYLOAD


def test_empty_payload_is_forwarded_as_empty():
    assert classify(frame(b"")) == classify(frame(b"", vlan=3))
    assert classify(frame(b"")).payload == b"" and classify(frame(b"")).accepted


def test_runt_outranks_everything_and_forwards_what_arrived():
    bad = bytearray(frame())
    bad[ip_header_at(bad) + 10] ^= 0xFF  # checksum
    assert reason(bytes(bad[:50])) == "runt"
    assert classify(bytes(bad[:50])).payload is None
    cut = classify(frame()[:50])  # headers whole and good: 8 payload bytes went out
    assert cut.reason is DropReason.RUNT and cut.payload == PAYLOAD[:8]
    assert classify(frame()[:42]).payload == b""  # headers end exactly at the cut
    assert classify(frame()[:41]).payload is None
    assert reason(b"") == "runt"


def test_frame_ending_before_the_datagram_is_bad_length_with_a_cut_payload():
    cut = classify(frame()[:70])
    assert cut.reason is DropReason.BAD_LENGTH and cut.payload == PAYLOAD[:70 - 42]


@pytest.mark.parametrize(("change", "want"), [
    (lambda f: f[:12] + b"\x86\xdd" + f[14:], "not_ipv4"),
    (lambda f: set_ip_fields(f, ihl=6), "not_ipv4"),
    (lambda f: set_ip_fields(f, version=6), "not_ipv4"),
    (lambda f: set_ip_fields(f, checksum=0x1234), "bad_checksum"),
    (lambda f: set_ip_fields(f, total_length=27), "bad_length"),
    (lambda f: set_ip_fields(f, flags=1), "fragmented"),
    (lambda f: set_ip_fields(f, fragment_offset=9), "fragmented"),
    (lambda f: set_ip_fields(f, flags=0), None),  # DF clear is fine
    (lambda f: set_ip_fields(f, protocol=6), "not_udp"),
    (lambda f: set_udp_fields(f, length=9), "bad_length"),
    (lambda f: set_ip_fields(f, dst_ip=DST_IPS[1]), "not_for_us"),
    (lambda f: set_udp_fields(f, dst_port=DST_PORTS[1]), "not_for_us"),
])
def test_each_drop_reason(change, want):
    config = FilterConfig(DST_IPS[0], DST_PORTS[0])
    raw = change(frame())
    assert reason(raw, config) == want
    assert (classify(raw, config).payload is None) == (want is not None)


def test_double_tag_and_non_ipv4_inside_a_tag_are_not_ipv4():
    tagged = frame(vlan=5)
    assert reason(tagged[:16] + b"\x81\x00" + tagged[18:]) == "not_ipv4"
    assert reason(tagged[:16] + b"\x08\x06" + tagged[18:]) == "not_ipv4"


def test_priority_follows_parse_frame_order():
    raw = set_ip_fields(frame(), protocol=6, dst_ip=DST_IPS[1], flags=1)
    config = FilterConfig(dst_ip=DST_IPS[0])
    assert reason(raw, config) == "fragmented"
    assert reason(set_ip_fields(frame(), protocol=6, dst_ip=DST_IPS[1]), config) == "not_udp"
    # A truncated fragment: parse_frame judges the total length before fragmentation.
    assert reason(set_ip_fields(frame(), flags=1)[:70]) == "bad_length"
    # A UDP length lie is only judged for UDP: a TCP segment is not_udp, not bad_length.
    assert reason(set_udp_fields(set_ip_fields(frame(), protocol=6), length=3)) == "not_udp"
    assert reason(set_ip_fields(frame(), checksum=1, protocol=6)) == "bad_checksum"


def test_documented_departures_from_parse_frame():
    options = set_ip_fields(frame(), ihl=6)  # parse_frame skips options (here: garbage)
    with pytest.raises(wire.WireError):
        wire.parse_frame(options)
    assert reason(options) == "not_ipv4"
    assert reason(set_ip_fields(frame(), version=5)) == "not_ipv4"  # parse_frame: bad_length


def test_destination_wildcards():
    raw = frame(dst_ip=DST_IPS[1], dst_port=DST_PORTS[1])
    assert reason(raw) is None
    assert reason(raw, FilterConfig(dst_ip=DST_IPS[1])) is None
    assert reason(raw, FilterConfig(dst_port=DST_PORTS[0])) == "not_for_us"
    assert reason(raw, FilterConfig(DST_IPS[0], DST_PORTS[1])) == "not_for_us"


@pytest.mark.parametrize("bad", [{"dst_ip": -1}, {"dst_ip": 1 << 32}, {"dst_port": 1 << 16}])
def test_config_out_of_range_is_a_typed_error(bad):
    with pytest.raises(FilterConfigError) as error:
        FilterConfig(**bad)
    assert error.value.reason == "bad_config"


def test_every_frame_counts_once_and_counters_wrap():
    mix = FrameMix(random.Random(3), feed_payloads(60))
    model = FrameFilter()
    for n in range(1, 400):
        before = model.counters
        model.feed(mix.frame()[1])
        after = model.counters
        assert after["frames"] == n
        assert sum(after[c] - before[c] for c in COUNTERS[1:]) == 1
    model._counts["runt"] = (1 << COUNTER_BITS) - 1
    model.feed(b"")
    assert model.counters["runt"] == 0


def test_model_agrees_with_parse_frame():
    """Outside the documented departures (IP version/IHL, destination matching, what a
    cut-through filter forwards of a dropped frame), the verdict is parse_frame's."""
    mix = FrameMix(random.Random(11), feed_payloads(100))
    compared = 0
    for _ in range(4000):
        kind, raw = mix.frame()
        at = ip_header_at(raw)
        departs = raw[at - 2:at] == b"\x08\x00" and raw[at:at + 1] != b"\x45"
        if departs and len(raw) >= wire.MIN_FRAME:
            continue
        verdict = classify(raw)
        try:
            parsed, want = wire.parse_frame(raw), None
        except wire.WireError as error:
            parsed, want = None, error.reason
        assert (verdict.reason and verdict.reason.value) == want, (kind, raw.hex())
        if parsed is not None:
            assert verdict.payload == parsed.payload
        compared += 1
    assert compared > 3000


# --- the gateware ------------------------------------------------------------------------

def test_counter_ports_come_from_the_model():
    members = HeaderFilter(8).signature.members
    for name in COUNTERS:
        assert members[name].flow == Flow.Out
        assert Shape.cast(members[name].shape).width == COUNTER_BITS


@pytest.mark.parametrize("width", [0, 3, 16])
def test_unsupported_widths_are_refused(width):
    with pytest.raises(ValueError, match="data_bytes"):
        HeaderFilter(width)


def run_filter_bench(width: int, tmp_path, frames_per_config: int | None = None) -> dict:
    report = tmp_path / "report.json"
    env = {REPORT_ENV: str(report)}
    if frames_per_config:
        env[FRAMES_ENV] = str(frames_per_config)
    run_bench(lambda: HeaderFilter(width), name=f"header_filter_w{width}",
              bench_module="sim.benches.header_filter", extra_env=env)
    figures = json.loads(report.read_text())
    assert figures["width"] == width
    assert figures["stalls"] == 0
    # One beat a cycle: back-to-back 60-byte frames take exactly one cycle per beat.
    assert figures["minimum_cycles"] == figures["minimum_beats"]
    # The documented latency, exactly: docs/header-filter.md states these numbers.
    assert figures["latency_min"] == LATENCY
    assert figures["latency_max"] == max_latency(width)
    print(f"header_filter W={width}: latency {figures['latency_min']}..{figures['latency_max']} "
          f"cycles (last payload byte in to last beat out, {figures['payloads']} payloads); "
          f"{figures['minimum_beats']} beats of {figures['minimum_frames']} back-to-back "
          f"60-byte frames in {figures['minimum_cycles']} cycles; {figures['stalls']} stalls")
    return figures


@pytest.mark.parametrize("width", [1, 8])
def test_gateware_matches_model(width, tmp_path):
    run_filter_bench(width, tmp_path)


@pytest.mark.bench
@pytest.mark.parametrize("width", [w for w in WIDTHS if w not in (1, 8)])
def test_gateware_matches_model_at_other_widths(width, tmp_path):
    # The filter is generic in W; these widths are not used, so they get a shorter run.
    run_filter_bench(width, tmp_path, frames_per_config=600)


def test_doc_names_every_counter():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "header-filter.md").read_text()
    for name in COUNTERS:
        assert f"`{name}`" in doc, name
