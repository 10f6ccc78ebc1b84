"""Every date of a calendar's range -> its Session (or None), built once per segment.

Building all sessions up front (about 1,100 dates per segment for three years) costs a few
milliseconds on load and makes ``Calendar.session(d)`` a single dictionary lookup, which
matters because the bar builder asks for a session on every bar.

The order of the rules is the one docs/calendar.md states: special-session rows first
(Muhurat on a holiday, a Saturday DR session), then holidays, then weekdays with the
regular hours in force that day. Weekends without a special row are closed.
"""

from __future__ import annotations

from datetime import date, time, timedelta

from engine.data._calendar_files import MARKET_SEGMENTS, CalendarFiles, SpecialPart
from engine.data._derive import Parts
from engine.data._session import Session
from engine.errors import DataError

__all__ = ["DayTable", "date_range", "tables_from_files", "tables_from_parts"]

DayTable = dict[date, Session | None]

# Display names for special-session kinds; an unknown kind shows as its words.
_KIND_NAMES = {
    "muhurat": "Muhurat trading",
    "full_session": "full session",
    "dr_session": "disaster-recovery site session",
    "budget_session": "Union Budget session",
}


def date_range(first: date, last: date) -> list[date]:
    """Every date from ``first`` to ``last``, both included."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def tables_from_files(files: CalendarFiles) -> dict[str, DayTable]:
    """One table per market segment from checked calendar files."""
    return {seg: _table_from_files(files, seg) for seg in MARKET_SEGMENTS}


def tables_from_parts(parts: dict[date, Parts], *, provisional: bool = True) -> dict[str, DayTable]:
    """Derived sessions: the dates with bars trade with the hours the bars show (not
    verified against NSE's lists, so provisional)."""
    first, last = min(parts), max(parts)
    out: dict[str, DayTable] = {}
    for seg in MARKET_SEGMENTS:
        table: DayTable = dict.fromkeys(date_range(first, last))
        for d, p in parts.items():
            table[d] = Session(
                d, "derived", p, name="derived from data", segment=seg, provisional=provisional
            )
        out[seg] = table
    return out


def _table_from_files(files: CalendarFiles, segment: str) -> DayTable:
    specials: dict[date, list[SpecialPart]] = {}
    for p in files.specials:
        if p.trading and segment in p.segments:
            specials.setdefault(p.date, []).append(p)
    hours = [h for h in files.hours if h.segment == segment]
    table: DayTable = {}
    for d in date_range(files.first_date, files.last_date):
        holiday = files.holidays.get(d)
        if d in specials:
            table[d] = _special_session(d, specials[d], segment)
        elif (holiday is not None and segment in holiday.segments) or d.weekday() >= 5:
            table[d] = None
        else:
            rule = next((h for h in hours if h.covers(d)), None)
            if rule is None:
                raise DataError(
                    f"no {segment} hours are given for {d.isoformat()}; add a row "
                    "whose effective dates include it",
                    file=str(files.directory / "regular_hours.csv"),
                )
            table[d] = Session(d, "regular", ((rule.open, rule.close),), segment=segment)
    return table


def _special_session(d: date, parts: list[SpecialPart], segment: str) -> Session:
    parts = sorted(parts, key=lambda p: p.open or time())
    kind = _common_kind([p.kind for p in parts])
    spans = tuple((p.open, p.close) for p in parts if p.open is not None and p.close is not None)
    known = len(spans) == len(parts)  # the loader allows all parts timed or none
    return Session(
        d,
        kind,
        spans if known else (),
        hours_known=known,
        name=_KIND_NAMES.get(kind, kind.replace("_", " ")),
        segment=segment,
        part_kinds=tuple(p.kind for p in parts),
    )


def _common_kind(kinds: list[str]) -> str:
    """``dr_session_primary_site`` + ``dr_session_dr_site`` -> ``dr_session``."""
    words = [k.split("_") for k in kinds]
    common: list[str] = []
    for group in zip(*words, strict=False):
        if len(set(group)) != 1:
            break
        common.append(group[0])
    return "_".join(common) or "special"
