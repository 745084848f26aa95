"""Every generated page in docs/ matches its declaration."""

import pytest

from host.docs_registry import generators


@pytest.mark.parametrize("gen", generators(), ids=lambda g: g.DOC_PATH.name)
def test_generated_doc_is_fresh(gen):
    assert gen.is_fresh(), f"{gen.DOC_PATH} is stale: run `tickwire docs` and commit it"


def test_counter_doc_names_every_counter():
    from host.model import counters_doc
    from host.model.counters import COUNTER_NAMES

    text = counters_doc.render()
    assert all(f"`{name}`" in text for name in COUNTER_NAMES)
