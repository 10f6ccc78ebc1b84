"""1-minute bars to 5m/15m/1h/daily bars along the session grid."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Hashable
from datetime import date, datetime, timedelta
from itertools import groupby
from pathlib import Path

import pytest

from engine.data.calendar import Calendar
from engine.data.csv_import import BarFile
from engine.data.resample import BarAggregator, resample
from engine.data.series import Series, open_series
from engine.data.session_grid import SessionGrid, choose_calendar
from engine.model import NANOS, Bar, BarDiscarded, DataIssue, Timeframe, to_ns
from engine.timeutil import IST

MarketBars = Callable[[str], BarFile]


def ist(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> int:
    return to_ns(datetime(y, mo, d, h, mi, tzinfo=IST))


def hhmm(ns: int) -> str:
    return datetime.fromtimestamp(ns / NANOS, IST).strftime("%H:%M")


@pytest.fixture(scope="module")
def grid_cm() -> SessionGrid:
    return SessionGrid(Calendar.default(), "CM")


@pytest.fixture(scope="module")
def nifty_2024(market_dir: Path) -> Series:
    """Validated NIFTY 1m 2024 bars (the 167 after-close bars of 2024-01-20 left out)."""
    _, [series] = open_series(market_dir / "nifty_1m_2024.csv")
    return series


def minute_bars(day: tuple[int, int, int], minutes: list[tuple[int, int]]) -> list[Bar]:
    """Synthetic 1m bars at the given (hour, minute) starts; prices rise by 1 per bar."""
    out = []
    for i, (h, m) in enumerate(minutes):
        p = 100.0 + i
        out.append(Bar("X", Timeframe.M1, ist(*day, h, m), p, p + 0.5, p - 0.5, p + 0.25, 1))
    return out


def span(start: tuple[int, int], count: int) -> list[tuple[int, int]]:
    base = datetime(2000, 1, 1, *start, tzinfo=IST)
    return [
        ((base + timedelta(minutes=i)).hour, (base + timedelta(minutes=i)).minute)
        for i in range(count)
    ]


# --------------------------------------------------------------------- alignment
def test_resample_when_regular_session_then_hourly_buckets_anchored_at_0915(
    nifty_2024: Series,
) -> None:
    day = [b for b in nifty_2024.bars if b.trading_date == date(2024, 1, 2)]
    hours = resample(day, Timeframe.H1, nifty_2024.grid).bars
    assert [hhmm(b.ts_event) for b in hours] == [
        "09:15",
        "10:15",
        "11:15",
        "12:15",
        "13:15",
        "14:15",
        "15:15",
    ]
    last = hours[-1]  # 15:15-15:30, cut at the close: 15 one-minute bars
    tail = day[-15:]
    assert (last.open, last.close) == (tail[0].open, tail[-1].close)
    assert last.high == max(b.high for b in tail) and last.low == min(b.low for b in tail)


def test_resample_when_dr_saturday_then_buckets_restart_at_each_part(
    nifty_2024: Series,
) -> None:
    day = [b for b in nifty_2024.bars if b.trading_date == date(2024, 3, 2)]
    assert len(day) == 105
    grid = nifty_2024.grid
    assert [hhmm(b.ts_event) for b in resample(day, Timeframe.H1, grid).bars] == ["09:15", "11:30"]
    assert [hhmm(b.ts_event) for b in resample(day, Timeframe.M15, grid).bars] == [
        "09:15",
        "09:30",
        "09:45",
        "11:30",
        "11:45",
        "12:00",
        "12:15",
    ]
    daily = resample(day, Timeframe.D1, grid)
    assert len(daily.bars) == 1 and not daily.counts  # the break between parts is no gap
    assert daily.bars[0].ts_event == ist(2024, 3, 2)  # labelled 00:00 IST


# --------------------------------------------------------------------- direct aggregation
def _bucket_key(calendar: Calendar, tf: Timeframe) -> Callable[[Bar], Hashable]:
    """Bucket of a bar computed from the calendar's Session with datetimes (independent of
    the grid): (date, part number, minutes since the part's open // bucket minutes)."""

    def key(bar: Bar) -> Hashable:
        local = bar.start_ist
        session = calendar.session(local.date(), "CM")
        assert session is not None
        if tf is Timeframe.D1:
            return local.date()
        for n, (start, end) in enumerate(session.segments):
            if start <= local.time() < end:
                since = local - datetime.combine(local.date(), start, tzinfo=IST)
                return local.date(), n, int(since.total_seconds() // tf.seconds)
        raise AssertionError(f"bar {local} outside its session")

    return key


@pytest.mark.parametrize("tf", [Timeframe.M5, Timeframe.M15, Timeframe.H1, Timeframe.D1])
def test_resample_when_whole_2024_file_then_equals_direct_grouping(
    nifty_2024: Series, tf: Timeframe
) -> None:
    key = _bucket_key(Calendar.default(), tf)
    direct = [
        (
            g[0].open,
            max(b.high for b in g),
            min(b.low for b in g),
            g[-1].close,
            sum(b.volume for b in g),
        )
        for g in (list(grp) for _, grp in groupby(nifty_2024.bars, key=key))
    ]
    result = resample(nifty_2024.bars, tf, nifty_2024.grid)
    assert [(b.open, b.high, b.low, b.close, b.volume) for b in result.bars] == direct
    assert not result.counts
    # 154 regular sessions and two DR Saturdays (parts of 45 and 60 minutes)
    per_regular, per_dr = {
        Timeframe.M5: (75, 9 + 12),
        Timeframe.M15: (25, 3 + 4),
        Timeframe.H1: (7, 1 + 1),
        Timeframe.D1: (1, 1),
    }[tf]
    assert len(result.bars) == 154 * per_regular + 2 * per_dr


def test_resample_when_daily_from_1m_then_open_high_low_match_official_file_and_close_differs(
    nifty_2024: Series, market_bars: MarketBars
) -> None:
    """README: daily O/H/L from 1m match the official file (median 0.0); the official close
    is NSE's weighted average over the last 30 minutes, not the last 1m close."""
    official = {b.trading_date: b for b in market_bars("nifty_daily_2005_2026.csv").all_bars}
    daily = resample(nifty_2024.bars, Timeframe.D1, nifty_2024.grid).bars
    assert len(daily) == 156
    pairs = [(b, official[b.trading_date]) for b in daily]
    open_diff = [abs(b.open - o.open) for b, o in pairs]
    assert statistics.median(open_diff) == 0.0
    assert sum(d <= 0.5 for d in open_diff) >= 0.75 * len(pairs)
    assert statistics.median(abs(b.high - o.high) for b, o in pairs) <= 0.05
    assert statistics.median(abs(b.low - o.low) for b, o in pairs) <= 0.05
    close_diff = statistics.median(abs(b.close - o.close) for b, o in pairs)
    assert close_diff > 5.0  # the last 1m close is not the official close ...
    by_day = {d: list(g) for d, g in groupby(nifty_2024.bars, key=lambda b: b.trading_date)}
    last_half_hour = [
        abs(statistics.fmean(b.close for b in by_day[d][-30:]) - o.close)
        for d, o in ((b.trading_date, o) for b, o in pairs)
        if len(by_day[d]) == 375
    ]
    assert statistics.median(last_half_hour) < 2.0  # ... the last 30 minutes' mean nearly is


# --------------------------------------------------------------------- streaming
def test_aggregator_when_last_minute_of_bucket_arrives_then_emits_at_once(
    grid_cm: SessionGrid,
) -> None:
    out: list[Bar] = []
    agg = BarAggregator(Timeframe.M5, grid_cm, out.append)
    for bar in minute_bars((2024, 1, 2), span((9, 15), 5)):
        agg.on_bar(bar)
    assert [(hhmm(b.ts_event), b.open, b.close, b.volume) for b in out] == [
        ("09:15", 100.0, 104.25, 5)
    ]


def test_aggregator_when_last_minute_missing_then_clock_closes_the_bucket(
    grid_cm: SessionGrid,
) -> None:
    out: list[Bar] = []
    agg = BarAggregator(Timeframe.M5, grid_cm, out.append)
    for bar in minute_bars((2024, 1, 2), span((9, 15), 4)):
        agg.on_bar(bar)
    agg.on_clock(ist(2024, 1, 2, 9, 19) + 30 * NANOS)
    assert out == []
    agg.on_clock(ist(2024, 1, 2, 9, 20))
    assert len(out) == 1 and out[0].ts_init == ist(2024, 1, 2, 9, 20)


def test_aggregator_when_bars_repeat_or_go_back_then_counted_not_aggregated(
    grid_cm: SessionGrid,
) -> None:
    out: list[Bar] = []
    agg = BarAggregator(Timeframe.M5, grid_cm, out.append)
    bars = minute_bars((2024, 1, 2), span((9, 15), 3))
    for bar in [bars[0], bars[1], bars[1], bars[0], bars[2]]:
        agg.on_bar(bar)
    agg.on_clock(ist(2024, 1, 2, 9, 20))
    assert agg.counts == {DataIssue.DUPLICATE: 1, DataIssue.OUT_OF_ORDER: 1}
    assert out[0].volume == 3


# --------------------------------------------------------------------- internal gaps
@pytest.mark.parametrize(
    ("missing", "kept"), [(10, True), (11, False)], ids=["10-min-hole-kept", "11-min-hole-dropped"]
)
def test_resample_when_hourly_bucket_has_a_hole_then_over_ten_minutes_is_discarded(
    grid_cm: SessionGrid, missing: int, kept: bool
) -> None:
    minutes = span((10, 15), 60)
    del minutes[20 : 20 + missing]
    result = resample(minute_bars((2024, 1, 2), minutes), Timeframe.H1, grid_cm)
    assert (len(result.bars) == 1) is kept
    if not kept:
        assert result.counts == {DataIssue.INTERNAL_GAP: 1}
        (event,) = result.events
        assert isinstance(event, BarDiscarded) and event.gap_ns == 11 * 60 * NANOS


def test_resample_when_bucket_starts_late_by_eleven_minutes_then_discarded(
    grid_cm: SessionGrid,
) -> None:
    result = resample(minute_bars((2024, 1, 2), span((10, 26), 49)), Timeframe.H1, grid_cm)
    assert result.bars == [] and result.counts == {DataIssue.INTERNAL_GAP: 1}


def test_resample_when_data_ends_mid_bucket_then_bucket_is_incomplete_not_emitted(
    grid_cm: SessionGrid,
) -> None:
    result = resample(minute_bars((2024, 1, 2), span((10, 15), 58)), Timeframe.H1, grid_cm)
    assert result.bars == []  # 11:13-11:15 never came: the hour has not ended in the data
    assert result.counts == {DataIssue.INCOMPLETE: 1}
    (event,) = result.events
    assert isinstance(event, BarDiscarded) and event.reason is DataIssue.INCOMPLETE


def test_aggregator_when_todays_daily_bucket_is_open_then_flush_does_not_emit_it(
    grid_cm: SessionGrid,
) -> None:
    out: list[Bar] = []
    agg = BarAggregator(Timeframe.D1, grid_cm, out.append)
    for bar in minute_bars((2024, 1, 2), span((9, 15), 45)):  # the session until 10:00
        agg.on_bar(bar)
    agg.flush()
    assert out == [] and agg.counts == {DataIssue.INCOMPLETE: 1}
    agg2 = BarAggregator(Timeframe.D1, grid_cm, out.append)
    for bar in minute_bars((2024, 1, 2), span((9, 15), 375)):  # the whole session
        agg2.on_bar(bar)
    assert [hhmm(b.ts_init) for b in out] == ["15:30"]  # emitted the moment it ended


def test_resample_when_gap_check_off_then_every_bucket_with_data_is_kept(
    grid_cm: SessionGrid,
) -> None:
    bars = minute_bars((2024, 1, 2), [(10, 15), (11, 14)])
    assert len(resample(bars, Timeframe.H1, grid_cm, max_gap_ns=None).bars) == 1


def test_resample_when_daily_dr_session_misses_a_part_then_discarded(
    grid_cm: SessionGrid,
) -> None:
    only_first_part = minute_bars((2024, 3, 2), span((9, 15), 45))
    result = resample(only_first_part, Timeframe.D1, grid_cm)
    assert result.bars == [] and result.counts == {DataIssue.INCOMPLETE: 1}
    # both parts, with the second part's first 11 minutes missing: a hole, discarded
    both = minute_bars((2024, 3, 2), span((9, 15), 45) + span((11, 41), 49))
    result = resample(both, Timeframe.D1, grid_cm)
    assert result.bars == [] and result.counts == {DataIssue.INTERNAL_GAP: 1}


# --------------------------------------------------------------------- other sources
def _first_days(market_bars, name: str, until: date) -> tuple[list[Bar], SessionGrid, str]:
    """The file's bars up to ``until`` with a calendar derived from them (as the CLI does)."""
    bars = [b for b in market_bars(name).all_bars if b.trading_date <= until]
    choice = choose_calendar([b.ts_event for b in bars], bars[0].timeframe.seconds)
    assert choice.derived
    return bars, SessionGrid(choice.calendar, "CM"), choice.note


def test_resample_when_15m_source_then_hourly_bars_from_four_each(market_bars: MarketBars) -> None:
    bars, grid, _ = _first_days(market_bars, "banknifty_15m_2018_2023.csv", date(2018, 1, 3))
    day = [b for b in bars if b.trading_date == date(2018, 1, 2)]
    hours = resample(day, Timeframe.H1, grid).bars
    assert [hhmm(b.ts_event) for b in hours] == [
        "09:15",
        "10:15",
        "11:15",
        "12:15",
        "13:15",
        "14:15",
        "15:15",
    ]
    assert hours[0].high == max(b.high for b in day[:4])


def test_resample_when_2009_file_then_hours_anchor_at_the_0955_regular_open(
    market_bars: MarketBars,
) -> None:
    bars, grid, note = _first_days(market_bars, "nifty_1m_2009.csv", date(2009, 1, 5))
    assert "provisional" in note and "regular hours in force" in note
    day = [b for b in bars if b.trading_date == date(2009, 1, 2)]
    assert [hhmm(b.ts_event) for b in resample(day, Timeframe.H1, grid).bars] == [
        "09:55",
        "10:55",
        "11:55",
        "12:55",
        "13:55",
        "14:55",
    ]


def test_resample_when_target_not_longer_than_source_then_value_error(
    grid_cm: SessionGrid,
) -> None:
    bars = [Bar("X", Timeframe.H1, ist(2024, 1, 2, 9, 15), 1.0, 1.0, 1.0, 1.0)]
    with pytest.raises(ValueError, match="cannot resample 1h bars to 15m"):
        resample(bars, Timeframe.M15, grid_cm)
