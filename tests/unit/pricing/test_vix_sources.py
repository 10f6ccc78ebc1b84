"""India VIX known only after it was published: the daily and the 1-minute sources."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from engine.model.market import to_ns
from engine.pricing.premiums import DailyVixSource, FallbackVix, IntradayVixSource
from engine.timeutil import IST


def ist(y: int, mo: int, d: int, h: int, mi: int, s: int = 0) -> int:
    return to_ns(datetime(y, mo, d, h, mi, s, tzinfo=IST))


@pytest.fixture(scope="module")
def daily(market_dir: Path) -> DailyVixSource:
    return DailyVixSource.from_csv(market_dir / "india_vix_daily_2012_2026.csv")


@pytest.fixture(scope="module")
def intraday(market_dir: Path) -> IntradayVixSource:
    return IntradayVixSource.from_csv(market_dir / "india_vix_1m_2023q2.csv")


def test_daily_when_monday_then_fridays_close(daily: DailyVixSource) -> None:
    # 2023-06-05 is a Monday; the last session before it is Friday 2023-06-02 (close 11.125).
    assert daily.as_of(ist(2023, 6, 5, 9, 15)) == (date(2023, 6, 2), 11.125)
    assert daily.vix_at(ist(2023, 6, 5, 9, 15)) == 11.125


def test_daily_when_after_the_close_of_d_then_still_the_previous_session(
    daily: DailyVixSource,
) -> None:
    # 2023-06-05 closed at 11.1375; on that date the engine still uses 2023-06-02's close.
    assert daily.vix_at(ist(2023, 6, 5, 15, 29, 59)) == 11.125
    assert daily.vix_at(ist(2023, 6, 5, 23, 59)) == 11.125
    assert daily.vix_at(ist(2023, 6, 6, 0, 0)) == 11.1375


def test_daily_when_after_holidays_then_the_last_session_before_them(
    daily: DailyVixSource,
) -> None:
    # 2023-04-07 (Good Friday) was a holiday: on Monday 2023-04-10 the value is Thursday
    # 2023-04-06's close, 11.7975.
    assert daily.as_of(ist(2023, 4, 10, 10, 0)) == (date(2023, 4, 6), 11.7975)
    # 2024-03-02 (a Saturday DR session) has no VIX row: Monday 2024-03-04 uses 2024-03-01.
    assert daily.as_of(ist(2024, 3, 4, 9, 15)) == (date(2024, 3, 1), 15.235)


def test_daily_when_open_is_zero_then_the_close_is_still_used(daily: DailyVixSource) -> None:
    # 2021-02-12 is published with open/high/low 0 and a valid close 23.045.
    assert daily.as_of(ist(2021, 2, 15, 9, 15)) == (date(2021, 2, 12), 23.045)


def test_daily_when_before_the_file_or_after_a_long_hole_then_none(
    daily: DailyVixSource,
) -> None:
    assert daily.vix_at(ist(2012, 1, 2, 10, 0)) is None  # the file starts that day
    assert daily.vix_at(ist(2026, 8, 10, 10, 0)) is None  # 10 days after the file ends


def test_daily_when_rows_unusable_or_repeated_then_skipped_or_refused() -> None:
    source = DailyVixSource([(date(2024, 1, 1), 0.0), (date(2024, 1, 2), 14.5)])
    assert source.skipped == 1 and len(source) == 1
    with pytest.raises(ValueError, match="two daily VIX values for 2024-01-02"):
        DailyVixSource([(date(2024, 1, 2), 14.0), (date(2024, 1, 2), 14.5)])


def test_intraday_when_first_minute_then_no_value_until_the_bar_completes(
    intraday: IntradayVixSource,
) -> None:
    # The 09:15 bar (close 13.26) is complete at 09:16:00; the 09:16 bar (13.31) at 09:17.
    assert intraday.vix_at(ist(2023, 4, 3, 9, 15, 30)) is None
    assert intraday.vix_at(ist(2023, 4, 3, 9, 16)) == 13.26
    assert intraday.vix_at(ist(2023, 4, 3, 9, 16, 59)) == 13.26
    assert intraday.vix_at(ist(2023, 4, 3, 9, 17)) == 13.31


def test_intraday_when_next_morning_then_never_yesterdays_last_bar(
    intraday: IntradayVixSource,
) -> None:
    assert intraday.vix_at(ist(2023, 4, 3, 15, 45)) == 12.50  # the 15:29 bar
    assert intraday.vix_at(ist(2023, 4, 5, 9, 15, 10)) is None
    assert intraday.vix_at(ist(2023, 4, 5, 9, 16)) == 12.74


def test_intraday_when_max_age_then_stale_values_refused() -> None:
    start = ist(2024, 1, 2, 9, 15)
    source = IntradayVixSource([(start, 14.0)], max_age_s=120)
    assert source.vix_at(start + 180 * 10**9) == 14.0  # ended 09:16, asked 09:18
    assert source.vix_at(start + 181 * 10**9) is None


def test_fallback_when_intraday_has_nothing_then_daily(
    intraday: IntradayVixSource, daily: DailyVixSource
) -> None:
    both = FallbackVix(intraday, daily)
    # 2023-04-05 09:15:10: no completed bar yet today; daily gives 2023-04-03's close 12.585.
    assert both.vix_at(ist(2023, 4, 5, 9, 15, 10)) == 12.585
    assert both.vix_at(ist(2023, 4, 5, 9, 16)) == 12.74
