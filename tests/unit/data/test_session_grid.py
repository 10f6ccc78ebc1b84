"""Session hours as nanosecond spans, and the choice of calendar for a data file."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from engine.data.calendar import Calendar
from engine.data.session_grid import SessionGrid, choose_calendar
from engine.errors import CalendarError
from engine.model import to_ns
from engine.timeutil import IST


def ist(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> int:
    return to_ns(datetime(y, mo, d, h, mi, tzinfo=IST))


@pytest.fixture(scope="module")
def grid() -> SessionGrid:
    return SessionGrid(Calendar.default(), "FO")


def test_grid_when_regular_day_then_one_part_and_daily_label(grid: SessionGrid) -> None:
    span = grid.span(date(2024, 1, 2))
    assert span is not None
    assert span.parts == ((ist(2024, 1, 2, 9, 15), ist(2024, 1, 2, 15, 30)),)
    assert span.label_ns == ist(2024, 1, 2) and span.describe() == "09:15-15:30"
    assert grid.span(date(2024, 1, 2)) is span  # built once


def test_grid_when_dr_saturday_then_two_parts_and_locate_finds_each(grid: SessionGrid) -> None:
    span = grid.span(date(2024, 3, 2))
    assert span is not None and span.describe() == "09:15-10:00, 11:30-12:30"
    located = grid.locate(ist(2024, 3, 2, 11, 45))
    assert located is not None and located[1] == 1
    assert grid.locate(ist(2024, 3, 2, 10, 0)) is None


def test_grid_when_holiday_then_no_span(grid: SessionGrid) -> None:
    assert grid.span(date(2024, 1, 26)) is None
    assert grid.span_at(ist(2024, 1, 26, 10)) is None


def test_grid_when_session_hours_unpublished_then_whole_day_part(grid: SessionGrid) -> None:
    span = grid.span(date(2026, 11, 8))  # Muhurat 2026: date known, hours not yet
    assert span is not None and not span.hours_known
    assert span.parts == ((ist(2026, 11, 8), ist(2026, 11, 9)),)


def test_grid_when_date_before_the_verified_files_then_provisional_span(grid: SessionGrid) -> None:
    span = grid.span(date(2023, 6, 1))
    assert span is not None and span.provisional and span.describe() == "09:15-15:30"
    verified = grid.span(date(2024, 6, 3))
    assert verified is not None and not verified.provisional


def test_grid_when_date_before_any_known_hours_then_calendar_error(grid: SessionGrid) -> None:
    with pytest.raises(CalendarError, match="outside the calendar"):
        grid.span(date(2008, 6, 2))


def test_choose_calendar_when_dates_covered_then_shipped_calendar() -> None:
    choice = choose_calendar([ist(2024, 1, 2, 9, 15), ist(2024, 8, 23, 15, 29)])
    assert not choice.derived and choice.calendar is Calendar.default()


def test_choose_calendar_when_2009_dates_then_file_days_at_the_regular_hours() -> None:
    choice = choose_calendar([ist(2009, 1, 2, 9, 55), ist(2009, 1, 6, 9, 56)])
    assert choice.derived
    assert "provisional for the file's dates outside its verified 2024-01-01..2026-12-31" in (
        choice.note
    )
    span = SessionGrid(choice.calendar, "CM").span(date(2009, 1, 2))
    assert span is not None and span.provisional and span.describe() == "09:55-15:30"
    assert SessionGrid(choice.calendar, "CM").span(date(2009, 1, 5)) is None  # no bars
    later = SessionGrid(choice.calendar, "CM").span(date(2009, 1, 7))  # after the file
    assert later is not None and later.provisional


def test_choose_calendar_when_before_any_known_hours_then_derived_from_the_bars() -> None:
    choice = choose_calendar([ist(2005, 4, 1, 9, 55), ist(2005, 4, 1, 9, 56)])
    assert choice.derived
    assert "derived from the file's own bars (2005-04-01..2005-04-01" in choice.note
    span = SessionGrid(choice.calendar, "CM").span(date(2005, 4, 1))
    assert span is not None and span.describe() == "09:55-09:57"
