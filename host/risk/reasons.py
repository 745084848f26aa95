"""The risk engine's vocabulary: states, denial reasons, trips and event kinds.

Every value is a stable lower-case string (the journal, metrics and `tickwire status` show
them) with a one-line `doc` that docs/risk-rules.md is generated from.
"""

from __future__ import annotations

from enum import StrEnum


class _Documented(StrEnum):
    def __new__(cls, value: str, doc: str = ""):
        member = str.__new__(cls, value)
        member._value_ = value
        member.doc = doc
        return member


class RiskState(_Documented):
    ACTIVE = "active", "Every check applies; orders that pass them go out."
    REDUCING = "reducing", ("A market is over `max_position_usd`: only orders that shrink a "
                            "position without flipping it pass. Back to `active` by itself "
                            "once every market is under the limit again.")
    HALTED = "halted", ("Nothing passes. Only an operator's `resume` leaves this state, and "
                        "only once no halting condition still holds.")


class DenyReason(_Documented):
    """Why `RiskEngine.check` refused an order, in the order the checks run."""

    UNKNOWN_MARKET = "unknown_market", "The order names a market the venue does not list."
    INVALID_ORDER = "invalid_order", ("Quantity is not a positive whole number of lots, a "
                                      "priced order type has no positive price, or the side "
                                      "is not a Side.")
    HALTED = "halted", "The engine is halted (see the trips); nothing passes until `resume`."
    STALE_MARKET_DATA = "stale_market_data", ("The market data behind the order is older than "
                                              "`stale_market_data_ms` (venue `ts_ns` against "
                                              "the local wall clock).")
    RATE_LIMIT_BACKOFF = "rate_limit_backoff", ("The venue refused an order for its rate limit "
                                                "(`order_rate_limited`, HTTP 429) and the "
                                                "backoff has not run out.")
    REDUCE_ONLY = "reduce_only", ("The engine is `reducing` and the order would not shrink "
                                  "its market's position (or would flip it).")
    POSITION_LIMIT = "position_limit", ("Filled, the order would leave the market's position "
                                        "over `max_position_usd` and larger than now.")
    CIRCUIT_BREAKER = "circuit_breaker", ("The order would exceed `max_orders_per_s` in the "
                                          "last second (or `throttled_orders_per_s` while the "
                                          "breaker cools off).")
    HW_RATE = "hw_rate", ("The hardware kill-switch model found its token bucket empty. The "
                          "switch latches: the engine halts.")
    HW_QTY = "hw_qty", "The kill-switch model's `max_qty` rule; the engine halts."
    HW_NOTIONAL = "hw_notional", "The kill-switch model's `max_notional` rule; the engine halts."
    HW_COLLAR = "hw_collar", ("The kill-switch model's price collar (or no book reference); "
                              "the engine halts.")


class Trip(_Documented):
    """A rule that fired on something other than a single order's check."""

    MANUAL = "manual", "An operator's kill (`tickwire kill`). Halts and cancels everything."
    CONSECUTIVE_REJECTS = "consecutive_rejects", (
        "`max_consecutive_rejects` venue rejects in a row (an ack ends the run; codes in "
        "`reject_kill_ignores` neither count nor end it). Halts.")
    PNL_DRAWDOWN = "pnl_drawdown", ("Realised + unrealised PnL fell more than "
                                    "`pnl_kill_drawdown_usd` below its high-water mark since "
                                    "start or the last resume. Halts.")
    DAILY_LOSS = "daily_loss", ("Realised + unrealised PnL since the UTC day began is a loss "
                                "over `max_daily_loss_usd`. Halts and notifies; `resume` is "
                                "refused until the day rolls.")
    HW_RATE = "hw_rate", DenyReason.HW_RATE.doc
    HW_QTY = "hw_qty", DenyReason.HW_QTY.doc
    HW_NOTIONAL = "hw_notional", DenyReason.HW_NOTIONAL.doc
    HW_COLLAR = "hw_collar", DenyReason.HW_COLLAR.doc
    HW_POSITION = "hw_position", ("A fill left a market beyond the kill switch's "
                                  "`max_position` lots. Halts; `resume` is refused while it "
                                  "still holds.")
    POSITION_LIMIT = "position_limit", ("A market's position at the mark is over "
                                        "`max_position_usd`. Goes `reducing` and cancels "
                                        "everything.")
    CIRCUIT_BREAKER = "circuit_breaker", ("The order rate hit `max_orders_per_s`: throttled to "
                                          "`throttled_orders_per_s` for `cool_off_s`.")
    RATE_LIMITED = "rate_limited", ("The venue's rate-limit refusal: no orders for the "
                                    "backoff delay.")


class EventKind(_Documented):
    """`RiskEvent.kind`: what the daemon journals, and acts on through `RiskEvent.actions`."""

    HALTED = "halted", ("The engine halted, or a halted engine tripped on one more rule. The "
                        "first one carries CancelAll.")
    REDUCING = "reducing", "The engine went `reducing`; carries CancelAll."
    ACTIVE = "active", "The engine went back to `active` (positions back under, or a resume)."
    RESUME_REFUSED = "resume_refused", "A `resume` found a halting condition still holding."
    THROTTLED = "throttled", "The circuit breaker engaged."
    THROTTLE_ENDED = "throttle_ended", "The circuit breaker's cool-off ran out."
    BACKOFF = "backoff", "A rate-limit refusal started a backoff."
    DAY_ROLLED = "day_rolled", "A new UTC day: the daily loss counts from here."


HW_DENIALS = {"RATE": DenyReason.HW_RATE, "QTY": DenyReason.HW_QTY,
              "NOTIONAL": DenyReason.HW_NOTIONAL, "COLLAR": DenyReason.HW_COLLAR}
