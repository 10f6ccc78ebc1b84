"""Session hours as integer nanosecond boundaries, cached per trading date.

The calendar speaks in dates and IST wall-clock times; the bar builder sees a tick every
few microseconds and must not build a datetime for each. ``SessionGrid`` asks the
calendar once per date and keeps each trading part as ``(open_ns, close_ns)``, so the hot
path is a dictionary lookup and two integer comparisons.

``choose_calendar`` picks the calendar for a data file: the shipped NSE calendar when it
covers the file's dates, otherwise one derived from the file's own bars, with a note
saying so (a derived calendar cannot name missing sessions or bars outside the session).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from loguru import logger

from engine.model.market import IST_OFFSET_NS, NANOS, ns_to_datetime, to_ns
from engine.timeutil import IST

if TYPE_CHECKING:
    from engine.data._session import Session

__all__ = ["CalendarChoice", "CalendarLike", "SessionGrid", "SessionSpan", "choose_calendar"]

log = logger.bind(category="data")

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
            return SessionSpan(d, ((label, label + _DAY_NS),), label, session.kind, False)
        parts = tuple(
            (
                to_ns(datetime.combine(d, start, tzinfo=IST)),
                to_ns(datetime.combine(d, end, tzinfo=IST)),
            )
            for start, end in session.segments
        )
        return SessionSpan(d, parts, label, session.kind, True)


@dataclass(frozen=True, slots=True)
class CalendarChoice:
    """The calendar chosen for a file and why; ``derived`` means read off the file itself."""

    calendar: CalendarLike
    derived: bool
    note: str


def choose_calendar(ts_ns: Sequence[int], bar_seconds: int = 60) -> CalendarChoice:
    """The shipped NSE calendar when it covers every date of ``ts_ns``, else a derived one.

    ``ts_ns`` are the bars' start times. The derived calendar takes each day's hours from
    its first and last bar, so intraday buckets are then anchored at each day's first bar.
    """
    from engine.data.calendar import Calendar

    if not ts_ns:
        return CalendarChoice(Calendar.default(), False, "calendar: shipped NSE calendar")
    first = ns_to_datetime(min(ts_ns), IST).date()
    last = ns_to_datetime(max(ts_ns), IST).date()
    shipped = Calendar.default()
    if shipped.covers(first) and shipped.covers(last):
        return CalendarChoice(shipped, False, "calendar: shipped NSE calendar")
    derived = Calendar.derive_from_timestamps(
        (ns_to_datetime(t) for t in ts_ns), bar_seconds=bar_seconds
    )
    note = (
        f"calendar: derived from the file's own bars ({first}..{last} is outside the shipped "
        "NSE calendar): each session runs from its first bar to the end of its last bar, "
        "intraday buckets are anchored at that first bar, missing sessions cannot be named "
        "and bars outside the session cannot be detected"
    )
    return CalendarChoice(derived, True, note)
