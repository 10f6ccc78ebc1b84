"""Hypothesis: on any valid OHLC series, batch equals TA-Lib and streaming equals batch.

The bars are built the way real ones go wrong for indicators: flat bars (all four prices
equal), exact repeats of the previous bar, gaps (jumps of up to 2,000 ticks), inside bars,
long flat runs, and lengths on both sides of each warm-up boundary. Prices are whole ticks
of 0.05 (like NSE index prints), with high >= max(open, close) and low <= min(open, close).

Tolerances: against TA-Lib relative 1e-9 with an absolute floor of 1e-9 (the same as the
real-data tests); streaming against batch relative 1e-12 with an absolute floor of 1e-10.
"""

from __future__ import annotations

import numpy as np
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.indicators import IndicatorSet, compute_batch_set, make_streaming

TICK = 0.05


@st.composite
def ohlc_series(draw: st.DrawFn, max_bars: int = 90) -> tuple[np.ndarray, ...]:
    """(open, high, low, close, volume) arrays of a valid, adversarial bar series.

    Each bar is one drawn integer whose bit fields choose its kind and sizes (one draw per
    bar keeps generation fast; a code of 0 is a flat bar, so shrinking heads for flat runs).
    """
    codes = draw(st.lists(st.integers(0, 2**48 - 1), max_size=max_bars))
    price = draw(st.integers(2_000, 400_000))  # in ticks: 100.00 .. 20,000.00
    bars: list[tuple[int, int, int, int, int]] = []
    for code in codes:
        kind, bits = code % 6, code // 6
        field = [(bits >> shift) & 0xFFF for shift in (0, 12, 24, 36)]
        if kind == 1 and bars:  # an exact repeat of the previous bar
            bars.append(bars[-1])
            continue
        if kind == 4:  # a gap of up to 2,000 ticks either way
            price = max(40, price + field[3] % 4001 - 2000)
        if kind == 0:  # flat: open = high = low = close
            bars.append((price, price, price, price, 0))
            continue
        if kind == 5 and bars:  # inside the previous bar (or equal to its range)
            _, high, low, _, _ = bars[-1]
            open_ = low + field[0] % (high - low + 1)
            close = low + field[1] % (high - low + 1)
        else:
            open_ = price
            close = max(20, open_ + field[0] % 121 - 60)
        high = max(open_, close) + (field[2] % 31 if kind != 5 else 0)
        low = max(1, min(open_, close) - (field[3] % 31 if kind != 5 else 0))
        bars.append((open_, high, low, close, field[1] % 5_001))
        price = close
    table = np.array(bars, dtype=np.float64).reshape(-1, 5)
    prices = table[:, :4] * TICK
    return prices[:, 0], prices[:, 1], prices[:, 2], prices[:, 3], table[:, 4] * 25.0


periods = st.integers(2, 20)


def talib_values(name: str, period: int, *ohlcv: np.ndarray) -> np.ndarray:
    _, h, low, c, v = ohlcv
    return {
        "adx": lambda: talib.ADX(h, low, c, period),
        "plus_di": lambda: talib.PLUS_DI(h, low, c, period),
        "minus_di": lambda: talib.MINUS_DI(h, low, c, period),
        "rsi": lambda: talib.RSI(c, period),
        "ema": lambda: talib.EMA(c, period),
        "sma": lambda: talib.SMA(c, period),
        "atr": lambda: talib.ATR(h, low, c, period),
        "volume_avg": lambda: talib.SMA(v, period),
        "highest": lambda: talib.MAX(h, period),
        "lowest": lambda: talib.MIN(low, period),
    }[name]()


def specs_for(period: int) -> dict[str, str]:
    names = ["adx", "plus_di", "minus_di", "rsi", "ema", "sma", "atr", "volume_avg"]
    return {name: f"{name}({period})" for name in names + ["highest", "lowest"]}


def assert_close(ours: np.ndarray, ref: np.ndarray, rel: float, floor: float, what: str) -> None:
    assert np.array_equal(np.isnan(ours), np.isnan(ref)), f"{what}: NaN layout differs"
    finite = ~np.isnan(ref)
    diff = np.abs(ours[finite] - ref[finite])
    limit = np.maximum(rel * np.abs(ref[finite]), floor)
    assert np.all(diff <= limit), f"{what}: worst {np.max(diff - limit)} over the limit"


@settings(max_examples=200, deadline=None)
@given(series=ohlc_series(), period=periods)
def test_batch_when_any_valid_ohlc_series_then_equals_talib(series, period):
    o, h, low, c, v = series
    if len(c) == 0:
        return  # TA-Lib refuses empty input; ours returns empty arrays (tested elsewhere)
    ours = compute_batch_set(specs_for(period), o, h, low, c, v)
    for name, values in ours.items():
        ref = talib_values(name, period, o, h, low, c, v)
        assert_close(values, ref, 1e-9, 1e-9, f"{name}({period}) over {len(c)} bars")


@settings(max_examples=200, deadline=None)
@given(series=ohlc_series(), period=periods)
def test_streaming_when_any_valid_ohlc_series_then_equals_batch_bar_by_bar(series, period):
    o, h, low, c, v = series
    specs = specs_for(period)
    expected = compute_batch_set(specs, o, h, low, c, v)
    indicators = IndicatorSet.from_specs(specs)
    rows = zip(o.tolist(), h.tolist(), low.tolist(), c.tolist(), v.tolist(), strict=True)
    streamed: dict[str, list[float]] = {name: [] for name in specs}
    for bar in rows:
        indicators.update(*bar)
        for name, value in indicators.values().items():
            streamed[name].append(np.nan if value is None else value)
    for name in specs:
        got = np.array(streamed[name], dtype=np.float64)
        assert_close(got, expected[name], 1e-12, 1e-10, f"streaming {name}({period})")


@settings(max_examples=100, deadline=None)
@given(series=ohlc_series(max_bars=60), period=periods, offset=st.integers(-1, 1))
def test_readiness_when_length_is_near_the_warmup_then_ready_exactly_at_warmup(
    series, period, offset
):
    o, h, low, c, v = series
    for text in (f"adx({period})", f"plus_di({period})", f"rsi({period})", f"ema({period})"):
        indicator = make_streaming(text)
        bars = max(0, min(len(c), indicator.warmup + offset))
        for i in range(bars):
            indicator.update(o[i], h[i], low[i], c[i], v[i])
        assert indicator.count == bars
        assert indicator.ready is (bars >= indicator.warmup)
