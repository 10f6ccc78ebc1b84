"""Gaps: silent feeds, missing bars and sessions, opening gaps, short-gap filling."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest

from engine.data.calendar import Calendar
from engine.data.csv_import import BarFile
from engine.data.gaps import GapMonitor, fill_short_gaps, find_gaps
from engine.data.session_grid import SessionGrid, choose_calendar
from engine.data.validate import validate_bars
from engine.model import (
    NANOS,
    Bar,
    FeedResumed,
    GapDetected,
    GapOpened,
    InstrumentKind,
    Timeframe,
    to_ns,
)
from engine.timeutil import IST

MarketBars = Callable[[str], BarFile]


def ist(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> int:
    return to_ns(datetime(y, mo, d, h, mi, s, tzinfo=IST))


@pytest.fixture(scope="module")
def grid_cm() -> SessionGrid:
    return SessionGrid(Calendar.default(), "CM")


def minutes(
    day: tuple[int, int, int],
    start: tuple[int, int],
    count: int,
    skip: frozenset[int] = frozenset(),
    price: float = 100.0,
) -> list[Bar]:
    base = datetime(*day, *start, tzinfo=IST)
    out = []
    for i in range(count):
        if i in skip:
            continue
        t = to_ns(base + timedelta(minutes=i))
        p = price + i
        out.append(Bar("NIFTY", Timeframe.M1, t, p, p + 1, p - 1, p + 0.5))
    return out


# --------------------------------------------------------------------- find_gaps
def test_find_gaps_when_nifty_1m_2024_then_exactly_the_five_missing_sessions(
    market_bars: MarketBars, grid_cm: SessionGrid
) -> None:
    accepted = validate_bars(market_bars("nifty_1m_2024.csv").bars["NIFTY"], grid_cm).accepted
    report = find_gaps(accepted, grid_cm)
    assert report.missing_sessions == [
        date(2024, 2, 1),
        date(2024, 3, 4),
        date(2024, 4, 5),
        date(2024, 5, 7),
        date(2024, 7, 10),
    ]
    assert report.gaps == []  # full sessions, and the DR parts are complete
    assert report.sessions_with_data == 156
    assert [(g.session_date, round(g.change_pct, 2)) for g in report.opening_gaps] == [
        (date(2024, 6, 3), 3.49)
    ]


def test_find_gaps_when_file_before_the_verified_calendar_then_missing_sessions_unknown(
    market_bars: MarketBars,
) -> None:
    bars = [
        b
        for b in market_bars("nifty_1m_2009.csv").bars["NIFTY"]
        if b.trading_date <= date(2009, 1, 31)
    ]
    choice = choose_calendar([b.ts_event for b in bars])
    report = find_gaps(bars, SessionGrid(choice.calendar, "CM"), derived=choice.derived)
    assert choice.derived and report.missing_sessions is None
    # 2009-01-23 starts at 10:04, nine minutes after the regular 09:55 open, and lacks
    # the 10:08 bar: one minute inside the session
    assert [(g.session_date, g.kind, g.duration_ns // NANOS) for g in report.gaps] == [
        (date(2009, 1, 23), "late_start", 540),
        (date(2009, 1, 23), "intraday", 60),
    ]


def test_find_gaps_when_minutes_missing_then_start_end_and_kind(grid_cm: SessionGrid) -> None:
    day = (2024, 1, 2)
    bars = minutes(
        day, (9, 20), 370, skip=frozenset({10, 11, 12})
    )  # starts 5 min late, ends at 15:29
    report = find_gaps(bars, grid_cm)
    got = [(g.kind, g.start, g.end) for g in report.gaps]
    assert got == [
        ("late_start", ist(*day, 9, 15), ist(*day, 9, 20)),
        ("intraday", ist(*day, 9, 30), ist(*day, 9, 33)),
    ]
    assert report.gaps[1].duration_ns == 180 * NANOS


def test_find_gaps_when_dr_session_lacks_second_part_and_ends_early_then_reported(
    grid_cm: SessionGrid,
) -> None:
    bars = minutes((2024, 3, 2), (9, 15), 40)  # 09:15..09:54 only
    kinds = [(g.kind, g.duration_ns // (60 * NANOS)) for g in find_gaps(bars, grid_cm).gaps]
    assert kinds == [("early_end", 5), ("missing_part", 60)]


def test_find_gaps_when_holiday_in_range_then_not_called_missing(grid_cm: SessionGrid) -> None:
    bars = minutes((2024, 1, 25), (9, 15), 375) + minutes((2024, 1, 29), (9, 15), 375)
    report = find_gaps(bars, grid_cm)
    assert report.missing_sessions == []  # 01-26 holiday, 01-27/28 weekend


# --------------------------------------------------------------------- GapMonitor
def test_monitor_when_feed_silent_over_60s_then_gap_detected_once_and_resumed(
    grid_cm: SessionGrid,
) -> None:
    events: list[object] = []
    m = GapMonitor("NIFTY", grid_cm, events.append)
    m.on_tick(ist(2024, 1, 2, 10, 0, 0), 100.0)
    m.on_clock(ist(2024, 1, 2, 10, 1, 0))
    assert events == []
    m.on_clock(ist(2024, 1, 2, 10, 1, 1))
    m.on_clock(ist(2024, 1, 2, 10, 1, 30))
    m.on_tick(ist(2024, 1, 2, 10, 2, 5), 101.0)
    assert events == [
        GapDetected("NIFTY", ist(2024, 1, 2, 10), ist(2024, 1, 2, 10, 1, 1), 61 * NANOS),
        FeedResumed("NIFTY", ist(2024, 1, 2, 10), ist(2024, 1, 2, 10, 2, 5)),
    ]
    resumed = events[1]
    assert isinstance(resumed, FeedResumed) and resumed.duration_ns == 125 * NANOS


def test_monitor_when_gap_seen_only_on_next_tick_then_both_events(grid_cm: SessionGrid) -> None:
    events: list[object] = []
    m = GapMonitor("NIFTY", grid_cm, events.append)
    m.on_tick(ist(2024, 1, 2, 10, 0, 0), 100.0)
    m.on_tick(ist(2024, 1, 2, 10, 1, 30), 100.5)
    assert [type(e).__name__ for e in events] == ["GapDetected", "FeedResumed"]


def test_monitor_when_outside_session_or_in_dr_break_then_silence_is_not_a_gap(
    grid_cm: SessionGrid,
) -> None:
    events: list[object] = []
    m = GapMonitor("NIFTY", grid_cm, events.append)
    m.on_tick(ist(2024, 3, 2, 9, 59, 50), 100.0)
    m.on_clock(ist(2024, 3, 2, 10, 30))  # between the two parts
    m.on_clock(ist(2024, 3, 2, 11, 30, 30))  # 30 s into the second part
    m.on_clock(ist(2024, 1, 2, 8, 0))  # before an ordinary session
    assert events == []
    m.on_clock(ist(2024, 3, 2, 11, 31, 1))  # 61 s into the part, no tick yet
    assert events == [
        GapDetected("NIFTY", ist(2024, 3, 2, 11, 30), ist(2024, 3, 2, 11, 31, 1), 61 * NANOS)
    ]


def test_monitor_when_next_session_opens_over_2pct_away_then_gap_opened(
    grid_cm: SessionGrid,
) -> None:
    events: list[object] = []
    m = GapMonitor("NIFTY", grid_cm, events.append)
    m.on_tick(ist(2024, 5, 31, 15, 29, 50), 22530.0)
    m.on_tick(ist(2024, 6, 3, 9, 15, 1), 23337.9)
    (opened,) = events
    assert isinstance(opened, GapOpened) and opened.session_date == date(2024, 6, 3)
    assert round(opened.change_pct, 2) == 3.59


def test_monitor_when_next_session_opens_close_by_then_no_event(grid_cm: SessionGrid) -> None:
    events: list[object] = []
    m = GapMonitor("NIFTY", grid_cm, events.append)
    m.on_tick(ist(2024, 1, 2, 15, 29, 50), 100.0)
    m.on_tick(ist(2024, 1, 3, 9, 15, 1), 101.9)
    assert events == []


# --------------------------------------------------------------------- filling
def test_fill_when_four_minutes_missing_then_interpolated_and_marked(grid_cm: SessionGrid) -> None:
    bars = minutes((2024, 1, 2), (10, 0), 6, skip=frozenset({1, 2, 3, 4}))  # 10:00 and 10:05
    filled, count = fill_short_gaps(bars, grid_cm, kind=InstrumentKind.INDEX)
    assert count == 4
    assert [(b.close, b.filled) for b in filled] == [
        (100.5, False),
        (101.4, True),
        (102.3, True),
        (103.2, True),
        (104.1, True),
        (105.5, False),
    ]
    assert [b.ts_event for b in filled] == [ist(2024, 1, 2, 10, i) for i in range(6)]


def test_fill_when_five_minutes_missing_then_left_alone(grid_cm: SessionGrid) -> None:
    bars = minutes((2024, 1, 2), (10, 0), 7, skip=frozenset({1, 2, 3, 4, 5}))
    assert fill_short_gaps(bars, grid_cm, kind=InstrumentKind.INDEX) == (bars, 0)


def test_fill_when_hole_is_the_dr_break_then_left_alone(grid_cm: SessionGrid) -> None:
    bars = minutes((2024, 3, 2), (9, 59), 1) + minutes((2024, 3, 2), (11, 30), 1)
    assert fill_short_gaps(bars, grid_cm, kind=InstrumentKind.INDEX)[1] == 0


def test_fill_when_option_then_refused(grid_cm: SessionGrid) -> None:
    with pytest.raises(ValueError, match="option premiums are never interpolated"):
        fill_short_gaps([], grid_cm, kind=InstrumentKind.OPTION)
