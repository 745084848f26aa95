"""A depth message in two phases: the exact new best bid and ask first, the rest after.

A decision needs only the new best bid and ask. Binance sends each side of a depth diff
sorted by price (asks ascending; bids ascending on USD-M futures, descending on spot: every
diff in shared/data/ is), so the levels that can move the top are the first asks and the
last (spot: first) bids. `decide(raw)` reads just those, straight from the raw bytes:

1. one find for the bytes that carry the id continuing the chain (`,"pu":<last u>,"b":[` on
   futures), built off the clock after the previous message: it is the chain check and
   locates the bids; one memchr for the first `a` after them, checked as `],"a":[`, locates
   the asks;
2. each side is read from the top of book outward in windows of whole levels (2, then 4, 8,
   16...), each found by where its levels end and decoded by msgspec in C, and applied by
   DepthBook.lead_asks / lead_bids, which stop before the first level worse than the best
   at that moment: every later level of a sorted side is worse still, so it can neither
   become the best nor change the best's quantity.

The book's top is then the top the whole message leaves, and decide() returns it. finish()
decodes the whole message and applies all of it through DepthSync, the levels already
applied included: each level sets an absolute quantity, so applying the whole diff in order
after part of it leaves every price at its last entry in the diff, as the diff alone would.

Nothing read from the bytes is trusted further than it is checked:
- the levels decide() reads must be strictly monotone, in Binance's layout, with numbers the
  tick scale accepts, at most about `max_levels` a side, and the top they leave uncrossed;
  otherwise decide() returns None (a counted `Fallback`) and finish() decides with the whole
  message;
- finish() requires the full parse to hold the chain id decide() found and, at the places
  decide() read them, the levels it applied; a difference, which only a malformed message
  (duplicate keys, say) can cause, is a MALFORMED gap, as is bytes that fail to parse;
- after the whole message the book's top must equal the decided top. A message sorted near
  the top but not deeper down could move it; the decision is then revoked: finish() returns
  `DecisionRevoked` so that the caller can cancel what it sent. This checks the order
  assumption exactly where it matters, for one tuple comparison instead of a pass over every
  level, and so does any gap after a decision.
"""

from __future__ import annotations

import enum
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain, islice

import msgspec

from host.model.depth_errors import BadMessage, DepthError
from host.model.depth_sync import APPLIED, ChainRule, DepthSync, SyncState

Top = tuple  # (bid_tick, bid_lots, ask_tick, ask_lots), None on an empty side: TopOfBook's

# The chain id and the bids' start lie in the first bytes; a symbol name far longer than any
# venue's still fits.
_HEAD_BYTES = 512
_IDS = re.compile(rb'"U":([0-9]{1,19}),"u":([0-9]{1,19})')
_decode_levels = msgspec.json.Decoder(list[tuple[str, str]]).decode
_FIRST_WINDOW = 2  # levels: most messages apply one a side, then read the level that stops
_LEVEL_BYTES = 24  # a USD-M level is 20-23 bytes with its comma (spot 32): sizes the first
# window of a side; later ones use the bytes per level the message has shown. A window too
# short for one level is widened to the longest level the tick scales accept (two 40-character
# strings and the brackets).
_LONGEST_LEVEL = 88
_ASKS_KEY = b'],"a":['
_CLOSE, _COMMA = ord("]"), ord(",")
_STALE = object()  # no needle built yet for the sync's state


class Fallback(enum.Enum):
    """Why decide() made no decision; finish() then decides with the whole message."""

    NOT_LIVE = "not_live"  # no synced book: awaiting a snapshot or the diff spanning it
    LAYOUT = "layout"  # the bytes depart from Binance's layout (key order, spacing, no `a`)
    CHAIN = "chain"  # the ids do not continue the chain: finish() reports the gap
    BAD_NUMBER = "bad_number"  # a price or quantity the tick scale refuses
    UNSORTED = "unsorted"  # the levels read are out of strict price order
    TOO_DEEP = "too_deep"  # a side needs more than about max_levels levels (a deep sweep)
    CROSSED = "crossed"  # the top read is crossed or locked: finish() reports the gap


class RevokeReason(enum.Enum):
    GAP = "gap"  # after the decision the message failed to parse or the book lost sync
    TOP_CHANGED = "top_changed"  # the whole message leaves another top (unsorted levels)


@dataclass(frozen=True, slots=True)
class DecisionRevoked:
    """finish() found that the top decide() returned is not the message's: cancel what was
    sent on it. `event` is what DepthSync made of the message: a DepthGap, or APPLIED when
    only the top differs (the book is then right and live)."""

    reason: RevokeReason
    decided: Top
    event: object


class DepthFastPath:
    """One market's raw depth messages, each handled by decide(raw) and then finish(), in
    order. `decode` turns raw bytes into an object with U, u, pu, b, a (a DepthDiff), raising
    a DepthError subclass (binance.decode_depth_diff raises FeedError). `bids_ascending`
    says how the venue sorts `b`: ascending on USD-M futures, descending on spot (asks are
    ascending on both)."""

    def __init__(self, sync: DepthSync, decode: Callable[[bytes], object], *,
                 bids_ascending: bool = True, max_levels: int = 64):
        if max_levels < 1:
            raise ValueError("max_levels must be positive")
        self.sync = sync
        self.book = sync.book
        self.bids_ascending = bids_ascending
        self._by_prev = sync.rule is ChainRule.FUTURES
        self.max_levels = max_levels
        self._decode = decode
        self.decisions = 0
        self.fallbacks: Counter[Fallback] = Counter()
        self.revocations: Counter[RevokeReason] = Counter()
        self._raw: bytes | None = None
        self._decided: Top | None = None
        # What decide() applied, for finish() to check: the windows it read on each side
        # and how many of their levels it applied.
        self._ask_windows: list[list] = []
        self._bid_windows: list[list] = []
        self._asks_led = self._bids_led = 0
        self._cut: Fallback | None = None
        # The bytes that carry the id continuing the chain, built off the clock (see _expect).
        self._needle = b""
        self._needle_for: object = _STALE
        self._chain_id: int | None = None

    def decide(self, raw: bytes) -> Top | None:
        """Applies the levels that can move the top and returns the top the whole message
        leaves, or None (counted in `fallbacks`) when it cannot tell. Never raises on bad
        bytes: whatever it cannot read is left to finish()."""
        if self._raw is not None:
            raise RuntimeError("finish() the previous message before deciding on another")
        if type(raw) is not bytes:
            raise TypeError(f"raw must be bytes, not {type(raw).__name__}")
        self._raw = raw
        self._decided = None
        self._asks_led = self._bids_led = 0
        self._ask_windows.clear()
        self._bid_windows.clear()
        reason = self._read_top(raw)
        if reason is None:
            decided = self.book.top_tuple()
            bid, ask = decided[0], decided[2]
            if bid is None or ask is None or bid < ask:
                self.decisions += 1
                self._decided = decided
                return decided
            reason = Fallback.CROSSED
        self.fallbacks[reason] += 1
        return None

    def finish(self):
        """Parses and applies the whole message; returns DepthSync's event, or
        DecisionRevoked wrapping it. Raises the decoder's error for bytes that are not a
        depth message when decide() neither decided nor touched the book (nothing changed,
        as before); once it did, the same failure is a MALFORMED gap instead, so the book
        that the fast phase touched is never left in use."""
        raw = self._raw
        if raw is None:
            raise RuntimeError("finish() without decide()")
        self._raw = None
        decided = self._decided
        sync, book = self.sync, self.book
        if decided is None and not (self._asks_led or self._bids_led):
            diff = self._decode(raw)
            event = sync.on_diff(diff.U, diff.u, diff.pu, diff.b, diff.a)
        else:
            try:
                diff = self._decode(raw)
            except DepthError as error:
                first, last = _ids_of(raw)
                event = self._revoke(decided, sync.fail(first, last, error))
            else:
                if self._agrees(diff):
                    event = sync.on_diff(diff.U, diff.u, diff.pu, diff.b, diff.a)
                    if decided is not None and (event is not APPLIED
                                                or book.top_tuple() != decided):
                        event = self._revoke(decided, event)
                else:
                    error = BadMessage("the ids or levels read from the raw bytes differ from "
                                       "the full parse")
                    event = self._revoke(decided, sync.fail(diff.U, diff.u, error))
        # Off the clock: heap upkeep, and the bytes the next diff's chain id will be.
        book.settle()
        self._expect()
        return event

    # -- the fast phase --------------------------------------------------------------------

    def _expect(self) -> None:
        """Builds the bytes that carry the id continuing the chain: `,"pu":<u>,"b":[` on
        futures, `,"U":<u + 1>,"u":` on spot. One find for them in the next message is the
        chain check and locates the bids."""
        sync = self.sync
        last = sync.last_update_id
        self._needle_for = last
        if sync.state is not SyncState.LIVE or last is None:
            self._needle, self._chain_id = b"", None
            self._needle_for = _STALE
        elif self._by_prev:
            self._chain_id = last
            self._needle = b',"pu":%d,"b":[' % last
        else:
            self._chain_id = last + 1
            self._needle = b',"U":%d,"u":' % (last + 1)

    def _read_top(self, raw: bytes) -> Fallback | None:
        if self.sync.last_update_id != self._needle_for:
            self._expect()  # the sync moved outside finish() (a snapshot, a first diff)
        needle = self._needle
        if not needle:
            return Fallback.NOT_LIVE
        found = raw.find(needle, 0, _HEAD_BYTES)
        if found < 0:
            return Fallback.CHAIN
        start = found + len(needle)
        if not self._by_prev:  # spot: the bids follow u (up to 19 digits)
            start = raw.find(b'"b":[', start, start + 32) + 5
            if start < 5:
                return Fallback.LAYOUT
        key = raw.find(b"a", start) - 3
        if key < start or not raw.startswith(_ASKS_KEY, key):
            return Fallback.LAYOUT
        book, prices, qtys = self.book, self.book.prices, self.book.qtys
        self._cut = None
        try:
            led = book.lead_asks(self._forward(raw, key + 7, self._ask_windows), prices, qtys)
            self._asks_led = led if led >= 0 else -1 - led
            if led >= 0 and self._cut is None and key > start:
                bids = (self._backward(raw, start, key, self._bid_windows)
                        if self.bids_ascending else self._forward(raw, start, self._bid_windows))
                led = book.lead_bids(bids, prices, qtys)
                self._bids_led = led if led >= 0 else -1 - led
        except DepthError:
            return Fallback.BAD_NUMBER
        return Fallback.UNSORTED if led < 0 else self._cut

    def _forward(self, raw: bytes, pos: int, keep: list):
        """Windows (lists) of (price, qty) strings: the levels of the array whose first level
        starts at `pos`, first to last; 2 levels (most messages apply one a side and read
        the one that stops), then 4, 8, 16..., up to about `max_levels` in all (then cut
        TOO_DEEP), or up to anything not in Binance's layout (cut LAYOUT). A window is the
        bytes of whole levels, found by where they end (`]]` closes the array, `],[` parts
        two levels), decoded as a JSON array by msgspec in C. Each is also added to `keep`.
        Window bytes are sized by the bytes per level seen so far in the message."""
        if raw.startswith(b"]", pos):  # an empty array
            return
        left, size, per = self.max_levels, _FIRST_WINDOW, _LEVEL_BYTES
        while left > 0:
            end, more = _level_ends(raw, pos, pos + min(size, left) * per)
            if not end:  # not one whole level in the bytes: widen them to the longest
                end, more = _level_ends(raw, pos, pos + _LONGEST_LEVEL)
            levels = _window(raw, pos, end)
            if levels is None:
                self._cut = Fallback.LAYOUT
                return
            keep.append(levels)
            yield levels
            if not more:
                return
            per = (end - pos) // len(levels) + 2
            pos, left, size = end + 1, left - len(levels), size * 2
        self._cut = Fallback.TOO_DEEP

    def _backward(self, raw: bytes, start: int, end: int, keep: list):
        """The same for the non-empty array raw[start:end], last level first: a window
        starts at the first `[` (no price or quantity holds one) in the bytes that should
        hold its levels and runs to the start of the window after it."""
        left, size, per = self.max_levels, _FIRST_WINDOW, _LEVEL_BYTES
        while left > 0:
            low = end - min(size, left) * per
            first = raw.find(b"[", low, end) if low > start else start
            if first < 0:  # not one whole level in the bytes: widen them to the longest
                low = end - _LONGEST_LEVEL
                first = raw.find(b"[", low, end) if low > start else start
            levels = _window(raw, first, end)
            if levels is None:
                self._cut = Fallback.LAYOUT
                return
            levels.reverse()
            keep.append(levels)
            yield levels
            if first == start:  # that was the first level
                return
            per = (end - first) // len(levels) + 2
            end = first - 1
            if raw[end] != _COMMA:
                self._cut = Fallback.LAYOUT
                return
            left, size = left - len(levels), size * 2
        self._cut = Fallback.TOO_DEEP

    # -- the checks after the full parse ---------------------------------------------------

    def _agrees(self, diff) -> bool:
        """The full parse holds the chain id decide() found, and the levels decide() applied
        are the full parse's levels at the same places."""
        if (diff.pu if self._by_prev else diff.U) != self._chain_id:
            return False
        asks, bids = self._asks_led, self._bids_led
        full_bids = diff.b[-1:-bids - 1:-1] if self.bids_ascending else diff.b[:bids]
        return (list(islice(chain.from_iterable(self._ask_windows), asks)) == diff.a[:asks]
                and list(islice(chain.from_iterable(self._bid_windows), bids)) == full_bids)

    def _revoke(self, decided: Top | None, event):
        if decided is None:
            return event
        reason = RevokeReason.TOP_CHANGED if event is APPLIED else RevokeReason.GAP
        self.revocations[reason] += 1
        return DecisionRevoked(reason, decided, event)


def _level_ends(raw: bytes, pos: int, limit: int) -> tuple[int, bool]:
    """Where the last whole level starting from `pos` before `limit` ends, and whether more
    levels follow it (`],[`) or the array ends there (`]]`); 0 when no level ends there."""
    end = raw.find(b"]]", pos, limit) + 1
    if end:
        return end, False
    return raw.rfind(b"],[", pos, limit) + 1, True


def _window(raw: bytes, start: int, end: int) -> list | None:
    """The levels in raw[start:end], which must be a comma-separated run of whole
    [price, qty] string pairs; None when they are not, or hold none."""
    if start < 0 or end <= start:
        return None
    try:
        return _decode_levels(b"".join((b"[", memoryview(raw)[start:end], b"]"))) or None
    except msgspec.MsgspecError:
        return None


def _ids_of(raw: bytes) -> tuple[int, int]:
    """U and u of a message the decoder refused, for its gap event; -1 where unreadable."""
    found = _IDS.search(raw, 0, _HEAD_BYTES)
    return (int(found[1]), int(found[2])) if found else (-1, -1)
