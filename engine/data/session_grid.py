"""Session hours as integer nanosecond boundaries, cached per trading date.

The calendar speaks in dates and IST wall-clock times; the bar builder sees a tick every
few microseconds and must not build a datetime for each. ``SessionGrid`` asks the
calendar once per date and keeps each trading part as ``(open_ns, close_ns)``, so the hot
path is a dictionary lookup and two integer comparisons.

``choose_calendar`` picks the calendar for a data file: the shipped NSE calendar when its
verified coverage holds the file's dates; for dates outside it, the same calendar with
the file's own days (``Calendar.with_data_days``: the days with bars, at the regular hours
known for them, provisional); before any known regular hours, one derived entirely from
the file's bars. The note says which (without a verified calendar, missing sessions
cannot be named).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from engine.logs import category_logger
from engine.model.market import IST_OFFSET_NS, NANOS, ns_to_datetime, to_ns
from engine.timeutil import IST

if TYPE_CHECKING:
    from engine.data._session import Session

__all__ = ["CalendarChoice", "CalendarLike", "SessionGrid", "SessionSpan", "choose_calendar"]

log = category_logger("data")

_DAY_NS = 86_400 * NANOS
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class CalendarLike(Protocol):
    """The part of ``engine.data.calendar.Calendar`` the data path uses."""

    def session(self, d: date, segment: str = "FO") -> Session | None: ...

    def covers(self, d: date) -> bool: ...

    def sessions(self, start: date, end: date, segment: str = "FO") -> list[Session]: ...


@dataclass(frozen=True, slots=True)
class SessionSpan:
    """One session's trading parts as ``(open_ns, close_ns)``, close exclusive."""

    date: date
    parts: tuple[tuple[int, int], ...]
    label_ns: int  # 00:00 IST of the date: the label of the day's daily bar
    kind: str
    hours_known: bool = True
    provisional: bool = False  # the calendar's answer for an unverified date

    @property
    def open_ns(self) -> int:
        return self.parts[0][0]

    @property
    def close_ns(self) -> int:
        return self.parts[-1][1]

    def part_index(self, ts: int) -> int:
        """Index of the trading part holding ``ts``, or -1 when it falls outside all of them."""
        for i, (lo, hi) in enumerate(self.parts):
            if lo <= ts < hi:
                return i
        return -1

    def describe(self) -> str:
        return ", ".join(
            f"{ns_to_datetime(lo, IST):%H:%M}-{ns_to_datetime(hi, IST):%H:%M}"
            for lo, hi in self.parts
        )


class SessionGrid:
    """Sessions of one market segment (``"FO"`` or ``"CM"``) as nanosecond spans."""

    def __init__(self, calendar: CalendarLike, segment: str = "FO") -> None:
        self.calendar = calendar
        self.segment = segment
        self._cache: dict[int, SessionSpan | None] = {}

    def span_for_day(self, day: int) -> SessionSpan | None:
        """The session of the IST day number ``day`` (days since 1970-01-01), or None."""
        try:
            return self._cache[day]
        except KeyError:
            pass
        span = self._build(date.fromordinal(day + _EPOCH_ORDINAL))
        self._cache[day] = span
        return span

    def span(self, d: date) -> SessionSpan | None:
        return self.span_for_day(d.toordinal() - _EPOCH_ORDINAL)

    def span_at(self, ts: int) -> SessionSpan | None:
        """The session of the IST date of ``ts`` (whether or not ``ts`` is inside it)."""
        return self.span_for_day((ts + IST_OFFSET_NS) // _DAY_NS)

    def locate(self, ts: int) -> tuple[SessionSpan, int] | None:
        """The session and trading-part index holding ``ts``; None outside every part."""
        span = self.span_for_day((ts + IST_OFFSET_NS) // _DAY_NS)
        if span is None:
            return None
        i = span.part_index(ts)
        return None if i < 0 else (span, i)

    def _build(self, d: date) -> SessionSpan | None:
        session = self.calendar.session(d, self.segment)
        if session is None:
            return None
        label = to_ns(datetime(d.year, d.month, d.day, tzinfo=IST))
        if not session.hours_known or not session.segments:
            log.warning(
                "{} session on {} has no published hours: bars are aligned to the whole "
                "day (00:00-24:00 IST) until the calendar lists them",
                session.kind,
                d.isoformat(),
            )
            return SessionSpan(
                d, ((label, label + _DAY_NS),), label, session.kind, False, session.provisional
            )
        parts = tuple(
            (
                to_ns(datetime.combine(d, start, tzinfo=IST)),
                to_ns(datetime.combine(d, end, tzinfo=IST)),
            )
            for start, end in session.segments
        )
        return SessionSpan(d, parts, label, session.kind, True, session.provisional)


@dataclass(frozen=True, slots=True)
class CalendarChoice:
    """The calendar chosen for a file and why; ``derived`` means read off the file itself."""

    calendar: CalendarLike
    derived: bool
    note: str


def choose_calendar(ts_ns: Sequence[int], bar_seconds: int = 60) -> CalendarChoice:
    """The calendar for bars starting at ``ts_ns`` (see the module docstring).

    ``derived`` is True whenever the file's own days stand in for the NSE lists.
    """
    from engine.data.calendar import Calendar

    shipped = Calendar.default()
    if not ts_ns:
        return CalendarChoice(shipped, False, "calendar: shipped NSE calendar")
    first = ns_to_datetime(min(ts_ns), IST).date()
    last = ns_to_datetime(max(ts_ns), IST).date()
    if shipped.is_verified(first) and shipped.is_verified(last):
        return CalendarChoice(shipped, False, "calendar: shipped NSE calendar")
    starts = list(ts_ns)
    verified = f"{shipped.first_date}..{shipped.last_date}"
    if shipped.covers(first) and shipped.covers(last):
        note = (
            f"calendar: shipped NSE calendar, provisional for the file's dates outside its "
            f"verified {verified}: sessions are the days with bars, at the regular hours in "
            "force (bars outside them are outside the session); holidays are not known, so "
            "missing sessions cannot be named"
        )
        return CalendarChoice(shipped.with_data_days(starts, bar_seconds), True, note)
    derived = Calendar.derive_from_timestamps(starts, bar_seconds=bar_seconds)
    note = (
        f"calendar: derived from the file's own bars ({first}..{last} is outside the dates "
        f"the NSE calendar knows session hours for, {shipped.answers[0]} on): each session "
        "runs from its first bar to the end of its last bar, intraday buckets are anchored "
        "at that first bar, missing sessions cannot be named and bars outside the session "
        "cannot be detected"
    )
    return CalendarChoice(derived, True, note)
