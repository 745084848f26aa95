"""The 1 GbE MAC's reference model: frames to GMII and RGMII symbols and back, with the FCS
(CRC-32, zlib's) checked and stripped on receive and padded and appended on transmit.

The gateware (hdl/mac/) is proven equal to this under cocotb; docs/mac.md explains both.

Symbols, one per 125 MHz clock cycle:
- GMII: `(byte, dv, er)` (for transmit, dv is TX_EN and er is TX_ER);
- RGMII: `(rise, fall)`, two 5-bit values `ctl << 4 | nibble`: on the rising edge the low
  nibble and DV, on the falling edge the high nibble and DV XOR ER.
"""

from __future__ import annotations

import enum
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

PREAMBLE = 0x55
SFD = 0xD5
PREAMBLE_BYTES = 7  # before the SFD, as a transmitter sends it
FCS_BYTES = 4
MIN_DATA = 60  # the 64-byte minimum less the FCS: what the transmitter pads to
MAX_DATA = 1518  # 1522 bytes (one 802.1Q tag, 1500-byte payload) less the FCS
IFG_CYCLES = 12  # the minimum inter-frame gap, in byte times
COUNTER_BITS = 32

Gmii = tuple[int, int, int]
Rgmii = tuple[int, int]
IDLE: Gmii = (0, 0, 0)


class RxError(enum.Enum):
    """Why a received frame is bad, highest priority first; each bad frame counts under one."""

    RX_ER = "rx_phy_errors"  # the PHY flagged a symbol error (RX_ER with RX_DV) inside the frame
    LENGTH = "rx_length_errors"  # fewer than MIN_DATA or more than MAX_DATA bytes before the FCS
    FCS = "rx_fcs_errors"  # the CRC-32 over the frame does not match its FCS
    OVERFLOW = "rx_overflows"  # a beat was lost because the consumer was not ready


# Counter names, in the order the gateware declares its ports.
RX_COUNTERS = ("rx_frames", "rx_ok", *(e.value for e in RxError), "rx_preamble_errors")
TX_COUNTERS = ("tx_frames", "tx_underruns")


def fcs(frame: bytes) -> bytes:
    """The four FCS bytes of `frame`, in the order they go on the wire."""
    return zlib.crc32(frame).to_bytes(4, "little")


@dataclass(frozen=True)
class RxFrame:
    """A frame as the receiver hands it on: the bytes before the FCS, and whether it is bad.

    A frame of FCS_BYTES bytes or fewer after the SFD has no data byte and produces no beat:
    it is counted, but not handed on.
    """

    data: bytes
    error: RxError | None

    @property
    def beats(self) -> bool:
        return len(self.data) > 0


# --- transmit ------------------------------------------------------------------------------

def tx_symbols(frame: bytes, *, preamble: int = PREAMBLE_BYTES, gap: int = IFG_CYCLES,
               pad: bool = True, corrupt_fcs: bool = False,
               error_at: int | None = None) -> list[Gmii]:
    """The GMII symbols a transmitter sends for `frame` (FCS excluded): preamble, SFD, the
    frame padded to MIN_DATA, its FCS and `gap` idle cycles.

    For test stimulus, `preamble` may differ from 7, `pad` may be off (a runt), `corrupt_fcs`
    flips one FCS bit and `error_at` raises ER on the symbol of that data byte.
    """
    padded = padded_frame(frame) if pad else frame
    check = bytearray(fcs(padded))
    if corrupt_fcs:
        check[0] ^= 0x01
    symbols = [(PREAMBLE, 1, 0)] * preamble + [(SFD, 1, 0)]
    symbols += [(b, 1, int(n == error_at)) for n, b in enumerate(padded + check)]
    return symbols + [IDLE] * gap


def padded_frame(frame: bytes) -> bytes:
    """`frame` as a transmitter sends it: zero-padded to MIN_DATA bytes."""
    return frame + bytes(max(0, MIN_DATA - len(frame)))


# --- receive -------------------------------------------------------------------------------

@dataclass
class MacRx:
    """The receiver's decisions on a stream of GMII symbols: frames in order, and counters."""

    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RX_COUNTERS, 0))
    _pending: list[Gmii] = field(default_factory=list)  # a burst not yet ended

    def feed(self, symbols: Iterable[Gmii]) -> list[RxFrame]:
        """Every frame that ends within `symbols`. A burst still going at the end waits for
        the next call."""
        out = []
        for burst in self._bursts(symbols):
            frame = self._frame(burst)
            if frame is not None:
                out.append(frame)
        return out

    def _bursts(self, symbols: Iterable[Gmii]) -> Iterator[list[Gmii]]:
        """Runs of symbols with DV high, each ended by a symbol with DV low."""
        for symbol in symbols:
            if symbol[1]:
                self._pending.append(symbol)
            elif self._pending:
                yield self._pending
                self._pending = []

    def _frame(self, burst: list[Gmii]) -> RxFrame | None:
        # Any number of preamble bytes (none included) then the SFD; anything else, or an
        # error symbol before the SFD, and the burst is not a frame.
        start = 0
        while start < len(burst) and burst[start][0] == PREAMBLE and not burst[start][2]:
            start += 1
        if start == len(burst) or burst[start][0] != SFD or burst[start][2]:
            self._count("rx_preamble_errors")
            return None
        body = burst[start + 1:]
        raw = bytes(b for b, _dv, _er in body)
        data = raw[:-FCS_BYTES] if len(raw) > FCS_BYTES else b""
        if any(er for _b, _dv, er in body):
            error = RxError.RX_ER
        elif not MIN_DATA <= len(raw) - FCS_BYTES <= MAX_DATA:
            error = RxError.LENGTH
        elif fcs(data) != raw[-FCS_BYTES:]:
            error = RxError.FCS
        else:
            error = None
        self._count("rx_frames")
        self._count("rx_ok" if error is None else error.value)
        return RxFrame(data, error)

    def _count(self, name: str) -> None:
        self.counters[name] = (self.counters[name] + 1) % (1 << COUNTER_BITS)


# --- RGMII ---------------------------------------------------------------------------------

def to_rgmii(symbols: Iterable[Gmii]) -> list[Rgmii]:
    """RGMII pin values, one (rise, fall) pair per GMII symbol."""
    return [(dv << 4 | byte & 0xF, (dv ^ er) << 4 | byte >> 4) for byte, dv, er in symbols]


def from_rgmii(pairs: Iterable[Rgmii]) -> list[Gmii]:
    """GMII symbols from RGMII pin values: the inverse of to_rgmii."""
    return [((fall & 0xF) << 4 | rise & 0xF, rise >> 4, (rise ^ fall) >> 4)
            for rise, fall in pairs]


def tx_frames(symbols: Iterable[Gmii]) -> list[tuple[bytes, bool]]:
    """What a transmitter sent, decoded: for each burst, (the bytes after the SFD, whether it
    is a well-formed frame: 7 preamble bytes, the SFD, no ER, at least MIN_DATA bytes and a
    good FCS)."""
    frames: list[tuple[bytes, bool]] = []
    burst: list[Gmii] = []
    for symbol in (*symbols, IDLE):
        if symbol[1]:
            burst.append(symbol)
            continue
        if burst:
            raw = bytes(b for b, _dv, _er in burst)
            body = raw[PREAMBLE_BYTES + 1:]
            good = (raw[:PREAMBLE_BYTES + 1] == bytes([PREAMBLE] * PREAMBLE_BYTES + [SFD])
                    and not any(er for _b, _dv, er in burst)
                    and len(body) >= MIN_DATA + FCS_BYTES
                    and fcs(body[:-FCS_BYTES]) == body[-FCS_BYTES:])
            frames.append((body, good))
            burst = []
    return frames
