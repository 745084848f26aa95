"""numpy dtypes derived from the layouts, and a vectorised decoder for many packets at once.

`decode_batch` walks all packets in lock step: step k reads message k of every packet that
has one, so the Python loop runs once per message index (a few dozen), not once per message.
Every check is vectorised, and only finds *which* packets are malformed; the first of them is
then handed to `decode_packet`, so the error raised is exactly the one-packet decoder's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from host.wire.declare import Layout
from host.wire.errors import WireError
from host.wire.feed import (
    FEED_MESSAGES,
    MAX_MESSAGE_SIZE,
    MESSAGE_HEADER,
    PACKET_HEADER,
    SCHEMA_VERSION,
)
from host.wire.packet import decode_packet


def numpy_dtype(layout: Layout) -> np.dtype:
    """A structured dtype with the layout's field names, offsets and byte order."""
    if not layout.byte_aligned:
        raise TypeError(f"{layout.name} has fields that are not whole bytes")
    order = "<" if layout.byteorder == "little" else ">"
    names, formats, offsets = [], [], []
    for p in layout.placed:
        if p.field.reserved:
            continue
        kind = "i" if p.field.signed else "u"
        names.append(p.field.name)
        formats.append(f"{order}{kind}{p.field.bits // 8}")
        offsets.append(p.offset)
    return np.dtype({"names": names, "formats": formats, "offsets": offsets,
                     "itemsize": layout.size})


PACKET_HEADER_DTYPE = numpy_dtype(PACKET_HEADER)
FEED_DTYPES: dict[str, np.dtype] = {m.name: numpy_dtype(m) for m in FEED_MESSAGES}
_SIZE_BY_TEMPLATE = np.full(256, -1, dtype=np.int64)
for _m in FEED_MESSAGES:
    _SIZE_BY_TEMPLATE[_m.template_id] = _m.size
_TEMPLATE_AT = MESSAGE_HEADER.by_name["template_id"].offset
_TEMPLATE_SHIFT = 8 * _TEMPLATE_AT  # in a little-endian word read at the message start
_LENGTH_MASK = (1 << MESSAGE_HEADER.by_name["length"].field.bits) - 1
assert MESSAGE_HEADER.by_name["length"].offset == 0 and MESSAGE_HEADER.byteorder == "little"
# Zeros after the last payload: room for the widest read of a short or malformed packet.
_TAIL = bytes(max(PACKET_HEADER.size, MAX_MESSAGE_SIZE) + 8)


def _enum_table(f) -> np.ndarray:
    allowed = np.zeros(1 << f.bits, dtype=bool)
    allowed[[int(m) for m in f.enum]] = True
    return allowed


# (field, allowed[value]) per message type, for the enumerated fields.
_ENUM_CHECKS = {m.name: [(f.name, _enum_table(f)) for f in m.record_fields if f.enum]
                for m in FEED_MESSAGES}


class Batch(NamedTuple):
    """Decoded packets, one structured array per message type, in wire order.

    `packet[name][i]` is the index (in the input) of the payload message `messages[name][i]`
    came from, and `seq[name][i]` its feed sequence number.
    """

    headers: np.ndarray
    messages: dict[str, np.ndarray]
    packet: dict[str, np.ndarray]
    seq: dict[str, np.ndarray]

    def __len__(self) -> int:
        return sum(len(a) for a in self.messages.values())


def decode_batch(payloads: Sequence[bytes]) -> Batch:
    """Decode many UDP payloads at once, with the checks and errors of `decode_packet`.

    If any payload is malformed, the first one (in input order) raises the very error
    `decode_packet` raises for it, its message prefixed with the payload's index."""
    n = len(payloads)
    lengths = np.fromiter(map(len, payloads), dtype=np.int64, count=n)
    # Each payload is padded to a multiple of 8 so that every message starts on an 8-byte
    # word: gathers then move words, not bytes. Checks use the true ends. A zero tail keeps
    # every read of a packet that is cut short, or has gone wrong, inside the buffer.
    padded = (lengths + 7) & ~7
    starts = np.zeros(n, dtype=np.int64)
    np.cumsum(padded[:-1], out=starts[1:])
    ends = starts + lengths
    parking = int(padded.sum())  # where a malformed packet's walk is parked: zeros
    # One join, the tail included: concatenating after it would copy the whole capture again
    # into fresh pages, which costs more than the rest of the decode.
    if (padded == lengths).all():  # every well-formed payload is a multiple of 8 already
        joined = b"".join([*payloads, _TAIL])
    else:
        joined = b"".join([*(p + bytes(-len(p) % 8) for p in payloads), _TAIL])
    words = np.frombuffer(joined, dtype="<i8")  # signed: shifts and masks stay int64

    headers = _gather(words, starts >> 3, PACKET_HEADER_DTYPE)
    bad = (lengths < PACKET_HEADER.size) | (headers["schema_version"] != SCHEMA_VERSION)
    counts = np.where(bad, 0, headers["msg_count"]).astype(np.int64)
    total = int(counts.sum())
    # Message k of packet p is message first[p] + k in wire order.
    first = np.zeros(n, dtype=np.int64)
    np.cumsum(counts[:-1], out=first[1:])
    at_all = _walk(words, counts, first, starts, ends, bad, parking, total)
    # The template byte of the message at every word, as a strided view: no copy.
    template_of_word = np.ndarray((len(words),), dtype=np.uint8, buffer=words,
                                  offset=_TEMPLATE_AT, strides=(8,))
    template_all = template_of_word[at_all]
    packet_of = np.repeat(np.arange(n), counts)
    # A message's sequence is its packet's plus its index in the packet: base + wire index.
    base = headers["sequence"] - first.astype(np.uint64)  # modulo 2**64, like the sum

    batch = Batch(headers, {}, {}, {})
    for m in FEED_MESSAGES:
        mine = np.flatnonzero(template_all == m.template_id)  # wire order
        records = _gather(words, at_all.take(mine), FEED_DTYPES[m.name])
        packet = packet_of.take(mine)
        for name, allowed in _ENUM_CHECKS[m.name]:
            bad[packet[~allowed.take(records[name])]] = True
        batch.messages[m.name] = records
        batch.packet[m.name] = packet
        seq = base.take(packet)
        seq += mine.view(np.uint64)  # wire indices, never negative
        batch.seq[m.name] = seq
    if bad.any():
        _raise_first(payloads, int(np.flatnonzero(bad)[0]))
    return batch


def _walk(words, counts, first, starts, ends, bad, parking: int, total: int):
    """The word offset (byte offset / 8) of every message, in wire order, walking all packets in
    lock step: step k reads message k of every packet that has one, so the Python loop runs
    once per message index (a few dozen), not once per message. Packets are taken in order of
    message count, so the packets still walking at step k are a prefix: slices, not masks.
    Malformed packets are marked in `bad` and parked on the zero tail."""
    order = np.argsort(-counts, kind="stable")
    sorted_counts = counts[order]
    live_at = np.searchsorted(-sorted_counts, -np.arange(int(sorted_counts[:1].sum())),
                              side="left")
    pos = starts[order] + PACKET_HEADER.size
    end = ends[order]
    slot = first[order]
    failed = np.zeros(len(order), dtype=bool)
    # Zeros: slots a malformed packet never reached still point inside the buffer.
    at_all = np.zeros(total, dtype=np.int64)
    for k, live in enumerate(live_at.tolist()):
        at = pos[:live]
        at_word = at >> 3
        word = words.take(at_word)
        # -1 for an unknown template: never a length
        size = _SIZE_BY_TEMPLATE.take((word >> _TEMPLATE_SHIFT) & 0xFF)
        # A message that runs past its packet's end is not checked here: the walk goes on
        # (within the zero tail) and the packet fails the end check below.
        wrong = (word & _LENGTH_MASK) != size
        at_all[slot[:live] + k] = at_word
        np.add(at, size, out=at)
        if wrong.any():
            failed[:live] |= wrong
            at[wrong] = parking
            if failed[:live].all():  # only malformed packets left, whatever they count
                break
    failed |= pos != end  # bytes after the last counted message, or too few
    bad[order[failed]] = True
    return at_all


def _raise_first(payloads: Sequence[bytes], index: int) -> None:
    try:
        decode_packet(payloads[index])
    except WireError as exc:
        named = type(exc)(f"packet {index}: {exc.args[0]}")
        named.offset = exc.offset
        raise named from None
    raise AssertionError(f"packet {index} was found malformed, but decode_packet takes it")


def _gather(words: np.ndarray, at_word: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Records of `dtype` starting at the words `at_word`. The buffer is seen
    as overlapping opaque records, one starting at every word, so that one fancy index copies
    whole records (a structured dtype there would copy field by field, several times
    slower)."""
    size = dtype.itemsize
    records = np.ndarray((len(words) - size // 8 + 1,), dtype=f"V{size}", buffer=words,
                         strides=(8,))
    return records[at_word].view(dtype)
