"""Which dates trade and when: every sourced holiday and special session, the 15:40 close,
two-part DR sessions, the Muhurat session without published hours, and the range limits."""

from __future__ import annotations

import csv
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from engine.data.calendar import Calendar, Session
from engine.errors import CalendarError
from engine.timeutil import IST, UTC

REPO = Path(__file__).resolve().parents[3]
MARKET = REPO.parent / "shared" / "data" / "market"
FACTS_DIR = MARKET / "calendar"


def _rows(name: str) -> list[dict[str, str]]:
    with (FACTS_DIR / name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


HOLIDAYS = _rows("nse_holidays.csv")
SPECIALS = _rows("nse_special_sessions.csv")
MUHURAT_DATES = {r["date"] for r in SPECIALS if r["kind"] == "muhurat"}


@pytest.fixture(scope="module")
def cal() -> Calendar:
    return Calendar.default()


def at(d: date, hh: int, mm: int) -> datetime:
    return datetime.combine(d, time(hh, mm), tzinfo=IST)


@pytest.mark.parametrize("row", HOLIDAYS, ids=[r["date"] for r in HOLIDAYS])
def test_session_when_date_is_a_listed_holiday_then_no_regular_session(
    cal: Calendar, row: dict[str, str]
) -> None:
    d = date.fromisoformat(row["date"])
    assert cal.holiday_name(d) == row["name"]
    for seg in ("FO", "CM"):
        s = cal.session(d, seg)
        if row["date"] in MUHURAT_DATES:  # the normal session was closed; Muhurat evening ran
            assert s is not None and s.kind == "muhurat" and s.hours_known
            assert s.open >= time(13, 0), "a Muhurat session, not the normal one"
            assert not s.contains(at(d, 9, 15))
        else:
            assert s is None
            assert not cal.is_session(d, seg)


@pytest.mark.parametrize("row", SPECIALS, ids=[f"{r['date']}-{r['kind']}" for r in SPECIALS])
def test_session_when_date_has_a_special_row_then_the_session_follows_it(
    cal: Calendar, row: dict[str, str]
) -> None:
    d = date.fromisoformat(row["date"])
    if row["kind"].startswith("preopen"):  # order entry only: not trading time
        s = cal.session(d, "CM")
        assert s is not None
        start = time.fromisoformat(row["open"])
        assert not s.contains(datetime.combine(d, start, tzinfo=IST))
        return
    for seg in row["segments"].split(";"):
        s = cal.session(d, seg)
        assert s is not None and s.kind != "regular"
        assert row["kind"] in s.part_kinds
        if not row["open"]:
            assert not s.hours_known and s.describe_hours() == "hours not published"
            continue
        part = (time.fromisoformat(row["open"]), time.fromisoformat(row["close"]))
        assert part in s.segments
        assert s.contains(datetime.combine(d, part[0], tzinfo=IST))
        assert not s.contains(datetime.combine(d, part[1], tzinfo=IST))


def test_session_when_dr_saturday_then_two_parts_and_the_break_is_outside(cal: Calendar) -> None:
    s = cal.session(date(2024, 3, 2))
    assert s is not None and s.kind == "dr_session"
    assert s.segments == ((time(9, 15), time(10, 0)), (time(11, 30), time(12, 30)))
    assert (s.open, s.close) == (time(9, 15), time(12, 30))
    assert s.contains(at(s.date, 9, 59)) and s.contains(at(s.date, 11, 30))
    assert not s.contains(at(s.date, 11, 0)) and not s.contains(at(s.date, 10, 0))
    assert s.minutes == 105
    assert s.minute_index(at(s.date, 11, 30)) == 45
    assert s.minute_index(at(s.date, 11, 0)) is None


def test_session_when_after_2026_08_03_then_fo_closes_at_1540_and_cm_at_1530(
    cal: Calendar,
) -> None:
    d = date(2026, 11, 23)
    fo, cm = cal.session(d), cal.session(d, segment="CM")
    assert fo is not None and cm is not None
    assert fo.contains(at(d, 15, 35)) and not fo.contains(at(d, 15, 40))
    assert fo.close == time(15, 40) and fo.segment == "FO"
    assert not cm.contains(at(d, 15, 35)) and cm.close == time(15, 30)


def test_session_when_before_2026_08_03_then_fo_closes_at_1530(cal: Calendar) -> None:
    d = date(2026, 7, 31)
    s = cal.session(d)
    assert s is not None and not s.contains(at(d, 15, 35)) and s.contains(at(d, 15, 29))
    first = cal.session(date(2026, 8, 3))
    assert first is not None and first.close == time(15, 40)


def test_session_when_muhurat_2026_then_a_session_whose_hours_are_unknown(
    cal: Calendar,
) -> None:
    d = date(2026, 11, 8)  # a Sunday; NSE announced the date, not the times
    s = cal.session(d)
    assert s is not None and cal.is_session(d)
    assert s.kind == "muhurat" and s.name == "Muhurat trading" and not s.hours_known
    with pytest.raises(CalendarError, match="no published hours.*special_sessions.csv"):
        _ = s.open
    with pytest.raises(CalendarError):
        s.contains(at(d, 18, 30))


def test_session_when_weekend_without_special_row_then_closed(cal: Calendar) -> None:
    assert cal.session(date(2024, 1, 21)) is None  # Sunday after the Saturday full session
    assert cal.session(date(2026, 11, 21)) is None
    assert cal.holiday_name(date(2026, 11, 21)) is None


def test_session_when_settlement_only_holiday_then_trading_day(cal: Calendar) -> None:
    for d in (date(2025, 9, 5), date(2025, 9, 8), date(2026, 2, 19), date(2026, 4, 1)):
        s = cal.session(d)
        assert s is not None and s.kind == "regular"


def test_session_when_same_date_asked_twice_then_the_same_object(cal: Calendar) -> None:
    assert cal.session(date(2025, 5, 6)) is cal.session(date(2025, 5, 6))


def test_session_when_open_at_then_aware_ist(cal: Calendar) -> None:
    s = cal.session(date(2025, 5, 6))
    assert s is not None
    assert s.open_at() == datetime(2025, 5, 6, 3, 45, tzinfo=UTC)
    assert s.close_at().utcoffset() == timedelta(hours=5, minutes=30)
    assert s.contains(datetime(2025, 5, 6, 4, 0, tzinfo=UTC))
    with pytest.raises(ValueError, match="naive"):
        s.contains(datetime(2025, 5, 6, 10, 0))  # noqa: DTZ001


@pytest.mark.parametrize(
    ("d", "hours"),
    [
        (date(2023, 5, 2), "09:15-15:30"),  # history before the verified files
        (date(2027, 1, 1), "09:15-15:40"),  # a year NSE has not published yet
        (date(2031, 3, 3), "09:15-15:40"),
        (date(2009, 6, 2), "09:55-15:30"),  # the regular hours of 2009
        (date(2010, 1, 5), "09:00-15:30"),  # NSE opened at 09:00 from 2010-01-04
        (date(2010, 1, 18), "09:15-15:30"),
    ],
)
def test_session_when_weekday_outside_the_verified_files_then_provisional_regular_session(
    cal: Calendar, d: date, hours: str
) -> None:
    s = cal.session(d)
    assert s is not None and s.kind == "regular" and s.provisional
    assert s.describe_hours() == hours
    assert not cal.is_verified(d) and cal.covers(d)
    assert cal.holiday_name(d) is None  # not known, not "no holiday"


def test_session_when_inside_the_verified_files_then_not_provisional(cal: Calendar) -> None:
    s = cal.session(date(2024, 1, 1))
    assert s is not None and not s.provisional and cal.is_verified(date(2024, 1, 1))
    assert cal.session(date(2026, 12, 25)) is None and cal.is_verified(date(2026, 12, 31))


@pytest.mark.parametrize("d", [date(2023, 12, 31), date(2027, 1, 2), date(2027, 1, 3)])
def test_session_when_weekend_outside_the_verified_files_then_closed(
    cal: Calendar, d: date
) -> None:
    assert cal.session(d) is None


@pytest.mark.parametrize("d", [date(2008, 12, 31), date(2037, 1, 1), date(1990, 1, 1)])
def test_session_when_date_beyond_what_the_calendar_answers_then_calendar_error(
    cal: Calendar, d: date
) -> None:
    with pytest.raises(CalendarError) as info:
        cal.session(d)
    text = str(info.value)
    assert f"{d.isoformat()} is outside the calendar (2009-01-01 .. 2036-12-31)" in text
    assert "holidays.csv" in text


def test_session_when_given_a_datetime_then_type_error_says_to_pass_a_date(
    cal: Calendar,
) -> None:
    with pytest.raises(TypeError, match="a date was expected"):
        cal.session(at(date(2030, 1, 1), 10, 0))


def test_session_when_unknown_segment_then_calendar_error(cal: Calendar) -> None:
    with pytest.raises(CalendarError, match="segment 'CD'"):
        cal.session(date(2025, 5, 6), segment="CD")


def test_next_session_when_before_a_holiday_weekend_then_skips_it(cal: Calendar) -> None:
    assert cal.next_session(date(2024, 3, 7)).date == date(2024, 3, 11)  # Fri 8th holiday
    assert cal.previous_session(date(2024, 3, 11)).date == date(2024, 3, 7)
    assert cal.next_session(date(2024, 1, 19)).date == date(2024, 1, 20)  # Saturday session
    assert cal.next_session(date(2026, 11, 6)).date == date(2026, 11, 8)  # Sunday Muhurat


def test_next_session_when_at_the_verified_edges_then_provisional_neighbours(
    cal: Calendar,
) -> None:
    assert cal.next_session(date(2023, 12, 31)).date == date(2024, 1, 1)
    assert cal.previous_session(date(2027, 1, 1)).date == date(2026, 12, 31)
    after = cal.next_session(date(2026, 12, 31))
    assert (after.date, after.provisional) == (date(2027, 1, 1), True)
    before = cal.previous_session(date(2024, 1, 1))
    assert (before.date, before.provisional) == (date(2023, 12, 29), True)


def test_next_session_when_past_what_the_calendar_answers_then_error(cal: Calendar) -> None:
    assert cal.next_session(date(2036, 12, 30)).date == date(2036, 12, 31)
    with pytest.raises(CalendarError, match="no session after 2036-12-31"):
        cal.next_session(date(2036, 12, 31))
    assert cal.previous_session(date(2009, 1, 2)).date == date(2009, 1, 1)
    with pytest.raises(CalendarError, match="no session before 2009-01-01"):
        cal.previous_session(date(2009, 1, 1))
    with pytest.raises(CalendarError, match="2008-12-30 is outside"):
        cal.next_session(date(2008, 12, 29))


def test_sessions_when_a_week_with_a_holiday_then_only_trading_days_in_order(
    cal: Calendar,
) -> None:
    days = [s.date for s in cal.sessions(date(2024, 3, 4), date(2024, 3, 10))]
    assert days == [date(2024, 3, d) for d in (4, 5, 6, 7)]
    assert cal.sessions(date(2024, 3, 10), date(2024, 3, 9)) == []


def test_sessions_when_a_whole_year_then_count_matches_the_lists(cal: Calendar) -> None:
    # 2025: 261 weekdays, 14 weekday holidays, plus the Saturday Budget session and the
    # Muhurat session on the holiday 2025-10-21.
    assert len(cal.sessions(date(2025, 1, 1), date(2025, 12, 31))) == 261 - 14 + 1 + 1


def test_days_to_expiry_when_on_expiry_day_then_zero_sessions(cal: Calendar) -> None:
    assert cal.days_to_expiry(date(2025, 9, 30), date(2025, 9, 30)) == (0, 0)
    assert cal.days_to_expiry(date(2025, 9, 29), date(2025, 9, 30)) == (1, 1)
    # Friday before a Tuesday expiry: Monday and Tuesday trade, four calendar days.
    assert cal.days_to_expiry(date(2025, 9, 26), date(2025, 9, 30)) == (2, 4)
    # Across the Diwali holiday: its Muhurat hour is not a trading session for dte.
    assert cal.days_to_expiry(date(2025, 10, 17), date(2025, 10, 28)) == (5, 11)
    assert cal.days_to_expiry(date(2024, 10, 31), date(2024, 11, 7)) == (4, 7)
    with pytest.raises(CalendarError, match="before"):
        cal.days_to_expiry(date(2025, 10, 1), date(2025, 9, 30))


def test_is_holiday_when_muhurat_day_then_holiday_and_session(cal: Calendar) -> None:
    d = date(2024, 11, 1)
    assert cal.is_holiday(d) and cal.is_session(d)
    assert not cal.is_holiday(date(2024, 10, 31))


def _dates_in(path: Path) -> set[date]:
    with path.open(encoding="utf-8") as f:
        next(f)
        return {date.fromisoformat(line[:10]) for line in f}


def test_calendar_when_compared_with_the_2024_1m_data_then_exactly_five_sessions_missing(
    cal: Calendar,
) -> None:
    """A cross-check of the README: the data lack five sessions NSE did trade."""
    have = _dates_in(MARKET / "nifty_1m_2024.csv")
    first, last = min(have), max(have)
    known = {s.date for s in cal.sessions(first, last)}
    assert have - known == set()
    assert sorted(known - have) == [
        date(2024, 2, 1),
        date(2024, 3, 4),
        date(2024, 4, 5),
        date(2024, 5, 7),
        date(2024, 7, 10),
    ]


def test_session_dataclass_when_built_by_hand_then_defaults_are_fo_and_known() -> None:
    s = Session(date(2024, 1, 2), "regular", ((time(9, 15), time(15, 30)),))
    assert s.hours_known and s.segment == "FO" and s.minutes == 375
    assert s.minute_index(at(s.date, 15, 29)) == 374
    assert s.minute_index(at(s.date + timedelta(days=1), 9, 15)) is None
