"""Calendars derived from a data file's own bars, for history the calendar files do not cover."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from engine.data.calendar import Calendar
from engine.errors import CalendarError, DataError
from engine.timeutil import IST, UTC

REPO = Path(__file__).resolve().parents[3]
MARKET = REPO.parent / "shared" / "data" / "market"


def _bar_starts(path: Path) -> list[datetime]:
    with path.open(encoding="utf-8") as f:
        next(f)
        return [datetime.fromisoformat(line[:25]) for line in f]


@pytest.fixture(scope="module")
def cal_2009() -> Calendar:
    return Calendar.derive_from_timestamps(_bar_starts(MARKET / "nifty_1m_2009.csv"))


def test_derive_when_2009_file_then_sessions_open_at_0955(cal_2009: Calendar) -> None:
    assert (cal_2009.first_date, cal_2009.last_date) == (date(2009, 1, 1), date(2009, 12, 31))
    s = cal_2009.session(date(2009, 1, 1))
    assert s is not None and s.kind == "derived"
    assert s.segments == ((time(9, 55), time(15, 31)),)  # last bar 15:30 + one minute
    assert s.minutes == 336
    assert len(cal_2009.sessions(cal_2009.first_date, cal_2009.last_date)) == 230


def test_derive_when_2009_05_18_then_two_one_bar_parts(cal_2009: Calendar) -> None:
    s = cal_2009.session(date(2009, 5, 18))
    assert s is not None
    assert s.segments == ((time(9, 55), time(9, 56)), (time(11, 55), time(11, 56)))
    assert s.contains(datetime(2009, 5, 18, 11, 55, 30, tzinfo=IST))
    assert not s.contains(datetime(2009, 5, 18, 10, 30, tzinfo=IST))


def test_derive_when_a_day_without_bars_then_not_a_session(cal_2009: Calendar) -> None:
    assert cal_2009.session(date(2009, 4, 20)) is None  # a missing session in the file
    assert cal_2009.session(date(2009, 1, 3)) is None  # a Saturday
    late = cal_2009.session(date(2009, 1, 23))
    assert late is not None and late.open == time(10, 4)


def test_derive_when_asked_outside_the_data_then_calendar_error(cal_2009: Calendar) -> None:
    with pytest.raises(CalendarError, match="2010-01-01 is outside the calendar.*derived"):
        cal_2009.session(date(2010, 1, 1))
    with pytest.raises(CalendarError, match="derived calendar has none"):
        cal_2009.lot_size("NIFTY", date(2009, 1, 29))
    assert cal_2009.holiday_name(date(2009, 4, 20)) is None


def test_derive_when_2024_file_then_dr_saturday_matches_the_calendar_files() -> None:
    derived = Calendar.derive_from_timestamps(_bar_starts(MARKET / "nifty_1m_2024.csv"))
    shipped = Calendar.default()
    for d in (date(2024, 3, 2), date(2024, 5, 18), date(2024, 6, 3)):
        ours, theirs = derived.session(d), shipped.session(d)
        assert ours is not None and theirs is not None
        assert ours.segments == theirs.segments


def _minute_bars(d: date, start: time, count: int) -> list[datetime]:
    first = datetime.combine(d, start, tzinfo=IST)
    return [first + timedelta(minutes=i) for i in range(count)]


def test_derive_when_gap_is_exactly_30_minutes_then_one_part() -> None:
    d = date(2024, 6, 3)
    bars = _minute_bars(d, time(9, 15), 10) + _minute_bars(d, time(9, 55), 10)  # 09:25..09:55
    s = Calendar.derive_from_timestamps(bars).session(d)
    assert s is not None and s.segments == ((time(9, 15), time(10, 5)),)


def test_derive_when_gap_is_over_30_minutes_then_two_parts() -> None:
    d = date(2024, 6, 3)
    bars = _minute_bars(d, time(9, 15), 10) + _minute_bars(d, time(9, 56), 10)
    s = Calendar.derive_from_timestamps(bars).session(d)
    assert s is not None and len(s.segments) == 2


def test_derive_when_utc_timestamps_and_5m_bars_then_ist_dates_and_bar_length() -> None:
    bars = [datetime(2024, 6, 3, 3, 45, tzinfo=UTC), datetime(2024, 6, 3, 9, 55, tzinfo=UTC)]
    s = Calendar.derive_from_timestamps(bars, bar_seconds=300).session(date(2024, 6, 3), "CM")
    assert s is not None and s.segment == "CM"
    assert s.segments == ((time(9, 15), time(9, 20)), (time(15, 25), time(15, 30)))


def test_derive_when_no_bars_or_naive_times_then_errors() -> None:
    with pytest.raises(DataError, match="no bars"):
        Calendar.derive_from_timestamps([])
    with pytest.raises(ValueError, match="naive"):
        Calendar.derive_from_timestamps([datetime(2024, 6, 3, 9, 15)])  # noqa: DTZ001
    with pytest.raises(ValueError, match="bar_seconds"):
        Calendar.derive_from_timestamps([datetime(2024, 6, 3, 9, 15, tzinfo=IST)], 0)


def test_derive_when_nanoseconds_then_same_days_as_datetimes() -> None:
    """The integer path (series in nanoseconds) reads the same days off the 2009 file."""
    from engine.data._derive import day_parts_from_ns, day_parts_from_timestamps
    from engine.model.market import to_ns

    starts = _bar_starts(MARKET / "nifty_1m_2009.csv")
    ns = [to_ns(t) for t in starts]
    assert day_parts_from_ns(ns, 60) == day_parts_from_timestamps(starts, 60)
    assert day_parts_from_ns(ns, 300) == day_parts_from_timestamps(starts, 300)
    by_ns = Calendar.derive_from_timestamps(ns)
    assert by_ns.session(date(2009, 5, 18)) == Calendar.derive_from_timestamps(starts).session(
        date(2009, 5, 18)
    )
