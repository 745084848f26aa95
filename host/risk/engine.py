"""The software risk engine: every order is checked here before the OMS sends it.

Sans-I/O: no clock reads, no sockets. Each input carries `now_ns` (local
`time.monotonic_ns()`); an earlier time than one already seen is taken as the latest seen,
because the daemon stamps events where they arrive and may hand them over slightly out of
order. Inputs return the `RiskEvent`s they caused; each event lists the actions the daemon
must take (a CancelAll on a halt), so the daemon only journals and executes.

The hardware rules (quantity, notional, collar, order rate, consecutive rejects, position in
lots) are not restated here: the engine runs host.model.kill_switch, the gateware's reference
model, on the same limits, and halts when it latches. docs/risk-rules.md lists every rule.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from host.model.kill_switch import ALL_REASONS, MASK32, KillSwitch, OrderSource, TripReason
from host.risk.breaker import Breaker
from host.risk.config import RiskConfig
from host.risk.outcomes import ALLOW, Allow, Deny, RiskEvent, RiskStatus
from host.risk.pnl import MarketPnl
from host.risk.reasons import HW_DENIALS, DenyReason, EventKind, RiskState, Trip
from host.strategy.actions import CancelAll, PlaceOrder
from host.venue_client.events import Fill, OrderType, Side
from host.venue_client.markets import MarketTable

NS_PER_DAY = 86_400 * 1_000_000_000
RATE_LIMIT_CODES = frozenset({"order_rate_limited"})
_HW_TRIPS = {TripReason.RATE: Trip.HW_RATE, TripReason.QTY: Trip.HW_QTY,
             TripReason.NOTIONAL: Trip.HW_NOTIONAL, TripReason.COLLAR: Trip.HW_COLLAR,
             TripReason.REJECTS: Trip.CONSECUTIVE_REJECTS,
             TripReason.POSITION: Trip.HW_POSITION, TripReason.MANUAL: Trip.MANUAL}
_HOST = OrderSource.HOST
_ACTIVE, _REDUCING, _HALTED = RiskState.ACTIVE, RiskState.REDUCING, RiskState.HALTED
_MARKET, _BUY, _SELL = OrderType.MARKET, Side.BUY, Side.SELL


class _Intent:
    """What the kill-switch model reads of an order."""

    __slots__ = ("market_id", "side", "price", "qty")

    def __init__(self, market_id: int, side: int, price: int, qty: int):
        self.market_id, self.side, self.price, self.qty = market_id, side, price, qty


class RiskEngine:
    def __init__(self, config: RiskConfig, markets: MarketTable, now_ns: int, *,
                 positions: Mapping | None = None, wall_ns: int | None = None):
        """`positions`: market -> signed lots, or an object with `qty` and `avg_price`
        (an OMS Position), restored after a restart. `wall_ns` starts the UTC day."""
        self.config = config
        self._markets = markets
        self._specs = {spec.name: spec for spec in markets}
        self._now = now_ns
        self._stale_ns = config.stale_ns
        self._max_pos_usd = config.max_position_usd
        self._max_loss_usd = config.max_daily_loss_usd
        self._max_drawdown_usd = config.pnl_kill_drawdown_usd
        self._ignored_rejects = frozenset(config.reject_kill_ignores)
        self._state = _ACTIVE
        self._halts: dict[Trip, int] = {}
        self._over: set[str] = set()
        self._books: dict[str, tuple[int, int]] = {}
        self._pnl: dict[str, MarketPnl] = {}
        self._breaker = Breaker(config.circuit_breaker)
        self._backoff_until = 0
        self._rate_streak = 0
        self._reject_run = 0
        self._checks = self._allowed = 0
        self._denied: Counter = Counter()
        self._trips: Counter = Counter()
        self._nonce = 0x5EED_0000
        # Started one rate window early, so its token bucket is full (a board that has idled
        # since it was configured) rather than empty as at reset.
        limits = config.model_limits
        self._ks = KillSwitch(limits, now=now_ns - limits.rate_window)
        for market, pos in (positions or {}).items():
            spec = markets[market]
            qty, avg = (pos, 0.0) if isinstance(pos, int) else (pos.qty, pos.avg_price)
            self._pnl[market] = MarketPnl(market, spec.notional_unit, qty, float(avg))
            if qty:
                self._ks.fill(spec.market_id, 1 if qty > 0 else 2, abs(qty), now_ns)
        self._day = wall_ns // NS_PER_DAY if wall_ns is not None else None
        # The wall-clock span of self._day as check() last saw it, so that check compares
        # instead of dividing; empty until then, and emptied whenever the day is set.
        self._day_lo = self._day_hi = 0
        self._day_base = self._peak = self._total()
        self._startup: list[RiskEvent] = []
        if not self._arm(now_ns):
            self._startup = self._halt(Trip.HW_POSITION, now_ns, {"at": "start"})
        self._startup += self._update_position_state(now_ns)

    # -- the order check (on the tick-to-order path) ----------------------------------------

    def check(self, req: PlaceOrder, now_ns: int, market_ts_ns: int, wall_ns: int,
              position_lots: int) -> Allow | Deny:
        """May `req` go out? `market_ts_ns` is the venue time of the market data behind it,
        `wall_ns` the local time.time_ns(), `position_lots` the OMS's signed position."""
        now = now_ns if now_ns > self._now else self._now
        self._now = now
        self._checks += 1
        # Events are rare: a tuple until one happens, so an allowed order allocates nothing.
        events: tuple | list = ()
        if not self._day_lo <= wall_ns < self._day_hi:  # else still self._day
            day = wall_ns // NS_PER_DAY
            if day != self._day:
                if self._day is None:
                    self._day = day
                else:
                    events = self.new_day(now, wall_ns)
            self._day_lo, self._day_hi = day * NS_PER_DAY, (day + 1) * NS_PER_DAY
        breaker = self._breaker
        if breaker.throttle_until and not now < breaker.throttle_until:
            events = [*events, *self._throttle_ended(now)]
        market = req.market
        spec = self._specs.get(market)
        if spec is None:
            return self._deny(DenyReason.UNKNOWN_MARKET, f"no market {market!r}", events)
        qty, price = req.qty, req.price
        if type(qty) is not int or qty <= 0:
            return self._deny(DenyReason.INVALID_ORDER, f"qty {qty!r} is not a positive int",
                              events)
        if req.order_type is not _MARKET and (type(price) is not int or price <= 0):
            return self._deny(DenyReason.INVALID_ORDER,
                              f"{req.order_type} order needs a positive int price, got "
                              f"{price!r}", events)
        side = req.side
        if side is _BUY:
            buy = True
        elif side is _SELL:
            buy = False
        else:
            return self._deny(DenyReason.INVALID_ORDER, f"side {side!r} is not a Side", events)
        if self._state is _HALTED:
            return self._deny(DenyReason.HALTED, ",".join(self._halts), events)
        age = wall_ns - market_ts_ns
        if age > self._stale_ns:
            return self._deny(DenyReason.STALE_MARKET_DATA,
                              f"market data is {age / 1e6:.3f} ms old", events)
        if now < self._backoff_until:
            return self._deny(DenyReason.RATE_LIMIT_BACKOFF,
                              f"{(self._backoff_until - now) / 1e6:.1f} ms left", events)
        if price is None:  # a market order: judge it at the price it would meet
            top = self._books.get(market, (0, 0))
            price = top[1] if buy else top[0]
        after = position_lots + qty if buy else position_lots - qty
        held = position_lots if position_lots >= 0 else -position_lots
        size = after if after >= 0 else -after
        reduces = position_lots != 0 and size < held and (
            after == 0 or (after > 0) == (position_lots > 0))
        if not reduces:
            if self._state is _REDUCING:
                return self._deny(DenyReason.REDUCE_ONLY,
                                  f"position {position_lots} lots, order {side} {qty}", events)
            exposure = size * price * spec.notional_unit
            if exposure > self._max_pos_usd and size > held:
                return self._deny(DenyReason.POSITION_LIMIT,
                                  f"{exposure:.2f} USD after fill > {self._max_pos_usd}",
                                  events)
        passes, engaged = breaker.admit(now)
        if not passes:
            if engaged:
                events = [*events, self._trip_event(EventKind.THROTTLED, Trip.CIRCUIT_BREAKER,
                                                    now, {"until_ns": breaker.throttle_until})]
            return self._deny(DenyReason.CIRCUIT_BREAKER, "order rate over the limit", events)
        verdict = self._ks.order_fields(spec.market_id, 1 if buy else 2, price, qty, _HOST, now)
        if not verdict.passed:
            breaker.undo(now)
            events = list(events)
            first = next((r for r in TripReason if r in verdict.tripped), None)
            reason = HW_DENIALS.get(first.name if first else "", DenyReason.HALTED)
            for bit, trip in _HW_TRIPS.items():
                if bit in verdict.tripped:
                    events += self._halt(trip, now, {"market": market, "side": str(side),
                                                     "price": price, "qty": qty})
            return self._deny(reason, f"kill switch tripped {verdict.tripped!r}", events)
        self._allowed += 1
        return Allow(tuple(events)) if events else ALLOW

    def _deny(self, reason: DenyReason, detail: str, events: list) -> Deny:
        self._denied[reason] += 1
        return Deny(reason, detail, tuple(events))

    # -- venue and market inputs ------------------------------------------------------------

    def on_ack(self, now_ns: int) -> list[RiskEvent]:
        now = self._clock(now_ns)
        self._rate_streak = 0
        self._reject_run = 0
        self._ks.ack(now)
        return []

    def on_reject(self, code: str, now_ns: int) -> list[RiskEvent]:
        """A venue `order_reject` (its reason code)."""
        now = self._clock(now_ns)
        events: list[RiskEvent] = []
        if code in RATE_LIMIT_CODES:
            events += self._start_backoff(now, None, code)
        if code not in self._ignored_rejects:
            self._reject_run += 1
            self._ks.reject(now)
            if TripReason.REJECTS in self._ks.snapshot(now).reasons:
                events += self._halt(Trip.CONSECUTIVE_REJECTS, now,
                                     {"last_code": code,
                                      "limit": self.config.max_consecutive_rejects})
        return events

    def on_http_429(self, retry_after_s: float | None, now_ns: int) -> list[RiskEvent]:
        """A REST answer 429; `Retry-After` when the venue sent one."""
        return self._start_backoff(self._clock(now_ns), retry_after_s, "http_429")

    def on_fill(self, fill: Fill, now_ns: int) -> list[RiskEvent]:
        now = self._clock(now_ns)
        spec = self._markets[fill.market]
        pnl = self._market_pnl(fill.market)
        pnl.fill(fill.side.sign, fill.qty, fill.price, float(fill.fee))
        events: list[RiskEvent] = []
        self._ks.fill(spec.market_id, 1 if fill.side is Side.BUY else 2, fill.qty, now)
        if TripReason.POSITION in self._ks.snapshot(now).reasons:
            events += self._halt(Trip.HW_POSITION, now, {"market": fill.market,
                                                         "position": pnl.qty})
        return events + self._after_pnl_change(fill.market, now)

    def on_mark(self, market: str, mid_ticks: float, now_ns: int) -> list[RiskEvent]:
        """The market's mark price (mid) in ticks, for unrealised PnL and exposure."""
        now = now_ns if now_ns > self._now else self._now
        self._now = now
        pnl = self._pnl.get(market)
        if pnl is None:
            self._markets[market]  # an unknown market raises UnknownMarket here
            pnl = self._market_pnl(market)
        pnl.mark = float(mid_ticks)
        return self._after_pnl_change(market, now)

    def on_book(self, market: str, bid: int, ask: int, now_ns: int) -> list[RiskEvent]:
        """Best bid and ask in ticks (0 for an empty side): the collar's reference."""
        now = now_ns if now_ns > self._now else self._now
        self._now = now
        spec = self._specs.get(market)
        if spec is None:
            spec = self._markets[market]  # raises UnknownMarket
        self._books[market] = (bid, ask)
        self._ks.book_top(spec.market_id, bid or None, ask or None, now)
        return []

    # -- operator and calendar --------------------------------------------------------------

    def kill(self, reason: str, now_ns: int) -> list[RiskEvent]:
        """Manual override: halt and cancel everything."""
        now = self._clock(now_ns)
        self._ks.kill(now)
        events = self._halt(Trip.MANUAL, now, {"by": reason}, cancel=True)
        return events or [RiskEvent(EventKind.HALTED, str(Trip.MANUAL), {"by": reason}, now,
                                    (CancelAll(None, "risk"),))]

    def resume(self, now_ns: int, wall_ns: int | None = None) -> list[RiskEvent]:
        """An operator's resume. Refused while a halting condition still holds."""
        now = self._clock(now_ns)
        events: list[RiskEvent] = []
        if wall_ns is not None and self._day is not None and wall_ns // NS_PER_DAY != self._day:
            events += self.new_day(now, wall_ns)
        if self._state is not _HALTED:
            return events
        loss = self._day_base - self._total()
        if loss > self.config.max_daily_loss_usd:
            return events + [self._trip_event(EventKind.RESUME_REFUSED, Trip.DAILY_LOSS, now,
                                              {"daily_loss_usd": loss})]
        if not self._arm(now):
            return events + [self._trip_event(EventKind.RESUME_REFUSED, Trip.HW_POSITION, now,
                                              {"positions": self._positions()})]
        cleared = [str(t) for t in self._halts]
        self._halts.clear()
        self._peak = self._total()
        self._state = _ACTIVE
        events.append(RiskEvent(EventKind.ACTIVE, "operator_resume", {"cleared": cleared}, now))
        return events + self._update_position_state(now)

    def new_day(self, now_ns: int, wall_ns: int | None = None) -> list[RiskEvent]:
        """A new UTC day starts the daily loss over (the engine also notices by itself from
        `check`'s wall_ns). A halt stays until an operator resumes."""
        now = self._clock(now_ns)
        if wall_ns is not None:
            self._day = wall_ns // NS_PER_DAY
        self._day_lo = self._day_hi = 0
        self._day_base = self._total()
        return [RiskEvent(EventKind.DAY_ROLLED, "new_day",
                          {"day": self._day, "pnl_usd": self._day_base}, now)]

    def startup_events(self) -> list[RiskEvent]:
        """What construction caused (a restored position over the hardware limit halts)."""
        events, self._startup = self._startup, []
        return events

    # -- status -----------------------------------------------------------------------------

    @property
    def state(self) -> RiskState:
        return self._state

    def status(self) -> RiskStatus:
        realized = sum(p.realized_usd for p in self._pnl.values())
        unrealized = sum(p.unrealized_usd() for p in self._pnl.values())
        total = realized + unrealized
        return RiskStatus(
            state=self._state, halt_reasons=tuple(str(t) for t in self._halts),
            reducing_markets=tuple(sorted(self._over)),
            throttled=self._breaker.throttled(self._now),
            backoff_until_ns=self._backoff_until if self._now < self._backoff_until else 0,
            consecutive_rejects=self._reject_run,
            realized_usd=realized, unrealized_usd=unrealized,
            daily_pnl_usd=total - self._day_base, drawdown_usd=max(0.0, self._peak - total),
            positions=self._positions(), checks=self._checks, allowed=self._allowed,
            denied={str(k): v for k, v in self._denied.items()},
            trips={str(k): v for k, v in self._trips.items()})

    # -- internals --------------------------------------------------------------------------

    def _clock(self, now_ns: int) -> int:
        if now_ns > self._now:
            self._now = now_ns
        return self._now

    def _market_pnl(self, market: str) -> MarketPnl:
        pnl = self._pnl.get(market)
        if pnl is None:
            pnl = self._pnl[market] = MarketPnl(market, self._markets[market].notional_unit)
        return pnl

    def _positions(self) -> dict[str, int]:
        return {m: p.qty for m, p in self._pnl.items()}

    def _total(self) -> float:
        return sum(map(MarketPnl.total_usd, self._pnl.values()))

    def _after_pnl_change(self, market: str, now: int) -> list[RiskEvent]:
        # On every top (the mark): the limits are read from copies, the peak kept without
        # a max() call, and the halts looked at only when a limit is crossed.
        total = self._total()
        if total > self._peak:
            self._peak = total
        loss = self._day_base - total
        drawdown = self._peak - total
        if loss <= self._max_loss_usd and drawdown <= self._max_drawdown_usd:
            return self._update_position_state(now, market)
        events: list[RiskEvent] = []
        if loss > self._max_loss_usd:
            events += self._halt(Trip.DAILY_LOSS, now, {"daily_loss_usd": loss}, notify=True)
        if drawdown > self._max_drawdown_usd:
            events += self._halt(Trip.PNL_DRAWDOWN, now, {"drawdown_usd": drawdown,
                                                          "peak_usd": self._peak})
        return events + self._update_position_state(now, market)  # after the halts

    def _update_position_state(self, now: int, market: str | None = None) -> list[RiskEvent]:
        for name in ([market] if market else list(self._pnl)):
            if self._pnl[name].exposure_usd() > self._max_pos_usd:
                self._over.add(name)
            else:
                self._over.discard(name)
        if self._state is _ACTIVE and self._over:
            self._state = _REDUCING
            over = sorted(self._over)
            return [self._trip_event(EventKind.REDUCING, Trip.POSITION_LIMIT, now,
                                     {"markets": over}, actions=(CancelAll(None, "risk"),))]
        if self._state is _REDUCING and not self._over:
            self._state = _ACTIVE
            return [RiskEvent(EventKind.ACTIVE, "position_back_under_limit", {}, now)]
        return []

    def _halt(self, trip: Trip, now: int, detail: dict, notify: bool = False,
              cancel: bool = False) -> list[RiskEvent]:
        """Halt for `trip`. Only the first halt cancels everything (nothing has been sent
        since), unless `cancel` asks again: an operator's kill always does."""
        if trip in self._halts:
            return []
        self._halts[trip] = now
        first = self._state is not _HALTED
        self._state = _HALTED
        actions = (CancelAll(None, "risk"),) if first or cancel else ()
        return [self._trip_event(EventKind.HALTED, trip, now, detail, actions, notify)]

    def _trip_event(self, kind: EventKind, trip: Trip, now: int, detail: dict,
                    actions: tuple = (), notify: bool = False) -> RiskEvent:
        self._trips[trip] += 1
        return RiskEvent(kind, str(trip), detail, now, actions, notify)

    def _start_backoff(self, now: int, retry_after_s: float | None, code: str) -> list:
        self._rate_streak += 1
        delay = self.config.backoff.delay_ns(self._rate_streak)
        if retry_after_s is not None and retry_after_s > 0:
            delay = max(delay, int(retry_after_s * 1e9))
        self._backoff_until = max(self._backoff_until, now + delay)
        return [self._trip_event(EventKind.BACKOFF, Trip.RATE_LIMITED, now,
                                 {"code": code, "delay_ns": delay,
                                  "streak": self._rate_streak})]

    def _throttle_ended(self, now: int) -> list[RiskEvent]:
        self._breaker.throttle_until = 0
        return [RiskEvent(EventKind.THROTTLE_ENDED, str(Trip.CIRCUIT_BREAKER), {}, now)]

    def _arm(self, now: int) -> bool:
        """Clear the model's latched reasons and arm it, as an operator arms a board."""
        ks = self._ks
        ks.clear(int(ALL_REASONS), now)
        self._reject_run = 0
        self._nonce = (self._nonce + 1) & MASK32
        ks.arm(self._nonce, now)
        return ks.arm(~self._nonce & MASK32, now)
