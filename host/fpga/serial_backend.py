"""The `serial` backend: a board (or the Verilated design behind a pty) over pyserial.

A thin adapter: framing, sequence numbers and response matching come from the sans-I/O
protocol module; this file owns the port, the deadlines and the retries. Every wait is
bounded: a request is tried `retries + 1` times, each attempt waiting at most `timeout`
seconds for its response, and a retry reuses the sequence number so the board answers it
from its saved response instead of executing it twice. An OS error on the port (an unplugged
board, a dead simulation's pty) is raised as LinkLost, an FpgaError like the others.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterator, Sequence

import serial

from host.fpga import protocol as p
from host.fpga.errors import (
    BadAddress,
    BadLength,
    FramingError,
    IncompatibleDevice,
    LinkCorrupt,
    LinkLost,
    LinkTimeout,
    ReadOnly,
    RemoteError,
    UnknownOp,
)
from host.fpga.registers import MAGIC, REGISTERS, VERSION_MAJOR, VERSION_WORD

_REMOTE_ERRORS = {p.Status.BAD_ADDRESS: BadAddress, p.Status.READ_ONLY: ReadOnly,
                  p.Status.UNKNOWN_OP: UnknownOp, p.Status.BAD_LENGTH: BadLength}
# The board refused the frame itself, not the request: sending it again may succeed.
_RETRY_STATUSES = (p.Status.BAD_CRC, p.Status.BAD_FRAME)
DEFAULT_CLOCK_HZ = 125e6  # the ECPIX-5 design's clock


class SerialBackend:
    """Register access over a serial port. `port` is a device path or a pyserial URL."""

    name = "serial"
    has_fpga = True

    def __init__(self, port: str, *, baudrate: int = 115200, timeout: float = 0.25,
                 retries: int = 3, check_identity: bool = True, connection=None,
                 clock_hz: float = DEFAULT_CLOCK_HZ):
        """`connection`, if given, is an already open pyserial-like object used instead of
        opening `port` (tests pass one that injects faults). `clock_hz` is the design's clock,
        in which the kill switch's time limits are counted."""
        if timeout <= 0 or retries < 0:
            raise ValueError("timeout must be positive and retries not negative")
        self.port_name = port
        self.clock_hz = clock_hz
        self.timeout = timeout
        self.retries = retries
        self._port = connection if connection is not None else serial.serial_for_url(
            port, baudrate=baudrate, timeout=timeout, write_timeout=timeout)
        self._deframer = p.Deframer()
        self._seq = random.randrange(256)  # any start works: reset() SYNCs the board first
        self.stats = {"requests": 0, "retries": 0, "corrupt_frames": 0, "stale_frames": 0}
        try:
            self.reset(check_identity=check_identity)
        except BaseException:
            self._port.close()
            raise

    # -- the backend interface ---------------------------------------------------------------

    def read_words(self, addresses: Sequence[int]) -> list[int]:
        if len(addresses) == 1:
            return list(self.transact(p.Read(addresses[0])).words)
        return list(self.transact(p.BatchRead(tuple(addresses))).words)

    def write_word(self, address: int, value: int) -> None:
        self.transact(p.Write(address, value))

    def close(self) -> None:
        self._port.close()

    # -- the link ----------------------------------------------------------------------------

    def reset(self, *, check_identity: bool = True) -> None:
        """Bring the link to a known state: end any half-sent frame, drop stale input, make
        the board forget its saved response (SYNC), then check it is a board we can drive."""
        with self._port_errors():
            self._port.write(b"\x00\x00")
            self._port.flush()
            self._port.reset_input_buffer()
        self._deframer.reset()
        self.transact(p.Sync())
        if check_identity:
            magic, version, map_hash = self.read_words(
                [REGISTERS.word[n].address for n in ("id_magic", "id_version", "id_map_hash")])
            if magic != MAGIC:
                raise IncompatibleDevice(f"{self.port_name}: id_magic is {magic:#010x}, not a "
                                         f"tickwire control link")
            if (version >> 8) & 0xFFFF != VERSION_WORD >> 8 or map_hash != REGISTERS.digest:
                raise IncompatibleDevice(
                    f"{self.port_name}: board map {version >> 8 & 0xFF}.{version & 0xFF} hash "
                    f"{map_hash:#010x}, host map {VERSION_MAJOR} hash {REGISTERS.digest:#010x}")

    def transact(self, request: p.Request) -> p.Response:
        """Send `request` and return the board's OK response, retrying lost or damaged ones."""
        self._seq = (self._seq + 1) & 0xFF
        data = p.encode_request(self._seq, request)
        self.stats["requests"] += 1
        refused = None
        for attempt in range(self.retries + 1):
            if attempt:
                self.stats["retries"] += 1
            with self._port_errors():
                self._port.write(data)
                response = self._await(self._seq, time.monotonic() + self.timeout)
            if response is None:
                continue
            if response.ok:
                if len(response.words) != request.words:
                    raise FramingError(f"{len(response.words)} words answer a request for "
                                       f"{request.words}")
                return response
            if response.status in _RETRY_STATUSES:
                refused = response
                continue
            error = _REMOTE_ERRORS.get(response.status, RemoteError)
            raise error(f"{type(request).__name__} refused: {p.Status(response.status).name} "
                        f"(detail {response.detail:#x})", status=int(response.status),
                        detail=response.detail)
        if refused is not None:
            raise LinkCorrupt(f"{self.port_name}: {self.retries + 1} attempts refused, last "
                              f"with {p.Status(refused.status).name}")
        raise LinkTimeout(f"{self.port_name}: no response in {self.retries + 1} attempts of "
                          f"{self.timeout} s")

    @contextlib.contextmanager
    def _port_errors(self) -> Iterator[None]:
        try:
            yield
        except serial.SerialTimeoutException as error:  # the port does not drain
            raise LinkTimeout(f"{self.port_name}: write timed out: {error}") from error
        except OSError as error:  # pyserial's SerialException is one too
            raise LinkLost(f"{self.port_name}: {error}") from error

    def _await(self, seq: int, deadline: float) -> p.Response | None:
        """The first well-formed response numbered `seq` before `deadline`, else None."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self._port.timeout = remaining
            chunk = self._port.read(max(1, self._port.in_waiting))
            for encoded in self._deframer.feed(chunk):
                try:
                    response = p.decode_response(p.unframe(encoded))
                except FramingError:
                    self.stats["corrupt_frames"] += 1
                    continue
                if response.seq != seq:
                    self.stats["stale_frames"] += 1  # an answer to an earlier attempt
                    continue
                return response
