"""The build id a design carries in its `id_build` register: by default a hash of the sources
the gateware is built from, so two boards answer with the same id only if they run the same
gateware and register map."""

import hashlib
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
_SOURCES = ("hdl", "host/fpga/registers.py", "host/fpga/regmap.py", "host/fpga/protocol.py",
            "host/wire")


def source_build_id() -> int:
    """The first 32 bits of a SHA-256 over the gateware sources (path and content)."""
    h = hashlib.sha256()
    for entry in _SOURCES:
        path = _ROOT / entry
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for f in files:
            h.update(str(f.relative_to(_ROOT)).encode() + b"\0" + f.read_bytes() + b"\0")
    return int.from_bytes(h.digest()[:4], "little")
