"""Simple and exponential moving averages (SMA, EMA), streaming and batch.

SMA(n) is the mean of the last ``n`` values; the first value is at index ``n-1``. Both forms
keep a running total ``C`` of every value seen and take ``(C[t] - C[t-n]) / n``, so the
streaming and batch numbers are identical to the bit (numpy's ``cumsum`` adds left to right,
as the streaming update does). TA-Lib keeps a window sum instead; the two agree to ~1e-13.

EMA(n) matches TA-Lib's default (non-Metastock) mode: the first value, at index ``n-1``, is
the SMA of the first ``n`` values, then ``ema += (x - ema) * k`` with ``k = 2 / (n + 1)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.indicators._np import np
from engine.indicators._recurrence import linear_recurrence, sequential_sum
from engine.indicators.base import ReadSide, as_series, check_period, nan_array

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from engine.indicators.base import FloatArray

__all__ = ["Ema", "Sma", "ema", "sma"]


class Sma(ReadSide):
    """Streaming simple moving average: ``update(x)``; first value after ``period`` bars."""

    __slots__ = ("_count", "_period", "_pos", "_ring", "_total", "_value")

    def __init__(self, period: int) -> None:
        self._period = check_period("sma", period, 1)
        self.reset()

    def reset(self) -> None:
        self._ring = [0.0] * self._period  # running totals of the last `period` updates
        self._pos = 0
        self._total = 0.0
        self._count = 0
        self._value: float | None = None

    def update(self, x: float) -> None:
        total = self._total + x
        self._total = total
        pos = self._pos
        ring = self._ring
        old = ring[pos]  # the running total `period` bars ago (0.0 at the start)
        ring[pos] = total
        pos += 1
        self._pos = 0 if pos == self._period else pos
        self._count += 1
        if self._count >= self._period:
            self._value = (total - old) / self._period


class Ema(ReadSide):
    """Streaming exponential moving average, seeded with the SMA of the first ``period``."""

    __slots__ = ("_count", "_k", "_period", "_seed", "_value")

    def __init__(self, period: int) -> None:
        self._period = check_period("ema", period, 1)
        self._k = 2.0 / (self._period + 1.0)
        self.reset()

    def reset(self) -> None:
        self._count = 0
        self._seed = 0.0
        self._value: float | None = None

    def update(self, x: float) -> None:
        value = self._value
        if value is not None:
            self._value = (x - value) * self._k + value
            self._count += 1
            return
        self._seed += x
        self._count += 1
        if self._count == self._period:
            self._value = self._seed / self._period


def sma(values: ArrayLike, period: int) -> FloatArray:
    """SMA over an array; NaN at indices ``0 .. period-2`` (TA-Lib ``SMA``)."""
    n = check_period("sma", period, 1)
    x = as_series(values, "sma input")
    out = nan_array(x.shape[0])
    if x.shape[0] < n:
        return out
    totals = np.cumsum(x)
    out[n - 1] = totals[n - 1] / n
    out[n:] = (totals[n:] - totals[:-n]) / n
    return out


def ema(values: ArrayLike, period: int) -> FloatArray:
    """EMA over an array; NaN at indices ``0 .. period-2`` (TA-Lib ``EMA``, default mode)."""
    n = check_period("ema", period, 1)
    x = as_series(values, "ema input")
    out = nan_array(x.shape[0])
    if x.shape[0] < n:
        return out
    k = 2.0 / (n + 1.0)
    steps = x[n - 1 :] * k
    steps[0] = sequential_sum(x[:n]) / n  # the seed: y[0] = seed from a zero state
    out[n - 1 :] = linear_recurrence(steps, 1.0 - k, 0.0)
    return out
