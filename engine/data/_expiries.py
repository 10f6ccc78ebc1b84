"""Index option expiry dates, computed from the dated rules in contract_facts.csv.

NSE's expiry weekdays changed several times (BANKNIFTY Thursday -> Wednesday in 2023,
weeklies for BANKNIFTY and FINNIFTY ended in November 2024, NIFTY Thursday -> Tuesday in
September 2025), so nothing here knows a weekday: each rule row says which weekday (or
which "last <weekday>" of the month) applies to the expiries falling in its date range.

The ranges of ``weekly_expiry_weekday``, ``weekly_expiry_available`` and
``monthly_expiry_rule`` are read as the first and last *actual* expiry under the rule,
after the holiday move: BANKNIFTY's "last Wednesday" rule ends on 2024-12-24, the
Tuesday its December monthly moved to because Wednesday 2024-12-25 was a holiday.

Holiday rule (``expiry_holiday_rule`` = "previous trading day"): when the rule's day is a
trading holiday the contract expires on the trading day before it. A holiday that only
had a Muhurat session (2025-10-21) counts as a holiday here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta

from engine.data._calendar_files import WEEKDAYS, Fact
from engine.data._session import Expiry
from engine.errors import CalendarError

__all__ = ["compute_expiries"]

TradingDay = Callable[[date], bool]


def compute_expiries(
    underlying: str,
    facts: Sequence[Fact],
    first: date,
    last: date,
    is_trading_day: TradingDay,
) -> list[Expiry]:
    """Every expiry of ``underlying`` whose rule date lies in ``first .. last``, sorted.

    ``facts`` are the rows that apply to the underlying (its own and ``ALL``).
    ``is_trading_day(d)`` is True for a session that is not a listed holiday.
    """
    _require_holiday_rule(facts)
    found: dict[date, Expiry] = {}
    for e in _weeklies(underlying, facts, first, last, is_trading_day):
        found[e.date] = e
    for e in _monthlies(underlying, facts, first, last, is_trading_day):
        found[e.date] = e  # a monthly on a weekly's date is the monthly contract
    return [found[d] for d in sorted(found)]


def _require_holiday_rule(facts: Sequence[Fact]) -> None:
    if not any(f.field == "expiry_holiday_rule" and f.value for f in facts):
        raise CalendarError(
            "contract_facts.csv has no expiry_holiday_rule row; add "
            "'ALL,expiry_holiday_rule,previous trading day,,,<source>'"
        )


def _rows(facts: Sequence[Fact], underlying: str, field: str) -> list[Fact]:
    own = [f for f in facts if f.field == field and f.underlying == underlying]
    return own or [f for f in facts if f.field == field and f.underlying == "ALL"]


def _weekly_available(facts: Sequence[Fact], underlying: str, d: date) -> bool:
    for f in _rows(facts, underlying, "weekly_expiry_available"):
        if f.covers(d):
            return f.value == "true"
    return True  # no row says otherwise; a weekday rule in force implies weeklies exist


def _move(nominal: date, first: date, is_trading_day: TradingDay) -> date | None:
    """The trading day on or before ``nominal``; None when that falls before ``first``."""
    d = nominal
    while d >= first:
        if is_trading_day(d):
            return d
        d -= timedelta(days=1)
    return None


def _weeklies(
    underlying: str, facts: Sequence[Fact], first: date, last: date, is_trading_day: TradingDay
) -> list[Expiry]:
    out: list[Expiry] = []
    for rule in _rows(facts, underlying, "weekly_expiry_weekday"):
        if not rule.value:
            continue
        weekday = WEEKDAYS.index(rule.value)
        nominal = first + timedelta(days=(weekday - first.weekday()) % 7)
        while nominal <= last:
            actual = _move(nominal, first, is_trading_day)
            if (
                actual is not None
                and rule.covers(actual)
                and _weekly_available(facts, underlying, actual)
            ):
                moved = nominal if actual != nominal else None
                out.append(Expiry(actual, underlying, "weekly", moved))
            nominal += timedelta(days=7)
    return out


def _monthlies(
    underlying: str, facts: Sequence[Fact], first: date, last: date, is_trading_day: TradingDay
) -> list[Expiry]:
    out: list[Expiry] = []
    for rule in _rows(facts, underlying, "monthly_expiry_rule"):
        if not rule.value:
            continue
        weekday = WEEKDAYS.index(rule.value.split(" ", 1)[1])
        for year, month in _months(first, last):
            nominal = _last_weekday(year, month, weekday)
            if not first <= nominal <= last:
                continue
            actual = _move(nominal, first, is_trading_day)
            if actual is not None and rule.covers(actual):
                moved = nominal if actual != nominal else None
                out.append(Expiry(actual, underlying, "monthly", moved))
    return out


def _months(first: date, last: date) -> list[tuple[int, int]]:
    out = []
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _last_weekday(year: int, month: int, weekday: int) -> date:
    nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    end = nxt - timedelta(days=1)
    return end - timedelta(days=(end.weekday() - weekday) % 7)
