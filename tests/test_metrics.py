"""Metrics: histogram percentiles against sorted samples, Prometheus text, a real scrape."""

import asyncio
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from host.metrics.histogram import LatencyHistogram
from host.metrics.http_endpoint import serve_metrics
from host.metrics.registry import MetricError, Registry


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 10**12), min_size=1, max_size=300),
       st.sampled_from([0, 1, 50, 90, 99, 99.9, 100]))
def test_percentile_is_the_sample_rounded_up_by_at_most_one_sixty_fourth(samples, q):
    h = LatencyHistogram()
    for s in samples:
        h.record(s)
    ordered = sorted(samples)
    exact = ordered[max(1, math.ceil(len(ordered) * q / 100)) - 1]
    got = h.percentile(q)
    assert exact <= got <= exact + exact / 64 + 1
    assert got <= max(samples)


def test_small_values_are_exact_and_merge_adds():
    a, b = LatencyHistogram(), LatencyHistogram()
    for v in range(100):
        a.record(v)
    for v in range(100, 128):
        b.record(v)
    a.merge(b)
    assert a.count == 128 and a.min == 0 and a.max == 127
    assert a.percentile(50) == 63
    assert a.percentile(100) == 127


def test_negative_and_out_of_range_are_refused():
    h = LatencyHistogram()
    with pytest.raises(ValueError):
        h.record(-1)
    with pytest.raises(ValueError):
        h.percentile(101)
    assert h.percentile(50) is None


def test_registry_renders_quantiles_counters_and_labels():
    reg = Registry()
    reg.counter("orders_total", "Orders sent.", strategy="arb").inc(3)
    reg.gauge("risk_state", "0 active, 1 reducing, 2 halted.").set(1)
    hist = reg.histogram("ack_seconds", "Submit to ack.")
    for v in (1000, 2000, 3000):
        hist.record(v)
    text = reg.render()
    assert '# TYPE tickwire_orders_total counter' in text
    assert 'tickwire_orders_total{strategy="arb"} 3' in text
    assert 'tickwire_risk_state 1' in text
    assert '# TYPE tickwire_ack_seconds summary' in text
    median = next(line for line in text.splitlines()
                  if line.startswith('tickwire_ack_seconds{quantile="0.5"}'))
    assert 2e-6 <= float(median.split()[1]) <= 2e-6 * (1 + 1 / 64)
    assert 'tickwire_ack_seconds_count 3' in text
    with pytest.raises(MetricError):
        reg.gauge("orders_total")
    with pytest.raises(MetricError):
        reg.counter("bad name")


def test_scrape_over_a_real_socket():
    async def scrape():
        reg = Registry()
        reg.counter("fills_total", "Fills.").inc(7)
        server = await serve_metrics(reg, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            answers = []
            for path in ("/metrics", "/nope"):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(f"GET {path} HTTP/1.1\r\nhost: x\r\n\r\n".encode())
                await writer.drain()
                answers.append(await asyncio.wait_for(reader.read(), 5))
                writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"garbage\r\n\r\n")
            await writer.drain()
            answers.append(await asyncio.wait_for(reader.read(), 5))
            writer.close()
            return answers
        finally:
            server.close()
            await server.wait_closed()

    ok, missing, garbage = asyncio.run(scrape())
    assert ok.startswith(b"HTTP/1.1 200") and b"tickwire_fills_total 7" in ok
    assert missing.startswith(b"HTTP/1.1 404")
    assert b"200" not in garbage.split(b"\r\n", 1)[0]
