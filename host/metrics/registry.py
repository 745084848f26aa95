"""Named metrics and their Prometheus text rendering.

Counters and gauges are plain attributes on small objects so the hot path pays one attribute
add. Histograms are rendered as Prometheus summaries (quantiles in seconds, plus _sum and
_count), because the issue asks for percentiles, not averages or bucket dumps.
"""

from __future__ import annotations

import re

from host.metrics.histogram import LatencyHistogram

_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
QUANTILES = (0.5, 0.9, 0.99, 0.999)


class MetricError(ValueError):
    reason = "bad_metric"


class Counter:
    __slots__ = ("value",)

    def __init__(self):
        self.value = 0

    def inc(self, n: int = 1) -> None:
        self.value += n


class Gauge:
    __slots__ = ("value",)

    def __init__(self):
        self.value = 0.0

    def set(self, value: float) -> None:
        self.value = value


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    body = ",".join(f'{k}="{_escape(str(v))}"' for k, v in sorted(labels.items()))
    return "{" + body + "}"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Registry:
    """Every metric of the daemon, by name and label set."""

    def __init__(self, prefix: str = "tickwire"):
        self.prefix = prefix
        self._help: dict[str, tuple[str, str]] = {}   # name -> (type, help)
        self._series: dict[str, dict[tuple, object]] = {}

    def _get(self, kind: str, name: str, help_text: str, labels: dict, factory):
        full = f"{self.prefix}_{name}"
        key = tuple(sorted((k, str(v)) for k, v in labels.items())) if labels else ()
        series = self._series.get(full)
        # The daemon looks a labelled counter up per denial: a known series skips the checks.
        if series is not None and key in series and self._help[full][0] == kind:
            return series[key]
        if not _NAME.match(full):
            raise MetricError(f"{full!r} is not a valid metric name")
        declared = self._help.setdefault(full, (kind, help_text))
        if declared[0] != kind:
            raise MetricError(f"{full} is a {declared[0]}, not a {kind}")
        series = self._series.setdefault(full, {})
        if key not in series:
            series[key] = factory()
        return series[key]

    def counter(self, name: str, help_text: str = "", **labels) -> Counter:
        return self._get("counter", name, help_text, labels, Counter)

    def gauge(self, name: str, help_text: str = "", **labels) -> Gauge:
        return self._get("gauge", name, help_text, labels, Gauge)

    def histogram(self, name: str, help_text: str = "", **labels) -> LatencyHistogram:
        """A latency histogram in nanoseconds; exported in seconds."""
        return self._get("summary", name, help_text, labels, LatencyHistogram)

    def values(self, name: str) -> dict[tuple, object]:
        return dict(self._series.get(f"{self.prefix}_{name}", {}))

    def render(self) -> str:
        out: list[str] = []
        for full, (kind, help_text) in sorted(self._help.items()):
            out.append(f"# HELP {full} {_escape(help_text)}")
            out.append(f"# TYPE {full} {kind}")
            for key, metric in sorted(self._series[full].items()):
                labels = dict(key)
                if isinstance(metric, LatencyHistogram):
                    for q in QUANTILES:
                        value = metric.percentile(q * 100)
                        text = "NaN" if value is None else repr(value / 1e9)
                        out.append(f"{full}{_labels({**labels, 'quantile': str(q)})} {text}")
                    out.append(f"{full}_sum{_labels(labels)} {metric.total / 1e9!r}")
                    out.append(f"{full}_count{_labels(labels)} {metric.count}")
                else:
                    out.append(f"{full}{_labels(labels)} {metric.value}")
        return "\n".join(out) + "\n"
