"""The Amaranth views in hdl.layouts read the same values the Python codec writes."""

from __future__ import annotations

import random

import pytest
from amaranth.lib import data

from hdl import layouts
from host import wire
from tests.wire_samples import random_record


@pytest.mark.parametrize("layout", wire.ALL_LAYOUTS, ids=lambda layout: layout.name)
def test_struct_fields_equal_codec_values(layout):
    struct = layouts.STRUCTS[layout.name]
    shape = data.Layout.cast(struct)
    assert shape.size == layout.size * 8
    rng = random.Random(layout.name)
    for _ in range(100):
        record = random_record(rng, layout)
        raw = layout.encode(record)
        view = data.Const(shape, int.from_bytes(raw, layout.byteorder))
        for name, value in record._asdict().items():
            got = view[name]
            assert (got.value if hasattr(got, "value") else got) == value, name


def test_enum_fields_are_amaranth_enums():
    shape = data.Layout.cast(layouts.BookLevel)
    assert shape["side"].shape is layouts.Side
    assert layouts.Side.ASK.value == wire.Side.ASK


def test_framing_fields_are_visible_to_the_gateware():
    shape = data.Layout.cast(layouts.BookLevel)
    assert shape["length"].offset == 0
    assert shape["template_id"].offset == 16
    assert shape["price"].offset == 128
