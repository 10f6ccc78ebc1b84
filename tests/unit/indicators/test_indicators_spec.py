"""Indicator spec strings: what parses, the canonical keys, and the errors with columns."""

from __future__ import annotations

import re

import pytest

from engine.errors import UserInputError
from engine.indicators import (
    KNOWN_INDICATORS,
    MAX_PERIOD,
    SPEC_PATTERN,
    IndicatorSpec,
    IndicatorSpecError,
    make_streaming,
    parse_indicator_spec,
)


@pytest.mark.parametrize(
    ("text", "name", "source", "period", "key"),
    [
        ("adx(14)", "adx", None, 14, "adx(14)"),
        ("plus_di(14)", "plus_di", None, 14, "plus_di(14)"),
        ("minus_di(14)", "minus_di", None, 14, "minus_di(14)"),
        ("rsi(14)", "rsi", "close", 14, "rsi(close, 14)"),
        ("ema(9)", "ema", "close", 9, "ema(close, 9)"),
        ("ema(close, 9)", "ema", "close", 9, "ema(close, 9)"),
        ("sma(20)", "sma", "close", 20, "sma(close, 20)"),
        ("sma(volume, 20)", "sma", "volume", 20, "sma(volume, 20)"),
        ("atr(14)", "atr", None, 14, "atr(14)"),
        ("volume_avg(20)", "volume_avg", "volume", 20, "volume_avg(20)"),
        ("highest(high, 20)", "highest", "high", 20, "highest(high, 20)"),
        ("highest(20)", "highest", "high", 20, "highest(high, 20)"),
        ("lowest(low, 20)", "lowest", "low", 20, "lowest(low, 20)"),
        ("lowest(20)", "lowest", "low", 20, "lowest(low, 20)"),
        ("  EMA ( Close ,9 ) ", "ema", "close", 9, "ema(close, 9)"),
        ("sma(open,1)", "sma", "open", 1, "sma(open, 1)"),
        (f"adx({MAX_PERIOD})", "adx", None, MAX_PERIOD, f"adx({MAX_PERIOD})"),
    ],
)
def test_parse_when_valid_then_spec_with_canonical_key(text, name, source, period, key):
    spec = parse_indicator_spec(text)
    assert spec == IndicatorSpec(name, source, period, key)
    assert re.match(SPEC_PATTERN, text)
    assert parse_indicator_spec(spec.key) == spec  # the key parses back to itself


@pytest.mark.parametrize(
    ("text", "column", "reason", "hint"),
    [
        ("adxx(14)", 1, "unknown indicator 'adxx'", "did you mean 'adx'?"),
        ("plus_dl(14)", 1, "unknown indicator 'plus_dl'", "did you mean 'plus_di'?"),
        ("macd(12)", 1, "unknown indicator 'macd'", "known: adx, plus_di"),
        ("close", 1, "'close' is a bar field, not an indicator", "sma(close, 20)"),
        ("", 1, "empty indicator", "adx(14)"),
        ("(14)", 1, "expected an indicator name, found '('", ""),
        ("adx", 4, "expected '(' after 'adx'", "write 'adx(period)'"),
        ("adx 14", 5, "expected '(' after 'adx'", ""),
        ("adx()", 5, "adx needs a period", "write 'adx(period)'"),
        ("adx(1)", 5, "the period of adx must be from 2 to 1000; was 1", ""),
        ("rsi(1)", 5, "the period of rsi must be from 2 to 1000; was 1", ""),
        ("sma(0)", 5, "the period of sma must be from 1 to 1000; was 0", ""),
        ("ema(close, 1001)", 12, "must be from 1 to 1000; was 1001", ""),
        ("ema(9.5)", 5, "must be a whole number from 1 to 1000; was '9.5'", ""),
        ("ema(-3)", 5, "must be a whole number from 1 to 1000; was '-3'", ""),
        ("ema(1e3)", 5, "must be a whole number", ""),
        ("ema(clsoe, 9)", 5, "unknown source 'clsoe' for ema", "did you mean 'close'?"),
        ("ema(close)", 5, "expected a period (a whole number), found 'close'", "ema(close, 20)"),
        ("ema(9, close)", 5, "the source comes before the period", "write 'ema(close, 9)'"),
        ("adx(high, 14)", 5, "too many arguments for adx", "write 'adx(period)'"),
        ("volume_avg(volume, 20)", 12, "too many arguments for volume_avg", ""),
        ("sma(close, 20, 3)", 16, "too many arguments for sma", ""),
        ("ema(,9)", 5, "missing argument before ','", ""),
        ("ema(9,)", 7, "missing argument before ')'", ""),
        ("ema(9", 6, "missing ')'", "write 'ema([source,] period)'"),
        ("ema(9) + 1", 8, "unexpected '+' after ')'", ""),
        ("ema(9 9)", 7, "unexpected '9'; expected ',' or ')'", ""),
        ("ema(#)", 5, "unexpected '#'", ""),
    ],
)
def test_parse_when_invalid_then_error_with_column_reason_and_hint(text, column, reason, hint):
    with pytest.raises(IndicatorSpecError) as caught:
        parse_indicator_spec(text)
    error = caught.value
    assert error.column == column
    assert reason in error.reason
    assert hint in error.hint
    assert f"column {column} of '{text}'" in str(error)


@pytest.mark.parametrize("value", [14, None, ["adx", 14]])
def test_parse_when_not_a_string_then_error_says_what_was_found(value):
    with pytest.raises(IndicatorSpecError, match="expected an indicator such as 'adx"):
        parse_indicator_spec(value)


def test_spec_error_when_raised_then_is_a_value_error_and_a_user_input_error():
    with pytest.raises(ValueError, match="unknown indicator") as caught:
        parse_indicator_spec("adxx(14)")
    assert isinstance(caught.value, UserInputError)


def test_specs_when_sharing_a_computation_then_core_keys_match():
    keys = {text: parse_indicator_spec(text).core_key for text in (
        "adx(14)", "plus_di(14)", "minus_di(14)", "adx(20)",
        "volume_avg(20)", "sma(volume, 20)", "sma(20)", "ema(9)", "ema(close, 9)",
    )}  # fmt: skip
    assert keys["adx(14)"] == keys["plus_di(14)"] == keys["minus_di(14)"] == "dmi(14)"
    assert keys["adx(20)"] == "dmi(20)"
    assert keys["volume_avg(20)"] == keys["sma(volume, 20)"] == "sma(volume, 20)"
    assert keys["sma(20)"] == "sma(close, 20)"
    assert keys["ema(9)"] == keys["ema(close, 9)"]


@pytest.mark.parametrize("name", sorted(KNOWN_INDICATORS))
def test_known_indicators_when_listed_then_warmup_matches_the_streaming_object(name):
    info = KNOWN_INDICATORS[name]
    assert info.signature.startswith(f"{name}(") and info.description
    for period in {info.min_period, 2, 14, 37}:
        spec = parse_indicator_spec(f"{name}({period})")
        indicator = make_streaming(spec)
        assert indicator.warmup == spec.warmup == info.warmup(period)
        assert spec.lookback == spec.warmup - 1


@pytest.mark.parametrize("text", ["adxx(14)", "ema(9.5)", "adx(close, 14)", "ema(9", "adx"])
def test_spec_pattern_when_text_is_malformed_then_it_does_not_match(text):
    assert re.match(SPEC_PATTERN, text) is None
