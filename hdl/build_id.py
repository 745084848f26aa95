"""The build id a design carries in its `id_build` register: by default a hash of the sources
the gateware is built from, so two boards answer with the same id only if they run the same
gateware and register map.

The sources are hdl/ and every project module it imports, followed transitively: a name
imported from a package (`from host.wire import TemplateId`) counts the package's
`__init__.py` and the module it re-exports the name from, not every module of the package. So
host code the gateware never reads (the numpy batch decoder, the models' logic beside their
constants' modules) can change without making the released bitstream stale.
"""

import ast
import hashlib
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
_PROJECT = ("hdl", "host")


def _module_file(name: str) -> Path | None:
    base = _ROOT.joinpath(*name.split("."))
    if (base / "__init__.py").exists():
        return base / "__init__.py"
    path = base.with_suffix(".py")
    return path if path.exists() else None


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) for each project import of a file; names empty for `import x`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] in _PROJECT:
                found.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((a.name, []) for a in node.names if a.name.split(".")[0] in _PROJECT)
    return found


def _reexports(init: Path) -> dict[str, str]:
    """name -> the module a package's __init__ imports it from."""
    return {name: module for module, names in _imports(init) for name in names}


def gateware_sources() -> list[Path]:
    """Every file the gateware is built from, sorted."""
    todo = sorted((_ROOT / "hdl").rglob("*.py"))
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        if path.name == "__init__.py":
            continue  # a package's re-exports are followed name by name, from the importer
        for module, names in _imports(path):
            target = _module_file(module)
            if target is None:
                continue
            todo.append(target)
            if target.name != "__init__.py":
                continue
            exported = _reexports(target)
            for name in names:
                sub = _module_file(f"{module}.{name}")
                source = sub or (_module_file(exported[name]) if name in exported else None)
                if source is not None:
                    todo.append(source)
    return sorted(seen)


def source_build_id() -> int:
    """The first 32 bits of a SHA-256 over the gateware sources (path and content)."""
    h = hashlib.sha256()
    for f in gateware_sources():
        h.update(str(f.relative_to(_ROOT)).encode() + b"\0" + f.read_bytes() + b"\0")
    return int.from_bytes(h.digest()[:4], "little")
