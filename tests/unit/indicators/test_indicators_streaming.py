"""Streaming indicators: warm-up bookkeeping, reset, edge cases, and equality with batch."""

from __future__ import annotations

import numpy as np
import pytest
import talib

from engine.indicators import (
    Adx,
    Atr,
    DirectionalMovement,
    Ema,
    Highest,
    HlcIndicator,
    Lowest,
    MinusDi,
    PlusDi,
    Rsi,
    SeriesIndicator,
    Sma,
    StreamingIndicator,
    batch,
    warming_up_text,
)

SERIES_CLASSES = [(Sma, 1), (Ema, 1), (Rsi, 2), (Highest, 1), (Lowest, 1)]
HLC_CLASSES = [(Adx, 2), (PlusDi, 2), (MinusDi, 2), (Atr, 1)]
EXPECTED_WARMUP = {Sma: 0, Ema: 0, Rsi: 1, Highest: 0, Lowest: 0, PlusDi: 1, MinusDi: 1, Atr: 1}


def expected_warmup(cls: type, period: int) -> int:
    return 2 * period if cls is Adx else period + EXPECTED_WARMUP[cls]


def feed(indicator, bar) -> None:  # type: ignore[no-untyped-def]
    _, high, low, close, _ = bar
    if isinstance(indicator, DirectionalMovement | Atr):
        indicator.update(high, low, close)
    else:
        indicator.update(close)


@pytest.mark.parametrize(("cls", "_min"), SERIES_CLASSES + HLC_CLASSES)
@pytest.mark.parametrize("period", [2, 3, 14])
def test_indicator_when_fed_up_to_warmup_then_ready_exactly_at_warmup(
    cls, _min, period, nifty_daily
):
    indicator = cls(period)
    assert isinstance(indicator, StreamingIndicator)
    assert indicator.warmup == expected_warmup(cls, period)
    for i, bar in enumerate(nifty_daily.bars()[: indicator.warmup + 2]):
        assert indicator.count == i
        assert indicator.ready is (i >= indicator.warmup)
        feed(indicator, bar)
    assert indicator.ready and isinstance(indicator.value, float)


@pytest.mark.parametrize(("cls", "minimum"), SERIES_CLASSES + HLC_CLASSES)
def test_indicator_when_period_out_of_bounds_then_value_error(cls, minimum):
    for bad in (minimum - 1, 1001, 2.5, True, "14"):
        with pytest.raises(ValueError, match="period"):
            cls(bad)
    assert cls(minimum).period == minimum


@pytest.mark.parametrize(("cls", "_min"), SERIES_CLASSES + HLC_CLASSES)
def test_indicator_when_reset_then_starts_over_and_repeats_its_numbers(cls, _min, nifty_daily):
    indicator = cls(5)
    bars = nifty_daily.bars()[:40]
    first = []
    for bar in bars:
        feed(indicator, bar)
        first.append(indicator.value)
    indicator.reset()
    assert indicator.count == 0 and indicator.value is None and not indicator.ready
    again = []
    for bar in bars:
        feed(indicator, bar)
        again.append(indicator.value)
    assert again == first


def test_protocols_when_checked_then_series_and_hlc_kinds_are_recognised():
    assert isinstance(Sma(3), SeriesIndicator)
    assert isinstance(Highest(3), SeriesIndicator)
    assert isinstance(Adx(3), HlcIndicator)
    assert isinstance(Atr(3), HlcIndicator)


def test_directional_movement_when_shared_then_one_object_gives_adx_and_both_dis(nifty_1h):
    shared = DirectionalMovement(14)
    adx, plus, minus = Adx(14), PlusDi(14), MinusDi(14)
    for _, high, low, close, _ in nifty_1h.bars()[:200]:
        for indicator in (shared, adx, plus, minus):
            indicator.update(high, low, close)
        assert shared.adx == adx.value and shared.plus_di == plus.value
        assert shared.minus_di == minus.value
    assert (shared.di_warmup, shared.adx_warmup) == (15, 28)


def test_warming_up_text_when_formatted_then_reads_like_the_explain_output():
    assert warming_up_text("daily.adx", 9, 28) == "daily.adx not ready (9 of 28 bars)"


def test_adx_when_flat_bars_from_the_start_then_dis_and_adx_are_zero_like_talib():
    flat = np.full(40, 21500.0)
    result = batch.dmi(flat, flat, flat, 14)
    np.testing.assert_array_equal(result.plus_di, talib.PLUS_DI(flat, flat, flat, 14))
    np.testing.assert_array_equal(result.adx, talib.ADX(flat, flat, flat, 14))
    assert result.adx[27] == 0.0 and result.plus_di[14] == 0.0
    streaming = DirectionalMovement(14)
    for price in flat.tolist():
        streaming.update(price, price, price)
    assert (streaming.adx, streaming.plus_di, streaming.minus_di) == (0.0, 0.0, 0.0)


def test_adx_when_directional_movement_underflows_then_adx_holds_its_value_like_talib():
    # A 20-bar rise, then 11,980 identical bars with a range but no directional movement:
    # +DM decays until +DI underflows to exactly 0 (bar ~10,071). From then DX is undefined
    # (the DI sum is 0) and TA-Lib holds ADX instead of averaging in a 0.
    length = 12_000
    high = np.full(length, 131.0)
    high[:20] = np.linspace(100.0, 130.0, 20)
    low, close = high - 2.0, high - 1.0
    ref_adx, ref_plus = talib.ADX(high, low, close, 14), talib.PLUS_DI(high, low, close, 14)
    assert ref_plus[-1] == 0.0 and ref_adx[-1] == 100.0
    result = batch.dmi(high, low, close, 14)
    np.testing.assert_allclose(result.adx[27:], ref_adx[27:], rtol=1e-9)
    streaming = DirectionalMovement(14)
    for h, lo, c in zip(high.tolist(), low.tolist(), close.tolist(), strict=True):
        streaming.update(h, lo, c)
    assert streaming.plus_di == 0.0 and streaming.adx == ref_adx[-1]


@pytest.mark.parametrize("step", [1e-9, 1e-15, 1e-300])
def test_dmi_rsi_when_moves_are_tiny_but_not_zero_then_not_treated_as_zero_like_talib(step):
    # TA-Lib 0.4 treated |x| < 1e-8 as zero; the library we match compares with exact 0.
    low = np.arange(40) * step
    high = low + step
    dmi = batch.dmi(high, low, low, 3)
    np.testing.assert_allclose(dmi.plus_di, talib.PLUS_DI(high, low, low, 3), rtol=1e-9)
    np.testing.assert_allclose(dmi.adx, talib.ADX(high, low, low, 3), rtol=1e-9)
    np.testing.assert_allclose(batch.rsi(high, 3), talib.RSI(high, 3), rtol=1e-9)
    assert dmi.plus_di[-1] > 0.0 and dmi.adx[-1] == pytest.approx(100.0)


def test_rsi_when_series_is_flat_then_zero_like_talib():
    flat = np.full(30, 100.0)
    np.testing.assert_array_equal(batch.rsi(flat, 14), talib.RSI(flat, 14))
    rsi = Rsi(14)
    for price in flat.tolist():
        rsi.update(price)
    assert rsi.value == 0.0


def test_highest_lowest_when_ties_and_random_walk_then_equal_naive_window_scan():
    rng = np.random.default_rng(7)
    values = np.round(rng.normal(size=500).cumsum(), 0)  # rounding makes many ties
    for period in (1, 2, 7, 64):
        high, low = Highest(period), Lowest(period)
        for i, x in enumerate(values.tolist()):
            high.update(x)
            low.update(x)
            if i + 1 >= period:
                window = values[i + 1 - period : i + 1]
                assert high.value == window.max() and low.value == window.min()


@pytest.mark.parametrize("period", [1, 2, 20, 300])
def test_sma_highest_lowest_when_streamed_then_bit_for_bit_equal_to_batch(period, nifty_5m):
    closes = nifty_5m.close
    for cls, function in ((Sma, batch.sma), (Highest, batch.highest), (Lowest, batch.lowest)):
        indicator = cls(period)
        streamed = []
        for x in closes.tolist():
            indicator.update(x)
            streamed.append(np.nan if indicator.value is None else indicator.value)
        np.testing.assert_array_equal(np.array(streamed), function(closes, period))


def test_recursive_indicators_when_streamed_then_equal_batch_within_1e_12(nifty_5m):
    high, low, close = nifty_5m.high, nifty_5m.low, nifty_5m.close
    dmi = batch.dmi(high, low, close, 14)
    cases = [
        (Ema(9), batch.ema(close, 9), False),
        (Rsi(14), batch.rsi(close, 14), False),
        (Atr(14), batch.atr(high, low, close, 14), True),
        (Adx(14), dmi.adx, True),
        (PlusDi(14), dmi.plus_di, True),
        (MinusDi(14), dmi.minus_di, True),
    ]
    for indicator, expected, takes_hlc in cases:
        streamed = []
        for h, lo, c in zip(high.tolist(), low.tolist(), close.tolist(), strict=True):
            indicator.update(h, lo, c) if takes_hlc else indicator.update(c)
            streamed.append(np.nan if indicator.value is None else indicator.value)
        np.testing.assert_allclose(np.array(streamed), expected, rtol=1e-12, atol=1e-10)


@pytest.mark.parametrize("length", [0, 1, 13, 14, 15, 27, 28])
def test_batch_when_around_the_warmup_length_then_nan_exactly_where_talib_has_nan(
    length, nifty_daily
):
    high, low, close = (a[:length] for a in (nifty_daily.high, nifty_daily.low, nifty_daily.close))
    result = batch.dmi(high, low, close, 14)
    assert result.adx.shape == (length,)
    if not length:  # TA-Lib refuses empty arrays; ours returns an empty result
        return
    pairs = [
        (result.adx, talib.ADX(high, low, close, 14)),
        (result.plus_di, talib.PLUS_DI(high, low, close, 14)),
        (batch.rsi(close, 14), talib.RSI(close, 14)),
        (batch.atr(high, low, close, 14), talib.ATR(high, low, close, 14)),
        (batch.ema(close, 14), talib.EMA(close, 14)),
    ]
    for ours, ref in pairs:
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
        np.testing.assert_allclose(ours, ref, rtol=1e-12)


def test_batch_when_input_not_finite_or_misshapen_then_value_error_names_it():
    prices = np.array([1.0, 2.0, np.nan, 4.0])
    with pytest.raises(ValueError, match=r"non-finite value \(nan\) at index 2"):
        batch.sma(prices, 2)
    with pytest.raises(ValueError, match="adx low has 3 values; the other inputs have 4"):
        batch.adx([1.0, 2, 3, 4], [1.0, 2, 3], [1.0, 2, 3, 4], 2)
    with pytest.raises(ValueError, match="one-dimensional"):
        batch.ema(np.ones((2, 2)), 2)
    with pytest.raises(ValueError, match="period must be from 2"):
        batch.rsi([1.0, 2.0], 1)


def test_true_range_when_a_bar_has_high_below_low_then_uses_talibs_three_way_maximum():
    high = np.array([10.0, 10.0, 12.0])
    low = np.array([9.0, 11.0, 11.0])  # bar 1 is broken: high < low
    close = np.array([9.5, 10.5, 11.5])
    expected = talib.TRANGE(high, low, close)[1:]
    np.testing.assert_array_equal(batch.true_range(high, low, close), expected)
