"""Indicator speed on real NIFTY 1-minute bars (run: pytest benchmarks/bench_indicators.py
--benchmark-only).

- streaming ADX/DI: one ``DirectionalMovement.update`` per bar over all 58,127 bars of
  nifty_1m_2024.csv; the figure that matters is the time per bar (budget: 2 us).
- batch ADX over 100,000 bars: nifty_1m_2009.csv followed by nifty_1m_2024.csv, the first
  100,000 real bars (budget: 20 ms), and TA-Lib's ``talib.ADX`` on the same arrays.
- a rule timeframe's IndicatorSet (adx/plus_di/minus_di/rsi/ema) per bar, and batch
  RSI/EMA/ATR next to TA-Lib, for context.

Per-bar figures are in each benchmark's ``extra_info`` (``--benchmark-json`` keeps them).
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import talib

from engine.indicators import DirectionalMovement, IndicatorSet, batch

MARKET = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "market"


@cache
def _columns(name: str) -> dict[str, np.ndarray]:
    with (MARKET / name).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {
        key: np.array([float(row[key]) for row in rows])
        for key in ("open", "high", "low", "close", "volume")
    }


def _bars_2024() -> list[tuple[float, ...]]:
    cols = _columns("nifty_1m_2024.csv")
    keys = ("open", "high", "low", "close", "volume")
    return list(zip(*(cols[key].tolist() for key in keys), strict=True))


def _hlc_100k() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    parts = [_columns("nifty_1m_2009.csv"), _columns("nifty_1m_2024.csv")]
    joined = [np.concatenate([p[key] for p in parts])[:100_000] for key in ("high", "low", "close")]
    assert joined[0].shape == (100_000,)
    return joined[0], joined[1], joined[2]


def test_streaming_adx_update_per_bar(benchmark: pytest.FixtureRequest) -> None:
    bars = [(h, lo, c) for _, h, lo, c, _ in _bars_2024()]

    def run() -> DirectionalMovement:
        indicator = DirectionalMovement(14)
        update = indicator.update
        for high, low, close in bars:
            update(high, low, close)
        return indicator

    result = benchmark.pedantic(run, rounds=7, iterations=1, warmup_rounds=1)
    assert result.adx is not None
    per_bar_us = benchmark.stats.stats.min / len(bars) * 1e6
    benchmark.extra_info.update(bars=len(bars), min_us_per_bar=round(per_bar_us, 3))


def test_indicator_set_update_per_bar(benchmark: pytest.FixtureRequest) -> None:
    bars = _bars_2024()
    specs = {
        "adx": "adx(14)",
        "plus_di": "plus_di(14)",
        "minus_di": "minus_di(14)",
        "rsi": "rsi(14)",
        "ema9": "ema(9)",
    }

    def run() -> IndicatorSet:
        indicators = IndicatorSet.from_specs(specs)
        update = indicators.update
        for bar in bars:
            update(*bar)
        return indicators

    result = benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)
    assert result.value("adx") is not None
    per_bar_us = benchmark.stats.stats.min / len(bars) * 1e6
    benchmark.extra_info.update(bars=len(bars), min_us_per_bar=round(per_bar_us, 3))


def test_batch_adx_100k_bars(benchmark: pytest.FixtureRequest) -> None:
    high, low, close = _hlc_100k()
    result = benchmark.pedantic(
        batch.dmi, args=(high, low, close, 14), rounds=30, iterations=1, warmup_rounds=2
    )
    np.testing.assert_allclose(result.adx, talib.ADX(high, low, close, 14), rtol=1e-9)
    benchmark.extra_info.update(bars=len(high))


def test_talib_adx_100k_bars(benchmark: pytest.FixtureRequest) -> None:
    high, low, close = _hlc_100k()
    benchmark.pedantic(talib.ADX, args=(high, low, close, 14), rounds=30, iterations=1)
    benchmark.extra_info.update(bars=len(high))


@pytest.mark.parametrize("name", ["rsi", "ema", "atr"])
def test_batch_other_100k_bars(benchmark: pytest.FixtureRequest, name: str) -> None:
    high, low, close = _hlc_100k()
    calls = {
        "rsi": (batch.rsi, (close, 14)),
        "ema": (batch.ema, (close, 9)),
        "atr": (batch.atr, (high, low, close, 14)),
    }
    function, args = calls[name]
    benchmark.pedantic(function, args=args, rounds=20, iterations=1, warmup_rounds=1)


@pytest.mark.parametrize("name", ["RSI", "EMA", "ATR"])
def test_talib_other_100k_bars(benchmark: pytest.FixtureRequest, name: str) -> None:
    high, low, close = _hlc_100k()
    args = {"RSI": (close, 14), "EMA": (close, 9), "ATR": (high, low, close, 14)}[name]
    benchmark.pedantic(getattr(talib, name), args=args, rounds=20, iterations=1)
