"""Binance market-data messages: typed decoders, and a reader for recorded sessions.

The decoders are msgspec types, so a message is parsed and its shape checked in one C pass:
ids are integers, each level is a pair of strings. Anything else raises `FeedError` with a
reason code. Prices and quantities stay decimal strings here; the book converts them to
integer ticks and lots (host.model.decimal_ticks), once.

A recording (shared/data/*.gz) is gzip text, one message a line:
`<local receive time, ns since epoch> <raw JSON>`; the JSON is the combined-stream envelope
`{"stream": ..., "data": ...}`, except the REST depth snapshot, which has no envelope.
"""

from __future__ import annotations

import enum
import gzip
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec

from host.model.depth_errors import BadMessage

Level = tuple[str, str]


class FeedError(BadMessage):
    """A line or message that is not a Binance message of the kind it claims to be."""

    reason = "bad_feed_message"


class DepthDiff(msgspec.Struct):
    """A depthUpdate: update ids U..u, `pu` (the previous diff's u) on futures only."""

    U: int
    u: int
    b: list[Level]
    a: list[Level]
    pu: int | None = None


class BookTicker(msgspec.Struct):
    """The venue's own best bid and ask with quantities, at update id u."""

    u: int
    b: str
    B: str
    a: str
    A: str


class Trade(msgspec.Struct):
    p: str
    q: str
    T: int
    m: bool


class DepthSnapshot(msgspec.Struct):
    """The REST depth snapshot."""

    lastUpdateId: int
    bids: list[Level]
    asks: list[Level]


class DepthEnvelope(msgspec.Struct):
    stream: str
    data: DepthDiff


class BookTickerEnvelope(msgspec.Struct):
    stream: str
    data: BookTicker


class TradeEnvelope(msgspec.Struct):
    stream: str
    data: Trade


class StreamKind(enum.Enum):
    DEPTH = "depth"
    BOOK_TICKER = "bookTicker"
    TRADE = "trade"
    SNAPSHOT = "snapshot"


_DECODERS = {
    StreamKind.DEPTH: msgspec.json.Decoder(DepthEnvelope),
    StreamKind.BOOK_TICKER: msgspec.json.Decoder(BookTickerEnvelope),
    StreamKind.TRADE: msgspec.json.Decoder(TradeEnvelope),
    StreamKind.SNAPSHOT: msgspec.json.Decoder(DepthSnapshot),
}
decode_depth = _DECODERS[StreamKind.DEPTH].decode  # raw bytes -> DepthEnvelope
decode_book_ticker = _DECODERS[StreamKind.BOOK_TICKER].decode


def decode_depth_diff(raw: bytes, _decode=decode_depth) -> DepthDiff:
    """One raw depth message to its DepthDiff, envelope removed; FeedError when it is not
    one (the decoder host.model.depth_fast.DepthFastPath takes)."""
    try:
        return _decode(raw).data
    except msgspec.MsgspecError as exc:
        raise FeedError(f"bad depth message: {exc}") from None


def classify(raw: bytes) -> StreamKind:
    """The kind of one raw message, from its stream name (the envelope's first field)."""
    head = raw[:48]
    if head.startswith(b'{"stream":"'):
        name = head[11:].partition(b'"')[0]
        if b"@depth" in name:
            return StreamKind.DEPTH
        if name.endswith(b"@bookTicker"):
            return StreamKind.BOOK_TICKER
        if name.endswith(b"@trade"):
            return StreamKind.TRADE
    elif head.startswith(b'{"lastUpdateId":'):
        return StreamKind.SNAPSHOT
    raise FeedError(f"unknown message kind: {head!r}")


def decode(kind: StreamKind, raw: bytes):
    """Decodes one raw message of a known kind; the envelope is removed."""
    try:
        message = _DECODERS[kind].decode(raw)
    except msgspec.MsgspecError as exc:
        raise FeedError(f"bad {kind.value} message: {exc}") from None
    return message if kind is StreamKind.SNAPSHOT else message.data


@dataclass(frozen=True, slots=True)
class Recorded:
    recv_ns: int
    kind: StreamKind
    message: object  # DepthDiff, BookTicker, Trade or DepthSnapshot (raw bytes from read_raw)


def read_raw(path: str | os.PathLike) -> Iterator[Recorded]:
    """Every line of a recording as (receive time, kind, raw JSON bytes), in file order."""
    with gzip.open(path, "rb") as lines:
        for number, line in enumerate(lines, 1):
            stamp, _, raw = line.rstrip(b"\n").partition(b" ")
            if not stamp.isdigit() or not raw:
                raise FeedError(f"{path}:{number}: not '<ns> <json>'")
            try:
                kind = classify(raw)
            except FeedError as exc:
                raise FeedError(f"{path}:{number}: {exc}") from None
            yield Recorded(int(stamp), kind, raw)


def read_recording(path: str | os.PathLike) -> Iterator[Recorded]:
    """Every line of a recording, decoded: (receive time, kind, typed message)."""
    for record in read_raw(path):
        yield Recorded(record.recv_ns, record.kind, decode(record.kind, record.message))


# -- where the recordings are -----------------------------------------------------------------

USDM_FILE = "binance-usdm-btcusdt-20240808.gz"
SPOT_FILE = "binance-spot-btcusdt-20240808.gz"
DATA_ENV = "TICKWIRE_DATA_DIR"
_REPO = Path(__file__).resolve().parents[2]


def data_dir_candidates() -> list[Path]:
    """Where recordings are looked for: $TICKWIRE_DATA_DIR, the repo's ../shared/data
    (beside a clone, as in CI), then /work/shared/data."""
    found = [Path(os.environ[DATA_ENV])] if os.environ.get(DATA_ENV) else []
    return found + [_REPO.parent / "shared" / "data", Path("/work/shared/data")]


def find_recording(name: str) -> Path | None:
    """The path of a recording by file name, or None when no candidate directory has it."""
    for directory in data_dir_candidates():
        if (directory / name).is_file():
            return directory / name
    return None


def locate_recording(explicit: Path | None, name: str) -> tuple[Path | None, str]:
    """A recording given on the command line, else found by name: (path, "") when it is
    there, (None, why not) when it is not."""
    if explicit is None:
        found = find_recording(name)
        return (found, "") if found else (None, missing_recording_message(name))
    if not explicit.is_file():
        return None, f"recording {explicit} not found"
    return explicit, ""


def missing_recording_message(name: str) -> str:
    places = ", ".join(str(p) for p in data_dir_candidates())
    return (f"recording {name} not found (looked in {places}); it lives in shared/data/ "
            f"beside the repository, or set {DATA_ENV}")
