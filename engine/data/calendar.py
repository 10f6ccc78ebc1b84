"""The NSE trading calendar: which dates are sessions, their hours, and option expiries.

Everything comes from dated files (``engine/data/calendar_data/`` by default; see
docs/calendar.md), never from constants: NSE trades on some Saturdays and Sundays, closes
on weekday holidays, and moved the derivatives close from 15:30 to 15:40 on 2026-08-03.

*Verified* dates are those ``coverage.csv`` says the holiday and special-session lists are
complete for. Outside them the calendar still answers, *provisionally*, never with an
error: a year NSE has not published yet (it publishes next year's holidays in December)
and older history both have the regular hours of ``regular_hours.csv`` as known facts,
so their weekdays are sessions with the regular hours in force, each ``Session`` and
``Expiry`` flagged ``provisional`` (``is_verified(d)`` says which a date is). Provisional
answers reach ``PROVISIONAL_YEARS`` past the verified coverage and back to the first date
regular hours are known for; beyond that a ``CalendarError`` says what to add. For history,
``with_data_days`` takes which days traded from a data file's own bars (a weekday without
bars may be a holiday the files do not list) while keeping the regular hours and the
contract facts; ``Calendar.derive_from_timestamps`` reads everything off the bars.

How a date is decided, per market segment (``"FO"`` equity derivatives, the default and
the hours options trade in; ``"CM"`` the cash market the index values follow):

1. rows in special_sessions.csv for the date and segment (other than ``preopen*`` rows)
   make it a special session with exactly those trading parts, holiday or weekend alike
   (Muhurat trading on a Diwali holiday, a Saturday disaster-recovery session);
2. otherwise a date in holidays.csv for the segment is closed;
3. otherwise Monday to Friday is a regular session with the hours of regular_hours.csv
   in force that day, and Saturday/Sunday is closed.

``session(d)`` is one dictionary lookup: every session object is built once, on load for
the verified range and a calendar year at a time, on first use, for provisional dates.
"""

from __future__ import annotations

import dataclasses
import os
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from itertools import islice
from pathlib import Path

from engine.data._calendar_files import Fact, HoursRule, load_calendar_files
from engine.data._derive import Parts, day_parts_from_ns, day_parts_from_timestamps
from engine.data._expiries import compute_expiries
from engine.data._session import Expiry, Session
from engine.data._session_table import date_range, tables_from_files, tables_from_parts
from engine.errors import CalendarError, DataError
from engine.logs import category_logger

__all__ = [
    "ENV_VAR",
    "HISTORY_FLOOR",
    "PROVISIONAL_YEARS",
    "SHIPPED_DIR",
    "Calendar",
    "CalendarError",
    "Expiry",
    "Fact",
    "Session",
]

log = category_logger("data")

ENV_VAR = "ENGINE_CALENDAR_DIR"
SHIPPED_DIR = Path(__file__).resolve().parent / "calendar_data"

#: Calendar years after the verified coverage that are answered provisionally.
PROVISIONAL_YEARS = 10
#: No provisional history before the derivatives segment opened (index futures, 2000-06-12),
#: whatever a regular-hours row without a start date says.
HISTORY_FLOOR = date(2000, 6, 12)
_DAY = timedelta(days=1)


class Calendar:
    """Sessions and contract facts: verified for ``first_date .. last_date`` (inclusive),
    provisional around them (see the module docstring)."""

    def __init__(
        self,
        *,
        first_date: date,
        last_date: date,
        days: dict[str, dict[date, Session | None]],
        holidays: dict[date, tuple[str, frozenset[str]]],
        facts: tuple[Fact, ...],
        origin: str,
        derived: bool = False,
        hours: tuple[HoursRule, ...] = (),
        data_days: Mapping[date, Parts] | None = None,
    ) -> None:
        """Use ``default``, ``from_dir`` or ``derive_from_timestamps`` instead."""
        self._first = first_date
        self._last = last_date
        self._days = days
        self._holidays = holidays
        self._facts = facts
        self.origin = origin
        self.derived = derived
        self._hours = hours
        self._data = data_days
        # the file's first and last day with bars, found once (asked for every day added)
        self._data_span = (min(data_days), max(data_days)) if data_days else None
        self._lo, self._hi = first_date, last_date  # the range the day tables hold now
        self._span = self._answerable()
        self._dates = {
            seg: sorted(d for d, s in table.items() if s is not None) for seg, table in days.items()
        }
        self._underlyings = tuple(sorted({f.underlying for f in facts} - {"ALL"}))
        self._expiry_cache: dict[str, tuple[tuple[date, date], list[Expiry], list[date]]] = {}
        self._muhurat_cache: tuple[int, list[date]] | None = None

    def _answerable(self) -> tuple[date, date]:
        """The dates this calendar answers for: verified ones, and provisional ones where
        regular hours are known (none for a calendar derived from a file)."""
        if self.derived or not self._hours:
            return self._first, self._last
        starts = [h.start or HISTORY_FLOOR for h in self._hours]
        lo = max(HISTORY_FLOOR, min(starts))
        hi = date(self._last.year + PROVISIONAL_YEARS, 12, 31)
        if all(h.end is not None for h in self._hours):
            hi = min(hi, max(h.end for h in self._hours if h.end is not None))
        if self._data:
            lo = min(lo, max(HISTORY_FLOOR, min(self._data)))
        return min(lo, self._first), max(hi, self._last)

    # -- construction -----------------------------------------------------------------

    @classmethod
    def default(cls) -> Calendar:
        """The shipped calendar, or the folder named by ``$ENGINE_CALENDAR_DIR``; loaded once."""
        named = os.environ.get(ENV_VAR)
        folder = Path(named).expanduser() if named else SHIPPED_DIR
        if named and not folder.is_dir():
            raise DataError(
                f"{ENV_VAR} names {folder}, which is not a folder; point it at a "
                "copy of the calendar files or unset it to use the shipped ones"
            )
        return _load_cached(str(folder.resolve()))

    @classmethod
    def from_dir(cls, path: str | os.PathLike[str]) -> Calendar:
        """A calendar from a folder holding the five calendar CSV files."""
        files = load_calendar_files(Path(path))
        days = tables_from_files(files)
        holidays = {d: (h.name, h.segments) for d, h in files.holidays.items()}
        log.debug(
            "calendar loaded from {} ({} .. {})", files.directory, files.first_date, files.last_date
        )
        return cls(
            first_date=files.first_date,
            last_date=files.last_date,
            days=days,
            holidays=holidays,
            facts=files.facts,
            origin=str(files.directory),
            hours=files.hours,
        )

    @classmethod
    def derive_from_timestamps(
        cls, ts: Iterable[datetime] | Iterable[int], bar_seconds: int = 60
    ) -> Calendar:
        """Sessions read off bar start times (aware datetimes or UTC nanoseconds): each IST
        date with bars.

        The range is the first to the last date with bars; a date inside it without bars
        is not a session (a data gap looks like a holiday here). Both segments get the
        same hours, kind ``"derived"``. A derived calendar has no holidays or contract facts.
        """
        parts = _day_parts(ts, bar_seconds)
        days = tables_from_parts(parts, provisional=True)
        first, last = min(parts), max(parts)
        return cls(
            first_date=first,
            last_date=last,
            days=days,
            holidays={},
            facts=(),
            origin="derived from data",
            derived=True,
        )

    def with_data_days(
        self, ts: Iterable[datetime] | Iterable[int], bar_seconds: int = 60
    ) -> Calendar:
        """This calendar, with the trading days of unverified dates read off a data file.

        Inside the verified coverage nothing changes. Outside it, within the file's dates,
        a day with bars is a session and a day without is not (a holiday the files do not
        list looks like a data gap, and the other way round); a weekday whose bars meet the
        regular hours in force keeps those hours as the known fact they are (a bar after
        the close is outside the session), and any other day with bars (a Saturday, a
        Muhurat evening) runs from its first bar to the end of its last. All of them are
        provisional; the contract facts are this calendar's.
        """
        first, last = self._first, self._last
        return Calendar(
            first_date=first,
            last_date=last,
            days={
                seg: {d: s for d, s in table.items() if first <= d <= last}
                for seg, table in self._days.items()
            },
            holidays=self._holidays,
            facts=self._facts,
            origin=self.origin,
            hours=self._hours,
            data_days=_day_parts(ts, bar_seconds),
        )

    # -- dates and sessions -----------------------------------------------------------

    @property
    def first_date(self) -> date:
        """First date of the verified coverage (of the file's dates, when derived)."""
        return self._first

    @property
    def last_date(self) -> date:
        """Last date of the verified coverage (of the file's dates, when derived)."""
        return self._last

    @property
    def answers(self) -> tuple[date, date]:
        """The first and last date the calendar answers for, verified or provisional."""
        return self._span

    @property
    def underlyings(self) -> tuple[str, ...]:
        return self._underlyings

    def covers(self, d: date) -> bool:
        """Whether the calendar answers for ``d`` (verified or provisionally)."""
        return self._span[0] <= d <= self._span[1]

    def is_verified(self, d: date) -> bool:
        """True when ``d`` is inside the verified coverage: its holidays and special
        sessions are known. False for a provisional date (and for a derived calendar)."""
        return not self.derived and self._first <= d <= self._last

    def verified_days_left(self, today: date) -> int:
        """Calendar days from ``today`` to the end of the verified coverage (0 past it)."""
        return max(0, (self._last - today).days)

    def session(self, d: date, segment: str = "FO") -> Session | None:
        """The session on ``d`` or None when the market is closed; CalendarError outside
        the dates the calendar answers for."""
        try:
            return self._days[segment][d]
        except KeyError:
            return self._session_slow(d, segment)

    def is_session(self, d: date, segment: str = "FO") -> bool:
        return self.session(d, segment) is not None

    def next_session(self, d: date, segment: str = "FO") -> Session:
        """The first session strictly after ``d``."""
        if d >= self._span[1]:
            raise CalendarError(
                f"no session after {d.isoformat()} is known: the calendar answers until "
                f"{self._span[1].isoformat()}; {self._hint(derive=False)}"
            )
        self._ensure(d + _DAY)
        while True:
            dates = self._session_dates(segment)
            i = bisect_right(dates, d)
            if i < len(dates):
                return self._days[segment][dates[i]]  # type: ignore[return-value]
            if self._hi >= self._span[1]:
                raise CalendarError(
                    f"no session after {d.isoformat()} is known: the calendar ends "
                    f"{self._span[1].isoformat()}; {self._hint(derive=False)}"
                )
            self._ensure(date(self._hi.year + 1, 1, 1))

    def previous_session(self, d: date, segment: str = "FO") -> Session:
        """The last session strictly before ``d``."""
        if d == self._span[0]:
            raise CalendarError(
                f"no session before {d.isoformat()} is known: the calendar starts "
                f"{self._span[0].isoformat()}; {self._hint()}"
            )
        self._ensure(d - _DAY)
        while True:
            dates = self._session_dates(segment)
            i = bisect_left(dates, d)
            if i > 0:
                return self._days[segment][dates[i - 1]]  # type: ignore[return-value]
            if self._lo <= self._span[0]:
                raise CalendarError(
                    f"no session before {d.isoformat()} is known: the calendar "
                    f"starts {self._span[0].isoformat()}; {self._hint()}"
                )
            self._ensure(date(self._lo.year - 1, 12, 31))

    def sessions(self, start: date, end: date, segment: str = "FO") -> list[Session]:
        """Every session from ``start`` to ``end``, both inclusive, in date order."""
        self._ensure(start)
        self._ensure(end)
        dates = self._session_dates(segment)
        table = self._days[segment]
        lo, hi = bisect_left(dates, start), bisect_right(dates, end)
        return [table[d] for d in dates[lo:hi]]  # type: ignore[misc]

    def holiday_name(self, d: date) -> str | None:
        """The name of the listed trading holiday on ``d`` (any segment), else None (also on
        a provisional date: its holidays are not known)."""
        self._ensure(d)
        entry = self._holidays.get(d)
        return entry[0] if entry else None

    def is_holiday(self, d: date, segment: str = "FO") -> bool:
        """True when ``d`` is a listed holiday for the segment (even with a Muhurat session)."""
        self._ensure(d)
        entry = self._holidays.get(d)
        return entry is not None and segment in entry[1]

    # -- expiries ---------------------------------------------------------------------

    def expiries(
        self,
        underlying: str,
        on_or_after: date,
        kind: str | None = None,
        count: int | None = None,
        until: date | None = None,
    ) -> list[Expiry]:
        """Expiries on or after a date, up to ``until`` (the first ``count`` of them).

        ``kind`` "weekly" or "monthly" filters; a day that is both is "monthly". Without
        ``until`` the list runs to the end of the verified coverage, or of ``on_or_after``'s
        year when that is later; with ``count`` it runs as far as needed (up to the last
        date the calendar answers for). Expiries outside the verified coverage follow the
        rules in force and are ``provisional``.
        """
        if kind not in (None, "weekly", "monthly"):
            raise CalendarError(f"expiry kind '{kind}' is not 'weekly' or 'monthly'")
        if count is not None and count < 1:
            raise ValueError(f"count must be 1 or more; it was {count}")
        self._ensure(on_or_after)
        u = self._underlying(underlying)
        if until is None:
            late = on_or_after > self._last
            end = min(date(on_or_after.year, 12, 31) if late else self._last, self._span[1])
        else:
            self._ensure(until)
            end = until
        while True:
            out = self._expiries_until(u, on_or_after, kind, count, end)
            if count is None or len(out) >= count or until is not None or end >= self._span[1]:
                break
            end = min(date(end.year + 1, 12, 31), self._span[1])
        if count is not None and len(out) < count:
            what = f"{kind} " if kind else ""
            raise CalendarError(
                f"only {len(out)} {underlying.upper()} {what}expiries are known from "
                f"{on_or_after.isoformat()} to {end.isoformat()}; {count} were asked for; "
                f"{self._hint(derive=False)}"
            )
        return out

    def next_expiry(self, underlying: str, d: date, kind: str | None = None) -> Expiry:
        """The first expiry on or after ``d`` (an expiry day is its own next expiry)."""
        return self.expiries(underlying, d, kind, count=1)[0]

    def days_to_expiry(self, d: date, expiry: date) -> tuple[int, int]:
        """(sessions, calendar days) from ``d`` to ``expiry``.

        Sessions counts the FO sessions after ``d`` up to and including ``expiry``: 0 on the
        expiry day, 1 on the session before it. A Muhurat session (one symbolic evening hour
        on a Diwali holiday) is not a trading session here: it does not bring an expiry a
        day nearer. Calendar days is ``(expiry - d).days``.
        """
        if expiry < d:
            raise CalendarError(f"expiry {expiry.isoformat()} is before {d.isoformat()}")
        self._ensure(d)
        self._ensure(expiry)
        dates = self._session_dates("FO")
        muhurat = self._muhurat_dates()
        sessions = bisect_right(dates, expiry) - bisect_right(dates, d)
        sessions -= bisect_right(muhurat, expiry) - bisect_right(muhurat, d)
        return sessions, (expiry - d).days

    def _muhurat_dates(self) -> list[date]:
        """The FO Muhurat sessions the day table holds, in order (rebuilt when it grows)."""
        table = self._days["FO"]
        cached = self._muhurat_cache
        if cached is not None and cached[0] == len(table):
            return cached[1]
        out = sorted(x for x, s in table.items() if s is not None and s.kind == "muhurat")
        self._muhurat_cache = (len(table), out)
        return out

    # -- contract facts ---------------------------------------------------------------

    def fact(self, underlying: str, field: str, d: date) -> Fact | None:
        """The contract_facts.csv row for the underlying (or ``ALL``) in force on ``d``."""
        u = self._underlying(underlying)
        for who in (u, "ALL"):
            for f in self._facts:
                if f.underlying == who and f.field == field and f.covers(d):
                    return f
        return None

    def lot_size(self, underlying: str, expiry: date) -> int:
        """Lot size of a contract expiring on ``expiry`` (lot sizes follow the expiry)."""
        return int(self._known(underlying, "lot_size", expiry, "contracts expiring"))

    def freeze_qty(self, underlying: str, d: date) -> int:
        """Largest order in units (not lots) allowed on trade date ``d``."""
        return int(self._known(underlying, "freeze_qty", d, "trade date"))

    def strike_interval(self, underlying: str, d: date) -> int:
        """Strike step of the underlying's options on trade date ``d``."""
        return int(self._known(underlying, "strike_interval", d, "trade date"))

    def tick_size(self, underlying: str, d: date) -> Decimal:
        """Option price step on trade date ``d`` (rupees)."""
        return Decimal(self._known(underlying, "tick_size_options", d, "trade date"))

    # -- internals --------------------------------------------------------------------

    def _known(self, underlying: str, field: str, d: date, what: str) -> str:
        f = self.fact(underlying, field, d)
        if f is None or not f.value:
            why = f" ({f.source})" if f is not None and f.source else ""
            raise CalendarError(
                f"no {field} is known for {underlying.upper()} {what} {d.isoformat()}{why}; "
                f"add it to contract_facts.csv ({self._facts_origin()})"
            )
        return f.value

    def _facts_origin(self) -> str:
        return "a derived calendar has none" if self.derived else self.origin

    def _underlying(self, underlying: str) -> str:
        u = underlying.upper()
        if u not in self._underlyings:
            known = ", ".join(self._underlyings) or "none"
            raise CalendarError(
                f"unknown underlying '{underlying}'; the calendar knows {known} "
                f"(contract_facts.csv, {self._facts_origin()})"
            )
        return u

    def _expiries_until(
        self, u: str, start: date, kind: str | None, count: int | None, end: date
    ) -> list[Expiry]:
        self._ensure(end)
        found, dates = self._expiry_table(u)
        out: list[Expiry] = []
        for e in islice(found, bisect_left(dates, start), None):
            if e.date > end:
                break
            if kind in (None, e.kind):
                out.append(e)
                if len(out) == count:
                    break
        return out

    def _expiry_table(self, u: str) -> tuple[list[Expiry], list[date]]:
        cached = self._expiry_cache.get(u)
        if cached is None or cached[0] != (self._lo, self._hi):
            facts = [f for f in self._facts if f.underlying in (u, "ALL")]
            found = [
                e if self.is_verified(e.date) else dataclasses.replace(e, provisional=True)
                for e in compute_expiries(u, facts, self._lo, self._hi, self._expiry_day)
            ]
            cached = self._expiry_cache[u] = ((self._lo, self._hi), found, [e.date for e in found])
        return cached[1], cached[2]

    def _expiry_day(self, d: date) -> bool:
        return self._days["FO"].get(d) is not None and not self.is_holiday(d, "FO")

    def _session_dates(self, segment: str) -> list[date]:
        try:
            return self._dates[segment]
        except KeyError:
            raise CalendarError(f"segment '{segment}' is not FO or CM") from None

    # -- provisional dates --------------------------------------------------------------

    def _session_slow(self, d: date, segment: str) -> Session | None:
        if segment not in self._days:
            raise CalendarError(f"segment '{segment}' is not FO or CM")
        if isinstance(d, datetime):
            raise TypeError(
                f"a date was expected, a datetime was given ({d.isoformat()}); "
                "pass ts.astimezone(IST).date()"
            )
        self._ensure(d)
        try:
            return self._days[segment][d]
        except KeyError:
            raise CalendarError(
                f"no {segment} session hours are known for {d.isoformat()}: "
                f"regular_hours.csv ({self.origin}) has no row in force that day"
            ) from None

    def _ensure(self, d: date) -> None:
        """Build the day tables out to ``d``'s whole calendar year (provisional days)."""
        if self._lo <= d <= self._hi:
            return
        if not self.covers(d):
            raise self._outside(d)
        lo = min(self._lo, max(self._span[0], date(d.year, 1, 1)))
        hi = max(self._hi, min(self._span[1], date(d.year, 12, 31)))
        added = [*date_range(lo, self._lo - _DAY), *date_range(self._hi + _DAY, hi)]
        for segment, table in self._days.items():
            for day in added:
                session = self._provisional_day(day, segment)
                if session is not _UNKNOWN:
                    table[day] = session  # type: ignore[assignment]
            self._dates[segment] = sorted(x for x, s in table.items() if s is not None)
        self._lo, self._hi = lo, hi
        log.debug("calendar answers provisionally for {} .. {}", lo, hi)

    def _provisional_day(self, d: date, segment: str) -> Session | None | object:
        rule = next((h for h in self._hours if h.segment == segment and h.covers(d)), None)
        data, span = self._data, self._data_span
        if data is not None and span is not None and span[0] <= d <= span[1]:
            parts = data.get(d)
            if parts is None:
                return None  # no bars: a holiday, or a gap in the file
            if rule is not None and d.weekday() < 5 and _meets(parts, rule):
                return _regular(d, rule, segment)
            return Session(
                d, "derived", parts, name="derived from data", segment=segment, provisional=True
            )
        if d.weekday() >= 5:
            return None
        return _UNKNOWN if rule is None else _regular(d, rule, segment)

    # -- internals --------------------------------------------------------------------

    def _outside(self, d: date) -> CalendarError:
        lo, hi = self._span
        return CalendarError(
            f"{d.isoformat()} is outside the calendar ({lo.isoformat()} .. {hi.isoformat()}); "
            f"{self._hint(derive=d < lo)}"
        )

    def _hint(self, *, derive: bool = True) -> str:
        if self.derived:
            return "this calendar was derived from a data file and knows only its dates"
        add = (
            f"add the year's holidays to {Path(self.origin) / 'holidays.csv'} and extend "
            "coverage.csv (see docs/calendar.md)"
        )
        return f"derive a calendar from the data file or {add}" if derive else add


_UNKNOWN = object()  # a weekday no regular-hours row covers


def _regular(d: date, rule: HoursRule, segment: str) -> Session:
    return Session(d, "regular", ((rule.open, rule.close),), segment=segment, provisional=True)


def _meets(parts: Parts, rule: HoursRule) -> bool:
    """Whether any trading part read off the bars meets the regular hours."""
    return any(start < rule.close and end > rule.open for start, end in parts)


@lru_cache(maxsize=8)
def _load_cached(folder: str) -> Calendar:
    return Calendar.from_dir(folder)


def _day_parts(ts: Iterable[datetime] | Iterable[int], bar_seconds: int) -> dict[date, Parts]:
    """Day parts from bar starts given either as aware datetimes or as UTC nanoseconds."""
    items = ts if isinstance(ts, list | tuple) else list(ts)
    if items and isinstance(items[0], int):
        return day_parts_from_ns(items, bar_seconds)  # type: ignore[arg-type]
    return day_parts_from_timestamps(items, bar_seconds)  # type: ignore[arg-type]
