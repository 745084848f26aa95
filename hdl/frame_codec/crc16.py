"""CRC-16/CCITT-FALSE, one byte per cycle, with the parameters host/fpga/protocol.py declares.

`crc16_next` gives the CRC register after one input byte. The CRC is linear over GF(2), so
each next-state bit is the XOR of some register bits and some byte bits; those sets are
worked out here, in Python, by running the bit-serial CRC (MSB first) on symbols, and the
gateware is just those XORs: a flat two-level network rather than eight chained steps.
"""

from functools import reduce
from operator import xor

from amaranth.hdl import Cat, Value

from host.fpga.protocol import CRC_INIT, CRC_POLY

INIT = CRC_INIT
POLY = CRC_POLY


def _taps() -> list[tuple[frozenset, frozenset]]:
    """For each next-state bit: (register bits, byte bits) whose XOR it is."""
    # A symbol is a frozenset of ("c", i) register bits and ("d", i) byte bits.
    crc = [frozenset({("c", i)}) for i in range(16)]
    for bit in reversed(range(8)):
        feedback = crc[15] ^ frozenset({("d", bit)})
        shifted = [frozenset()] + crc[:15]
        crc = [shifted[i] ^ feedback if (POLY >> i) & 1 else shifted[i] for i in range(16)]
    return [(frozenset(i for k, i in s if k == "c"), frozenset(i for k, i in s if k == "d"))
            for s in crc]


_TAPS = _taps()


def crc16_next(crc: Value, byte: Value) -> Value:
    """The CRC register after shifting `byte` in, most significant bit first."""
    bits = []
    for register_bits, byte_bits in _TAPS:
        terms = [crc[i] for i in sorted(register_bits)] + [byte[i] for i in sorted(byte_bits)]
        bits.append(reduce(xor, terms))
    return Cat(*bits)


def crc16_reference(crc: int, byte: int) -> int:
    """The same step on integers, bit by bit (checks the XOR network against the host CRC)."""
    for bit in reversed(range(8)):
        feedback = ((crc >> 15) ^ (byte >> bit)) & 1
        crc = ((crc << 1) & 0xFFFF) ^ (POLY if feedback else 0)
    return crc
