"""Highest and lowest value over the last ``n`` bars (TA-Lib ``MAX`` / ``MIN``).

Streaming keeps a monotonic deque of (bar number, value): each value enters once and
leaves once, so an update is O(1) amortised whatever the period, with no re-scan of the
window. Batch doubles the covered span (1, 2, 4 ... bars) with ``np.maximum`` on shifted
views, then combines two overlapping spans: O(N log n), exact, so both forms give the same
numbers to the bit. The first value is at index ``n-1``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from engine.indicators._np import np
from engine.indicators.base import ReadSide, as_series, check_period, nan_array

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from engine.indicators.base import FloatArray

__all__ = ["Highest", "Lowest", "highest", "lowest"]


class _WindowExtreme(ReadSide):
    __slots__ = ("_count", "_marks", "_period", "_value", "_values")

    _name = "window extreme"

    def __init__(self, period: int) -> None:
        self._period = check_period(self._name, period, 1)
        self.reset()

    def reset(self) -> None:
        self._marks: deque[int] = deque()  # bar numbers of the candidates, oldest first
        self._values: deque[float] = deque()  # their values, monotonic
        self._count = 0
        self._value: float | None = None


class Highest(_WindowExtreme):
    """Streaming highest value of the last ``period`` updates: ``update(x)``."""

    __slots__ = ()
    _name = "highest"

    def update(self, x: float) -> None:
        bar = self._count
        values = self._values
        marks = self._marks
        while values and values[-1] <= x:  # a newer, higher value hides older ones for good
            values.pop()
            marks.pop()
        values.append(x)
        marks.append(bar)
        if marks[0] <= bar - self._period:
            marks.popleft()
            values.popleft()
        self._count = bar + 1
        if bar + 1 >= self._period:
            self._value = values[0]


class Lowest(_WindowExtreme):
    """Streaming lowest value of the last ``period`` updates: ``update(x)``."""

    __slots__ = ()
    _name = "lowest"

    def update(self, x: float) -> None:
        bar = self._count
        values = self._values
        marks = self._marks
        while values and values[-1] >= x:
            values.pop()
            marks.pop()
        values.append(x)
        marks.append(bar)
        if marks[0] <= bar - self._period:
            marks.popleft()
            values.popleft()
        self._count = bar + 1
        if bar + 1 >= self._period:
            self._value = values[0]


def highest(values: ArrayLike, period: int) -> FloatArray:
    """Highest of the last ``period`` values; NaN at indices ``0 .. period-2``."""
    n = check_period("highest", period, 1)
    return _window(as_series(values, "highest input"), n, np.maximum)


def lowest(values: ArrayLike, period: int) -> FloatArray:
    """Lowest of the last ``period`` values; NaN at indices ``0 .. period-2``."""
    n = check_period("lowest", period, 1)
    return _window(as_series(values, "lowest input"), n, np.minimum)


def _window(x: FloatArray, n: int, pick: Callable[..., FloatArray]) -> FloatArray:
    length = x.shape[0]
    out = nan_array(length)
    if length < n:
        return out
    span = 1
    covered = x  # covered[i] = pick over x[i : i + span]
    while 2 * span <= n:
        covered = pick(covered[:-span], covered[span:])
        span *= 2
    count = length - n + 1
    # window [i, i+n) = [i, i+span) united with [i+n-span, i+n)
    out[n - 1 :] = pick(covered[:count], covered[n - span : n - span + count])
    return out
