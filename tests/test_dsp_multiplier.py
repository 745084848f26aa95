"""RegisteredMultiplier: its simulation model's timing and arithmetic, and the cell it becomes
in an ECP5 netlist (the one place where the two descriptions must agree by construction)."""

import gc
import random
import warnings

import pytest
from amaranth.hdl import Fragment, Instance, UnusedElaboratable
from amaranth.sim import Simulator

from hdl.boards.ecp5_netlist import ECP5_NETLIST
from hdl.dsp_multiplier import WIDTH, RegisteredMultiplier


def _operand(rng: random.Random, signed: bool) -> int:
    if signed:
        return rng.choice([-(1 << (WIDTH - 1)), (1 << (WIDTH - 1)) - 1, -1, 0,
                           rng.randrange(-(1 << (WIDTH - 1)), 1 << (WIDTH - 1))])
    return rng.choice([0, 1, (1 << WIDTH) - 1, rng.getrandbits(WIDTH)])


@pytest.mark.parametrize(("a_signed", "b_signed"), [(False, False), (True, True),
                                                    (True, False), (False, True)])
def test_product_is_of_the_operands_one_cycle_earlier(a_signed, b_signed):
    dut = RegisteredMultiplier(a_signed, b_signed)
    rng = random.Random(f"{a_signed}{b_signed}")
    seen = []

    async def bench(ctx):
        product = None  # of the operands the registers took at the last edge
        for _ in range(300):
            a, b = _operand(rng, a_signed), _operand(rng, b_signed)
            ctx.set(dut.a, a)
            ctx.set(dut.b, b)
            if product is not None:  # new operands do not reach `p` before an edge
                seen.append((ctx.get(dut.p), product))
            await ctx.tick()
            product = a * b
            seen.append((ctx.get(dut.p), product))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert seen and all(got == want for got, want in seen), \
        [(got, want) for got, want in seen if got != want][:5]


@pytest.mark.parametrize(("a_signed", "b_signed"), [(False, False), (True, True)])
def test_ecp5_netlist_is_a_mult18x18d_with_only_its_operand_registers(a_signed, b_signed):
    fragment = Fragment.get(RegisteredMultiplier(a_signed, b_signed), ECP5_NETLIST)
    cells = [sub for sub, _name, _src in fragment.subfragments if isinstance(sub, Instance)]
    assert len(cells) == 1
    cell = cells[0]
    assert cell.type == "MULT18X18D"
    params = cell.parameters
    assert params["REG_INPUTA_CLK"] == params["REG_INPUTB_CLK"] == "CLK0"
    for later in ("REG_INPUTC_CLK", "REG_PIPELINE_CLK", "REG_OUTPUT_CLK"):
        assert params[later] == "NONE"
    assert params["GSR"] == "DISABLED"
    ports = cell.ports
    assert ports["SIGNEDA"][0].value == int(a_signed)
    assert ports["SIGNEDB"][0].value == int(b_signed)
    assert all(ports[f"RST{n}"][0].value == 0 for n in range(4))
    assert all(ports[f"CE{n}"][0].value == 1 for n in range(4))


def test_other_platforms_are_refused():
    class Ice40:
        family = "ice40"

    dut = RegisteredMultiplier()
    dut._MustUse__silence = True  # it is never elaborated, which is the point
    with warnings.catch_warnings():
        # Refusing leaves the Module it had started unused, which Amaranth warns about
        # when it is collected.
        warnings.simplefilter("ignore", UnusedElaboratable)
        with pytest.raises(NotImplementedError):
            Fragment.get(dut, Ice40())
        gc.collect()
