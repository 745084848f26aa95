"""Latency histograms as a small standalone SVG, for docs/ (no plotting library needed).

Each series is drawn as the share of its samples per logarithmic bin of microseconds, so
distributions a hundred times apart fit one picture and their tails stay visible. Median and
p99 of each series are marked with ticks and named in the legend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from host.bench.stats import percentile

COLOURS = ("#1b6ca8", "#d1495b", "#2e933c", "#edae49", "#6a4c93", "#00798c")
W, H = 760, 360
LEFT, RIGHT, TOP, BOTTOM = 60, 20, 40, 60
BINS_PER_DECADE = 20


def _bins(lo_us: float, hi_us: float) -> list[float]:
    start = math.floor(math.log10(lo_us) * BINS_PER_DECADE)
    stop = math.ceil(math.log10(hi_us) * BINS_PER_DECADE) + 1
    return [10 ** (k / BINS_PER_DECADE) for k in range(start, stop + 1)]


def histogram_svg(title: str, series: Sequence[tuple[str, Sequence[int]]]) -> str:
    """`series`: (name, samples in ns). Returns the SVG document as text."""
    series = [(name, sorted(s)) for name, s in series if s]
    if not series:
        raise ValueError("nothing to plot")
    lo = max(0.05, min(s[0] for _, s in series) / 1000)
    hi = max(s[-1] for _, s in series) / 1000
    edges = _bins(lo, max(hi, lo * 10))
    x0, x1 = math.log10(edges[0]), math.log10(edges[-1])
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def x(us: float) -> float:
        return LEFT + (math.log10(max(us, edges[0])) - x0) / (x1 - x0) * pw

    shares = []
    for _, samples in series:
        counts = [0] * (len(edges) - 1)
        j = 0
        for ns in samples:
            us = ns / 1000
            while j < len(counts) - 1 and us >= edges[j + 1]:
                j += 1
            counts[j] += 1
        shares.append([c / len(samples) for c in counts])
    top = max(max(s) for s in shares) * 1.1

    def y(share: float) -> float:
        return TOP + ph - share / top * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="14">{escape(title)}</text>',
           f'<line x1="{LEFT}" y1="{TOP + ph}" x2="{LEFT + pw}" y2="{TOP + ph}" stroke="black"/>',
           f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + ph}" stroke="black"/>']
    for decade in range(math.floor(x0), math.ceil(x1) + 1):
        for m in (1, 2, 5):
            us = m * 10 ** decade
            if edges[0] <= us <= edges[-1]:
                xs = x(us)
                label = f"{us:g}"
                out.append(f'<line x1="{xs:.1f}" y1="{TOP + ph}" x2="{xs:.1f}" '
                           f'y2="{TOP + ph + 5}" stroke="black"/>')
                out.append(f'<text x="{xs:.1f}" y="{TOP + ph + 18}" '
                           f'text-anchor="middle">{label}</text>')
    out.append(f'<text x="{LEFT + pw / 2}" y="{H - 22}" text-anchor="middle">'
               f'microseconds (log scale)</text>')
    out.append(f'<text x="16" y="{TOP + ph / 2}" transform="rotate(-90 16 {TOP + ph / 2})" '
               f'text-anchor="middle">share of samples per bin</text>')
    for k, ((name, samples), share) in enumerate(zip(series, shares, strict=True)):
        colour = COLOURS[k % len(COLOURS)]
        points = []
        for i, s in enumerate(share):
            points += [f"{x(edges[i]):.1f},{y(s):.1f}", f"{x(edges[i + 1]):.1f},{y(s):.1f}"]
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.6" '
                   f'points="{" ".join(points)}"/>')
        p50, p99 = percentile(samples, 50) / 1000, percentile(samples, 99) / 1000
        for mark, dash in ((p50, ""), (p99, ' stroke-dasharray="4 3"')):
            out.append(f'<line x1="{x(mark):.1f}" y1="{TOP}" x2="{x(mark):.1f}" '
                       f'y2="{TOP + ph}" stroke="{colour}" stroke-opacity="0.6"{dash}/>')
        ly = TOP + 14 + 16 * k
        out.append(f'<rect x="{LEFT + pw - 330}" y="{ly - 9}" width="10" height="10" '
                   f'fill="{colour}"/>')
        out.append(f'<text x="{LEFT + pw - 315}" y="{ly}">{escape(name)}: p50 {p50:.1f}, '
                   f'p99 {p99:.1f} µs</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
