"""Ticks and bars: the two values the data path carries.

Times are ``int`` nanoseconds since the Unix epoch in UTC on the hot path (cheap to
compare and to store); aware datetimes are offered as properties for the edges (reports,
CSV output, explain). A bar is labelled by its start, as the exchange data files label
theirs: the 09:15 bar covers 09:15:00 up to, not including, 09:16:00.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from engine.model.enums import Timeframe
from engine.timeutil import IST

__all__ = [
    "IST_OFFSET_NS",
    "NANOS",
    "Bar",
    "Tick",
    "ist_date_of",
    "make_bar",
    "ns_to_datetime",
    "to_ns",
]

NANOS = 1_000_000_000
# India has kept UTC+05:30 without daylight saving since 1945, so a fixed offset gives the
# IST wall clock of any timestamp this engine will see without a zoneinfo lookup per tick.
IST_OFFSET_NS = 19_800 * NANOS
_DAY_NS = 86_400 * NANOS
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def to_ns(ts: datetime) -> int:
    """Nanoseconds since the epoch for an aware datetime; a naive one is refused."""
    if ts.tzinfo is None:
        raise ValueError(f"naive datetime {ts.isoformat()} was given; an aware one is required")
    delta = ts - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * NANOS + delta.microseconds * 1000


def ns_to_datetime(ns: int, tz: object = UTC) -> datetime:
    """The aware datetime (UTC by default) of a nanosecond timestamp (microsecond precision)."""
    base = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ns // 1000)
    return base.astimezone(tz) if tz is not UTC else base  # type: ignore[arg-type]


def ist_date_of(ns: int) -> date:
    """The IST calendar date of a nanosecond timestamp."""
    return date.fromordinal((ns + IST_OFFSET_NS) // _DAY_NS + _EPOCH_ORDINAL)


@dataclass(frozen=True, slots=True)
class Tick:
    """One trade print from a feed.

    ``ts_exchange`` is the exchange's timestamp when the feed gives one; ``ts_init`` is
    when this process received the tick. Bars are built on ``ts_event``: the exchange
    time when known, else the local time. ``volume`` is the quantity traded with this
    tick, not the day's running total (an adapter whose feed sends the running total
    converts it into differences).
    """

    symbol: str
    ltp: float
    ts_init: int
    ts_exchange: int | None = None
    bid: float | None = None
    ask: float | None = None
    volume: int = 0
    oi: int | None = None

    @property
    def ts_event(self) -> int:
        return self.ts_init if self.ts_exchange is None else self.ts_exchange

    @property
    def skew_ns(self) -> int | None:
        """Local receive time minus exchange time (positive: we saw it late)."""
        return None if self.ts_exchange is None else self.ts_init - self.ts_exchange


@dataclass(frozen=True, slots=True)
class Bar:
    """Open, high, low, close and volume of one symbol over one timeframe bucket.

    ``ts_event`` is the bucket's start in UTC nanoseconds; a daily bar is labelled with
    00:00 IST of its trading date. ``ts_init`` is when the bar was closed (0 when it was
    read from a file). ``filled`` marks a bar the engine made up for a quiet or missing
    minute (carried forward or interpolated): never a traded price.
    """

    symbol: str
    timeframe: Timeframe
    ts_event: int
    open: float
    high: float
    low: float
    close: float
    volume: int = 0
    oi: int | None = None
    filled: bool = False
    ts_init: int = 0

    @property
    def start(self) -> datetime:
        """The bar's start as an aware UTC datetime."""
        return ns_to_datetime(self.ts_event)

    @property
    def start_ist(self) -> datetime:
        return ns_to_datetime(self.ts_event, IST)

    @property
    def trading_date(self) -> date:
        """The IST date the bar belongs to."""
        return ist_date_of(self.ts_event)


_NEW = object.__new__
#: The slot setters of Bar in field order, for loaders that build bars in a tight loop.
BAR_SLOT_SETTERS = _SETTERS = tuple(
    Bar.__dict__[name].__set__
    for name in (
        "symbol",
        "timeframe",
        "ts_event",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "oi",
        "filled",
        "ts_init",
    )
)


def make_bar(
    symbol: str,
    timeframe: Timeframe,
    ts_event: int,
    open: float,
    high: float,
    low: float,
    close: float,
    volume: int,
    oi: int | None = None,
    filled: bool = False,
    ts_init: int = 0,
) -> Bar:
    """A ``Bar`` built without the frozen-dataclass ``__setattr__`` detour (about 3x faster).

    For loaders that create tens of thousands of bars from values they already checked;
    the result is an ordinary, equal, immutable ``Bar``.
    """
    bar = _NEW(Bar)
    s = _SETTERS
    s[0](bar, symbol)
    s[1](bar, timeframe)
    s[2](bar, ts_event)
    s[3](bar, open)
    s[4](bar, high)
    s[5](bar, low)
    s[6](bar, close)
    s[7](bar, volume)
    s[8](bar, oi)
    s[9](bar, filled)
    s[10](bar, ts_init)
    return bar
