"""``engine calendar``: the coming NSE sessions, their hours, and the expiries on each.

A quick look before trading (or before trusting a backtest): which days trade, which are
holidays, special sessions with their own hours, and which weekly or monthly contracts
expire on each day with their lot size. It says how many days of verified coverage are
left; a date past it is shown as provisional (weekdays at the regular hours in force,
holidays not yet known), never as an error, with how to add the year.
"""

from __future__ import annotations

import argparse
import textwrap
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.data.calendar import Calendar, Expiry

_HOURS_WIDTH = 24
_KIND_WIDTH = 14
_MAX_DAYS = 3660


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date; expected YYYY-MM-DD") from None


def _positive(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= _MAX_DAYS:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of days from 1 to {_MAX_DAYS}")
    return int(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from",
        dest="start",
        type=_iso_date,
        metavar="DATE",
        help="first date to show, YYYY-MM-DD (default: today in IST)",
    )
    parser.add_argument(
        "--days",
        type=_positive,
        default=10,
        metavar="N",
        help="how many calendar days to show (default 10)",
    )
    parser.add_argument(
        "--underlying",
        action="append",
        metavar="NAME",
        help="underlying whose expiries to show; repeat for more (default NIFTY)",
    )
    parser.add_argument(
        "--segment",
        choices=("FO", "CM"),
        default="FO",
        help="market segment whose hours to show (default FO, where index options trade)",
    )
    parser.add_argument(
        "--calendar-dir",
        metavar="DIR",
        help="calendar folder to use instead of the shipped one "
        "(default: $ENGINE_CALENDAR_DIR, else the shipped calendar)",
    )


def run(args: argparse.Namespace) -> int:
    from datetime import datetime, timedelta

    from engine.data.calendar import Calendar
    from engine.timeutil import IST

    cal = Calendar.from_dir(args.calendar_dir) if args.calendar_dir else Calendar.default()
    today = datetime.now(IST).date()
    start: date = args.start or today
    end = start + timedelta(days=args.days - 1)
    underlyings = [u.upper() for u in (args.underlying or ["NIFTY"])]
    cal.sessions(start, end)  # a date the calendar cannot answer for fails before printing
    for u in underlyings:
        cal.expiries(u, start, until=start)  # so does an unknown underlying
    from engine.diagnostics import printable

    lines = [printable(line) for line in _lines(cal, start, end, underlyings, args.segment)]
    print(
        f"NSE sessions {start} .. {end} ({args.segment} hours, IST); "
        f"expiries for {', '.join(underlyings)}"
    )
    print(printable(f"calendar: {cal.origin}"))
    print(_coverage(cal, today))
    print()
    for line in lines:
        print(line)
    if not (cal.is_verified(start) and cal.is_verified(end)):
        print()
        print(_provisional_note(cal))
    return 0


def _coverage(cal: Calendar, today: date) -> str:
    first, last = cal.first_date, cal.last_date
    left = cal.verified_days_left(today)
    if left:
        return (
            f"verified {first} .. {last}: {left} day{'s' if left != 1 else ''} of verified "
            f"coverage left (today {today})"
        )
    return (
        f"verified {first} .. {last}: verified coverage has ended (today {today}); "
        "later dates are provisional"
    )


def _provisional_note(cal: Calendar) -> str:
    what = (
        f"provisional: dates outside the verified {cal.first_date} .. {cal.last_date} are "
        "weekdays at the regular hours in force, with holidays and special sessions not "
        "known, and expiries by the rules in force."
    )
    how = (
        "To add a year once NSE publishes its holidays: copy the calendar folder "
        f"({cal.origin}) somewhere you keep, add the year's holidays to holidays.csv, extend "
        "coverage.csv to the year's end, and use it with --calendar-dir DIR or "
        "ENGINE_CALENDAR_DIR=DIR (docs/calendar.md, 'Updating the files')."
    )
    return "\n".join(textwrap.fill(t, 96, break_on_hyphens=False) for t in (what, how))


def _lines(
    cal: Calendar, start: date, end: date, underlyings: list[str], segment: str
) -> list[str]:
    from datetime import timedelta

    expiring: dict[date, list[str]] = {}
    for u in underlyings:
        for e in cal.expiries(u, start, until=end):
            expiring.setdefault(e.date, []).append(_expiry_text(cal, e))
    out: list[str] = []
    d = start
    while d <= end:
        out.extend(_day_lines(cal, d, segment, expiring.get(d, [])))
        d += timedelta(days=1)
    return out


def _day_lines(cal: Calendar, d: date, segment: str, expiries: list[str]) -> list[str]:
    session = cal.session(d, segment)
    holiday = cal.holiday_name(d)
    if session is None:
        notes = [holiday] if holiday else []
        hours, kind = "closed", "holiday"
    else:
        note = session.name if session.kind != "regular" else ""
        if holiday:
            note = f"{note} on a holiday" if note else "holiday"
        notes = ([note] if note else []) + expiries
        if session.provisional:
            notes.insert(0, "provisional")
        hours, kind = session.describe_hours(), session.kind
    if not notes and session is None:
        return []  # a plain weekend
    first = f"{d.isoformat()} {d:%a}  {hours:<{_HOURS_WIDTH}}  {kind:<{_KIND_WIDTH}}"
    if not notes:
        return [first.rstrip()]
    pad = " " * (len(first) + 2)
    return [f"{first}  {notes[0]}"] + [f"{pad}{text}" for text in notes[1:]]


def _expiry_text(cal: Calendar, e: Expiry) -> str:
    from engine.errors import CalendarError

    moved = f" (moved from {e.moved_from}, a holiday)" if e.moved_from else ""
    try:
        lot = f"lot {cal.lot_size(e.underlying, e.date)}"
    except CalendarError:
        lot = "lot size not known"
    return f"{e.underlying} {e.kind} expiry{moved}, {lot}"
