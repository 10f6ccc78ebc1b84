"""Data events: small frozen records of something that happened to the market data.

Names are past tense (``GapDetected``), times are UTC nanoseconds. The data path hands
these to whoever listens (the journal, the session machine, a report); a log line is a
courtesy, the event is the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from engine.model.enums import DataIssue, Timeframe

__all__ = [
    "BarDiscarded",
    "BarFlagged",
    "BarRejected",
    "DataEvent",
    "FeedResumed",
    "GapDetected",
    "GapOpened",
    "TickRejected",
]


@dataclass(frozen=True, slots=True)
class BarRejected:
    """A bar failed validation and was not used or stored."""

    symbol: str
    timeframe: Timeframe
    ts_event: int
    reason: DataIssue
    detail: str


@dataclass(frozen=True, slots=True)
class BarFlagged:
    """A bar broke a rule within its tolerance: kept, counted and reported."""

    symbol: str
    timeframe: Timeframe
    ts_event: int
    reason: DataIssue
    detail: str


@dataclass(frozen=True, slots=True)
class BarDiscarded:
    """An aggregated bar was dropped because its own data had a hole over the limit."""

    symbol: str
    timeframe: Timeframe
    ts_event: int
    reason: DataIssue
    gap_ns: int


@dataclass(frozen=True, slots=True)
class TickRejected:
    """A tick was not used (late, outside the session, or with an impossible price)."""

    symbol: str
    ts_event: int
    reason: DataIssue
    detail: str


@dataclass(frozen=True, slots=True)
class GapDetected:
    """No tick for longer than the limit inside a session; raised while the feed is silent."""

    symbol: str
    ts_last: int  # the last tick (or the session open when none came yet)
    ts_detected: int
    silence_ns: int


@dataclass(frozen=True, slots=True)
class FeedResumed:
    """The first tick after a detected gap: the gap's full extent is now known."""

    symbol: str
    ts_gap_start: int
    ts_gap_end: int

    @property
    def duration_ns(self) -> int:
        return self.ts_gap_end - self.ts_gap_start


@dataclass(frozen=True, slots=True)
class GapOpened:
    """A session opened more than the threshold away from the previous session's close."""

    symbol: str
    session_date: date
    ts_event: int
    previous_close: float
    open: float

    @property
    def change_pct(self) -> float:
        return (self.open / self.previous_close - 1.0) * 100.0


DataEvent = (
    BarRejected | BarFlagged | BarDiscarded | TickRejected | GapDetected | FeedResumed | GapOpened
)
