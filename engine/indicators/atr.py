"""True range and Wilder's Average True Range, as TA-Lib computes them.

True range of a bar (from the second bar on) is the largest of ``high - low``,
``|high - previous close|`` and ``|low - previous close|``: a gap counts as range. ATR(n)
starts at index ``n`` with the plain mean of the first ``n`` true ranges (bars 1..n), then
``atr = (atr * (n-1) + tr) / n``. ATR(1) is the true range itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.indicators._np import np
from engine.indicators._recurrence import linear_recurrence, sequential_sum
from engine.indicators.base import ReadSide, as_series, check_period, nan_array

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from engine.indicators.base import FloatArray

__all__ = ["Atr", "atr", "true_range"]


class Atr(ReadSide):
    """Streaming ATR: ``update(high, low, close)``; the first value after ``period + 1`` bars."""

    __slots__ = ("_atr", "_count", "_n1", "_period", "_prev_close", "_value")

    def __init__(self, period: int) -> None:
        self._period = check_period("atr", period, 1)
        self._n1 = float(self._period - 1)
        self.reset()

    def reset(self) -> None:
        self._count = 0
        self._prev_close = 0.0
        self._atr = 0.0  # the sum of true ranges during the warm-up, then the average
        self._value: float | None = None

    def update(self, high: float, low: float, close: float) -> None:
        count = self._count
        self._count = count + 1
        prev = self._prev_close
        self._prev_close = close
        if count == 0:
            return
        tr = high - low
        gap = high - prev if high >= prev else prev - high
        if gap > tr:
            tr = gap
        gap = low - prev if low >= prev else prev - low
        if gap > tr:
            tr = gap
        n = self._period
        if count > n:
            self._atr = (self._atr * self._n1 + tr) / n
            self._value = self._atr
        else:
            self._atr += tr
            if count == n:
                self._atr /= n
                self._value = self._atr

    @property
    def warmup(self) -> int:
        return self._period + 1


def true_range(highs: FloatArray, lows: FloatArray, closes: FloatArray) -> FloatArray:
    """True range of bars ``1 .. N-1`` (length ``N-1``): the first bar has none."""
    high = highs[1:]
    low = lows[1:]
    prev = closes[:-1]
    if (high >= low).all():
        # With high >= low the largest of the three spans is max(high, prev) - min(low, prev),
        # the very same subtraction TA-Lib ends up with, so the result is bit for bit equal.
        return np.maximum(high, prev) - np.minimum(low, prev)
    tr = high - low  # a bar with high < low (bad data): TA-Lib's three-way maximum as is
    np.maximum(tr, np.abs(high - prev), out=tr)
    np.maximum(tr, np.abs(low - prev), out=tr)
    return tr


def atr(highs: ArrayLike, lows: ArrayLike, closes: ArrayLike, period: int) -> FloatArray:
    """ATR over arrays; NaN at indices ``0 .. period-1`` (TA-Lib ``ATR``)."""
    n = check_period("atr", period, 1)
    high = as_series(highs, "atr high")
    low = as_series(lows, "atr low", high.shape[0])
    close = as_series(closes, "atr close", high.shape[0])
    out = nan_array(high.shape[0])
    if high.shape[0] <= n:
        return out
    tr = true_range(high, low, close)  # tr[j] is bar j+1
    seed = sequential_sum(tr[:n]) / n
    steps = tr[n - 1 :]
    steps /= n
    steps[0] = seed  # y[0] = seed from a zero state, at bar n
    out[n:] = linear_recurrence(steps, (n - 1.0) / n, 0.0)
    return out
