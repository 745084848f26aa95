"""Decimal strings become integer ticks once, at the edge; anything malformed is refused with
a typed error, never accepted the way int() or float() would accept it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from host.model.decimal_ticks import INT64_MAX, DecimalScale
from host.model.depth_errors import BadDecimal, OutOfRange, TooPrecise


@pytest.mark.parametrize(("text", "decimals", "value"), [
    ("61800.20", 2, 6180020),
    ("61800.2", 2, 6180020),
    ("61837.63000000", 2, 6183763),
    ("0.014", 3, 14),
    ("0.000", 3, 0),
    ("0", 3, 0),
    ("12", 0, 12),
    ("12.000", 0, 12),
    ("007.5", 1, 75),
])
def test_converts(text, decimals, value):
    scale = DecimalScale(decimals)
    assert scale[text] == value
    assert scale.parse(text) == value


@pytest.mark.parametrize("text", [
    "", ".", "1.", ".5", "-1.00", "+1.00", "1e3", "1_000", " 1.00", "1.00 ", "1,00", "1.0.0",
    "nan", "inf", "٣.٣", "１.5", "0x10", "1.00\n",
])
def test_rejects_what_int_and_float_would_let_through(text):
    with pytest.raises(BadDecimal) as error:
        DecimalScale(2)[text]
    assert error.value.reason == "bad_decimal"


@pytest.mark.parametrize("value", [1.5, 15, None, b"1.50", True])
def test_rejects_non_strings(value):
    with pytest.raises(BadDecimal):
        DecimalScale(2)[value]


def test_rejects_unhashable_with_a_type_error_the_book_turns_into_bad_levels():
    with pytest.raises(TypeError):
        DecimalScale(2)[["1.5"]]


def test_too_precise_is_its_own_reason():
    with pytest.raises(TooPrecise) as error:
        DecimalScale(2)["61800.205"]
    assert error.value.reason == "too_precise"


def test_int64_bound():
    scale = DecimalScale(0)
    assert scale[str(INT64_MAX)] == INT64_MAX
    with pytest.raises(OutOfRange):
        scale[str(INT64_MAX + 1)]
    with pytest.raises(BadDecimal):
        scale["9" * 41]


def test_a_refused_string_is_not_cached():
    scale = DecimalScale(2)
    with pytest.raises(BadDecimal):
        scale["1.x"]
    assert len(scale) == 0 and scale.misses == 0


def test_cache_is_bounded():
    scale = DecimalScale(2, max_cache=8)
    for n in range(100):
        assert scale[f"{n}.00"] == n * 100
        assert len(scale) <= 8
    assert scale.misses == 100
    scale["99.00"]  # a hit
    assert scale.misses == 100


def test_bad_configuration():
    with pytest.raises(ValueError):
        DecimalScale(19)
    with pytest.raises(ValueError):
        DecimalScale(2, max_cache=0)


@given(st.integers(0, INT64_MAX), st.integers(0, 18), st.integers(0, 4))
def test_format_then_parse_round_trips(value, decimals, extra_zeros):
    scale = DecimalScale(decimals)
    text = scale.format(value)
    if decimals:
        text += "0" * extra_zeros
    assert scale[text] == value
