"""Bar validation: each rule, and each real-file quirk the README lists."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pytest

from engine.data.calendar import Calendar
from engine.data.csv_import import BarFile
from engine.data.session_grid import SessionGrid, choose_calendar
from engine.data.validate import BarValidator, ValidationConfig, validate_bars
from engine.model import NANOS, Bar, BarFlagged, BarRejected, DataIssue, Timeframe, to_ns
from engine.timeutil import IST

MarketBars = Callable[[str], BarFile]


def ist(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> int:
    return to_ns(datetime(y, mo, d, h, mi, tzinfo=IST))


@pytest.fixture(scope="module")
def grid_cm() -> SessionGrid:
    return SessionGrid(Calendar.default(), "CM")


def bar(
    o: float,
    h: float,
    lo: float,
    c: float,
    *,
    at: int | None = None,
    v: int = 0,
    tf: Timeframe = Timeframe.M1,
) -> Bar:
    return Bar("NIFTY", tf, ist(2024, 1, 2, 9, 15) if at is None else at, o, h, lo, c, v)


def one(b: Bar, grid: SessionGrid | None = None, **config: object) -> BarValidator:
    v = BarValidator(grid, ValidationConfig(**config))  # type: ignore[arg-type]
    v.check(b)
    return v


# --------------------------------------------------------------------- prices and volume
@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ((0.0, 0.0, 0.0, 27.5), DataIssue.NON_POSITIVE_PRICE),
        ((10.0, 11.0, -1.0, 10.5), DataIssue.NON_POSITIVE_PRICE),
        ((10.0, float("nan"), 9.0, 10.5), DataIssue.NON_POSITIVE_PRICE),
        ((10.0, 10.5, 9.0, 11.0), DataIssue.OHLC_INVALID),  # close above high
        ((10.0, 11.0, 10.2, 10.5), DataIssue.OHLC_INVALID),  # open below low
        ((10.0, 9.0, 10.0, 10.0), DataIssue.OHLC_INVALID),  # high below low
    ],
)
def test_validator_when_prices_impossible_then_rejected_with_reason(
    values: tuple[float, float, float, float], reason: DataIssue
) -> None:
    v = one(bar(*values))
    assert v.rejected == {reason: 1} and v.accepted == 0


def test_validator_when_volume_negative_then_rejected() -> None:
    assert one(bar(10, 11, 9, 10, v=-5)).rejected == {DataIssue.NEGATIVE_VOLUME: 1}


def test_validator_when_ohlc_off_by_one_tick_then_flagged_and_kept() -> None:
    events: list[object] = []
    v = BarValidator(None, on_event=events.append)
    assert v.check(bar(100.05, 100.0, 99.0, 99.5))  # open 0.05 above high
    assert v.flagged == {DataIssue.OHLC_OFF_BY_TICK: 1} and not v.rejected
    assert isinstance(events[0], BarFlagged) and "off by 0.05" in events[0].detail


def test_validator_when_strict_then_off_by_one_tick_is_rejected() -> None:
    v = one(bar(100.05, 100.0, 99.0, 99.5), strict=True)
    assert v.rejected == {DataIssue.OHLC_OFF_BY_TICK: 1} and not v.flagged


def test_validator_when_tolerance_zero_then_off_by_one_tick_is_invalid() -> None:
    v = one(bar(100.05, 100.0, 99.0, 99.5), ohlc_tolerance=0.0)
    assert v.rejected == {DataIssue.OHLC_INVALID: 1}


# --------------------------------------------------------------------- order and session
def test_validator_when_duplicate_or_earlier_then_rejected() -> None:
    events: list[object] = []
    v = BarValidator(None, on_event=events.append)
    t = ist(2024, 1, 2, 9, 16)
    results = [v.check(bar(10, 11, 9, 10, at=x)) for x in (t, t, t - 60 * NANOS, t + 60 * NANOS)]
    assert results == [True, False, False, True]
    assert v.rejected == {DataIssue.DUPLICATE: 1, DataIssue.OUT_OF_ORDER: 1}
    assert [e.reason for e in events if isinstance(e, BarRejected)] == [
        DataIssue.DUPLICATE,
        DataIssue.OUT_OF_ORDER,
    ]


@pytest.mark.parametrize(
    ("at", "reason"),
    [
        (ist(2024, 1, 2, 9, 14), DataIssue.OUTSIDE_SESSION),
        (ist(2024, 1, 2, 15, 30), DataIssue.OUTSIDE_SESSION),
        (ist(2024, 1, 26, 10, 0), DataIssue.OUTSIDE_SESSION),  # Republic Day
        (ist(2024, 1, 6, 10, 0), DataIssue.OUTSIDE_SESSION),  # an ordinary Saturday
        (ist(2024, 3, 2, 10, 30), DataIssue.OUTSIDE_SESSION),  # DR Saturday, between parts
        (ist(2024, 1, 2, 9, 15) + 30 * NANOS, DataIssue.MISALIGNED),
    ],
    ids=["preopen", "close", "holiday", "saturday", "dr-break", "half-minute"],
)
def test_validator_when_bar_not_on_a_session_minute_then_rejected(
    grid_cm: SessionGrid, at: int, reason: DataIssue
) -> None:
    assert one(bar(10, 11, 9, 10, at=at), grid_cm).rejected == {reason: 1}


def test_validator_when_hourly_bar_starts_on_part_grid_then_accepted(grid_cm: SessionGrid) -> None:
    v = BarValidator(grid_cm)
    assert v.check(bar(10, 11, 9, 10, at=ist(2024, 1, 2, 15, 15), tf=Timeframe.H1))
    assert not v.check(bar(10, 11, 9, 10, at=ist(2024, 1, 2, 15, 16), tf=Timeframe.H1))
    assert v.rejected == {DataIssue.MISALIGNED: 1}


def test_validator_when_daily_bar_on_holiday_then_outside_session(grid_cm: SessionGrid) -> None:
    v = BarValidator(grid_cm)
    assert v.check(bar(10, 11, 9, 10, at=ist(2024, 1, 20), tf=Timeframe.D1))  # Saturday session
    assert not v.check(bar(10, 11, 9, 10, at=ist(2024, 1, 22), tf=Timeframe.D1))  # holiday
    assert v.rejected == {DataIssue.OUTSIDE_SESSION: 1}


# --------------------------------------------------------------------- outliers
def _steady_series(n: int, start: int) -> list[Bar]:
    out, p = [], 20000.0
    for i in range(n):
        p += 2.0 if i % 2 else -1.5
        out.append(bar(p, p + 3, p - 3, p + 1, at=start + i * 60 * NANOS))
    return out


def test_validator_when_bad_print_far_outside_band_then_outlier_and_band_unchanged(
    grid_cm: SessionGrid,
) -> None:
    bars = _steady_series(40, ist(2024, 1, 2, 9, 15))
    spike_at = bars[-1].ts_event + 60 * NANOS
    spike = bar(20010, 24000, 20005, 20012, at=spike_at)  # a high 20% off
    after = bar(20010, 20015, 20005, 20012, at=spike_at + 60 * NANOS)
    report = validate_bars([*bars, spike, after], grid_cm)
    assert report.rejected == {DataIssue.OUTLIER: 1}
    assert report.accepted[-1] is after


def test_validator_when_first_bar_of_session_gaps_then_not_an_outlier(grid_cm: SessionGrid) -> None:
    day1 = _steady_series(40, ist(2024, 1, 2, 9, 15))
    gap_open = bar(21000, 21010, 20990, 21005, at=ist(2024, 1, 3, 9, 15))  # +5% overnight
    assert not validate_bars([*day1, gap_open], grid_cm).rejected


def test_validator_when_outliers_off_then_spike_accepted() -> None:
    bars = _steady_series(40, ist(2024, 1, 2, 9, 15))
    spike = bar(20010, 24000, 20005, 20012, at=bars[-1].ts_event + 60 * NANOS)
    assert not validate_bars([*bars, spike], None, ValidationConfig(outlier_sigma=None)).rejected


# --------------------------------------------------------------------- real files
def _validated(market_bars, name: str, **config: object):
    bars = market_bars(name).all_bars
    choice = choose_calendar([b.ts_event for b in bars], bars[0].timeframe.seconds)
    return choice, validate_bars(
        bars, SessionGrid(choice.calendar, "CM"), ValidationConfig(**config)
    )  # type: ignore[arg-type]


def test_validate_when_banknifty_15m_then_678_one_tick_breaks_kept_and_18_larger_rejected(
    market_bars: MarketBars,
) -> None:
    """README: 696 bars break OHLC relations "by a tick". 678 break by exactly 0.05; the
    other 18 (2019-10-07, 2019-12-06, 2021-08-05) by 0.2 to 85 points: those are rejected."""
    _, report = _validated(market_bars, "banknifty_15m_2018_2023.csv")
    assert report.flagged == {DataIssue.OHLC_OFF_BY_TICK: 678}
    assert report.rejected == {DataIssue.OHLC_INVALID: 18}
    rejected_days = {
        datetime.fromtimestamp(e.ts_event / NANOS, IST).date()
        for e in report.events
        if isinstance(e, BarRejected)
    }
    assert rejected_days == {date(2019, 10, 7), date(2019, 12, 6), date(2021, 8, 5)}


def test_validate_when_banknifty_15m_strict_then_all_696_rejected(market_bars: MarketBars) -> None:
    _, report = _validated(market_bars, "banknifty_15m_2018_2023.csv", strict=True)
    assert report.rejected == {DataIssue.OHLC_OFF_BY_TICK: 678, DataIssue.OHLC_INVALID: 18}
    assert report.rejected_total == 696 and not report.flagged


def test_validate_when_nifty_1m_2024_then_only_the_167_bars_after_the_saturday_close_rejected(
    market_bars: MarketBars,
) -> None:
    choice, report = _validated(market_bars, "nifty_1m_2024.csv")
    assert not choice.derived
    assert report.rejected == {DataIssue.OUTSIDE_SESSION: 167} and not report.flagged
    times = [datetime.fromtimestamp(e.ts_event / NANOS, IST) for e in report.events]
    assert {t.date() for t in times} == {date(2024, 1, 20)}
    assert (min(t.time() for t in times).isoformat(), max(t.time() for t in times).isoformat()) == (
        "15:30:00",
        "18:16:00",
    )
    by_day: dict[date, int] = {}
    for b in report.accepted:
        by_day[b.trading_date] = by_day.get(b.trading_date, 0) + 1
    assert by_day[date(2024, 1, 20)] == 375
    assert by_day[date(2024, 3, 2)] == by_day[date(2024, 5, 18)] == 105  # both DR parts kept


def test_validate_when_india_vix_daily_then_zero_prices_and_close_below_low_rejected(
    market_bars: MarketBars,
) -> None:
    _, report = _validated(market_bars, "india_vix_daily_2012_2026.csv")
    assert report.rejected == {DataIssue.NON_POSITIVE_PRICE: 2, DataIssue.OHLC_INVALID: 1}
    days = sorted(datetime.fromtimestamp(e.ts_event / NANOS, IST).date() for e in report.events)
    assert days == [date(2013, 8, 22), date(2021, 2, 12), date(2021, 3, 30)]


@pytest.mark.parametrize(
    "name",
    [
        "banknifty_1m_2024.csv",
        "nifty_1m_2009.csv",
        "india_vix_1m_2023q2.csv",
        "nifty_options_1m_2023-06-05.csv",
    ],
)
def test_validate_when_real_files_then_default_outlier_band_rejects_no_real_bar(
    market_bars: MarketBars, name: str
) -> None:
    """The real moves in these files (the 2009-05-18 circuit, VIX jumps of 4-5% in a
    minute, option premiums) stay inside the default band."""
    bar_file = market_bars(name)
    for bars in bar_file.bars.values():
        choice = choose_calendar([b.ts_event for b in bars], 60)
        report = validate_bars(bars, SessionGrid(choice.calendar, "CM"))
        assert DataIssue.OUTLIER not in report.rejected


def test_validate_when_2023q2_file_checked_with_a_2023_calendar_then_1530_bar_outside(
    market_bars: MarketBars, tmp_path: Path
) -> None:
    """README: the 2023 Q2 files have one more bar at 15:30 on 2023-06-01. The shipped
    calendar starts in 2024, so the commands derive one from the file and accept it; with a
    calendar folder covering the date (ENGINE_CALENDAR_DIR) it is rejected."""
    files = {
        "coverage.csv": "first_date,last_date,source\n2023-06-01,2023-06-01,test\n",
        "holidays.csv": "date,name,segments,source\n",
        "special_sessions.csv": "date,kind,open,close,segments,source\n",
        "regular_hours.csv": "segment,open,close,effective_from,effective_to,source\n"
        "CM,09:15,15:30,,,test\nFO,09:15,15:30,,,test\n",
        "contract_facts.csv": "underlying,field,value,effective_from,effective_to,source\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    grid = SessionGrid(Calendar.from_dir(tmp_path), "CM")
    day = [
        b
        for b in market_bars("banknifty_1m_2023q2.csv").all_bars
        if b.trading_date == date(2023, 6, 1)
    ]
    report = validate_bars(day, grid)
    assert len(day) == 376 and report.rejected == {DataIssue.OUTSIDE_SESSION: 1}
    (event,) = report.events
    assert datetime.fromtimestamp(event.ts_event / NANOS, IST).strftime("%H:%M") == "15:30"
