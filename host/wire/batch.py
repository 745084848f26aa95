"""numpy dtypes derived from the layouts, and a vectorised decoder for many packets at once.

`decode_batch` walks all packets in lock step: step k reads message k of every packet that
has one, so the Python loop runs once per message index (a few dozen), not once per message.
It applies the same checks as `decode_packet` and raises the same typed errors, naming the
packet that failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from host.wire.declare import Layout
from host.wire.errors import (
    BadFieldValue,
    CountMismatch,
    LengthMismatch,
    SchemaMismatch,
    Truncated,
    UnknownTemplate,
)
from host.wire.feed import FEED_MESSAGES, MESSAGE_HEADER_SIZE, PACKET_HEADER, SCHEMA_VERSION


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
_SIZE_BY_TEMPLATE = np.zeros(256, dtype=np.int64)
for _m in FEED_MESSAGES:
    _SIZE_BY_TEMPLATE[_m.template_id] = _m.size


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
    """Decode many UDP payloads at once, with the checks and errors of `decode_packet`."""
    lengths = np.fromiter(map(len, payloads), dtype=np.int64, count=len(payloads))
    short = np.flatnonzero(lengths < PACKET_HEADER.size)
    if short.size:
        raise Truncated(f"packet {short[0]} has {lengths[short[0]]} bytes, the header needs "
                        f"{PACKET_HEADER.size}")
    # Each payload is padded to a multiple of 8 so that every message starts on an 8-byte
    # word: gathers then move words, not bytes. Checks use the true ends.
    padded = (lengths + 7) & ~7
    starts = np.zeros(len(payloads), dtype=np.int64)
    np.cumsum(padded[:-1], out=starts[1:])
    ends = starts + lengths
    if (padded == lengths).all():  # every well-formed payload is a multiple of 8 already
        joined = b"".join(payloads)
    else:
        joined = b"".join(p + bytes(-len(p) % 8) for p in payloads)
    raw = np.frombuffer(joined, dtype=np.uint8)
    words = raw.view("<u8")

    headers = _gather(words, starts, PACKET_HEADER.size).view(PACKET_HEADER_DTYPE)[:, 0]
    bad_schema = np.flatnonzero(headers["schema_version"] != SCHEMA_VERSION)
    if bad_schema.size:
        raise SchemaMismatch(f"packet {bad_schema[0]} has schema version "
                             f"{headers['schema_version'][bad_schema[0]]}")

    counts = headers["msg_count"].astype(np.int64)
    total = int(counts.sum())
    # Message k of packet p is message first[p] + k in wire order, so offsets land in order
    # without a sort.
    first = np.zeros(len(payloads), dtype=np.int64)
    np.cumsum(counts[:-1], out=first[1:])
    at_all = np.empty(total, dtype=np.int64)
    pos = starts + PACKET_HEADER.size
    for k in range(int(counts.max(initial=0))):
        live = np.flatnonzero(counts > k)
        at = pos[live]
        _check_header_room(at, ends[live], live, k)
        word = words[at >> 3]
        length = (word & 0xFFFF).astype(np.int64)
        template = ((word >> 16) & 0xFF).astype(np.int64)
        size = _SIZE_BY_TEMPLATE[template]
        _check_message(length, template, size, at, ends[live], live, k)
        at_all[first[live] + k] = at
        pos[live] = at + size
    trailing = np.flatnonzero(pos != ends)
    if trailing.size:
        i = trailing[0]
        raise CountMismatch(f"packet {i}: {ends[i] - pos[i]} bytes follow the {counts[i]} "
                            f"messages its header counts")

    at_words = at_all >> 3
    templates = (words[at_words] >> 16) & 0xFF
    packet_of = np.repeat(np.arange(len(payloads)), counts)
    index_in_packet = np.arange(total) - first[packet_of]
    seq = headers["sequence"][packet_of] + index_in_packet.astype(np.uint64)
    batch = Batch(headers, {}, {}, {})
    for m in FEED_MESSAGES:
        mine = np.flatnonzero(templates == m.template_id)
        records = _gather(words, at_all[mine], m.size).view(FEED_DTYPES[m.name])[:, 0]
        _check_enums(m, records, packet_of[mine])
        batch.messages[m.name] = records
        batch.packet[m.name] = packet_of[mine]
        batch.seq[m.name] = seq[mine]
    return batch


def _gather(words: np.ndarray, at: np.ndarray, size: int) -> np.ndarray:
    """Rows of `size` bytes starting at byte offsets `at` (multiples of 8)."""
    if at.size == 0:
        return np.empty((0, size), dtype=np.uint8)
    rows = np.lib.stride_tricks.sliding_window_view(words, size // 8)[at >> 3]
    return rows.view(np.uint8)


def _check_header_room(at, end, live, k) -> None:
    room = end - at
    bad = np.flatnonzero(room < MESSAGE_HEADER_SIZE)
    if bad.size:
        i = bad[0]
        if room[i] == 0:
            raise CountMismatch(f"packet {live[i]}: header counts more messages than the "
                                f"{k} its payload holds")
        raise Truncated(f"packet {live[i]}: message {k} header needs {MESSAGE_HEADER_SIZE} "
                        f"bytes, {room[i]} remain")


def _check_message(length, template, size, at, end, live, k) -> None:
    unknown = np.flatnonzero(size == 0)
    if unknown.size:
        i = unknown[0]
        raise UnknownTemplate(f"packet {live[i]}: message {k} has unknown template id "
                              f"{template[i]}")
    lying = np.flatnonzero(length != size)
    if lying.size:
        i = lying[0]
        raise LengthMismatch(f"packet {live[i]}: message {k} says length {length[i]}, its "
                             f"template is {size[i]} bytes")
    short = np.flatnonzero(end - at < size)
    if short.size:
        i = short[0]
        raise Truncated(f"packet {live[i]}: message {k} needs {size[i]} bytes, "
                        f"{end[i] - at[i]} remain")


def _check_enums(layout: Layout, records: np.ndarray, packet_of: np.ndarray) -> None:
    for f in layout.record_fields:
        if f.enum is None or records.size == 0:
            continue
        ok = np.isin(records[f.name], [int(m) for m in f.enum])
        if not ok.all():
            i = np.flatnonzero(~ok)[0]
            raise BadFieldValue(f"packet {packet_of[i]}: {layout.name}.{f.name} = "
                                f"{records[f.name][i]} is not a {f.enum.__name__}")
