"""The control link's wire protocol, sans I/O: framing, CRC, requests and responses.

A frame on the UART is `COBS(payload + CRC-16) + 0x00`. The CRC is CRC-16/CCITT-FALSE
(polynomial 0x1021, initial value 0xFFFF, no reflection, no final XOR) over the payload,
appended most significant byte first, so the CRC run over payload and CRC together ends at
zero: the gateware checks exactly that. Multi-byte fields inside the payload are
little-endian, as on the feed.

    request  = seq u8 | op u8 | body           (SYNC: no body; READ: addr u16;
                                                WRITE: addr u16, value u32;
                                                BATCH_READ: addr u16 x 1..MAX_BATCH)
    response = seq u8 | status u8 | body        (OK: the words read, u32 each, in order;
                                                an error: detail u16)

The board answers every frame it receives whole: an executed request with OK, anything else
with an error status and a detail word (the offending address, op or payload length). A
request repeating the sequence number of the request executed just before it is answered
from the saved response without being executed again, so a retry after a lost response
never applies a write or a strobe twice. SYNC forgets the saved response (the host sends it
when it opens the link).
"""

from __future__ import annotations

import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from host.fpga.errors import FramingError

CRC_POLY = 0x1021
CRC_INIT = 0xFFFF
CRC_BYTES = 2
DELIMITER = 0
COBS_BLOCK = 254  # data bytes in a full COBS block (code 0xFF)
MAX_BATCH = 32
MAX_REQUEST = 2 + 2 * MAX_BATCH  # payload bytes, CRC excluded
MAX_RESPONSE = 2 + 4 * MAX_BATCH
PROTOCOL_VERSION = 1


class Op(IntEnum):
    SYNC = 0
    READ = 1
    WRITE = 2
    BATCH_READ = 3


class Status(IntEnum):
    OK = 0
    BAD_CRC = 1
    BAD_LENGTH = 2
    UNKNOWN_OP = 3
    BAD_ADDRESS = 4
    READ_ONLY = 5
    BAD_FRAME = 6


OP_DOC = {
    Op.SYNC: ("(none)", "(none)", "Forget the saved response (see replays). The host sends "
              "it when it opens the link."),
    Op.READ: ("addr u16", "value u32", "Read one register."),
    Op.WRITE: ("addr u16, value u32", "(none)", "Write one register."),
    Op.BATCH_READ: (f"addr u16 x 1..{MAX_BATCH}", "value u32 per address",
                    "Read registers in the order given (a `_lo` before its `_hi` reads a "
                    "64-bit value atomically). Every address is checked before any is read."),
}

STATUS_DOC = {
    Status.OK: ("-", "Executed (or answered from the saved response)."),
    Status.BAD_CRC: ("0", "The frame's CRC is wrong. Nothing was executed; retry."),
    Status.BAD_LENGTH: ("payload length", "A CRC-checked frame shorter than seq and op, "
                        f"longer than {MAX_REQUEST} bytes, or the wrong size for its op."),
    Status.UNKNOWN_OP: ("op", "No such op."),
    Status.BAD_ADDRESS: ("address", "No register at an address of the request."),
    Status.READ_ONLY: ("address", "A write to a read-only register."),
    Status.BAD_FRAME: ("0", "Malformed COBS (a block cut short by the delimiter), or a UART "
                       "byte with a bad stop bit since the previous delimiter. Nothing was "
                       "executed; retry."),
}


def crc16(data: bytes | bytearray | memoryview, crc: int = CRC_INIT) -> int:
    """CRC-16/CCITT-FALSE (binascii's crc_hqx is this CRC when started at 0xFFFF)."""
    return binascii.crc_hqx(data, crc)


def cobs_encode(data: bytes) -> bytes:
    """COBS without the trailing delimiter. A frame ends after the block holding its last
    byte; if that byte is a zero, an empty final block (code 1) follows."""
    out = bytearray()
    block = bytearray()
    for index, byte in enumerate(data):
        if byte == 0:
            out.append(len(block) + 1)
            out += block
            block.clear()
            continue
        block.append(byte)
        if len(block) == COBS_BLOCK:
            out.append(0xFF)
            out += block
            block.clear()
            if index == len(data) - 1:
                return bytes(out)
    out.append(len(block) + 1)
    out += block
    return bytes(out)


def cobs_decode(encoded: bytes | bytearray | memoryview) -> bytes:
    """Undo `cobs_encode`. Raises FramingError if a block runs past the end or holds a zero."""
    out = bytearray()
    i, n = 0, len(encoded)
    while i < n:
        code = encoded[i]
        if code == 0:
            raise FramingError(f"zero code byte at offset {i}")
        end = i + code
        if end > n:
            raise FramingError(f"block at offset {i} needs {code - 1} bytes, {n - i - 1} remain")
        block = encoded[i + 1:end]
        if 0 in block:
            raise FramingError(f"zero byte inside the block at offset {i}")
        out += block
        i = end
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)


def frame(payload: bytes) -> bytes:
    """The bytes to send for `payload`: COBS of payload and CRC, then the delimiter."""
    return cobs_encode(payload + crc16(payload).to_bytes(CRC_BYTES, "big")) + b"\x00"


def unframe(encoded: bytes | bytearray | memoryview) -> bytes:
    """The payload of one received frame (delimiter removed); FramingError if it is bad."""
    data = cobs_decode(encoded)
    if len(data) < CRC_BYTES:
        raise FramingError(f"a {len(data)}-byte frame cannot hold a CRC")
    if crc16(data) != 0:
        raise FramingError("CRC mismatch")
    return data[:-CRC_BYTES]


class Deframer:
    """Splits a received byte stream into frames at delimiters, resynchronising on garbage.

    Frames longer than `max_frame` encoded bytes are discarded whole (the host never expects
    one): `oversize` counts them.
    """

    def __init__(self, max_frame: int = 2 * (MAX_RESPONSE + CRC_BYTES) + 8):
        self._buf = bytearray()
        self._max = max_frame
        self._skipping = False
        self.oversize = 0

    def feed(self, data: bytes) -> list[bytes]:
        frames = []
        for chunk_end, part in _split_keep(data):
            if self._skipping:
                if chunk_end:
                    self._skipping = False
                continue
            self._buf += part
            if len(self._buf) > self._max:
                self._buf.clear()
                self.oversize += 1
                self._skipping = not chunk_end
                continue
            if chunk_end:
                if self._buf:
                    frames.append(bytes(self._buf))
                self._buf.clear()
        return frames

    @property
    def pending(self) -> int:
        """Bytes of an unfinished frame held."""
        return len(self._buf)

    def reset(self) -> None:
        self._buf.clear()
        self._skipping = False


def _split_keep(data: bytes):
    """(ended_by_delimiter, bytes) pieces of `data`."""
    parts = bytes(data).split(b"\x00")
    for index, part in enumerate(parts):
        yield index < len(parts) - 1, part


# -- requests and responses -------------------------------------------------------------------


@dataclass(frozen=True)
class Sync:
    op = Op.SYNC

    def body(self) -> bytes:
        return b""

    @property
    def words(self) -> int:
        return 0


@dataclass(frozen=True)
class Read:
    address: int
    op = Op.READ

    def body(self) -> bytes:
        return self.address.to_bytes(2, "little")

    @property
    def words(self) -> int:
        return 1


@dataclass(frozen=True)
class Write:
    address: int
    value: int
    op = Op.WRITE

    def body(self) -> bytes:
        return self.address.to_bytes(2, "little") + (self.value & 0xFFFF_FFFF).to_bytes(
            4, "little")

    @property
    def words(self) -> int:
        return 0


@dataclass(frozen=True)
class BatchRead:
    addresses: tuple[int, ...]
    op = Op.BATCH_READ

    def __post_init__(self):
        if not 1 <= len(self.addresses) <= MAX_BATCH:
            raise ValueError(f"a batch reads 1..{MAX_BATCH} registers, not "
                             f"{len(self.addresses)}")

    def body(self) -> bytes:
        return b"".join(a.to_bytes(2, "little") for a in self.addresses)

    @property
    def words(self) -> int:
        return len(self.addresses)


Request = Sync | Read | Write | BatchRead


def request_payload(seq: int, request: Request) -> bytes:
    return bytes((seq & 0xFF, request.op)) + request.body()


def encode_request(seq: int, request: Request) -> bytes:
    """The bytes to send for `request` with sequence number `seq`. They start with a
    delimiter too, so a request is received whole whatever the line carried before it
    (garbage, a cut-off frame, a UART error)."""
    return b"\x00" + frame(request_payload(seq, request))


@dataclass(frozen=True)
class Response:
    seq: int
    status: Status | int
    words: tuple[int, ...] = ()
    detail: int = 0

    @property
    def ok(self) -> bool:
        return self.status == Status.OK

    def payload(self) -> bytes:
        head = bytes((self.seq & 0xFF, int(self.status)))
        if self.ok:
            return head + b"".join(w.to_bytes(4, "little") for w in self.words)
        return head + self.detail.to_bytes(2, "little")


def decode_response(payload: bytes) -> Response:
    """A response from its payload (already unframed). FramingError if its shape is wrong."""
    if len(payload) < 2:
        raise FramingError(f"a {len(payload)}-byte response has no header")
    seq, status = payload[0], payload[1]
    body = payload[2:]
    if status == Status.OK:
        if len(body) % 4:
            raise FramingError(f"an OK response body of {len(body)} bytes is not whole words")
        words = tuple(int.from_bytes(body[i:i + 4], "little") for i in range(0, len(body), 4))
        return Response(seq, Status.OK, words)
    if len(body) != 2:
        raise FramingError(f"an error response body is 2 bytes, not {len(body)}")
    try:
        status = Status(status)
    except ValueError:
        raise FramingError(f"unknown status {status}") from None
    return Response(seq, status, detail=int.from_bytes(body, "little"))


def split_batches(addresses: Sequence[int], keep_pairs: Sequence[bool] | None = None
                  ) -> list[list[int]]:
    """Batches of at most MAX_BATCH addresses. Where `keep_pairs[i]` is set, address i and
    i + 1 (a value's _lo and _hi) stay in the same batch, so the pair is read atomically."""
    batches: list[list[int]] = [[]]
    i = 0
    while i < len(addresses):
        take = 2 if keep_pairs and keep_pairs[i] else 1
        if len(batches[-1]) + take > MAX_BATCH:
            batches.append([])
        batches[-1].extend(addresses[i:i + take])
        i += take
    return [b for b in batches if b]
