"""Percentiles and a per-call timing loop that every bench target shares.

Latency samples are integer nanoseconds from time.perf_counter_ns. Percentiles are nearest
rank on the sorted samples (no interpolation), so every figure is a latency that happened.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

PERCENTILES = (50, 90, 99)


def percentile(sorted_ns: Sequence[int], pct: float) -> int:
    """Nearest-rank percentile of already sorted samples."""
    if not sorted_ns:
        raise ValueError("no samples")
    if not 0 < pct <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {pct}")
    rank = math.ceil(pct / 100 * len(sorted_ns))
    return sorted_ns[rank - 1]


@dataclass(frozen=True)
class Summary:
    """p50, p90, p99 and max of a sample set, in nanoseconds."""

    count: int
    p50: int
    p90: int
    p99: int
    max: int

    @classmethod
    def of(cls, samples_ns: Iterable[int]) -> Summary:
        ordered = sorted(samples_ns)
        return cls(len(ordered), *(percentile(ordered, p) for p in PERCENTILES), ordered[-1])

    def us(self, field: str) -> float:
        return getattr(self, field) / 1000


COLUMNS = ("p50", "p90", "p99", "max")


def table(rows: Sequence[tuple[str, Summary]], *, unit_note: str = "µs per message") -> str:
    """A fixed-width table of summaries in microseconds."""
    width = max(len(name) for name, _ in rows)
    lines = [f"  {'':<{width}}  " + "".join(f"{c:>9}" for c in COLUMNS) + f"   ({unit_note})"]
    for name, summary in rows:
        lines.append(f"  {name:<{width}}  "
                     + "".join(f"{summary.us(c):>9.2f}" for c in COLUMNS))
    return "\n".join(lines)


def ratios(subject: Summary, reference: Summary) -> str:
    """How many times slower the reference is than the subject at each column."""
    return "  ".join(f"{c} {getattr(reference, c) / max(getattr(subject, c), 1):.1f}x"
                     for c in COLUMNS)


@contextmanager
def quiet_gc():
    """Collect once, freeze what survives and keep the collector off for the timed run."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def time_each(call: Callable[[object], object], items: Iterable[object]) -> list[int]:
    """perf_counter_ns around `call(item)` for each item, one sample per call."""
    clock = time.perf_counter_ns
    samples = []
    record = samples.append
    for item in items:
        start = clock()
        call(item)
        record(clock() - start)
    return samples
