"""Expiry dates from the dated rules, the holiday move, and lot sizes keyed by expiry."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from engine.data.calendar import Calendar, Expiry
from engine.errors import CalendarError

REPO = Path(__file__).resolve().parents[3]
FACTS = REPO.parent / "shared" / "data" / "market" / "calendar" / "nse_fo_contract_facts.csv"


@pytest.fixture(scope="module")
def cal() -> Calendar:
    return Calendar.default()


def _dates(es: list[Expiry]) -> list[date]:
    return [e.date for e in es]


def test_expiries_when_nifty_moves_from_thursday_to_tuesday_then_both_sides_are_right(
    cal: Calendar,
) -> None:
    es = cal.expiries("NIFTY", date(2025, 8, 18), count=6)
    assert [(e.date, e.kind) for e in es] == [
        (date(2025, 8, 21), "weekly"),
        (date(2025, 8, 28), "monthly"),  # the last Thursday expiry
        (date(2025, 9, 2), "weekly"),  # the first Tuesday expiry
        (date(2025, 9, 9), "weekly"),
        (date(2025, 9, 16), "weekly"),
        (date(2025, 9, 23), "weekly"),
    ]
    assert cal.next_expiry("NIFTY", date(2025, 9, 24), kind="monthly").date == date(2025, 9, 30)
    assert date(2025, 9, 4) not in _dates(cal.expiries("NIFTY", date(2025, 9, 1), count=3))


def test_expiries_when_the_rule_day_is_a_holiday_then_moved_to_the_previous_session(
    cal: Calendar,
) -> None:
    e = cal.next_expiry("BANKNIFTY", date(2024, 12, 1))
    assert e == Expiry(date(2024, 12, 24), "BANKNIFTY", "monthly", date(2024, 12, 25))
    march = cal.next_expiry("NIFTY", date(2026, 3, 24), kind="monthly")
    assert (march.date, march.moved_from) == (date(2026, 3, 30), date(2026, 3, 31))
    thursday = cal.next_expiry("NIFTY", date(2024, 8, 12))
    assert (thursday.date, thursday.moved_from) == (date(2024, 8, 14), date(2024, 8, 15))


def test_expiries_when_tuesday_holidays_since_the_switch_then_the_readme_mondays(
    cal: Calendar,
) -> None:
    moved = [e for e in cal.expiries("NIFTY", date(2025, 9, 1)) if e.moved_from]
    assert _dates(moved) == [
        date(2025, 10, 20),  # 2025-10-21 had only a Muhurat session: still a holiday
        date(2026, 3, 2),
        date(2026, 3, 30),
        date(2026, 4, 13),
        date(2026, 10, 19),
        date(2026, 11, 9),
        date(2026, 11, 23),
    ]
    assert all(e.date.weekday() == 0 for e in moved)


def test_expiries_when_banknifty_after_november_2024_then_monthly_only(cal: Calendar) -> None:
    weekly = cal.expiries("BANKNIFTY", date(2024, 1, 1), kind="weekly")
    assert weekly[-1].date == date(2024, 11, 13)
    later = cal.expiries("BANKNIFTY", date(2024, 11, 14))
    assert {e.kind for e in later} == {"monthly"}
    assert _dates(later[:4]) == [
        date(2024, 11, 27),
        date(2024, 12, 24),
        date(2025, 1, 30),
        date(2025, 2, 27),
    ]


def test_expiries_when_finnifty_then_last_weekly_is_2024_11_19(cal: Calendar) -> None:
    weekly = cal.expiries("FINNIFTY", date(2024, 1, 1), kind="weekly")
    assert weekly[-1].date == date(2024, 11, 19)
    assert cal.next_expiry("FINNIFTY", date(2024, 12, 1)).date == date(2024, 12, 31)
    assert cal.next_expiry("FINNIFTY", date(2025, 1, 1)).date == date(2025, 1, 30)


def test_expiries_when_banknifty_early_2024_then_wednesday_weeklies_and_thursday_monthly(
    cal: Calendar,
) -> None:
    es = cal.expiries("BANKNIFTY", date(2024, 2, 26), count=3)
    assert [(e.date, e.kind) for e in es] == [
        (date(2024, 2, 28), "weekly"),
        (date(2024, 2, 29), "monthly"),
        (date(2024, 3, 6), "weekly"),
    ]
    assert cal.next_expiry("BANKNIFTY", date(2024, 3, 21), "monthly").date == date(2024, 3, 27)


def test_expiries_when_monthly_falls_on_a_weekly_day_then_one_monthly_expiry(
    cal: Calendar,
) -> None:
    es = cal.expiries("NIFTY", date(2025, 1, 1), count=5)
    assert [(e.date, e.kind) for e in es] == [
        (date(2025, 1, 2), "weekly"),
        (date(2025, 1, 9), "weekly"),
        (date(2025, 1, 16), "weekly"),
        (date(2025, 1, 23), "weekly"),
        (date(2025, 1, 30), "monthly"),
    ]
    weekly = cal.expiries("NIFTY", date(2025, 1, 24), kind="weekly", count=1)
    assert _dates(weekly) == [date(2025, 2, 6)]


def test_expiries_when_on_expiry_day_then_it_is_included(cal: Calendar) -> None:
    assert cal.next_expiry("NIFTY", date(2025, 9, 2)).date == date(2025, 9, 2)


def test_expiries_when_count_runs_past_the_verified_files_then_provisional_ones(
    cal: Calendar,
) -> None:
    found = cal.expiries("NIFTY", date(2026, 12, 25), count=3)
    assert [(e.date, e.provisional) for e in found] == [
        (date(2026, 12, 29), False),  # the December monthly, verified
        (date(2027, 1, 5), True),  # Tuesdays, by the rules in force
        (date(2027, 1, 12), True),
    ]
    assert cal.lot_size("NIFTY", date(2027, 1, 5)) == 65  # the lot in force, provisional


def test_expiries_when_count_runs_past_what_the_calendar_answers_then_error(
    cal: Calendar,
) -> None:
    with pytest.raises(CalendarError, match=r"only 1 NIFTY expiries .*2036-12-31.*3 were asked"):
        cal.expiries("NIFTY", date(2036, 12, 25), count=3)
    with pytest.raises(CalendarError, match="outside the calendar"):
        cal.expiries("NIFTY", date(2008, 12, 28))


def test_expiries_when_history_then_weeklies_only_after_they_were_listed(cal: Calendar) -> None:
    nifty = cal.expiries("NIFTY", date(2019, 1, 1), until=date(2019, 2, 28))
    assert [(e.date, e.kind) for e in nifty] == [
        (date(2019, 1, 31), "monthly"),
        (date(2019, 2, 14), "weekly"),  # NIFTY weeklies from February 2019
        (date(2019, 2, 21), "weekly"),
        (date(2019, 2, 28), "monthly"),
    ]
    assert all(e.provisional for e in nifty)
    bank = cal.expiries("BANKNIFTY", date(2018, 3, 1), until=date(2018, 3, 31))
    # Thursdays; 2018-03-29 was a holiday (Mahavir Jayanti) the files do not list, so the
    # provisional answer keeps it (a data file's own days move it: see test_session_grid)
    assert [e.date.day for e in bank] == [1, 8, 15, 22, 29]
    assert cal.next_expiry("BANKNIFTY", date(2023, 8, 25)).date == date(2023, 8, 31)
    assert cal.next_expiry("BANKNIFTY", date(2023, 9, 1)).date == date(2023, 9, 6)  # Wednesday


def test_days_to_expiry_when_next_expiry_is_provisional_then_counts_provisional_sessions(
    cal: Calendar,
) -> None:
    expiry = cal.next_expiry("NIFTY", date(2026, 12, 30))
    assert (expiry.date, expiry.provisional) == (date(2027, 1, 5), True)
    # Thu 31 Dec (verified), then Fri 1, Mon 4, Tue 5 January (provisional)
    assert cal.days_to_expiry(date(2026, 12, 30), expiry.date) == (4, 6)


def test_expiries_when_unknown_underlying_or_kind_then_calendar_error(cal: Calendar) -> None:
    with pytest.raises(CalendarError, match="unknown underlying 'MIDCPNIFTY'.*NIFTY"):
        cal.expiries("MIDCPNIFTY", date(2025, 1, 1))
    with pytest.raises(CalendarError, match="'quarterly' is not"):
        cal.expiries("NIFTY", date(2025, 1, 1), kind="quarterly")
    assert cal.next_expiry("nifty", date(2025, 1, 1)).underlying == "NIFTY"
    with pytest.raises(ValueError, match="count must be 1 or more"):
        cal.expiries("NIFTY", date(2025, 1, 1), count=0)


@pytest.mark.parametrize(
    ("underlying", "expiry", "lot"),
    [
        ("NIFTY", date(2024, 4, 25), 50),
        ("NIFTY", date(2024, 5, 2), 25),
        ("NIFTY", date(2024, 12, 26), 25),
        ("NIFTY", date(2025, 1, 2), 75),
        ("NIFTY", date(2025, 1, 23), 75),  # January 2025 weekly
        ("NIFTY", date(2025, 1, 30), 25),  # the January 2025 monthly kept the old lot
        ("NIFTY", date(2025, 2, 6), 75),
        ("NIFTY", date(2025, 12, 30), 75),
        ("NIFTY", date(2026, 1, 6), 65),
        ("NIFTY", date(2023, 6, 29), 50),  # before the calendar: lot rows reach further back
        ("BANKNIFTY", date(2024, 11, 13), 15),
        ("BANKNIFTY", date(2025, 1, 30), 15),
        ("BANKNIFTY", date(2025, 2, 27), 30),
        ("BANKNIFTY", date(2025, 7, 31), 35),
        ("BANKNIFTY", date(2026, 1, 27), 30),
        ("FINNIFTY", date(2024, 7, 23), 40),
        ("FINNIFTY", date(2024, 7, 30), 25),
        ("FINNIFTY", date(2025, 2, 27), 65),
        ("FINNIFTY", date(2026, 1, 27), 60),
    ],
)
def test_lot_size_when_keyed_by_contract_expiry_then_the_readme_table(
    cal: Calendar, underlying: str, expiry: date, lot: int
) -> None:
    assert cal.lot_size(underlying, expiry) == lot


def test_lot_size_when_no_row_covers_the_expiry_then_calendar_error(cal: Calendar) -> None:
    with pytest.raises(CalendarError, match="no lot_size is known for NIFTY contracts expiring"):
        cal.lot_size("NIFTY", date(2025, 2, 3))  # between the 2025-01-30 and 2025-02-06 rows


@pytest.mark.parametrize("underlying", ["NIFTY", "BANKNIFTY", "FINNIFTY"])
def test_expiries_when_every_one_in_range_then_its_lot_size_is_known(
    cal: Calendar, underlying: str
) -> None:
    for e in cal.expiries(underlying, cal.first_date):
        assert cal.lot_size(underlying, e.date) > 0


def _lot_boundaries() -> list[tuple[str, date]]:
    with FACTS.open(newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["field"] == "lot_size"]
    out = []
    for r in rows:
        for text in (r["effective_from"], r["effective_to"]):
            if text and date(2024, 1, 1) <= date.fromisoformat(text) <= date(2026, 12, 31):
                out.append((r["underlying"], date.fromisoformat(text)))
    return out


@pytest.mark.parametrize(("underlying", "d"), _lot_boundaries())
def test_expiries_when_a_lot_row_boundary_then_it_is_an_expiry_date(
    cal: Calendar, underlying: str, d: date
) -> None:
    """The README's check 4: every expiry used as a range boundary is a real expiry."""
    assert d in _dates(cal.expiries(underlying, cal.first_date))


@pytest.mark.parametrize(
    ("underlying", "d", "qty"),
    [
        ("NIFTY", date(2024, 6, 3), 1800),
        ("BANKNIFTY", date(2025, 6, 2), 600),
        ("BANKNIFTY", date(2025, 9, 15), 900),
        ("FINNIFTY", date(2025, 12, 15), 1200),
    ],
)
def test_freeze_qty_when_keyed_by_trade_date_then_the_fact(
    cal: Calendar, underlying: str, d: date, qty: int
) -> None:
    assert cal.freeze_qty(underlying, d) == qty


def test_freeze_qty_when_unknown_then_calendar_error_with_the_reason(cal: Calendar) -> None:
    with pytest.raises(CalendarError, match="no freeze_qty is known for BANKNIFTY.*unverified"):
        cal.freeze_qty("BANKNIFTY", date(2025, 10, 15))
    with pytest.raises(CalendarError, match="no freeze_qty"):
        cal.freeze_qty("NIFTY", date(2023, 1, 2))


def test_strike_interval_and_tick_size_when_asked_then_the_facts(cal: Calendar) -> None:
    assert cal.strike_interval("NIFTY", date(2025, 1, 1)) == 50
    assert cal.strike_interval("BANKNIFTY", date(2025, 1, 1)) == 100
    assert cal.tick_size("NIFTY", date(2025, 1, 1)) == Decimal("0.05")
    fact = cal.fact("FINNIFTY", "strike_interval", date(2025, 1, 1))
    assert fact is not None and fact.source.startswith("unverified:")
