"""The batch form of every indicator, in one namespace: ``batch.adx(highs, lows, closes, 14)``.

Each function takes float64 arrays (anything ``np.asarray`` accepts; non-finite values are
refused with the index) and returns an array of the same length with NaN during the warm-up,
at exactly the positions TA-Lib leaves NaN. The numbers equal the streaming form's.
"""

from __future__ import annotations

from engine.indicators.atr import atr, true_range
from engine.indicators.averages import ema, sma
from engine.indicators.directional import DmiArrays, adx, dmi, minus_di, plus_di
from engine.indicators.extremes import highest, lowest
from engine.indicators.rsi import rsi

__all__ = [
    "DmiArrays",
    "adx",
    "atr",
    "dmi",
    "ema",
    "highest",
    "lowest",
    "minus_di",
    "plus_di",
    "rsi",
    "sma",
    "true_range",
]
