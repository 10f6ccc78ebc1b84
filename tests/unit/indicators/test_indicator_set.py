"""IndicatorSet: one timeframe's indicators fed together, shared computations run once."""

from __future__ import annotations

import numpy as np
import pytest

from engine.indicators import (
    DirectionalMovement,
    IndicatorSet,
    IndicatorSpecError,
    compute_batch,
    compute_batch_set,
    make_streaming,
    parse_indicator_spec,
)

RULE_SPECS = {
    "adx": "adx(14)",
    "plus_di": "plus_di(14)",
    "minus_di": "minus_di(14)",
    "rsi": "rsi(14)",
    "ema9": "ema(9)",
    "ema9_again": "ema(close, 9)",
    "volume_avg": "volume_avg(20)",
    "volume_sma": "sma(volume, 20)",
    "atr": "atr(14)",
    "hh": "highest(20)",
    "ll": "lowest(low, 20)",
    "open_avg": "sma(open, 5)",
}


def arrays(series) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    return {
        "opens": series.open,
        "highs": series.high,
        "lows": series.low,
        "closes": series.close,
        "volumes": series.volume,
    }


def test_from_specs_when_specs_share_computations_then_each_runs_once():
    indicators = IndicatorSet.from_specs(RULE_SPECS)
    # dmi(14) once for three names; ema(close, 9) once for two; sma(volume, 20) once for two.
    assert indicators.computations == len(RULE_SPECS) - 4
    assert indicators.names == tuple(RULE_SPECS)
    assert indicators.warmup == 28
    assert len(indicators) == len(RULE_SPECS) and "adx" in indicators


def test_update_when_warming_up_then_values_are_none_and_status_counts_bars(nifty_1h):
    indicators = IndicatorSet.from_specs(RULE_SPECS)
    for bar in nifty_1h.bars()[:9]:
        indicators.update(*bar)
    assert indicators.status("adx") == (9, 28)
    assert indicators.status("plus_di") == (9, 15)
    assert indicators.values()["adx"] is None and not indicators.ready("adx")
    assert indicators.value("ema9") == indicators.values()["ema9"] is not None


def test_update_when_fed_real_bars_then_equals_each_indicator_alone_and_batch(nifty_1h):
    indicators = IndicatorSet.from_specs(RULE_SPECS)
    alone = {name: make_streaming(spec) for name, spec in RULE_SPECS.items()}
    expected = compute_batch_set(RULE_SPECS, **arrays(nifty_1h))
    for i, bar in enumerate(nifty_1h.bars()):
        indicators.update(*bar)
        for single in alone.values():
            single.update(*bar)
        values = indicators.values()
        assert values == {name: single.value for name, single in alone.items()}
        for name, value in values.items():
            reference = expected[name][i]
            assert (value is None) == bool(np.isnan(reference)), (name, i)
            if value is not None:
                assert value == pytest.approx(reference, rel=1e-12, abs=1e-10), (name, i)


def test_compute_batch_set_when_specs_share_dmi_then_same_as_one_by_one(nifty_daily):
    together = compute_batch_set(RULE_SPECS, **arrays(nifty_daily))
    for name, text in RULE_SPECS.items():
        alone = compute_batch(text, **arrays(nifty_daily))
        np.testing.assert_array_equal(together[name], alone)


def test_reset_when_called_then_every_value_is_missing_again(nifty_1h):
    indicators = IndicatorSet.from_specs(RULE_SPECS)
    for bar in nifty_1h.bars()[:40]:
        indicators.update(*bar)
    assert all(value is not None for value in indicators.values().values())
    indicators.reset()
    assert all(value is None for value in indicators.values().values())
    assert indicators.status("adx") == (0, 28)


def test_from_specs_when_an_entry_is_wrong_then_error_names_it_with_the_column():
    with pytest.raises(IndicatorSpecError) as caught:
        IndicatorSet.from_specs({"adx": "adx(14)", "trend": "adx(close, 14)"})
    assert caught.value.column == 5
    assert str(caught.value).startswith("indicator 'trend': too many arguments for adx")


def test_from_specs_when_given_parsed_specs_then_accepts_them():
    spec = parse_indicator_spec("adx(14)")
    indicators = IndicatorSet.from_specs({"adx": spec})
    assert indicators.spec("adx") is spec
    assert indicators.value("adx") is None


def test_make_streaming_when_adx_then_core_exposes_all_three_outputs(nifty_daily):
    adx = make_streaming("adx(14)")
    for bar in nifty_daily.bars()[:30]:
        adx.update(*bar)
    assert isinstance(adx.core, DirectionalMovement)
    assert adx.value == adx.core.adx and adx.core.plus_di is not None
    assert (adx.count, adx.warmup, adx.ready) == (30, 28, True)
    adx.reset()
    assert (adx.count, adx.value) == (0, None)


def test_compute_batch_when_input_missing_then_value_error_says_which():
    with pytest.raises(ValueError, match="reads high, low and close"):
        compute_batch("adx(14)", closes=[1.0, 2.0])
    with pytest.raises(ValueError, match="reads volume: pass the volume array"):
        compute_batch("volume_avg(3)", closes=[1.0, 2.0])
