"""The small interfaces the core needs from the outside world; adapters implement them.

The core (``engine/``) knows nothing of brokers, files or networks. It is driven by
market events from a ``Feed``, reads time from a ``Clock``, sends orders to a ``Broker``
and hears back through the sink it binds, resolves contracts through an
``InstrumentSource`` and prices them through a ``QuoteSource``. Backtests, paper trading
and live trading differ only in which implementations are plugged in:

============  =====================  =====================  ===========================
port          backtest               paper                  live
============  =====================  =====================  ===========================
Feed          adapters.replay        replay or SmartAPI     SmartAPI WebSocket
Clock         SimClock               WallClock              WallClock
Broker        adapters.paper         adapters.paper         SmartAPI REST
Instruments   calendar facts         calendar / master      SmartAPI instrument master
Quotes        premium model/market   model or SmartAPI      SmartAPI ticks
============  =====================  =====================  ===========================

There is no ``if paper:`` anywhere in the core.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import NamedTuple, Protocol, runtime_checkable

from engine.clock import Clock, SimClock, WallClock
from engine.model.market import Bar
from engine.model.trading import BrokerEvent, Instrument, OptionKind, OrderIntent

__all__ = [
    "BarClosed",
    "Broker",
    "BrokerSessionExpiring",
    "BrokerSink",
    "ClockAdvanced",
    "Clock",
    "DailyBarPublished",
    "ExpiryInfo",
    "Feed",
    "FeedEvent",
    "FeedOutage",
    "InstrumentSource",
    "QuoteInfo",
    "QuoteSource",
    "SimClock",
    "TickReceived",
    "VixUpdated",
    "WallClock",
]


# -- what a feed delivers ------------------------------------------------------------------
class BarClosed(NamedTuple):
    """A source bar of the underlying ended at ``ts`` (its end, never earlier).

    ``path(bar, ts)`` gives the price path inside the bar as (ts, price) pairs, for a
    replay that turns bars into ticks; ``None`` when the feed gave real ticks (they came
    before). The core calls it only while something listens to ticks.
    """

    ts: int
    symbol: str
    bar: Bar
    path: Callable[[Bar, int], tuple[tuple[int, float], ...]] | None = None


class TickReceived(NamedTuple):
    """A trade print of the underlying (``symbol`` is the underlying) or of an option."""

    ts: int
    symbol: str
    price: float
    volume: int = 0


class VixUpdated(NamedTuple):
    """India VIX as known at ``ts`` (a daily value only from the next session on)."""

    ts: int
    value: float
    source: str  # "daily" | "1m" | "live"


class DailyBarPublished(NamedTuple):
    """An official daily bar, known from ``ts`` on (after its session closed)."""

    ts: int
    symbol: str
    bar: Bar


class FeedOutage(NamedTuple):
    """The feed delivers nothing while the market is open (connected but silent, or down).

    The core treats it as a data gap from ``ts`` on (``data.gap``), which the breakers
    pause entries on; the next tick or bar ends it. A replay never raises it: its silence
    is found by the core's own deadline on event time.
    """

    ts: int
    reason: str
    silent_for_s: float = 0.0


class BrokerSessionExpiring(NamedTuple):
    """The broker session will not last: it stops working at ``expires_at`` (epoch ns) and
    the adapter could not refresh it (or will not be able to: a refresh token past its
    life, a login that needs the operator). Sent by the broker adapter through the bound
    sink, or by a live driver to ``Engine.process``, as soon as it knows, at ``ts``;
    ``expires_at`` may be ``ts`` itself when the session is already dead.

    The runtime sets ``broker.session_ending`` a safety margin before ``expires_at``
    (``EngineConfig.session_exit_margin_ns``, or at once when less is left): the session
    machine exits everything and the kill switch cancels, flattens and halts while orders
    can still be sent. An adapter that refreshes in time sends nothing; one that later
    succeeds after all sends this event again with the new ``expires_at``, which moves the
    deadline (a halt already reached stays until the operator resumes).
    """

    ts: int
    expires_at: int
    reason: str  # for the operator and the journal; never a token or a secret


class ClockAdvanced(NamedTuple):
    """Time has passed with no market event: deadlines due by ``ts`` run and whatever
    waits (a broker's order update) is processed. Live drivers send it while quiet."""

    ts: int


#: Everything a driver hands to ``Engine.process``.
FeedEvent = (
    BarClosed
    | TickReceived
    | VixUpdated
    | DailyBarPublished
    | FeedOutage
    | BrokerSessionExpiring
    | ClockAdvanced
)


@runtime_checkable
class Feed(Protocol):
    """Market events in time order (a replay yields them as fast as asked)."""

    def events(self) -> Iterator[FeedEvent]: ...

    @property
    def description(self) -> str:
        """One line for banners and reports: what is being replayed or streamed."""
        ...


# -- orders ------------------------------------------------------------------------------
BrokerSink = Callable[[BrokerEvent | BrokerSessionExpiring], None]


@runtime_checkable
class Broker(Protocol):
    """Where order intents go. Outcomes come back as events through the bound sink.

    ``submit`` must never send a second order for an intent key it has seen (the key is
    the order tag); ``market`` shows the broker the prices the core sees, which a paper
    broker fills against and a real broker ignores.
    """

    def bind(self, sink: BrokerSink, clock: Clock) -> None:
        """Where events go, and the engine's clock (the time of events it makes up)."""
        ...

    def submit(self, intent: OrderIntent) -> None: ...

    def cancel(self, key: str) -> None: ...

    def market(self, symbol: str, ts: int, price: Decimal) -> None: ...

    @property
    def description(self) -> str: ...


# -- contracts and their prices ------------------------------------------------------------
class ExpiryInfo(NamedTuple):
    date: date
    kind: str  # "weekly" | "monthly"


@runtime_checkable
class InstrumentSource(Protocol):
    """Option contracts: which expiries exist, strike steps, and the contract itself."""

    def expiries(self, underlying: str, on: date) -> Sequence[ExpiryInfo]:
        """Expiries on or after ``on``, nearest first."""
        ...

    def strike_step(self, underlying: str, on: date) -> int: ...

    def weekly_available(self, underlying: str, on: date) -> bool:
        """Whether the underlying has weekly option contracts on ``on``."""
        ...

    def option(
        self, underlying: str, expiry: date, strike: int, kind: OptionKind, on: date
    ) -> Instrument: ...


class QuoteInfo(Protocol):
    """A premium and where it came from (``engine.pricing.premiums.Quote``)."""

    @property
    def price(self) -> Decimal: ...

    @property
    def source(self) -> str: ...


@runtime_checkable
class QuoteSource(Protocol):
    """The premium of a contract at an instant (market data, or a model in backtests)."""

    def premium(
        self,
        ts_ns: int,
        underlying: str,
        spot: float,
        strike: float,
        kind: str,
        expiry: date,
    ) -> QuoteInfo | None: ...
