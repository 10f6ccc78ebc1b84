"""Wilder's Relative Strength Index, as TA-Lib computes it in its default mode.

For each bar after the first, the change ``d = x[t] - x[t-1]`` is a gain (``d >= 0``) or a
loss (``-d`` when ``d < 0``). The first average gain and loss, at index ``n``, are the plain
means of the first ``n`` gains and losses; after that each is smoothed the Wilder way,
``avg = (avg * (n-1) + today) / n``. ``RSI = 100 * avg_gain / (avg_gain + avg_loss)``, and 0
when both averages are exactly 0 (a flat series): TA-Lib's choice, kept here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.indicators._np import np
from engine.indicators._recurrence import linear_recurrence, sequential_sum
from engine.indicators.base import ReadSide, as_series, check_period, nan_array

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from engine.indicators.base import FloatArray

__all__ = ["Rsi", "rsi"]


class Rsi(ReadSide):
    """Streaming RSI: ``update(x)``; the first value after ``period + 1`` bars."""

    __slots__ = ("_count", "_gain", "_loss", "_n1", "_period", "_prev", "_value")

    def __init__(self, period: int) -> None:
        self._period = check_period("rsi", period, 2)
        self._n1 = float(self._period - 1)
        self.reset()

    def reset(self) -> None:
        self._count = 0
        self._prev = 0.0
        self._gain = 0.0  # a sum during the warm-up, then the smoothed average
        self._loss = 0.0
        self._value: float | None = None

    def update(self, x: float) -> None:
        change = x - self._prev
        self._prev = x
        count = self._count
        self._count = count + 1
        n = self._period
        if count > n:
            gain = self._gain * self._n1
            loss = self._loss * self._n1
            if change < 0.0:
                loss -= change
            else:
                gain += change
            gain /= n
            loss /= n
        elif count == 0:
            return
        else:
            gain, loss = self._gain, self._loss
            if change < 0.0:
                loss -= change
            else:
                gain += change
            if count < n:
                self._gain, self._loss = gain, loss
                return
            gain /= n
            loss /= n
        self._gain = gain
        self._loss = loss
        total = gain + loss
        self._value = 100.0 * (gain / total) if total != 0.0 else 0.0

    @property
    def warmup(self) -> int:
        return self._period + 1


def rsi(values: ArrayLike, period: int) -> FloatArray:
    """RSI over an array; NaN at indices ``0 .. period-1`` (TA-Lib ``RSI``)."""
    n = check_period("rsi", period, 2)
    x = as_series(values, "rsi input")
    out = nan_array(x.shape[0])
    if x.shape[0] <= n:
        return out
    change = np.diff(x)
    moves = np.empty((2, change.shape[0]), dtype=np.float64)
    np.maximum(change, 0.0, out=moves[0])  # gains: d when d >= 0
    np.negative(change, out=moves[1])
    np.maximum(moves[1], 0.0, out=moves[1])  # losses: -d when d < 0
    seeds = np.array([sequential_sum(moves[0, :n]), sequential_sum(moves[1, :n])]) / n
    steps = moves[:, n - 1 :]  # column 0 becomes the seed, so y[0] = seed from a zero state
    steps[:, 1:] /= n
    steps[:, 0] = seeds
    gain, loss = linear_recurrence(steps, (n - 1.0) / n, 0.0)
    total = gain + loss
    moved = total != 0.0
    if moved.all():
        np.divide(gain, total, out=gain)
    else:  # no move at all so far: RSI 0, as TA-Lib (total is exactly 0 there: divide by 1)
        np.divide(gain, total + ~moved, out=gain)
        gain *= moved
    gain *= 100.0
    out[n:] = gain
    return out
