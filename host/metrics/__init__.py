"""Metrics: latency histograms reported as percentiles, counters, and a Prometheus endpoint.

- `histogram.py`: a log-linear histogram of nanosecond durations (fixed memory, O(1) record).
- `registry.py`: named counters, gauges and histograms; renders the Prometheus text format.
- `http_endpoint.py`: the thin adapter that serves `GET /metrics`.
"""
