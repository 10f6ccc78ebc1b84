"""The values the calendar hands out: one trading ``Session`` and one option ``Expiry``.

They are frozen so the calendar can build each one once and give the same object to
every caller (the bar builder asks for a session on every bar). A session with hours
nobody has published (Muhurat 2026) is still a session; asking it for its hours raises a
``CalendarError`` that says which file to complete, rather than guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from engine.errors import CalendarError
from engine.timeutil import IST, ist_datetime

__all__ = ["Expiry", "Session"]


@dataclass(frozen=True, slots=True)
class Session:
    """One trading date of one market segment, with its trading parts in IST wall-clock time.

    ``segments`` are ``(start, end)`` pairs, start inclusive, end exclusive, in order; a
    disaster-recovery Saturday has two. ``kind`` is ``"regular"`` for a normal weekday,
    ``"derived"`` for a session read off a data file, or the special-session kind
    (``"muhurat"``, ``"full_session"``, ``"dr_session"``, ``"budget_session"`` ...).

    ``provisional`` is True for a date outside the calendar's verified coverage: a year NSE
    has not published (or the files do not hold) yet, whose weekdays are taken as sessions
    with the regular hours in force, or a day of older history. The runtime records it
    with every decision made on that day.
    """

    date: date
    kind: str
    segments: tuple[tuple[time, time], ...]
    hours_known: bool = True
    name: str = ""
    segment: str = "FO"  # the market segment these hours are for: "FO" or "CM"
    part_kinds: tuple[str, ...] = ()  # kind of each trading part, as the file names them
    provisional: bool = False  # outside the verified coverage: holidays are not known

    @property
    def open(self) -> time:
        """Start of the first trading part."""
        return self._parts()[0][0]

    @property
    def close(self) -> time:
        """End (exclusive) of the last trading part."""
        return self._parts()[-1][1]

    @property
    def minutes(self) -> int:
        """Trading minutes over all parts (a break between parts is not counted)."""
        return sum(_minute(end) - _minute(start) for start, end in self._parts())

    def open_at(self) -> datetime:
        """The aware IST instant trading starts."""
        return ist_datetime(self.date, self.open)

    def close_at(self) -> datetime:
        """The aware IST instant trading ends (the first instant outside the session)."""
        return ist_datetime(self.date, self.close)

    def contains(self, ts: datetime) -> bool:
        """True when the aware ``ts`` falls inside one of the trading parts."""
        local = _ist(ts)
        if local.date() != self.date:
            return False
        t = local.time()
        for start, end in self._parts():  # a plain loop: this runs once per bar
            if start <= t < end:
                return True
        return False

    def minute_index(self, ts: datetime) -> int | None:
        """Trading minutes elapsed before ``ts``'s minute (0 at the open), or None outside.

        Breaks between parts do not count, so on 2024-03-02 (09:15-10:00, 11:30-12:30)
        11:30 is minute 45.
        """
        local = _ist(ts)
        if local.date() != self.date:
            return None
        m = local.hour * 60 + local.minute
        before = 0
        for start, end in self._parts():
            lo, hi = _minute(start), _minute(end)
            if lo <= m < hi:
                return before + m - lo
            before += hi - lo
        return None

    def _parts(self) -> tuple[tuple[time, time], ...]:
        if not self.hours_known:
            raise CalendarError(
                f"the {self.name or self.kind} session on {self.date.isoformat()} has no "
                "published hours yet; add its open and close to special_sessions.csv "
                "once NSE announces them (see docs/calendar.md)"
            )
        return self.segments

    def describe_hours(self) -> str:
        """``"09:15-10:00, 11:30-12:30"``, or ``"hours not published"``."""
        if not self.hours_known:
            return "hours not published"
        return ", ".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in self.segments)


@dataclass(frozen=True, slots=True)
class Expiry:
    """An index option expiry date; ``moved_from`` is the rule's date when it was a holiday.

    When a monthly contract expires on the same day as a weekly one there is one Expiry of
    kind ``"monthly"``: that day's contract is the monthly contract. A ``provisional`` expiry
    falls outside the verified coverage: it follows the rules in force, but a holiday not
    yet published could still move it.
    """

    date: date
    underlying: str
    kind: str  # "weekly" | "monthly"
    moved_from: date | None = None
    provisional: bool = False  # outside the verified coverage: follows the rules in force


def _minute(t: time) -> int:
    return t.hour * 60 + t.minute


def _ist(ts: datetime) -> datetime:
    if ts.tzinfo is None:
        raise ValueError(f"naive datetime {ts.isoformat()} was given; an aware one is required")
    return ts.astimezone(IST)
