"""docs/wire-format.md is generated from the declaration and must be fresh."""

from __future__ import annotations

import subprocess
import sys

from host import wire
from host.wire import docgen


def test_wire_format_doc_is_fresh():
    assert docgen.DOC_PATH.exists(), "docs/wire-format.md is missing: run `tickwire docs`"
    assert docgen.DOC_PATH.read_text() == docgen.render(), (
        "docs/wire-format.md is stale: run `tickwire docs` and commit the result")


def test_doc_names_every_layout_field_and_error():
    text = docgen.render()
    for layout in wire.ALL_LAYOUTS:
        assert f"### {layout.name}" in text
        for f in layout.fields:
            assert f"`{f.name}`" in text
    for err in wire.ALL_ERRORS:
        assert f"`{err.__name__}`" in text


def test_check_command_fails_on_a_stale_doc(tmp_path, monkeypatch):
    stale = tmp_path / "wire-format.md"
    stale.write_text(docgen.render().replace("| 32 |", "| 33 |", 1))
    assert not docgen.is_fresh(stale)
    docgen.write(stale)
    assert docgen.is_fresh(stale)


def test_cli_check_passes_on_the_committed_doc():
    result = subprocess.run([sys.executable, "-m", "host.cli", "docs", "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
