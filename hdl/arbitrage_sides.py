"""The arbitrage rule's test on two markets' best prices, in two cycles, for the trigger.

The gateware twin of host.model.trigger.arbitrage_sides: with sum_p = p_bid + p_ask and
sum_s = s_bid + s_ask, it buys when sum_s > 0 and `(sum_p - sum_s) * 10000 >= threshold_bp *
sum_s`, and sells when sum_s > 0 and `(sum_s - sum_p) * 10000 >= threshold_bp * sum_s`.

Written as signs: buy when `diff * 10000 + nsum * threshold_bp >= 0`, sell when
`ndiff * 10000 + nsum * threshold_bp >= 0`, with diff = sum_p - sum_s, ndiff = -diff and
nsum = -sum_s (both signs of the move are multiplied, so neither sum negates). A MULT18X18D
takes 18 bits, so each operand is made in two halves that are added separately, the high
16-bit pieces of the prices (signed) and the low ones (unsigned): diff = diff_high * 2**16 +
diff_low, each half 18 bits signed, and no carry runs from one half into the other.
- Cycle 0 (the caller's): the halves are added (one carry-save layer per three terms, an
  18-bit carry chain) into the DSPs' own operand registers (hdl/dsp_multiplier.py), so no
  fabric register stands between them and the multipliers. The fabric makes only the signs
  that are read later, on its own carry chains into its own flip-flops.
- Cycle 1: three of the four products of each sum, out of the DSPs, meet in a carry-save
  layer; its two terms and the fourth product are registered.
- Cycle 2: one more carry-save layer and a single carry chain give the sign (combinational,
  for the caller to register).
"""

from amaranth import Cat, Const, Module, Signal, Value, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hdl.book_top import PRICE_BITS
from hdl.dsp_multiplier import RegisteredMultiplier

PIECE_BITS = 16  # the low piece of a price; the high piece is the rest, signed
HALF_BITS = PIECE_BITS + 2  # a sum of four pieces, signed: a DSP operand
OPERAND_BITS = PRICE_BITS + 2  # a sum of four prices, signed
MOVE_FACTOR = 10000
THRESHOLD_BITS = 16
# A sum of two products of an operand and a factor below 2**16, with its sign.
DECIDE_BITS = OPERAND_BITS + THRESHOLD_BITS + 2


def _widen(value, bits):
    value = Value.cast(value)
    if len(value) >= bits:
        return value[:bits]
    fill = value[-1] if value.shape().signed else Const(0, 1)
    return Cat(value, fill.replicate(bits - len(value)))


def carry_save(plus, minus, bits):
    """(x, y, one): x + y + one == sum(plus) - sum(minus) (mod 2**bits), one LUT level per
    three terms. Every operand is widened, a subtrahend enters as its complement plus one, and
    the ones go into the free low bits of the carries; what is left (0 or 1) is `one`."""
    terms = [_widen(v, bits) for v in plus] + [~_widen(v, bits) for v in minus]
    ones = len(minus)
    while len(terms) < 2:
        terms.append(Const(0, bits))
    while len(terms) > 2 or ones > 1:
        if len(terms) < 3:
            terms.append(Const(0, bits))
        a, b, c, *rest = terms
        carry = Cat(Const(int(ones > 0), 1), ((a & b) | (a & c) | (b & c))[:bits - 1])
        ones = max(ones - 1, 0)
        terms = [*rest, (a ^ b ^ c)[:bits], carry]
    x, y = terms
    return x, y, ones


def add(x, y, one, bits):
    """x + y + one (mod 2**bits) as signed, on one carry chain: x - ~y is x + y + 1, so the
    one is the chain's carry in."""
    return (x - ~y if one else x + y)[:bits].as_signed()


def signed_sum(plus, minus, bits):
    """sum(plus) - sum(minus) mod 2**bits, as signed: carry-save layers, one carry chain."""
    x, y, one = carry_save(plus, minus, bits)
    return add(x, y, one, bits)


class ArbitrageSides(wiring.Component):
    """`buy` and `sell` of the inputs two cycles before (combinational from registers);
    `move_negative` (sum_p < sum_s) of the inputs a cycle before (a register)."""

    p_bid: In(signed(PRICE_BITS))
    p_ask: In(signed(PRICE_BITS))
    s_bid: In(signed(PRICE_BITS))
    s_ask: In(signed(PRICE_BITS))
    threshold_bp: In(THRESHOLD_BITS)

    move_negative: Out(1)
    buy: Out(1)
    sell: Out(1)

    def elaborate(self, platform):
        m = Module()
        high = [v[PIECE_BITS:].as_signed() for v in (self.p_bid, self.p_ask,
                                                    self.s_bid, self.s_ask)]
        low = [v[:PIECE_BITS] for v in (self.p_bid, self.p_ask, self.s_bid, self.s_ask)]
        operands = {}
        for name, pieces in (("high", high), ("low", low)):
            pb, pa, sb, sa = pieces
            operands[f"diff_{name}"] = signed_sum([pb, pa], [sb, sa], HALF_BITS)
            operands[f"ndiff_{name}"] = signed_sum([sb, sa], [pb, pa], HALF_BITS)
            operands[f"nsum_{name}"] = signed_sum([], [sb, sa], HALF_BITS)
        # The signs, whole: sum_s > 0 when -sum_s < 0.
        positive_1, positive_2 = Signal(), Signal()
        m.d.sync += [
            self.move_negative.eq(signed_sum([self.p_bid, self.p_ask],
                                             [self.s_bid, self.s_ask], OPERAND_BITS)[-1]),
            positive_1.eq(signed_sum([], [self.s_bid, self.s_ask], OPERAND_BITS)[-1]),
            positive_2.eq(positive_1),
        ]
        factor_bits = MOVE_FACTOR.bit_length()
        products = {}
        for name, value in operands.items():
            factor = self.threshold_bp if name.startswith("nsum") else MOVE_FACTOR
            bits = THRESHOLD_BITS if name.startswith("nsum") else factor_bits
            m.submodules[name] = dsp = RegisteredMultiplier(a_signed=True, b_signed=True)
            m.d.comb += [dsp.a.eq(value), dsp.b.eq(factor)]
            # The product fits this many bits, so the cut is exact.
            products[name] = dsp.p[:HALF_BITS + bits].as_signed()

        # Cycle 1 reduces three of each sum's four products to two terms and registers them
        # with the fourth; cycle 2 has one more carry-save layer and the carry chain. (With
        # both layers in cycle 1, the route out of the DSP column and two LUTs were too long.)
        nsum_low = Signal(signed(len(products["nsum_low"])))
        m.d.sync += nsum_low.eq(products["nsum_low"])
        sides = []
        for move in ("diff", "ndiff"):
            terms = [products[f"{move}_high"] << PIECE_BITS, products[f"{move}_low"],
                     products["nsum_high"] << PIECE_BITS]
            x, y, _ = carry_save(terms, [], DECIDE_BITS)
            x_r = Signal(DECIDE_BITS, name=f"{move}_x")
            y_r = Signal(DECIDE_BITS, name=f"{move}_y")
            m.d.sync += [x_r.eq(x), y_r.eq(y)]
            x, y, one = carry_save([x_r, y_r, nsum_low], [], DECIDE_BITS)
            sides.append(positive_2 & ~add(x, y, one, DECIDE_BITS)[-1])
        m.d.comb += [self.buy.eq(sides[0]), self.sell.eq(sides[1])]
        return m
