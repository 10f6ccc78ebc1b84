"""Rule views on real data: declared indicators equal TA-Lib, warm-up is a reasoned Missing,
.prev is one bar back, change windows are exact, every name always present, no look-ahead."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest
import talib

from engine.context import ChangeWindow, Context, LookAheadError, RuleView
from engine.expr import compile_expr, is_missing
from engine.model import Bar, Timeframe, to_ns
from engine.timeutil import IST
from engine.vocabulary import rule_vocabulary


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
READS = {
    "daily.adx", "daily.rsi", "daily.hi", "daily.close", "daily.prev.close", "daily.prev.hi",
    "daily.plus_di", "params.adx_min",
}  # fmt: skip
D1 = Timeframe.D1


def make_view(reads: set[str] = READS, now: int | None = None) -> RuleView:
    vocab = rule_vocabulary(INDICATORS, {"adx_min": 25})
    clock = (lambda: now) if now is not None else None
    return RuleView(vocab, INDICATORS, {"adx_min": 25}, reads, now=clock)


def test_view_when_fed_real_daily_bars_then_indicators_equal_talib(market_dir) -> None:
    bars = daily_bars(market_dir)
    view = make_view()
    highs = np.array([b.high for b in bars])
    lows = np.array([b.low for b in bars])
    closes = np.array([b.close for b in bars])
    adx = talib.ADX(highs, lows, closes, 14)
    rsi = talib.RSI(closes, 14)
    for i, bar in enumerate(bars):
        view.on_bar(D1, bar, bar.ts_event)
        v = view.values
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


def test_view_when_warming_up_then_missing_says_how_far(market_dir) -> None:
    view = make_view()
    for bar in daily_bars(market_dir, 9):
        view.on_bar(D1, bar, bar.ts_event)
    adx = view.values["daily.adx"]
    assert is_missing(adx) and adx.reason == "daily.adx not ready (9 of 28 bars)"
    trace = compile_expr("daily.adx >= params.adx_min", view.vocabulary).trace(view.values)
    assert trace.value is not True
    assert trace.root.note == "daily.adx is missing: daily.adx not ready (9 of 28 bars)"


def test_view_when_created_then_every_vocabulary_name_has_a_value() -> None:
    view = make_view()
    assert set(view.values) == set(view.vocabulary)
    assert view.values["params.adx_min"] == 25
    # every expression over the vocabulary evaluates without KeyError before any data
    for name, info in view.vocabulary.items():
        if info.type.value == "number" and not name.startswith("params."):
            assert compile_expr(f"{name} > 0", view.vocabulary).evaluate(view.values) is not True


def test_view_when_names_not_read_then_not_written(market_dir) -> None:
    view = make_view({"daily.adx"})
    bar = daily_bars(market_dir, 1)[0]
    view.on_bar(D1, bar, bar.ts_event)
    assert is_missing(view.values["daily.close"])  # nobody reads it: never computed
    view.on_bar(Timeframe.H1, bar, bar.ts_event)  # an undeclared timeframe is ignored
    assert "h1.close" not in view.values


def test_view_when_bar_offered_before_it_closed_then_look_ahead_error(market_dir) -> None:
    bar = daily_bars(market_dir, 1)[0]
    view = make_view(now=bar.ts_event)
    with pytest.raises(LookAheadError):
        view.on_bar(D1, bar, bar.ts_event + 1)


def test_change_window_when_real_vix_minutes_then_exact(market_dir) -> None:
    with (market_dir / "india_vix_1m_2023q2.csv").open() as f:
        rows = list(csv.DictReader(f))[:60]
    five, ten = ChangeWindow(5, "vix_change_5m"), ChangeWindow(10, "vix_change_10m")
    closes = [float(r["close"]) for r in rows]
    for i, row in enumerate(rows):
        ts = to_ns(datetime.fromisoformat(row["ts"]))
        change_5m, change_10m = five.push(ts, closes[i]), ten.push(ts, closes[i])
        if i < 5:
            assert is_missing(change_5m)
        else:
            assert change_5m == pytest.approx(closes[i] - closes[i - 5])
        if i >= 10:
            assert change_10m == pytest.approx(closes[i] - closes[i - 10])


def test_context_when_fact_set_then_readers_get_it_and_watchers_are_touched() -> None:
    touched: list[str] = []
    ctx = Context()
    view = make_view({"vix", "daily.adx"})
    ctx.add_view(view)
    ctx.watch({"vix"}, lambda name: touched.append(name) or True)
    ctx.set("vix", 14.5)
    assert view.values["vix"] == 14.5 and ctx.facts["vix"] == 14.5
    assert touched == ["vix"] and ctx.touched
    ctx.touched = False
    ctx.set("vix", 14.5)  # unchanged: nobody needs to look again
    assert touched == ["vix"] and not ctx.touched
    assert ctx.needs("vix") and not ctx.needs("minutes_to_close")


def test_view_when_set_unknown_name_then_key_error() -> None:
    with pytest.raises(KeyError):
        make_view().set("position.pnl_pctt", 1.0)


def test_crossing_when_run_on_real_daily_bars_then_matches_numpy(market_dir) -> None:
    indicators = {"daily": {"ema9": "ema(9)", "ema21": "ema(21)"}}
    vocab = rule_vocabulary(indicators)
    expr = compile_expr("crosses_above(daily.ema9, daily.ema21)", vocab)
    view = RuleView(vocab, indicators, None, expr.names)
    bars = daily_bars(market_dir, 1500)
    closes = np.array([b.close for b in bars])
    fast, slow = talib.EMA(closes, 9), talib.EMA(closes, 21)
    fired = []
    for bar in bars:
        view.on_bar(D1, bar, bar.ts_event)
        fired.append(expr.evaluate(view.values) is True)
    expected = [False] + [
        bool(fast[i - 1] <= slow[i - 1] and fast[i] > slow[i]) for i in range(1, len(bars))
    ]
    assert fired == expected
