"""Every indicator against TA-Lib on real NIFTY data: same first index, values within 1e-9.

Tolerance: |ours - talib| <= max(1e-9 * |talib|, 1e-9), i.e. relative 1e-9 with an
absolute floor of 1e-9 (in the indicator's own unit: points of 0..100 for ADX/DI/RSI,
index points for EMA/SMA/ATR/highest/lowest) for values at or near 0.
"""

from __future__ import annotations

import numpy as np
import pytest
import talib

from engine.indicators import (
    IndicatorSpec,
    batch,
    compute_batch,
    make_streaming,
    parse_indicator_spec,
)

REL = 1e-9
ABS_FLOOR = 1e-9

SPECS = [
    "adx(14)",
    "plus_di(14)",
    "minus_di(14)",
    "adx(2)",
    "adx(50)",
    "plus_di(5)",
    "minus_di(30)",
    "rsi(14)",
    "rsi(2)",
    "rsi(high, 30)",
    "ema(9)",
    "ema(close, 21)",
    "ema(1)",
    "ema(200)",
    "sma(20)",
    "sma(open, 50)",
    "sma(1)",
    "atr(14)",
    "atr(1)",
    "atr(100)",
    "highest(20)",
    "lowest(20)",
    "highest(close, 5)",
    "lowest(close, 250)",
]


def talib_reference(spec: IndicatorSpec, arrays: dict[str, np.ndarray]) -> np.ndarray:
    """TA-Lib's function for a spec (MAX/MIN have no period 1: that window is the series)."""
    n = spec.period
    hlc = (arrays["high"], arrays["low"], arrays["close"])
    series = arrays[spec.source] if spec.source else None
    by_name = {
        "adx": lambda: talib.ADX(*hlc, timeperiod=n),
        "plus_di": lambda: talib.PLUS_DI(*hlc, timeperiod=n),
        "minus_di": lambda: talib.MINUS_DI(*hlc, timeperiod=n),
        "atr": lambda: talib.ATR(*hlc, timeperiod=n),
        "rsi": lambda: talib.RSI(series, timeperiod=n),
        "ema": lambda: talib.EMA(series, timeperiod=n),
        "sma": lambda: talib.SMA(series, timeperiod=n),
        "volume_avg": lambda: talib.SMA(series, timeperiod=n),
        "highest": lambda: talib.MAX(series, timeperiod=n) if n > 1 else series.copy(),
        "lowest": lambda: talib.MIN(series, timeperiod=n) if n > 1 else series.copy(),
    }
    return by_name[spec.name]()


def arrays_of(series) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    return {
        "open": series.open,
        "high": series.high,
        "low": series.low,
        "close": series.close,
        "volume": series.volume,
    }


def assert_matches_talib(ours: np.ndarray, ref: np.ndarray, what: str) -> None:
    """Same NaN positions, and every value within REL relative (ABS_FLOOR absolute)."""
    assert ours.shape == ref.shape, what
    ours_nan, ref_nan = np.isnan(ours), np.isnan(ref)
    if not np.array_equal(ours_nan, ref_nan):
        index = int(np.argmax(ours_nan != ref_nan))
        raise AssertionError(
            f"{what}: NaN layout differs at index {index}: {ours[index]} vs {ref[index]}"
        )
    diff = np.abs(ours - ref)
    limit = np.maximum(REL * np.abs(ref), ABS_FLOOR)
    bad = ~ref_nan & (diff > limit)
    if bad.any():
        index = int(np.argmax(bad))
        raise AssertionError(f"{what}: index {index}: ours {ours[index]!r}, TA-Lib {ref[index]!r}")


def first_valid(values: np.ndarray) -> int:
    finite = ~np.isnan(values)
    return int(np.argmax(finite)) if finite.any() else -1


def stream(spec: IndicatorSpec, series) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Feed the streaming form bar by bar; NaN where it is not ready (it says None)."""
    indicator = make_streaming(spec)
    out = np.empty(len(series))
    for i, bar in enumerate(series.bars()):
        indicator.update(*bar)
        value = indicator.value
        assert (value is None) == (not indicator.ready)
        out[i] = np.nan if value is None else value
    return out


def test_talib_when_imported_then_in_its_default_compatibility_mode():
    # 0 = TA_COMPATIBILITY_DEFAULT (EMA seeded with an SMA; RSI without Metastock's extra bar).
    assert talib.get_compatibility() == 0


@pytest.mark.parametrize("text", SPECS)
def test_batch_when_real_series_then_matches_talib_from_its_first_value(text, real_series):
    spec = parse_indicator_spec(text)
    arrays = arrays_of(real_series)
    ours = compute_batch(spec, **{f"{k}s": v for k, v in arrays.items()})
    ref = talib_reference(spec, arrays)
    assert first_valid(ours) == first_valid(ref) == spec.lookback
    assert_matches_talib(ours, ref, f"{text} on {real_series.name}")


@pytest.mark.parametrize("text", SPECS)
def test_streaming_when_real_series_then_matches_talib_and_is_missing_during_warmup(
    text, real_series
):
    spec = parse_indicator_spec(text)
    ours = stream(spec, real_series)
    ref = talib_reference(spec, arrays_of(real_series))
    assert first_valid(ours) == spec.lookback == spec.warmup - 1
    assert_matches_talib(ours, ref, f"streaming {text} on {real_series.name}")


@pytest.mark.parametrize("text", ["adx(14)", "plus_di(14)", "minus_di(14)", "rsi(14)", "atr(14)"])
def test_streaming_when_all_of_2024_1m_then_matches_talib(text, nifty_1m):
    spec = parse_indicator_spec(text)
    ours = stream(spec, nifty_1m)
    assert_matches_talib(ours, talib_reference(spec, arrays_of(nifty_1m)), f"1m {text}")


def test_batch_adx_when_100k_real_1m_bars_then_matches_talib(read_market):
    # The benchmark's array: NIFTY 1m 2009 followed by 2024, first 100,000 real bars; long
    # enough to cross many blocks and steps of the vectorised smoothing.
    parts = [read_market("nifty_1m_2009.csv"), read_market("nifty_1m_2024.csv")]
    high, low, close = (
        np.concatenate([getattr(p, field) for p in parts])[:100_000]
        for field in ("high", "low", "close")
    )
    for period in (14, 2, 200):
        result = batch.dmi(high, low, close, period)
        assert_matches_talib(result.adx, talib.ADX(high, low, close, period), f"adx({period})")
        assert_matches_talib(result.plus_di, talib.PLUS_DI(high, low, close, period), "+di")
        assert_matches_talib(result.minus_di, talib.MINUS_DI(high, low, close, period), "-di")
    assert_matches_talib(batch.rsi(close, 14), talib.RSI(close, 14), "rsi(14)")
    assert_matches_talib(batch.ema(close, 9), talib.EMA(close, 9), "ema(9)")
    assert_matches_talib(batch.atr(high, low, close, 14), talib.ATR(high, low, close, 14), "atr")
    assert_matches_talib(batch.sma(close, 20), talib.SMA(close, 20), "sma(20)")


@pytest.mark.parametrize("text", ["sma(volume, 20)", "volume_avg(20)", "volume_avg(5)"])
def test_volume_average_when_real_option_volumes_then_matches_talib_sma(text, option_volumes):
    # Index files carry no volume (all 0); the option file's volumes are real traded volumes.
    spec = parse_indicator_spec(text)
    for volumes in option_volumes:
        ours = compute_batch(spec, volumes=volumes)
        assert_matches_talib(ours, talib.SMA(volumes, spec.period), text)
        streamed = make_streaming(spec)
        for i, volume in enumerate(volumes.tolist()):
            streamed.update(0.0, 0.0, 0.0, 0.0, volume)
            expected = ours[i]
            assert (streamed.value is None) == np.isnan(expected)
            if streamed.value is not None:
                assert streamed.value == expected


def test_volume_average_when_index_volume_is_zero_then_value_is_zero(nifty_5m):
    ours = compute_batch("volume_avg(20)", volumes=nifty_5m.volume)
    assert np.all(ours[19:] == 0.0)
    assert np.all(np.isnan(ours[:19]))
