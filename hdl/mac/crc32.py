"""Ethernet's CRC-32 (zlib's), one byte per cycle.

Ethernet sends each byte least significant bit first, so the CRC runs reflected: the register
shifts right and the polynomial is 0xEDB88320. `crc32_next` is that step as a flat XOR network
whose taps are worked out here by running the bit-serial CRC on symbols (as crc16.py does).
The register starts at all ones; the FCS is its complement, low byte first; and running the
register over a frame and its correct FCS always leaves RESIDUE.
"""

from functools import reduce
from operator import xor

from amaranth.hdl import Cat, Value

POLY = 0xEDB88320
INIT = 0xFFFFFFFF
RESIDUE = 0xDEBB20E3


def _taps() -> list[tuple[frozenset, frozenset]]:
    """For each next-state bit: (register bits, byte bits) whose XOR it is."""
    crc = [frozenset({("c", i)}) for i in range(32)]
    for bit in range(8):
        feedback = crc[0] ^ frozenset({("d", bit)})
        shifted = crc[1:] + [frozenset()]
        crc = [shifted[i] ^ feedback if (POLY >> i) & 1 else shifted[i] for i in range(32)]
    return [(frozenset(i for k, i in s if k == "c"), frozenset(i for k, i in s if k == "d"))
            for s in crc]


_TAPS = _taps()


def crc32_next(crc: Value, byte: Value) -> Value:
    """The CRC register after shifting `byte` in, least significant bit first."""
    bits = []
    for register_bits, byte_bits in _TAPS:
        terms = [crc[i] for i in sorted(register_bits)] + [byte[i] for i in sorted(byte_bits)]
        bits.append(reduce(xor, terms))
    return Cat(*bits)


def crc32_reference(crc: int, byte: int) -> int:
    """The same step on integers, bit by bit (checks the XOR network against zlib)."""
    crc ^= byte
    for _ in range(8):
        crc = (crc >> 1) ^ (POLY if crc & 1 else 0)
    return crc
