"""The board's side of the control link in Python: the reference model that the gateware's
receiver and control engine (hdl/frame_codec/, hdl/control_engine.py) are scoreboarded
against, byte for byte.

It takes the bytes the board receives and returns the response payloads the board sends,
executing requests against a register space (a BankModel). It models the board's decoder as
it streams, so it gives the same answer for malformed input: the bytes a broken COBS frame
decodes to before the break, the sequence number echoed in an error response, and so on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from host.fpga.protocol import (
    CRC_BYTES,
    MAX_BATCH,
    MAX_REQUEST,
    Op,
    Response,
    Status,
    crc16,
)


class RegisterSpace(Protocol):
    def known(self, address: int) -> bool: ...
    def writable(self, address: int) -> bool: ...
    def read(self, address: int) -> int | None: ...
    def write(self, address: int, data: int) -> None: ...


@dataclass
class LinkCounters:
    requests: int = 0
    errors: int = 0
    dropped: int = 0
    uart_errors: int = 0
    replays: int = 0


def streaming_cobs_decode(encoded: bytes) -> tuple[bytes, bool]:
    """What the gateware decoder emits for the bytes of one frame (no delimiter in them):
    the decoded bytes, and whether the frame was well formed (its last block complete)."""
    out = bytearray()
    remaining = 0
    last_code = 0xFF  # no implicit zero before the first block
    for byte in encoded:
        if remaining == 0:
            if last_code != 0xFF:
                out.append(0)
            last_code = byte
            remaining = byte - 1
        else:
            out.append(byte)
            remaining -= 1
    return bytes(out), remaining == 0


def request_length_ok(op: int, length: int) -> bool:
    if op == Op.SYNC:
        return length == 2
    if op == Op.READ:
        return length == 4
    if op == Op.WRITE:
        return length == 8
    return length % 2 == 0 and 4 <= length <= 2 + 2 * MAX_BATCH


class EngineModel:
    """One board: feed it what arrives on its UART, collect what it answers."""

    def __init__(self, space: RegisterSpace):
        self.space = space
        self.counters = LinkCounters()
        self._saved: tuple[int, Response] | None = None  # (seq, response) for replays
        self._partial = bytearray()
        self._poisoned = False

    def feed(self, data: bytes) -> Iterator[Response]:
        """Responses to the frames `data` completes, assuming the board is never busy."""
        for byte in data:
            if byte:
                self._partial.append(byte)
                continue
            # Any delimiter closes the frame a lost byte may have belonged to.
            encoded, poisoned = bytes(self._partial), self._poisoned
            self._partial.clear()
            self._poisoned = False
            if encoded:
                yield self.receive(encoded, poisoned=poisoned)

    def uart_error(self) -> None:
        """A byte with a bad stop bit arrived: it is dropped, and the frame that the next
        delimiter ends is refused."""
        self.counters.uart_errors += 1
        self._poisoned = True

    def receive(self, encoded: bytes, *, poisoned: bool = False) -> Response:
        """The response to one non-empty frame (its bytes between two delimiters)."""
        data, well_formed = streaming_cobs_decode(encoded)
        payload = data[:-CRC_BYTES] if len(data) >= CRC_BYTES else b""
        seq = payload[0] if payload else 0
        if poisoned or not well_formed:
            return self._error(seq, Status.BAD_FRAME, 0)
        if len(data) < CRC_BYTES:
            return self._error(seq, Status.BAD_LENGTH, 0)
        if crc16(data) != 0:
            return self._error(seq, Status.BAD_CRC, 0)
        return self._execute(payload)

    def _execute(self, payload: bytes) -> Response:
        length = len(payload)
        seq = payload[0] if payload else 0
        if length < 2 or length > MAX_REQUEST:
            return self._refuse(seq, Status.BAD_LENGTH, min(length, 0xFFFF))
        op = payload[1]
        if op not in tuple(Op):
            return self._refuse(seq, Status.UNKNOWN_OP, op)
        if not request_length_ok(op, length):
            return self._refuse(seq, Status.BAD_LENGTH, length)
        if op == Op.SYNC:
            self._saved = None
            self.counters.requests += 1
            return Response(seq, Status.OK)
        if self._saved is not None and self._saved[0] == seq:
            self.counters.replays += 1
            return self._saved[1]
        addresses = [int.from_bytes(payload[i:i + 2], "little")
                     for i in range(2, 4 if op == Op.WRITE else length, 2)]
        for address in addresses:
            if not self.space.known(address):
                return self._refuse(seq, Status.BAD_ADDRESS, address)
            if op == Op.WRITE and not self.space.writable(address):
                return self._refuse(seq, Status.READ_ONLY, address)
        if op == Op.WRITE:
            self.space.write(addresses[0], int.from_bytes(payload[4:8], "little"))
            response = Response(seq, Status.OK)
        else:
            response = Response(seq, Status.OK, tuple(self.space.read(a) for a in addresses))
        self.counters.requests += 1
        self._saved = (seq, response)
        return response

    def _refuse(self, seq: int, status: Status, detail: int) -> Response:
        # A whole, CRC-checked frame that is not a request forgets the saved response.
        self._saved = None
        return self._error(seq, status, detail)

    def _error(self, seq: int, status: Status, detail: int) -> Response:
        self.counters.errors += 1
        return Response(seq, status, detail=detail)
