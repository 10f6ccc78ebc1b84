"""Durations and clock times of timed transitions, against a fake and the real calendar."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from engine.data.calendar import Calendar
from engine.machines.modeltest import FakeCalendar
from engine.machines.timing import parse_clock_spec, parse_duration
from engine.timeutil import IST


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30m", 1800),
        ("5m", 300),
        ("1h", 3600),
        ("90s", 90),
        ("1h30m", 5400),
        (" 2h ", 7200),
    ],
)
def test_parse_duration_when_valid_then_counts_seconds(text: str, seconds: int) -> None:
    d = parse_duration(text)
    assert d.seconds == seconds
    assert d.ns == seconds * 10**9
    assert d.text == text.strip()


@pytest.mark.parametrize("text", ["30", "30min", "m", "", "0m", "1d", "-5m", "8d"])
def test_parse_duration_when_invalid_then_says_what_is_expected(text: str) -> None:
    with pytest.raises(ValueError, match="duration|zero|week"):
        parse_duration(text)


def test_parse_duration_when_longer_than_a_week_then_refuses() -> None:
    with pytest.raises(ValueError, match="longer than a week"):
        parse_duration("200h")


@pytest.mark.parametrize(
    ("text", "anchor", "offset"),
    [
        ("15:20", "clock", 0),
        ("open", "open", 0),
        ("close", "close", 0),
        ("close - 20m", "close", -1200),
        ("open + 45m", "open", 2700),
        ("close-1h", "close", -3600),
    ],
)
def test_parse_clock_spec_when_valid_then_keeps_anchor_and_offset(
    text: str, anchor: str, offset: int
) -> None:
    spec = parse_clock_spec(text)
    assert (spec.anchor, spec.offset_s, spec.text) == (anchor, offset, text)
    assert spec.relative == (anchor != "clock")


@pytest.mark.parametrize("text", ["25:00", "9am", "noon", "close - soon", "open * 2"])
def test_parse_clock_spec_when_invalid_then_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_clock_spec(text)


def test_resolve_when_absolute_then_needs_no_calendar() -> None:
    at = parse_clock_spec("15:20").resolve(date(2025, 1, 7), None)
    assert at == datetime(2025, 1, 7, 15, 20, tzinfo=IST)


def test_resolve_when_relative_then_uses_the_days_session() -> None:
    cal = FakeCalendar(open=time(18, 15), close=time(19, 15))  # a Muhurat hour
    assert parse_clock_spec("close - 20m").resolve(date(2025, 10, 21), cal) == datetime(
        2025, 10, 21, 18, 55, tzinfo=IST
    )
    assert parse_clock_spec("open + 45m").resolve(date(2025, 10, 21), cal) == datetime(
        2025, 10, 21, 19, 0, tzinfo=IST
    )


def test_resolve_when_no_session_or_hours_unknown_then_none() -> None:
    assert (
        parse_clock_spec("close").resolve(date(2025, 1, 11), FakeCalendar(is_session=False)) is None
    )
    assert (
        parse_clock_spec("open").resolve(date(2025, 1, 11), FakeCalendar(hours_known=False)) is None
    )
    assert parse_clock_spec("open").resolve(date(2025, 1, 11), None) is None


def test_resolve_when_real_calendar_then_close_moves_to_1540_in_august_2026() -> None:
    cal = Calendar.default()
    close = parse_clock_spec("close")
    assert close.resolve(date(2026, 7, 31), cal).time() == time(15, 30)
    assert close.resolve(date(2026, 8, 3), cal).time() == time(15, 40)
    assert parse_clock_spec("close - 20m").resolve(date(2026, 8, 3), cal).time() == time(15, 20)
