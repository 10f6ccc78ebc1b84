"""Technical indicators for rules: ADX/+DI/-DI, RSI, EMA, SMA, ATR, volume average, highest
and lowest, each as a streaming object (one bar at a time, O(1) per bar, pure Python) and as
a batch function over numpy arrays (:mod:`engine.indicators.batch`). Both forms give the
same numbers, and every value matches TA-Lib's default mode within 1e-9 from TA-Lib's
first value on. Rule files name indicators with spec strings (``adx(14)``,
``sma(volume, 20)``); :func:`parse_indicator_spec` reads them with precise errors, and
:class:`IndicatorSet` runs one timeframe's indicators, sharing the ADX/DI computation.
See docs/indicators.md.
"""

from __future__ import annotations

from engine.indicators import batch
from engine.indicators.atr import Atr
from engine.indicators.averages import Ema, Sma
from engine.indicators.base import (
    MAX_PERIOD,
    HlcIndicator,
    SeriesIndicator,
    StreamingIndicator,
    warming_up_text,
)
from engine.indicators.directional import Adx, DirectionalMovement, MinusDi, PlusDi
from engine.indicators.extremes import Highest, Lowest
from engine.indicators.indicator_set import IndicatorSet
from engine.indicators.registry import (
    BoundIndicator,
    compute_batch,
    compute_batch_set,
    make_streaming,
)
from engine.indicators.rsi import Rsi
from engine.indicators.spec import (
    KNOWN_INDICATORS,
    SOURCES,
    SPEC_PATTERN,
    IndicatorInfo,
    IndicatorSpec,
    IndicatorSpecError,
    parse_indicator_spec,
)

__all__ = [
    "KNOWN_INDICATORS",
    "MAX_PERIOD",
    "SOURCES",
    "SPEC_PATTERN",
    "Adx",
    "Atr",
    "BoundIndicator",
    "DirectionalMovement",
    "Ema",
    "Highest",
    "HlcIndicator",
    "IndicatorInfo",
    "IndicatorSet",
    "IndicatorSpec",
    "IndicatorSpecError",
    "Lowest",
    "MinusDi",
    "PlusDi",
    "Rsi",
    "SeriesIndicator",
    "Sma",
    "StreamingIndicator",
    "batch",
    "compute_batch",
    "compute_batch_set",
    "make_streaming",
    "parse_indicator_spec",
    "warming_up_text",
]
