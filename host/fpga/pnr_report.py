"""nextpnr's `--report` JSON, read into the figures the build prints and the docs table shows.

Sans-I/O: `parse_report` takes the JSON text. Clocks come from the `fmax` section (achieved and
constraint per clock net); utilisation from `utilization`, per ECP5 cell type:
- LUT: TRELLIS_COMB (4-input LUTs, a carry chain's LUTs included), of the part's;
- FF: TRELLIS_FF; BRAM: DP16KD (18 Kbit blocks); DSP: MULT18X18D (18x18 multipliers).
Harness pins and the PLL are counted by the report but not here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from host.fpga.errors import FpgaError

RESOURCES = {"LUT": "TRELLIS_COMB", "FF": "TRELLIS_FF", "BRAM": "DP16KD", "DSP": "MULT18X18D"}


class BadReport(FpgaError):
    """The report is not nextpnr's JSON, or lacks a section the build needs."""

    reason = "bad_report"


@dataclass(frozen=True)
class ClockTiming:
    name: str
    achieved_mhz: float
    target_mhz: float

    @property
    def met(self) -> bool:
        return self.achieved_mhz >= self.target_mhz


@dataclass(frozen=True)
class Usage:
    used: int
    available: int

    @property
    def percent(self) -> float:
        return 100.0 * self.used / self.available if self.available else 0.0


@dataclass(frozen=True)
class PnrReport:
    clocks: tuple[ClockTiming, ...]
    usage: dict[str, Usage]  # keyed by RESOURCES' short names

    def failing(self) -> list[ClockTiming]:
        return [c for c in self.clocks if not c.met]

    @property
    def slowest(self) -> ClockTiming:
        return min(self.clocks, key=lambda c: c.achieved_mhz - c.target_mhz)

    def summary_lines(self) -> list[str]:
        lines = [f"  clock {c.name}: Fmax {c.achieved_mhz:.2f} MHz, target {c.target_mhz:g} MHz"
                 f" {'met' if c.met else 'NOT MET'}" for c in self.clocks]
        lines.append("  " + "  ".join(f"{k} {u.used}/{u.available} ({u.percent:.1f}%)"
                                      for k, u in self.usage.items()))
        return lines

    def as_dict(self) -> dict:
        return {
            "clocks": [{"name": c.name, "achieved_mhz": round(c.achieved_mhz, 2),
                        "target_mhz": c.target_mhz} for c in self.clocks],
            "usage": {k: {"used": u.used, "available": u.available}
                      for k, u in self.usage.items()},
        }

    @classmethod
    def from_dict(cls, data: dict) -> PnrReport:
        try:
            clocks = tuple(ClockTiming(c["name"], float(c["achieved_mhz"]),
                                       float(c["target_mhz"])) for c in data["clocks"])
            usage = {k: Usage(int(u["used"]), int(u["available"]))
                     for k, u in data["usage"].items()}
        except (KeyError, TypeError, ValueError) as error:
            raise BadReport(f"summary lacks {error}") from error
        return cls(clocks, usage)


def parse_report(text: str, target_hz: float) -> PnrReport:
    """Read nextpnr's report. Every clock is timed against at least `target_hz`, the
    design's clock: a clock the constraints missed gets nextpnr's 12 MHz default, which says
    nothing about the design."""
    try:
        data = json.loads(text)
        fmax, utilisation = data["fmax"], data["utilization"]
    except (ValueError, KeyError, TypeError, IndexError) as error:
        raise BadReport(f"not a nextpnr report: {error}") from error
    if not isinstance(fmax, dict) or not fmax:
        raise BadReport("the report times no clock: is the design clocked?")
    try:
        clocks = [ClockTiming(_clock_name(name), float(entry["achieved"]),
                              max(float(entry.get("constraint") or 0), target_hz / 1e6))
                  for name, entry in sorted(fmax.items())]
        usage = {}
        for short, cell in RESOURCES.items():
            entry = utilisation.get(cell, {"used": 0, "available": 0})
            usage[short] = Usage(int(entry["used"]), int(entry["available"]))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise BadReport(f"malformed report entry: {error!r}") from error
    return PnrReport(tuple(clocks), usage)


def _clock_name(net: str) -> str:
    """nextpnr names a clock by its global net (`$glbnet$clk`): keep the design's name."""
    return net.removeprefix("$glbnet$")
