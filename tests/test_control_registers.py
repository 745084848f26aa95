"""The register map declaration, the bank generated from it, and its generated doc."""

from __future__ import annotations

import subprocess
import sys

import pytest
from amaranth.hdl import Fragment, Shape
from amaranth.lib import wiring

from hdl.build_id import source_build_id
from hdl.register_bank import RegisterBank, bank_members
from host.fpga import docgen
from host.fpga.registers import REGISTERS
from host.fpga.regmap import Access, BitField, Group, RegisterMap, Value, ro, rw, w1p


def test_every_register_has_one_address_inside_its_group():
    addresses = [w.address for w in REGISTERS.words]
    assert len(addresses) == len(set(addresses))
    bases = sorted(g.base for g in REGISTERS.groups)
    for group in REGISTERS.groups:
        nxt = min((b for b in bases if b > group.base), default=1 << 16)
        for v in group.values:
            for w in REGISTERS.words_of(v.name):
                assert group.base <= w.address < nxt, w.name


def test_wide_values_take_adjacent_lo_hi_registers():
    for v in REGISTERS.values:
        words = REGISTERS.words_of(v.name)
        if v.width > 32:
            assert [w.name for w in words] == [f"{v.name}_lo", f"{v.name}_hi"]
            assert words[1].address == words[0].address + 1
        else:
            assert [w.name for w in words] == [v.name]


def test_assemble_rebuilds_signed_wide_values():
    names = ["order_price", "scratch"]
    raw = [0xFFFF_FFFE, 0xFFFF_FFFF, 7]
    assert len(REGISTERS.addresses(names)) == 3
    assert REGISTERS.assemble(names, raw) == {"order_price": -2, "scratch": 7}


def test_the_digest_follows_the_declaration():
    def one(width):
        return RegisterMap((Group("g", 0, "", (rw("a", width, "doc"),)),)).digest
    assert one(8) == one(8) != one(9)


@pytest.mark.parametrize("bad", [
    Value("x", Access.W1P, 64, ""),  # a strobe's data fits one word
    Value("x", Access.RO, 8, "", reset=1),  # only RW values have a reset
    Value("x", Access.RO, 0, ""),  # only a W1P may be a bare strobe
    Value("x", Access.RW, 8, "", reset=256),  # reset does not fit
    Value("x", Access.RO, 8, "", fields=(BitField("a", 0, 4), BitField("b", 3, 2))),
    Value("x", Access.RO, 8, "", fields=(BitField("a", 6, 4),)),
    Value("X", Access.RO, 8, ""),
])
def test_bad_declarations_are_refused(bad):
    with pytest.raises(ValueError):
        RegisterMap((Group("g", 0, "", (bad,)),))


def test_overlapping_groups_are_refused():
    with pytest.raises(ValueError, match="share address"):
        RegisterMap((Group("a", 0, "", (ro("a1", 64, ""),)),
                     Group("b", 1, "", (ro("b1", 8, ""),))))


def test_the_bank_has_a_port_per_value_in_the_declared_direction():
    bank = RegisterBank()
    Fragment.get(bank, None)  # it elaborates, too
    members = dict(bank.signature.members)
    for v in REGISTERS.values:
        port = members[v.name]
        if v.access is Access.RW:
            assert port.flow is wiring.Out and Shape.cast(port.shape).width == v.width
            assert port.init == v.reset or v.fields
        elif v.access is Access.RO:
            assert port.flow is wiring.In and Shape.cast(port.shape).width == v.width
        elif v.access is Access.W1P:
            assert port.flow is wiring.Out and Shape.cast(port.shape).width == 1
            assert (f"{v.name}_value" in members) == bool(v.width)
        else:
            assert port.flow is wiring.In
            assert members[f"{v.name}_clear"].flow is wiring.Out
            assert members[f"{v.name}_mask"].flow is wiring.Out


def test_a_bank_port_name_cannot_be_taken_twice():
    regmap = RegisterMap((Group("g", 0, "", (w1p("a", 8, ""), rw("a_value", 8, ""))),))
    with pytest.raises(ValueError, match="declared twice"):
        bank_members(regmap)


def test_register_map_doc_is_fresh_and_names_every_register():
    assert docgen.DOC_PATH.read_text() == docgen.render(), (
        "docs/register-map.md is stale: run `tickwire docs` and commit the result")
    text = docgen.render()
    for w in REGISTERS.words:
        assert f"`{w.name}`" in text and f"{w.address:#06x}" in text


def test_docs_check_fails_on_a_stale_register_map(tmp_path):
    stale = tmp_path / "register-map.md"
    stale.write_text(docgen.render().replace("`scratch`", "`scrotch`"))
    assert not docgen.is_fresh(stale)
    docgen.write(stale)
    assert docgen.is_fresh(stale)


def test_cli_docs_check_covers_the_register_map():
    result = subprocess.run([sys.executable, "-m", "host.cli", "docs", "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "register-map.md is up to date" in result.stdout


def test_source_build_id_is_stable():
    assert source_build_id() == source_build_id()
    assert 0 <= source_build_id() < 1 << 32
