"""The market-data value types: timeframes, ticks, bars and time conversions."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from engine.model import (
    NANOS,
    Bar,
    Tick,
    Timeframe,
    ist_date_of,
    make_bar,
    ns_to_datetime,
    to_ns,
)
from engine.timeutil import IST


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1m", Timeframe.M1),
        ("5min", Timeframe.M5),
        ("15m", Timeframe.M15),
        ("60m", Timeframe.H1),
        ("1H", Timeframe.H1),
        ("daily", Timeframe.D1),
        ("1d", Timeframe.D1),
    ],
)
def test_timeframe_parse_when_alias_then_enum(text: str, expected: Timeframe) -> None:
    assert Timeframe.parse(text) is expected


def test_timeframe_parse_when_unknown_then_value_error_lists_choices() -> None:
    with pytest.raises(ValueError, match="'2m' is not a timeframe; expected one of 1m, 5m"):
        Timeframe.parse("2m")


def test_timeframe_when_asked_then_seconds_and_context_names() -> None:
    assert [tf.seconds for tf in Timeframe] == [60, 300, 900, 3600, 86400]
    assert [tf.context_name for tf in Timeframe] == ["m1", "m5", "m15", "h1", "daily"]
    assert not Timeframe.D1.is_intraday and Timeframe.H1.is_intraday


def test_to_ns_when_ist_datetime_then_utc_epoch_nanoseconds() -> None:
    ts = datetime(2024, 1, 1, 9, 15, tzinfo=IST)
    assert to_ns(ts) == 1_704_080_700 * NANOS
    assert ns_to_datetime(to_ns(ts)) == ts
    assert ns_to_datetime(to_ns(ts), IST).isoformat() == "2024-01-01T09:15:00+05:30"


def test_to_ns_when_naive_then_refused() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        to_ns(datetime(2024, 1, 1, 9, 15))  # noqa: DTZ001


def test_ist_date_of_when_just_after_ist_midnight_then_ist_date_not_utc_date() -> None:
    ts = to_ns(datetime(2024, 1, 1, 0, 5, tzinfo=IST))  # 2023-12-31 18:35 UTC
    assert ns_to_datetime(ts).date() == date(2023, 12, 31)
    assert ist_date_of(ts) == date(2024, 1, 1)


def test_tick_when_exchange_time_known_then_event_time_and_skew_use_it() -> None:
    tick = Tick("NIFTY", 21700.0, ts_init=1_000_500, ts_exchange=1_000_000)
    assert tick.ts_event == 1_000_000
    assert tick.skew_ns == 500


def test_tick_when_no_exchange_time_then_local_time_and_no_skew() -> None:
    tick = Tick("NIFTY", 21700.0, ts_init=1_000_500)
    assert tick.ts_event == 1_000_500
    assert tick.skew_ns is None


def test_bar_when_daily_label_then_trading_date_is_ist_date() -> None:
    label = to_ns(datetime(2024, 3, 2, tzinfo=IST))
    bar = Bar("NIFTY", Timeframe.D1, label, 1.0, 2.0, 0.5, 1.5)
    assert bar.trading_date == date(2024, 3, 2)
    assert bar.start == datetime(2024, 3, 1, 18, 30, tzinfo=UTC)
    assert bar.start_ist.isoformat() == "2024-03-02T00:00:00+05:30"


def test_make_bar_when_built_fast_then_equal_and_still_frozen() -> None:
    args = ("NIFTY", Timeframe.M1, 5 * NANOS, 1.0, 2.0, 0.5, 1.5, 7, 10, True, 3)
    fast = make_bar(*args)
    assert fast == Bar(*args)
    assert hash(fast) == hash(Bar(*args))
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.close = 3.0  # type: ignore[misc]
