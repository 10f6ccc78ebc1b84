"""The live context on real data: declared indicators equal TA-Lib, warm-up is a reasoned
Missing, .prev is one bar back, change windows are exact, every name always present."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest
import talib

from engine.context import LiveContext, rule_vocabulary
from engine.expr import compile_expr, is_missing
from engine.model import Bar, Timeframe, to_ns
from engine.timeutil import IST


def daily_bars(market_dir: Path, limit: int = 400) -> list[Bar]:
    out = []
    with (market_dir / "nifty_daily_2005_2026.csv").open() as f:
        for row in list(csv.DictReader(f))[:limit]:
            d = date.fromisoformat(row["date"])
            ts = to_ns(datetime(d.year, d.month, d.day, tzinfo=IST))
            out.append(
                Bar(
                    "NIFTY",
                    Timeframe.D1,
                    ts,
                    float(row["open"]),
                    float(row["high"]),
                    float(row["low"]),
                    float(row["close"]),
                    0,
                )
            )
    return out


INDICATORS = {"daily": {"adx": "adx(14)", "plus_di": "plus_di(14)", "rsi": "rsi(14)", "hi": "high"}}


def make_context() -> LiveContext:
    return LiveContext(rule_vocabulary(INDICATORS, {"adx_min": 25}), INDICATORS, {"adx_min": 25})


def test_context_when_fed_real_daily_bars_then_indicators_equal_talib(market_dir) -> None:
    bars = daily_bars(market_dir)
    ctx = make_context()
    highs = np.array([b.high for b in bars])
    lows = np.array([b.low for b in bars])
    closes = np.array([b.close for b in bars])
    adx = talib.ADX(highs, lows, closes, 14)
    rsi = talib.RSI(closes, 14)
    for i, bar in enumerate(bars):
        ctx.on_bar("daily", bar)
        v = ctx.values
        if np.isnan(adx[i]):
            assert is_missing(v["daily.adx"])
        else:
            assert v["daily.adx"] == pytest.approx(adx[i], rel=1e-9)
        if not np.isnan(rsi[i]):
            assert v["daily.rsi"] == pytest.approx(rsi[i], rel=1e-9)
        assert v["daily.hi"] == bar.high and v["daily.close"] == bar.close
        if i:
            assert v["daily.prev.close"] == bars[i - 1].close
            assert v["daily.prev.hi"] == bars[i - 1].high


def test_context_when_warming_up_then_missing_says_how_far(market_dir) -> None:
    ctx = make_context()
    for bar in daily_bars(market_dir, 9):
        ctx.on_bar("daily", bar)
    adx = ctx.values["daily.adx"]
    assert is_missing(adx) and adx.reason == "daily.adx not ready (9 of 28 bars)"
    trace = compile_expr("daily.adx >= params.adx_min", ctx.vocabulary).trace(ctx.values)
    assert is_missing(trace.value)
    assert trace.root.note == "daily.adx is missing: daily.adx not ready (9 of 28 bars)"


def test_context_when_created_then_every_vocabulary_name_has_a_value() -> None:
    ctx = make_context()
    assert set(ctx.values) == set(ctx.vocabulary)
    assert ctx.values["params.adx_min"] == 25
    # every expression over the vocabulary evaluates without KeyError before any data
    for name, info in ctx.vocabulary.items():
        if info.type.value == "number" and not name.startswith("params."):
            assert is_missing(compile_expr(f"{name} > 0", ctx.vocabulary).evaluate(ctx.values))


def test_context_when_undeclared_timeframe_bar_then_ignored(market_dir) -> None:
    ctx = make_context()
    ctx.on_bar("h1", daily_bars(market_dir, 1)[0])
    assert "h1.close" not in ctx.values


def test_context_when_real_vix_minutes_then_change_windows_exact(market_dir) -> None:
    with (market_dir / "india_vix_1m_2023q2.csv").open() as f:
        rows = list(csv.DictReader(f))[:60]
    ctx = make_context()
    closes = [float(r["close"]) for r in rows]
    for i, row in enumerate(rows):
        ts = to_ns(datetime.fromisoformat(row["ts"]))
        ctx.on_vix(ts, closes[i])
        change_5m, change_10m = ctx.values["vix_change_5m"], ctx.values["vix_change_10m"]
        if i < 5:
            assert is_missing(change_5m)
        else:
            assert change_5m == pytest.approx(closes[i] - closes[i - 5])
        if i >= 10:
            assert change_10m == pytest.approx(closes[i] - closes[i - 10])


def test_context_when_clock_set_then_time_date_weekday_in_ist() -> None:
    ctx = make_context()
    ctx.on_clock(to_ns(datetime(2024, 1, 1, 4, 35, 10, tzinfo=IST).astimezone(IST)))
    assert str(ctx.values["time"]) == "04:35:10"
    assert ctx.values["date"] == date(2024, 1, 1) and ctx.values["weekday"] == "Mon"


def test_context_when_calendar_given_then_dte_and_session_minutes(market_dir) -> None:
    from engine.data.calendar import Calendar

    ctx = LiveContext(rule_vocabulary(INDICATORS), INDICATORS, calendar=Calendar.default())
    ctx.on_clock(to_ns(datetime(2026, 11, 23, 15, 35, tzinfo=IST)))
    assert ctx.values["minutes_to_close"] == 5.0  # the 15:40 close from 2026-08-03
    assert ctx.values["minutes_since_open"] == 380.0
    # Tuesday 2026-11-24 is a holiday (Guru Nanak Jayanti): the November monthly NIFTY
    # expiry moves back to Monday 2026-11-23, so today is expiry day.
    assert ctx.values["dte"] == 0
    assert ctx.values["dte_days"] == 0
    ctx.on_clock(to_ns(datetime(2026, 11, 25, 10, 0, tzinfo=IST)))
    assert ctx.values["dte"] == 4  # next Tuesday, 2026-12-01: 26, 27, 30 Nov and 1 Dec
    assert ctx.values["dte_days"] == 6


def test_context_when_set_unknown_name_then_key_error() -> None:
    with pytest.raises(KeyError):
        make_context().set("position.pnl_pctt", 1.0)


def test_crossing_when_run_on_real_daily_bars_then_matches_numpy(market_dir) -> None:
    indicators = {"daily": {"ema9": "ema(9)", "ema21": "ema(21)"}}
    ctx = LiveContext(rule_vocabulary(indicators), indicators)
    expr = compile_expr("crosses_above(daily.ema9, daily.ema21)", ctx.vocabulary)
    bars = daily_bars(market_dir, 1500)
    closes = np.array([b.close for b in bars])
    fast, slow = talib.EMA(closes, 9), talib.EMA(closes, 21)
    fired = []
    for bar in bars:
        ctx.on_bar("daily", bar)
        fired.append(expr.evaluate(ctx.values) is True)  # missing while warming up
    expected = [False] + [
        bool(fast[i - 1] <= slow[i - 1] and fast[i] > slow[i]) for i in range(1, len(bars))
    ]
    assert fired == expected
    assert sum(fired) > 10  # real golden crosses happened in these six years
