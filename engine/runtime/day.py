"""The day's facts, computed once when the day starts: session parts, open, close, expiries.

The core reads these on every event (is the market open, minutes to the close, days to
expiry), so they are plain integers and values built once per IST day from the calendar,
never a datetime or a calendar lookup per bar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from engine.data.session_grid import SessionGrid
from engine.errors import CalendarError
from engine.expr import Missing
from engine.model.market import IST_OFFSET_NS, NANOS
from engine.vocabulary import WEEKDAYS

__all__ = ["DAY_NS", "DayFacts", "ExpiryFacts", "day_number", "day_start_ns"]

DAY_NS = 86_400 * NANOS
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def day_number(ts: int) -> int:
    """The IST day number (days since 1970-01-01) of an instant."""
    return (ts + IST_OFFSET_NS) // DAY_NS


def day_start_ns(day: int) -> int:
    """00:00 IST of an IST day number, as epoch nanoseconds."""
    return day * DAY_NS - IST_OFFSET_NS


@dataclass(frozen=True, slots=True)
class ExpiryFacts:
    """The nearest expiry of one underlying as seen on one day (or why it is unknown)."""

    expiry: date | None
    dte: int | Missing  # sessions after today up to and including the expiry
    dte_days: int | Missing
    kind: str = ""


@dataclass(frozen=True, slots=True)
class DayFacts:
    """One IST day: its session parts as epoch-ns pairs (empty when not a session)."""

    date: date
    number: int
    start_ns: int
    end_ns: int
    weekday: str
    session_kind: str  # "none" on a day without a session
    parts: tuple[tuple[int, int], ...]
    hours_known: bool
    provisional: bool
    expiries: dict[str, ExpiryFacts] = field(default_factory=dict)

    @property
    def is_session(self) -> bool:
        return self.session_kind != "none"

    @property
    def trading(self) -> bool:
        """A session whose hours are known: the engine may trade it."""
        return bool(self.parts) and self.hours_known

    @property
    def open_ns(self) -> int | None:
        return self.parts[0][0] if self.parts else None

    @property
    def close_ns(self) -> int | None:
        return self.parts[-1][1] if self.parts else None

    def part_at(self, ts: int) -> int:
        """Index of the trading part holding ``ts``; -1 outside every part."""
        for i, (lo, hi) in enumerate(self.parts):
            if lo <= ts < hi:
                return i
        return -1

    def part_around(self, ts: int) -> tuple[int, int] | None:
        """The part holding ``ts``, else the next one, else the last (None: no parts).

        ``minutes_to_close`` and ``minutes_since_open`` count from this part: on a split
        session (09:15-10:00 and 11:30-12:30) 09:30 is 30 minutes from its close, not 180.
        """
        parts = self.parts
        if not parts:
            return None
        for lo, hi in parts:
            if ts < hi:
                return lo, hi
        return parts[-1]

    def to_record(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "weekday": self.weekday,
            "session": self.session_kind,
            "parts": [[lo, hi] for lo, hi in self.parts],
            "hours_known": self.hours_known,
            "provisional": self.provisional,
            "expiries": {
                u: {
                    "expiry": e.expiry.isoformat() if e.expiry else None,
                    "expiry_kind": e.kind,
                    "dte": e.dte if not isinstance(e.dte, Missing) else None,
                }
                for u, e in sorted(self.expiries.items())
            },
        }

    @classmethod
    def build(cls, number: int, grid: SessionGrid, underlyings: tuple[str, ...]) -> DayFacts:
        d = date.fromordinal(number + _EPOCH_ORDINAL)
        start = day_start_ns(number)
        try:
            span = grid.span(d)
        except CalendarError:
            span = None
        calendar: Any = grid.calendar
        session = None
        if span is not None:
            try:
                session = calendar.session(d, grid.segment)
            except CalendarError:
                session = None
        provisional = bool(getattr(session, "provisional", False))
        parts = span.parts if span is not None and span.hours_known else ()
        return cls(
            date=d,
            number=number,
            start_ns=start,
            end_ns=start + DAY_NS,
            weekday=WEEKDAYS[d.weekday()],
            session_kind=span.kind if span is not None else "none",
            parts=parts,
            hours_known=span is not None and span.hours_known,
            provisional=provisional,
            expiries={u: _expiry(calendar, u, d) for u in underlyings},
        )


def _expiry(calendar: Any, underlying: str, d: date) -> ExpiryFacts:
    try:
        expiry = calendar.next_expiry(underlying, d)
        sessions, days = calendar.days_to_expiry(d, expiry.date)
    except (CalendarError, AttributeError) as e:
        reason = Missing(f"no expiry known for {underlying} on {d}: {e}")
        return ExpiryFacts(None, reason, reason)
    return ExpiryFacts(expiry.date, sessions, days, expiry.kind)
