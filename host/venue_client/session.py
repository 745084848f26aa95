"""The venue session without I/O: an explicit state machine, like h11 or websockets' protocol.

No sockets, no asyncio, no clock reads. The adapter (ws_adapter.py) feeds it inputs and
carries out the actions it returns:

    inputs                                  actions returned
    start(now_ns)                           Connect()
    connected(now_ns)                       Send(auth)
    receive(text, now_ns)                   Deliver(event), Send(...), Resync(...), Close(...)
    timer(now_ns)                           Send(ping), Close(...), ReconnectAfter(s), Connect()
    lost(reason, now_ns)                    ReconnectAfter(delay_s)
    close(reason)                           Close(reason)
    order(...) / cancel(...) / cancel_all   the frame's text (LIVE only, else NotLive)

Every state change also returns `StateChanged(old, new)` first. `next_deadline_ns()` says
when `timer` must be called next (None: no deadline). An input the current state does not
take raises `IllegalInput(state, input)`; nothing changes then.

The states and what moves them are the table `TRANSITIONS`, nothing else:

    CLOSED         --start-->               CONNECTING
    CONNECTING     --connected-->           AUTHENTICATING   (sends auth)
    AUTHENTICATING --auth_ok-->             SUBSCRIBING      (sends the subscriptions)
    SUBSCRIBING    --subscribed_all-->      LIVE             (every `subscribed` came back)
    AUTHENTICATING --auth_refused-->        CLOSED           (bad key: retrying cannot help)
    SUBSCRIBING    --subscribe_refused-->   CLOSED           (a venue error: config is wrong)
    CONNECTING, AUTHENTICATING, SUBSCRIBING --timeout-->  BACKOFF
    LIVE           --pong_overdue-->        BACKOFF          (no pong within pong_timeout)
    any connected state --lost-->           BACKOFF          (the socket went away)
    BACKOFF        --retry_due-->           CONNECTING
    any state      --close-->               CLOSED

Received frames are decoded here (codec.py). A frame that cannot be decoded is delivered as
its `ProtocolError` and the session goes on. Books subscribed through an `orderbook`
subscription are kept here (book.py): after each book message whose top changed, a
`TopOfBook` is delivered after the message itself. A skipped update number delivers the
`SequenceGap` and returns `Resync(market, text)`: resubscribe that one market (the venue
answers with a fresh snapshot); every other market carries on untouched. A resync whose
snapshot has not arrived `handshake_timeout_s` later is sent again at the next timer call
(at least once per ping interval).

Liveness: in LIVE a `ping` goes out every `ping_interval_s`; if its `pong` is not back within
`pong_timeout_s` the link is declared dead. Reconnects wait `Backoff.next()`: capped
exponential with jitter, reset once a connection has been LIVE for `healthy_after_s`.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from host.venue_client import codec
from host.venue_client.book import L2Book, SequenceGap, TopOfBook
from host.venue_client.credentials import ApiKey, as_api_key
from host.venue_client.errors import ClientError, ProtocolError
from host.venue_client.events import (
    AuthOk,
    BookSnapshot,
    BookUpdate,
    OrderType,
    Pong,
    Side,
    Subscribed,
    VenueError,
)
from host.venue_client.markets import MarketTable, UnknownMarket

NS = 1_000_000_000


class State(StrEnum):
    CLOSED = "closed"
    CONNECTING = "connecting"
    AUTHENTICATING = "authenticating"
    SUBSCRIBING = "subscribing"
    LIVE = "live"
    BACKOFF = "backoff"


class Input(StrEnum):
    START = "start"
    CONNECTED = "connected"
    AUTH_OK = "auth_ok"
    AUTH_REFUSED = "auth_refused"
    SUBSCRIBED_ALL = "subscribed_all"
    SUBSCRIBE_REFUSED = "subscribe_refused"
    TIMEOUT = "timeout"
    PONG_OVERDUE = "pong_overdue"
    LOST = "lost"
    RETRY_DUE = "retry_due"
    CLOSE = "close"
    # Inputs that never change the state, listed so they are checked like the others.
    TEXT = "text"
    ORDER = "order"


S, In = State, Input
CONNECTED_STATES = frozenset({S.AUTHENTICATING, S.SUBSCRIBING, S.LIVE})

TRANSITIONS: dict[tuple[State, Input], State] = {
    (S.CLOSED, In.START): S.CONNECTING,
    (S.CONNECTING, In.CONNECTED): S.AUTHENTICATING,
    (S.AUTHENTICATING, In.AUTH_OK): S.SUBSCRIBING,
    (S.SUBSCRIBING, In.SUBSCRIBED_ALL): S.LIVE,
    (S.AUTHENTICATING, In.AUTH_REFUSED): S.CLOSED,
    (S.SUBSCRIBING, In.SUBSCRIBE_REFUSED): S.CLOSED,
    (S.CONNECTING, In.TIMEOUT): S.BACKOFF,
    (S.AUTHENTICATING, In.TIMEOUT): S.BACKOFF,
    (S.SUBSCRIBING, In.TIMEOUT): S.BACKOFF,
    (S.LIVE, In.PONG_OVERDUE): S.BACKOFF,
    (S.CONNECTING, In.LOST): S.BACKOFF,
    (S.AUTHENTICATING, In.LOST): S.BACKOFF,
    (S.SUBSCRIBING, In.LOST): S.BACKOFF,
    (S.LIVE, In.LOST): S.BACKOFF,
    (S.BACKOFF, In.RETRY_DUE): S.CONNECTING,
    **{(state, In.CLOSE): S.CLOSED for state in State},
    **{(state, In.TEXT): state for state in CONNECTED_STATES},
    (S.LIVE, In.ORDER): S.LIVE,
}


# -- errors --------------------------------------------------------------------------------

class SessionError(ClientError):
    reason = "session_error"


class IllegalInput(SessionError):
    reason = "illegal_input"

    def __init__(self, state: State, event: Input):
        super().__init__(f"{event.value} is not accepted in state {state.value}")
        self.state = state
        self.input = event


class NotLive(IllegalInput):
    """An order or cancel while the session is not LIVE: nothing was sent."""

    reason = "not_live"


class ConfigError(SessionError):
    reason = "config_error"


# -- actions -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Connect:
    """Open a WebSocket to the venue, then call `connected` (or `lost` if that fails)."""


@dataclass(frozen=True, slots=True)
class Send:
    text: str
    secret: bool = False  # the auth frame: its text must never be printed

    def __repr__(self) -> str:
        return "Send(<auth frame>)" if self.secret else f"Send({self.text!r})"


@dataclass(frozen=True, slots=True)
class Deliver:
    event: object  # a VenueEvent, a TopOfBook, or a recovered-from ProtocolError/SequenceGap


@dataclass(frozen=True, slots=True)
class Resync:
    """`market`'s book lost sync: send `text` (a subscribe for that market alone)."""

    market: str
    text: str


@dataclass(frozen=True, slots=True)
class ReconnectAfter:
    delay_s: float


@dataclass(frozen=True, slots=True)
class Close:
    """Close the socket (if any). `fatal`: do not reconnect; the session is CLOSED."""

    reason: str
    fatal: bool = False


@dataclass(frozen=True, slots=True)
class StateChanged:
    old: State
    new: State


Action = Connect | Send | Deliver | Resync | ReconnectAfter | Close | StateChanged


# -- configuration -------------------------------------------------------------------------

@dataclass(frozen=True)
class Subscription:
    """One subscribe message: a channel for some markets (`orders` takes none)."""

    channel: str
    markets: tuple[str, ...] = ()
    depth: int | None = None  # orderbook only; the venue's default is 10

    def __post_init__(self):
        if isinstance(self.markets, str):
            object.__setattr__(self, "markets", (self.markets,))
        else:
            object.__setattr__(self, "markets", tuple(self.markets))
        if self.channel not in codec.CHANNELS:
            raise ConfigError(f"unknown channel {self.channel!r}")
        if self.channel == "orders" and self.markets:
            raise ConfigError("the orders channel takes no markets")
        if self.channel != "orders" and not self.markets:
            raise ConfigError(f"the {self.channel} channel needs markets")
        if self.channel == "orderbook":
            depth = 10 if self.depth is None else self.depth
            if isinstance(depth, bool) or not isinstance(depth, int) or not (
                    1 <= depth <= codec.MAX_DEPTH):
                raise ConfigError(f"orderbook depth must be 1..{codec.MAX_DEPTH}")
            object.__setattr__(self, "depth", depth)
        elif self.depth is not None:
            raise ConfigError("depth is for the orderbook channel only")

    def text(self) -> str:
        return codec.encode_subscribe([self.channel], self.markets, self.depth)


@dataclass(frozen=True)
class SessionConfig:
    connect_timeout_s: float = 5.0
    handshake_timeout_s: float = 5.0   # auth_ok, then every subscribed, each within this
    ping_interval_s: float = 5.0
    pong_timeout_s: float = 3.0
    backoff_base_s: float = 0.1
    backoff_cap_s: float = 10.0
    backoff_jitter: float = 0.5        # a delay is drawn from [d * (1 - jitter), d]
    healthy_after_s: float = 30.0      # LIVE this long resets the backoff
    seed: int | None = None            # for the jitter; None: from the OS

    def __post_init__(self):
        for name in ("connect_timeout_s", "handshake_timeout_s", "ping_interval_s",
                     "pong_timeout_s", "backoff_base_s", "backoff_cap_s", "healthy_after_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ConfigError(f"{name} must be a positive number of seconds, not {value!r}")
        if self.backoff_cap_s < self.backoff_base_s:
            raise ConfigError("backoff_cap_s must be at least backoff_base_s")
        if not 0 <= self.backoff_jitter <= 1:
            raise ConfigError("backoff_jitter must be within 0..1")


class Backoff:
    """Capped exponential backoff with jitter: attempt n waits min(cap, base * 2**n), less a
    random share up to `jitter` of it, so many clients cut off at once do not return at once."""

    def __init__(self, base: float, cap: float, jitter: float, rng: random.Random):
        self.base, self.cap, self.jitter, self.rng = base, cap, jitter, rng
        self.attempts = 0

    def next(self) -> float:
        ceiling = min(self.cap, self.base * 2 ** min(self.attempts, 62))
        self.attempts += 1
        return ceiling * (1.0 - self.jitter * self.rng.random())

    def reset(self) -> None:
        self.attempts = 0


@dataclass
class SessionStats:
    connects: int = 0
    lost: int = 0
    frames: int = 0
    malformed: int = 0
    gaps: int = 0
    resyncs: int = 0
    pings: int = 0
    last_rtt_ns: int | None = None
    close_reasons: dict[str, int] = field(default_factory=dict)


# -- the session ---------------------------------------------------------------------------

_SUBSCRIBE_CODES = frozenset({"unknown_market", "unknown_channel", "too_many_subscriptions",
                              "bad_field", "missing_field", "not_authenticated"})


class Session:
    def __init__(self, api_key: ApiKey | str, markets: MarketTable,
                 subscriptions: Iterable[Subscription] = (),
                 config: SessionConfig | None = None, rng: random.Random | None = None):
        self.config = config = config if config is not None else SessionConfig()
        self._key = as_api_key(api_key)
        self.markets = markets
        self.decoder = codec.Decoder(markets)
        self.subscriptions = tuple(subscriptions)
        self.books: dict[str, L2Book] = {}
        for sub in self.subscriptions:
            if not isinstance(sub, Subscription):
                raise ConfigError(f"not a Subscription: {sub!r}")
            for market in sub.markets:
                if market not in markets:
                    raise ConfigError(f"unknown market {market!r} in {sub}")
                if sub.channel == "orderbook":
                    if market in self.books:
                        raise ConfigError(f"{market}: one orderbook depth per market")
                    self.books[market] = L2Book(market, sub.depth)
        rng = rng if rng is not None else random.Random(config.seed)
        self.backoff = Backoff(config.backoff_base_s, config.backoff_cap_s,
                               config.backoff_jitter, rng)
        self.stats = SessionStats()
        self.state = State.CLOSED
        self._deadline: int | None = None     # connect / handshake / retry deadline
        self._awaiting: set[tuple[str, str | None]] = set()
        self._live_since = 0
        self._next_ping = 0
        self._ping_sent: int | None = None    # monotonic ns of the ping awaiting its pong
        self._resyncing: dict[str, int] = {}  # market -> when its resync was sent
        self._handlers = {AuthOk: self._on_auth_ok, Subscribed: self._on_subscribed,
                          VenueError: self._on_error, Pong: self._on_pong}

    # -- the table -------------------------------------------------------------------------

    def _move(self, event: Input, out: list) -> None:
        new = TRANSITIONS.get((self.state, event))
        if new is None:
            raise IllegalInput(self.state, event)
        if new is not self.state:
            out.append(StateChanged(self.state, new))
            self.state = new

    def _check(self, event: Input) -> None:
        if (self.state, event) not in TRANSITIONS:
            error = NotLive if event is Input.ORDER else IllegalInput
            raise error(self.state, event)

    # -- inputs ----------------------------------------------------------------------------

    def start(self, now_ns: int) -> list[Action]:
        out: list[Action] = []
        self._move(Input.START, out)
        self._deadline = now_ns + int(self.config.connect_timeout_s * NS)
        out.append(Connect())
        return out

    def connected(self, now_ns: int) -> list[Action]:
        out: list[Action] = []
        self._move(Input.CONNECTED, out)
        self.stats.connects += 1
        for book in self.books.values():
            book.reset()
        self._resyncing.clear()  # the new subscriptions bring every snapshot
        self._ping_sent = None
        self._deadline = now_ns + int(self.config.handshake_timeout_s * NS)
        out.append(Send(codec.encode_auth(self._key), secret=True))
        return out

    def lost(self, reason: str, now_ns: int) -> list[Action]:
        """The connection failed or went away (the adapter saw it)."""
        out: list[Action] = []
        was_live = self.state is State.LIVE
        self._move(Input.LOST, out)
        self.stats.lost += 1
        self._count(reason)
        out.append(self._backoff(now_ns, was_live))
        return out

    def close(self, reason: str = "user") -> list[Action]:
        out: list[Action] = []
        self._move(Input.CLOSE, out)
        self._deadline = None
        self._ping_sent = None
        out.append(Close(reason, fatal=True))
        return out

    def timer(self, now_ns: int) -> list[Action]:
        """Time passed. Legal in every state; acts only on deadlines that are due."""
        state = self.state
        out: list[Action] = []
        if state is State.LIVE:
            if self._resyncing:
                self._retry_resyncs(now_ns, out)
            if self._ping_sent is not None:
                if now_ns - self._ping_sent >= self.config.pong_timeout_s * NS:
                    return out + self._drop(Input.PONG_OVERDUE, "pong_timeout", now_ns)
            elif now_ns >= self._next_ping:
                self._ping_sent = now_ns
                self.stats.pings += 1
                out.append(Send(codec.encode_ping()))
            return out
        if self._deadline is None or now_ns < self._deadline:
            return out
        if state is State.BACKOFF:
            self._move(Input.RETRY_DUE, out)
            self._deadline = now_ns + int(self.config.connect_timeout_s * NS)
            out.append(Connect())
            return out
        if state in (State.CONNECTING, State.AUTHENTICATING, State.SUBSCRIBING):
            return self._drop(Input.TIMEOUT, f"{state.value}_timeout", now_ns)
        return out

    def next_deadline_ns(self) -> int | None:
        if self.state is State.LIVE:
            if self._ping_sent is not None:
                return self._ping_sent + int(self.config.pong_timeout_s * NS)
            return self._next_ping
        return self._deadline

    def receive(self, text: str | bytes, now_ns: int) -> list[Action]:
        """One text frame from the venue, received at `now_ns`."""
        state = self.state
        if state is not State.LIVE and state not in CONNECTED_STATES:
            raise IllegalInput(state, Input.TEXT)
        self.stats.frames += 1
        try:
            event = self.decoder.decode(text)
        except ProtocolError as exc:
            self.stats.malformed += 1
            return [Deliver(exc)]
        cls = event.__class__
        if cls is BookUpdate or cls is BookSnapshot:
            return self._on_book(event, now_ns)
        handler = self._handlers.get(cls)
        if handler is None:
            return [Deliver(event)]
        return handler(event, now_ns)

    # -- orders (LIVE only); each returns the frame's text to send --------------------------

    def order(self, order_id: str, market: str, side: Side, qty: int, price: int | None,
              order_type: OrderType = OrderType.LIMIT, submit_ns: int | None = None) -> str:
        if self.state is not State.LIVE:
            raise NotLive(self.state, Input.ORDER)
        grid = self.decoder.grids.get(market)
        if grid is None:
            raise UnknownMarket(f"no market {market!r}", market=market)
        return codec.encode_order(order_id, market, grid, side, qty, price, order_type,
                                  submit_ns)

    def cancel(self, order_id: str) -> str:
        self._check(Input.ORDER)
        return codec.encode_cancel(order_id)

    def cancel_all(self, market: str | None = None) -> str:
        self._check(Input.ORDER)
        if market is not None and market not in self.markets:
            raise UnknownMarket(f"no market {market!r}", market=market)
        return codec.encode_cancel_all(market)

    # -- frames ----------------------------------------------------------------------------

    def _on_book(self, event: BookSnapshot | BookUpdate, now_ns: int) -> list[Action]:
        book = self.books.get(event.market)
        if book is None or book.depth != event.depth:
            return [Deliver(event)]
        try:
            top = book.apply(event)
        except SequenceGap as gap:
            self.stats.gaps += 1
            return [Deliver(gap), self._resync(book, now_ns)]
        if top is None:
            return [Deliver(event)]
        return [Deliver(event), Deliver(top)]

    def _resync(self, book: L2Book, now_ns: int) -> Resync:
        self.stats.resyncs += 1
        self._resyncing[book.market] = now_ns
        return Resync(book.market, codec.encode_subscribe(["orderbook"], [book.market],
                                                          book.depth))

    def _retry_resyncs(self, now_ns: int, out: list) -> None:
        """A resync whose snapshot has not come within handshake_timeout_s is sent again."""
        limit = self.config.handshake_timeout_s * NS
        for market, sent in list(self._resyncing.items()):
            book = self.books[market]
            if book.synced:
                del self._resyncing[market]
            elif now_ns - sent >= limit:
                out.append(self._resync(book, now_ns))

    def _on_auth_ok(self, event: AuthOk, now_ns: int) -> list[Action]:
        if self.state is not State.AUTHENTICATING:
            return [Deliver(event)]
        out: list[Action] = []
        self._move(Input.AUTH_OK, out)
        out.append(Deliver(event))
        self._awaiting = set()
        for sub in self.subscriptions:
            out.append(Send(sub.text()))
            if sub.channel == "orders":
                self._awaiting.add(("orders", None))
            else:
                self._awaiting.update((sub.channel, market) for market in sub.markets)
        self._deadline = now_ns + int(self.config.handshake_timeout_s * NS)
        if not self._awaiting:
            self._go_live(now_ns, out)
        return out

    def _on_subscribed(self, event: Subscribed, now_ns: int) -> list[Action]:
        out: list[Action] = [Deliver(event)]
        if self.state is State.SUBSCRIBING:
            self._awaiting.discard((event.channel, event.market))
            if not self._awaiting:
                self._go_live(now_ns, out)
        return out

    def _go_live(self, now_ns: int, out: list) -> None:
        self._move(Input.SUBSCRIBED_ALL, out)
        self._deadline = None
        self._live_since = now_ns
        self._next_ping = now_ns + int(self.config.ping_interval_s * NS)

    def _on_error(self, event: VenueError, now_ns: int) -> list[Action]:
        out: list[Action] = [Deliver(event)]
        if self.state is State.AUTHENTICATING and event.code == "bad_api_key":
            self._move(Input.AUTH_REFUSED, out)
            return self._fatal("bad_api_key", out)
        if self.state is State.SUBSCRIBING and event.code in _SUBSCRIBE_CODES:
            self._move(Input.SUBSCRIBE_REFUSED, out)
            return self._fatal(f"subscribe_refused:{event.code}", out)
        return out

    def _on_pong(self, event: Pong, now_ns: int) -> list[Action]:
        sent = self._ping_sent
        if sent is not None and self.state is State.LIVE:
            self.stats.last_rtt_ns = now_ns - sent
            self._ping_sent = None
            self._next_ping = sent + int(self.config.ping_interval_s * NS)
        return [Deliver(event)]

    # -- leaving a connection --------------------------------------------------------------

    def _fatal(self, reason: str, out: list) -> list[Action]:
        self._deadline = None
        self._count(reason)
        out.append(Close(reason, fatal=True))
        return out

    def _drop(self, event: Input, reason: str, now_ns: int) -> list[Action]:
        out: list[Action] = []
        was_live = self.state is State.LIVE
        self._move(event, out)
        self._count(reason)
        out.append(Close(reason))
        out.append(self._backoff(now_ns, was_live))
        return out

    def _backoff(self, now_ns: int, was_live: bool) -> ReconnectAfter:
        self._ping_sent = None
        if was_live and now_ns - self._live_since >= self.config.healthy_after_s * NS:
            self.backoff.reset()
        delay = self.backoff.next()
        self._deadline = now_ns + int(delay * NS)
        return ReconnectAfter(delay)

    def _count(self, reason: str) -> None:
        reasons = self.stats.close_reasons
        reasons[reason] = reasons.get(reason, 0) + 1

    # -- views -----------------------------------------------------------------------------

    def book(self, market: str) -> L2Book:
        return self.books[market]

    def top(self, market: str) -> TopOfBook | None:
        book = self.books.get(market)
        return book.top if book is not None and book.synced else None
