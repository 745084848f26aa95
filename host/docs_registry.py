"""Every generated document in docs/, each rendered from its one declaration.

A generator module exposes `DOC_PATH`, `render()`, `write()` and `is_fresh()`. `tickwire docs`
writes them all and `tickwire docs --check` fails if any is stale.
"""

from __future__ import annotations

import importlib

GENERATORS = (
    "host.wire.docgen",
    "host.model.counters_doc",
    "host.model.kill_switch_doc",
    "host.fpga.docgen",
    "host.fpga.bitstream_doc",
    "host.oms.docgen",
    "host.risk.docgen",
)


def generators() -> list:
    return [importlib.import_module(name) for name in GENERATORS]
