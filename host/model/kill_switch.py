"""The kill switch: the reference model of the gateware's switch and the software path's gate.

A sans-I/O core. Every input is a method call carrying its time `now`, an integer in any unit
(clock cycles in the gateware, nanoseconds on the software path). Calls come in time order;
calls at the same time are one *step*, handled in this order, which is the gateware's:

1. `configure`, then `book_top` and `kill_pin` (the step's order sees the first two);
2. `order` (it sees the state left by earlier steps, and latches what it trips first);
3. the host events: `heartbeat`, `kill`, `clear`, `arm`, `ack`, `reject`, then `fill`;
4. the level conditions, evaluated when the step ends: the kill pin and the watchdog.

On the software path a step may hold several orders; in the gateware it holds at most one,
and at most one event besides a fill.

`snapshot(now)` ends every step before `now` and returns the state, which is what the
gateware's status outputs show during cycle `now`. docs/risk-rules.md explains the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, IntFlag
from typing import Protocol

MASK32 = 0xFFFF_FFFF
MARKETS = 256
PRICE_MIN, PRICE_MAX = -(1 << 31), (1 << 31) - 1
QTY_MAX = (1 << 31) - 1
REJECT_RUN_MAX = 0xFFFF
BASIS_POINTS = 10_000


class TripReason(IntFlag):
    """Why the switch tripped: one bit each in the `reasons` bitmask."""

    def __new__(cls, value: int, doc: str = ""):
        member = int.__new__(cls, value)
        member._value_ = value
        member.doc = doc
        return member

    RESET = 1 << 0, ("Power-on or reset: the switch starts tripped and must be armed. "
                     "Always clearable.")
    MANUAL = 1 << 1, ("A `kill` register write, or the board's kill pin high. Cannot be "
                      "cleared while the pin is high.")
    WATCHDOG = 1 << 2, ("No heartbeat for `heartbeat_timeout` time units (a heartbeat at "
                        "exactly the deadline is in time); 0 disables. Clearing it restarts "
                        "the timer.")
    RATE = 1 << 3, ("An order found the token bucket empty (`rate_tokens` orders per "
                    "`rate_window`, burst `rate_tokens`). The order is dropped.")
    QTY = 1 << 4, ("Order quantity <= 0, > `max_qty`, or beyond the gateware's 31-bit "
                   "range.")
    NOTIONAL = 1 << 5, ("abs(price) x qty > `max_notional` (checked when price and qty are "
                        "in the gateware's range).")
    COLLAR = 1 << 6, ("Price outside `collar_bp` basis points of the reference (BUY: best "
                      "ask, SELL: best bid): abs(price - ref) x 10000 > collar_bp x abs(ref); or "
                      "no reference (empty side, market >= 256, bad side, price beyond "
                      "32 bits, or no book update since collar_bp last changed).")
    REJECTS = 1 << 7, ("`max_rejects` consecutive rejects reported by the host (an ack "
                       "ends the run; 0 disables). Clearing it resets the run.")
    POSITION = 1 << 8, ("A fill left a market's net position beyond +-`max_position`. "
                        "Cannot be cleared while any market is over its limit.")


REASON_BITS = len(TripReason)
ALL_REASONS = TripReason((1 << REASON_BITS) - 1)


class EventKind(IntEnum):
    """Host-reported order events (the `event_kind` register)."""

    ACK = 1
    REJECT = 2
    FILL = 3


class OrderSource(IntEnum):
    """Which gate input an order came in on; drops are counted per source."""

    PIPELINE = 0
    HOST = 1


class KillSwitchError(ValueError):
    """Base class: an input the kill switch cannot take. The switch's state is unchanged."""

    reason = "bad_input"


class TimeWentBackwards(KillSwitchError):
    """A call's time is earlier than a previous call's."""

    reason = "time_order"


class LimitOutOfRange(KillSwitchError):
    """A limit does not fit its register."""

    reason = "limit_range"


class InvalidEvent(KillSwitchError):
    """A host event with an unknown kind or side, or a field outside its register; the
    gateware ignores such an event."""

    reason = "bad_event"


ALL_ERRORS = (KillSwitchError, TimeWentBackwards, LimitOutOfRange, InvalidEvent)

LIMIT_DOCS: dict[str, tuple[int, str]] = {
    "heartbeat_timeout": (32, "Longest gap between heartbeats before WATCHDOG trips; 0 turns "
                              "the watchdog off."),
    "rate_tokens": (16, "Orders allowed per `rate_window` (and the burst size); 0 trips RATE "
                        "on every order."),
    "rate_window": (32, "The token bucket's window; 0 turns the rate limit off."),
    "max_qty": (32, "Largest order quantity; 0 trips QTY on every order."),
    "max_notional": (64, "Largest abs(price) x qty; 0 trips NOTIONAL on every order with a "
                         "non-zero price."),
    "collar_bp": (16, "Collar half-width in basis points of the reference price; changing it "
                      "drops every market's reference until the market's next book update."),
    "max_rejects": (16, "Consecutive rejects that trip REJECTS; 0 turns the check off."),
    "max_position": (32, "Largest abs(net position) per market; 0 trips POSITION on any "
                         "fill that leaves a position open."),
}
"""Each limit's register width in bits, and what it does."""

_LIMIT_BITS = {name: bits for name, (bits, _doc) in LIMIT_DOCS.items()}


@dataclass(frozen=True)
class Limits:
    """The configuration registers. All zero (the reset state) lets no order through."""

    heartbeat_timeout: int = 0
    rate_tokens: int = 0
    rate_window: int = 0
    max_qty: int = 0
    max_notional: int = 0
    collar_bp: int = 0
    max_rejects: int = 0
    max_position: int = 0

    def __post_init__(self):
        for name, bits in _LIMIT_BITS.items():
            value = getattr(self, name)
            if not isinstance(value, int) or not 0 <= value < 1 << bits:
                raise LimitOutOfRange(f"{name}={value!r} does not fit in {bits} unsigned bits")


LIMIT_BITS = dict(_LIMIT_BITS)


class Order(Protocol):
    """What the gate reads of an order intent (host.wire.OrderIntent has these fields)."""

    market_id: int
    side: int
    price: int
    qty: int


@dataclass(frozen=True)
class Verdict:
    """What the gate did with one order. `tripped` holds the checks it failed (only orders
    that arrive while armed are checked)."""

    passed: bool
    tripped: TripReason


@dataclass(frozen=True)
class Status:
    armed: bool
    reasons: TripReason
    trip_time: int
    passed: int
    dropped_pipeline: int
    dropped_host: int
    arm_failures: int
    arm_pending: bool  # a nonce was written; the next arm write must be its complement


# The hot path works on plain ints: IntFlag arithmetic costs a microsecond per order. Flags
# are made only at the API edge, from these tables (every combination is built once, here).
_RESET, _MANUAL, _WATCHDOG, _RATE, _QTY, _NOTIONAL, _COLLAR, _REJECTS, _POSITION = (
    int(r) for r in TripReason)
_ALL = int(ALL_REASONS)
_FLAGS = tuple(TripReason(bits) for bits in range(_ALL + 1))
# Verdicts are frozen, so one per (passed, tripped) serves every order.
_VERDICTS = (tuple(Verdict(False, flag) for flag in _FLAGS),
             tuple(Verdict(True, flag) for flag in _FLAGS))
_PASS = _VERDICTS[True][0]
_PIPELINE = OrderSource.PIPELINE


class KillSwitch:
    """The switch, its checks and its counters. Starts tripped (RESET) at time `now`."""

    def __init__(self, limits: Limits = Limits(), *, now: int = 0):
        self._now = now
        self._set_limits(limits)
        self._armed = False
        self._reasons = _RESET  # an int bitmask of TripReason values
        self._trip_time = now
        self._pin = False
        self._nonce: int | None = None
        # Watchdog: it fires at max(last heartbeat + timeout, when that timeout took effect).
        self._last_heartbeat = now
        self._timeout_since = now
        # Token bucket in 1/rate_window token units: `_level` at time `_level_at`; it gains
        # rate_tokens per time unit up to rate_tokens * rate_window, an order costs rate_window.
        self._level = 0
        self._level_at = now
        self._reject_run = 0
        self._positions: dict[int, int] = {}
        self._over_limit: set[int] = set()
        # market -> reference price: the best ask for BUY (side 1), the best bid for SELL
        # (side 2); both cleared when collar_bp changes.
        self._ask_refs: dict[int, int] = {}
        self._bid_refs: dict[int, int] = {}
        self._passed = self._dropped_pipeline = self._dropped_host = self._arm_failures = 0

    def _set_limits(self, limits: Limits) -> None:
        # Copied out of the frozen Limits: the order path reads them on every call.
        self._limits = limits
        self._timeout = limits.heartbeat_timeout
        self._rate_tokens = limits.rate_tokens
        self._rate_window = limits.rate_window
        self._bucket_max = limits.rate_tokens * limits.rate_window
        self._max_qty = limits.max_qty
        self._max_notional = limits.max_notional
        self._collar_bp = limits.collar_bp

    # -- configuration and market data ------------------------------------------------------

    @property
    def limits(self) -> Limits:
        return self._limits

    def configure(self, limits: Limits, now: int) -> None:
        self._advance(now)
        old = self._limits
        self._level = self._bucket_level(now)
        self._level_at = now
        if limits.heartbeat_timeout != old.heartbeat_timeout:
            self._timeout_since = now
        if limits.collar_bp != old.collar_bp:
            self._ask_refs.clear()
            self._bid_refs.clear()
        self._set_limits(limits)

    def book_top(self, market: int, bid: int | None, ask: int | None, now: int) -> None:
        """A top-of-book change: best bid and ask prices, None for an empty side."""
        if not 0 <= market < MARKETS:
            raise KillSwitchError(f"book market {market} is outside 0..{MARKETS - 1}")
        if bid is not None and not PRICE_MIN <= bid <= PRICE_MAX:
            raise KillSwitchError(f"book price {bid} does not fit in 32 bits")
        if ask is not None and not PRICE_MIN <= ask <= PRICE_MAX:
            raise KillSwitchError(f"book price {ask} does not fit in 32 bits")
        if now != self._now:
            if now < self._now or self._pin or self._timeout:
                self._advance(now)
            else:
                self._now = now  # all _advance would do: no pin, no watchdog
        if bid is None:
            self._bid_refs.pop(market, None)
        else:
            self._bid_refs[market] = bid
        if ask is None:
            self._ask_refs.pop(market, None)
        else:
            self._ask_refs[market] = ask

    # -- orders -----------------------------------------------------------------------------

    def order(self, order: Order, source: OrderSource, now: int) -> Verdict:
        if now != self._now:
            self._advance(now)
        if self._armed:  # only an armed switch reads the order
            return self.order_fields(order.market_id, order.side, order.price, order.qty,
                                     source, now)
        return self._count(source, 0)

    def order_fields(self, market_id: int, side: int, price: int, qty: int,
                     source: OrderSource, now: int) -> Verdict:
        """`order` for an order given as its four fields (no object to build per order).

        The software path's hot call, so `_advance` and the checks are inline here."""
        if now != self._now:
            if now < self._now or self._pin or self._timeout:
                self._advance(now)
            else:
                self._now = now  # all _advance would do: no pin, no watchdog
        if not self._armed:
            return self._count(source, 0)
        failed = 0
        # The token bucket (see _bucket_level); an empty bucket is left untouched.
        level, window = self._level, self._rate_window
        if now != self._level_at:
            level += self._rate_tokens * (now - self._level_at)
            if level > self._bucket_max:
                level = self._bucket_max
        if level < window:
            failed = _RATE
        else:
            self._level = level - window
            self._level_at = now
        qty_in_range = 1 <= qty <= QTY_MAX
        price_in_range = PRICE_MIN <= price <= PRICE_MAX
        if not qty_in_range or qty > self._max_qty:
            failed |= _QTY
        if qty_in_range and price_in_range and abs(price) * qty > self._max_notional:
            failed |= _NOTIONAL
        if side == 1:
            ref = self._ask_refs.get(market_id)
        elif side == 2:
            ref = self._bid_refs.get(market_id)
        else:
            ref = None
        if (not price_in_range or ref is None
                or abs(price - ref) * BASIS_POINTS > self._collar_bp * abs(ref)):
            failed |= _COLLAR
        if failed:
            self._trip(failed, now)
            return self._count(source, failed)
        self._passed += 1
        return _PASS

    def _count(self, source: OrderSource, tripped: int) -> Verdict:
        passed = self._armed
        if passed:
            self._passed += 1
        elif source == _PIPELINE:
            self._dropped_pipeline += 1
        else:
            self._dropped_host += 1
        return _VERDICTS[passed][tripped]

    def _bucket_level(self, now: int) -> int:
        if now == self._level_at:
            return self._level
        grown = self._level + self._rate_tokens * (now - self._level_at)
        return min(grown, self._bucket_max)

    # -- host events ------------------------------------------------------------------------

    def heartbeat(self, now: int) -> None:
        self._advance(now)
        self._last_heartbeat = now

    def kill(self, now: int) -> None:
        self._advance(now)
        self._trip(_MANUAL, now)

    def kill_pin(self, high: bool, now: int) -> None:
        """The kill pin's level from `now` on (as the gateware sees it after synchronising)."""
        self._advance(now)
        self._pin = bool(high)

    def ack(self, now: int) -> None:
        self._advance(now)
        self._reject_run = 0

    def reject(self, now: int) -> None:
        self._advance(now)
        self._reject_run = min(self._reject_run + 1, REJECT_RUN_MAX)
        limit = self._limits.max_rejects
        if limit and self._reject_run >= limit:
            self._trip(_REJECTS, now)

    def fill(self, market: int, side: int, qty: int, now: int) -> None:
        """A fill the host reports: BUY adds `qty` to the market's net position, SELL
        subtracts it."""
        if not 0 <= market < MARKETS:
            raise InvalidEvent(f"fill market {market} is outside 0..{MARKETS - 1}")
        if side not in (1, 2):
            raise InvalidEvent(f"fill side {side} is neither BUY (1) nor SELL (2)")
        if not 0 <= qty <= MASK32:
            raise InvalidEvent(f"fill qty {qty} does not fit in 32 unsigned bits")
        self._advance(now)
        position = self._positions.get(market, 0) + (qty if side == 1 else -qty)
        self._positions[market] = position
        if abs(position) > self._limits.max_position:
            self._over_limit.add(market)
            self._trip(_POSITION, now)
        else:
            self._over_limit.discard(market)

    def event(self, kind: int, market: int, side: int, qty: int, now: int) -> None:
        """The `event` register strobe: dispatch on `kind` as the gateware does."""
        if kind == EventKind.ACK:
            self.ack(now)
        elif kind == EventKind.REJECT:
            self.reject(now)
        elif kind == EventKind.FILL:
            self.fill(market, side, qty, now)
        else:
            raise InvalidEvent(f"event kind {kind} is not ACK, REJECT or FILL")

    def clear(self, mask: int, now: int) -> None:
        """Clear the latched reasons in `mask` whose condition no longer holds."""
        self._advance(now)
        mask = int(mask & _ALL)
        if self._pin:
            mask &= ~_MANUAL
        if self._over_limit:
            mask &= ~_POSITION
        if mask & _WATCHDOG:
            self._last_heartbeat = now
        if mask & _REJECTS:
            self._reject_run = 0
        self._reasons &= ~mask

    def arm(self, value: int, now: int) -> bool:
        """One write of the arm register: a nonce, then its complement. Returns whether the
        switch is armed after this write."""
        if not 0 <= value <= MASK32:
            raise KillSwitchError(f"arm value {value} does not fit in 32 bits")
        self._advance(now)
        if self._nonce is None:
            self._nonce = value
            return self._armed
        good = value == ~self._nonce & MASK32 and not self._reasons
        self._nonce = None
        if good:
            self._armed = True
        else:
            self._arm_failures += 1
        return self._armed

    # -- time and status --------------------------------------------------------------------

    def snapshot(self, now: int) -> Status:
        """The state after every step before `now`."""
        self._advance(now)
        return Status(
            armed=self._armed,
            reasons=_FLAGS[self._reasons],
            trip_time=self._trip_time,
            passed=self._passed & MASK32,
            dropped_pipeline=self._dropped_pipeline & MASK32,
            dropped_host=self._dropped_host & MASK32,
            arm_failures=self._arm_failures & MASK32,
            arm_pending=self._nonce is not None,
        )

    def position(self, market: int) -> int:
        return self._positions.get(market, 0)

    def _advance(self, now: int) -> None:
        if now < self._now:
            raise TimeWentBackwards(f"time {now} is before {self._now}")
        if now == self._now:
            return
        # End the current step: the level conditions, then the steps with no calls in between,
        # where only the watchdog can change anything (a high pin has already latched).
        if self._pin:
            self._trip(_MANUAL, self._now)
        if self._timeout:
            self._watchdog(upto=now - 1)
        self._now = now

    def _watchdog(self, upto: int) -> None:
        timeout = self._timeout
        if not timeout:
            return
        deadline = max(self._last_heartbeat + timeout, self._timeout_since)
        if deadline <= upto:
            self._trip(_WATCHDOG, deadline)

    def _trip(self, reasons: int, when: int) -> None:
        if self._armed:
            self._armed = False
            self._trip_time = when
        self._reasons |= reasons
