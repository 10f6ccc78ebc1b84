"""The NSE trading calendar: which dates are sessions, their hours, and option expiries.

Everything comes from dated files (``engine/data/calendar_data/`` by default; see
docs/calendar.md), never from weekday rules or constants: NSE trades on some Saturdays
and Sundays, closes on weekday holidays, and moved the derivatives close from 15:30 to
15:40 on 2026-08-03. A date outside the range the files are complete for raises
``CalendarError`` instead of guessing; for older history derive a calendar from the
data file itself (``Calendar.derive_from_timestamps``).

How a date is decided, per market segment (``"FO"`` equity derivatives, the default and
the hours options trade in; ``"CM"`` the cash market the index values follow):

1. rows in special_sessions.csv for the date and segment (other than ``preopen*`` rows)
   make it a special session with exactly those trading parts, holiday or weekend alike
   (Muhurat trading on a Diwali holiday, a Saturday disaster-recovery session);
2. otherwise a date in holidays.csv for the segment is closed;
3. otherwise Monday to Friday is a regular session with the hours of regular_hours.csv
   in force that day, and Saturday/Sunday is closed.

``session(d)`` is one dictionary lookup: every session object is built once, on load.
"""

from __future__ import annotations

import os
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from itertools import islice
from pathlib import Path

from loguru import logger

from engine.data._calendar_files import Fact, load_calendar_files
from engine.data._derive import day_parts_from_timestamps
from engine.data._expiries import compute_expiries
from engine.data._session import Expiry, Session
from engine.data._session_table import tables_from_files, tables_from_parts
from engine.errors import CalendarError, DataError

__all__ = ["ENV_VAR", "SHIPPED_DIR", "Calendar", "CalendarError", "Expiry", "Fact", "Session"]

log = logger.bind(category="data")

ENV_VAR = "ENGINE_CALENDAR_DIR"
SHIPPED_DIR = Path(__file__).resolve().parent / "calendar_data"


class Calendar:
    """Sessions and contract facts for the dates ``first_date .. last_date`` (inclusive)."""

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
    ) -> None:
        """Use ``default``, ``from_dir`` or ``derive_from_timestamps`` instead."""
        self._first = first_date
        self._last = last_date
        self._days = days
        self._holidays = holidays
        self._facts = facts
        self.origin = origin
        self.derived = derived
        self._dates = {
            seg: sorted(d for d, s in table.items() if s is not None) for seg, table in days.items()
        }
        self._underlyings = tuple(sorted({f.underlying for f in facts} - {"ALL"}))
        self._expiry_cache: dict[str, tuple[list[Expiry], list[date]]] = {}

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
        )

    @classmethod
    def derive_from_timestamps(cls, ts: Iterable[datetime], bar_seconds: int = 60) -> Calendar:
        """Sessions read off bar start times (aware datetimes): each IST date with bars.

        The range is the first to the last date with bars; a date inside it without bars
        is not a session (a data gap looks like a holiday here). Both segments get the
        same hours, kind ``"derived"``. A derived calendar has no holidays or contract facts.
        """
        parts = day_parts_from_timestamps(ts, bar_seconds)
        days = tables_from_parts(parts)
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

    # -- dates and sessions -----------------------------------------------------------

    @property
    def first_date(self) -> date:
        return self._first

    @property
    def last_date(self) -> date:
        return self._last

    @property
    def underlyings(self) -> tuple[str, ...]:
        return self._underlyings

    def covers(self, d: date) -> bool:
        return self._first <= d <= self._last

    def session(self, d: date, segment: str = "FO") -> Session | None:
        """The session on ``d`` or None when the market is closed; CalendarError outside."""
        try:
            return self._days[segment][d]
        except KeyError:
            raise self._lookup_error(d, segment) from None

    def is_session(self, d: date, segment: str = "FO") -> bool:
        return self.session(d, segment) is not None

    def next_session(self, d: date, segment: str = "FO") -> Session:
        """The first session strictly after ``d``."""
        if d + timedelta(days=1) < self._first:
            raise self._outside(d + timedelta(days=1))
        dates = self._session_dates(segment)
        i = bisect_right(dates, d)
        if i == len(dates):
            raise CalendarError(
                f"no session after {d.isoformat()} is known: the calendar ends "
                f"{self._last.isoformat()}; {self._hint(derive=False)}"
            )
        return self.session(dates[i], segment)  # type: ignore[return-value]

    def previous_session(self, d: date, segment: str = "FO") -> Session:
        """The last session strictly before ``d``."""
        if d - timedelta(days=1) > self._last:
            raise self._outside(d - timedelta(days=1))
        dates = self._session_dates(segment)
        i = bisect_left(dates, d)
        if i == 0:
            raise CalendarError(
                f"no session before {d.isoformat()} is known: the calendar "
                f"starts {self._first.isoformat()}; {self._hint()}"
            )
        return self.session(dates[i - 1], segment)  # type: ignore[return-value]

    def sessions(self, start: date, end: date, segment: str = "FO") -> list[Session]:
        """Every session from ``start`` to ``end``, both inclusive, in date order."""
        self._check_inside(start)
        self._check_inside(end)
        dates = self._session_dates(segment)
        table = self._days[segment]
        lo, hi = bisect_left(dates, start), bisect_right(dates, end)
        return [table[d] for d in dates[lo:hi]]  # type: ignore[misc]

    def holiday_name(self, d: date) -> str | None:
        """The name of the listed trading holiday on ``d`` (any segment), else None."""
        self._check_inside(d)
        entry = self._holidays.get(d)
        return entry[0] if entry else None

    def is_holiday(self, d: date, segment: str = "FO") -> bool:
        """True when ``d`` is a listed holiday for the segment (even with a Muhurat session)."""
        self._check_inside(d)
        entry = self._holidays.get(d)
        return entry is not None and segment in entry[1]

    # -- expiries ---------------------------------------------------------------------

    def expiries(
        self,
        underlying: str,
        on_or_after: date,
        kind: str | None = None,
        count: int | None = None,
    ) -> list[Expiry]:
        """Expiries on or after a date, up to the end of the calendar (or the first ``count``).

        ``kind`` "weekly" or "monthly" filters; a day that is both is "monthly".
        """
        if kind not in (None, "weekly", "monthly"):
            raise CalendarError(f"expiry kind '{kind}' is not 'weekly' or 'monthly'")
        if count is not None and count < 1:
            raise ValueError(f"count must be 1 or more; it was {count}")
        self._check_inside(on_or_after)
        found, dates = self._expiry_table(self._underlying(underlying))
        out: list[Expiry] = []
        for e in islice(found, bisect_left(dates, on_or_after), None):
            if kind in (None, e.kind):
                out.append(e)
                if len(out) == count:
                    break
        if count is not None:
            if len(out) < count:
                what = f"{kind} " if kind else ""
                raise CalendarError(
                    f"only {len(out)} {underlying.upper()} {what}expiries are known from "
                    f"{on_or_after.isoformat()} to the end of the calendar "
                    f"({self._last.isoformat()}); {count} were asked for; "
                    f"{self._hint(derive=False)}"
                )
        return out

    def next_expiry(self, underlying: str, d: date, kind: str | None = None) -> Expiry:
        """The first expiry on or after ``d`` (an expiry day is its own next expiry)."""
        return self.expiries(underlying, d, kind, count=1)[0]

    def days_to_expiry(self, d: date, expiry: date) -> tuple[int, int]:
        """(sessions, calendar days) from ``d`` to ``expiry``.

        Sessions counts the FO sessions after ``d`` up to and including ``expiry``: 0 on the
        expiry day, 1 on the session before it. Calendar days is ``(expiry - d).days``.
        """
        if expiry < d:
            raise CalendarError(f"expiry {expiry.isoformat()} is before {d.isoformat()}")
        self._check_inside(d)
        self._check_inside(expiry)
        dates = self._session_dates("FO")
        return bisect_right(dates, expiry) - bisect_right(dates, d), (expiry - d).days

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

    def _expiry_table(self, u: str) -> tuple[list[Expiry], list[date]]:
        cached = self._expiry_cache.get(u)
        if cached is None:
            facts = [f for f in self._facts if f.underlying in (u, "ALL")]
            found = compute_expiries(u, facts, self._first, self._last, self._expiry_day)
            cached = self._expiry_cache[u] = (found, [e.date for e in found])
        return cached

    def _expiry_day(self, d: date) -> bool:
        return self._days["FO"][d] is not None and not self.is_holiday(d, "FO")

    def _session_dates(self, segment: str) -> list[date]:
        try:
            return self._dates[segment]
        except KeyError:
            raise CalendarError(f"segment '{segment}' is not FO or CM") from None

    def _check_inside(self, d: date) -> None:
        if not self.covers(d):
            raise self._outside(d)

    def _lookup_error(self, d: date, segment: str) -> Exception:
        if segment not in self._days:
            return CalendarError(f"segment '{segment}' is not FO or CM")
        if isinstance(d, datetime):
            return TypeError(
                f"a date was expected, a datetime was given ({d.isoformat()}); "
                "pass ts.astimezone(IST).date()"
            )
        return self._outside(d)

    def _outside(self, d: date) -> CalendarError:
        return CalendarError(
            f"{d.isoformat()} is outside the calendar ({self._first.isoformat()} .. "
            f"{self._last.isoformat()}); {self._hint()}"
        )

    def _hint(self, *, derive: bool = True) -> str:
        if self.derived:
            return "this calendar was derived from a data file and knows only its dates"
        add = (
            f"add the year's holidays to {Path(self.origin) / 'holidays.csv'} and extend "
            "coverage.csv (see docs/calendar.md)"
        )
        return f"derive a calendar from the data file or {add}" if derive else add


@lru_cache(maxsize=8)
def _load_cached(folder: str) -> Calendar:
    return Calendar.from_dir(folder)
