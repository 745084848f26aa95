"""A log-linear latency histogram: O(1) record, fixed memory, percentiles within 1/64.

Values are non-negative integers (nanoseconds). Each power of two is split into 64 equal
sub-buckets, so a reported percentile is at most 1.6 % above the true sample, whatever the
range; values below 128 are exact. That bound is what lets the daemon record every order's
latency on the hot path without keeping the samples.
"""

from __future__ import annotations

_SUB_BITS = 6
_SUB = 1 << _SUB_BITS
_MAX_BITS = 48            # about 78 hours in ns: anything longer is clamped to the top bucket


def _index(value: int) -> int:
    if value < 2 * _SUB:
        return value
    shift = value.bit_length() - _SUB_BITS - 1
    return shift * _SUB + (value >> shift)


def _upper(index: int) -> int:
    """The largest value that lands in bucket `index`."""
    if index < 2 * _SUB:
        return index
    shift = index // _SUB - 1
    mantissa = index - shift * _SUB
    return ((mantissa + 1) << shift) - 1


_BUCKETS = _index((1 << _MAX_BITS) - 1) + 1


class LatencyHistogram:
    __slots__ = ("_counts", "count", "total", "min", "max")

    def __init__(self):
        self._counts = [0] * _BUCKETS
        self.count = 0
        self.total = 0
        self.min: int | None = None
        self.max: int | None = None

    def record(self, value: int) -> None:
        if value < 0:
            raise ValueError(f"a latency cannot be negative ({value})")
        self._counts[_index(min(value, (1 << _MAX_BITS) - 1))] += 1
        self.count += 1
        self.total += value
        if self.min is None or value < self.min:
            self.min = value
        if self.max is None or value > self.max:
            self.max = value

    def percentile(self, q: float) -> int | None:
        """The value at quantile `q` (0..100), reported as its bucket's upper bound (never
        below the true sample) and clamped to the largest value seen."""
        if not 0 <= q <= 100:
            raise ValueError(f"percentile {q} is outside 0..100")
        if not self.count:
            return None
        rank = max(1, -(-self.count * q // 100))  # ceil, at least the first sample
        seen = 0
        for index, n in enumerate(self._counts):
            seen += n
            if seen >= rank:
                return min(_upper(index), self.max)
        return self.max

    def percentiles(self, qs=(50, 90, 99, 99.9)) -> dict[float, int | None]:
        return {q: self.percentile(q) for q in qs}

    def merge(self, other: LatencyHistogram) -> None:
        for i, n in enumerate(other._counts):
            if n:
                self._counts[i] += n
        self.count += other.count
        self.total += other.total
        for value in (other.min, other.max):
            if value is not None:
                self.min = value if self.min is None else min(self.min, value)
                self.max = value if self.max is None else max(self.max, value)

    def buckets(self):
        """(upper bound, count) of every non-empty bucket, in order: for plots."""
        return [(_upper(i), n) for i, n in enumerate(self._counts) if n]
