"""What every indicator shares: the streaming protocol, warm-up wording, batch input checks.

A streaming indicator is updated with one bar at a time and answers ``value`` (a float, or
``None`` while it is still warming up), ``ready``, ``count`` (bars seen) and ``warmup`` (bars
needed before the first value). ``None`` is the not-ready marker on purpose: the rule
context turns it into its own typed "missing" value with a reason built from ``count`` and
``warmup`` (see :func:`warming_up_text`), so a rule never sees NaN.

A batch function takes float64 numpy arrays and returns an array of the same length with
NaN during the warm-up, exactly where TA-Lib puts them.
"""

from __future__ import annotations

from numbers import Integral
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from engine.indicators._np import np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

__all__ = [
    "MAX_PERIOD",
    "HlcIndicator",
    "SeriesIndicator",
    "StreamingIndicator",
    "as_series",
    "check_period",
    "nan_array",
    "warming_up_text",
]

#: The largest period any indicator accepts (the rule files' bound, far above any real use).
MAX_PERIOD = 1000

if TYPE_CHECKING:
    FloatArray = NDArray[np.float64]


@runtime_checkable
class StreamingIndicator(Protocol):
    """The read side every streaming indicator offers, whatever its inputs."""

    @property
    def value(self) -> float | None:
        """The latest value, or ``None`` while warming up."""
        ...

    @property
    def ready(self) -> bool:
        """True once ``count >= warmup``."""
        ...

    @property
    def count(self) -> int:
        """Bars seen since creation or the last ``reset()``."""
        ...

    @property
    def warmup(self) -> int:
        """Bars needed before the first value (TA-Lib's lookback plus one)."""
        ...

    def reset(self) -> None:
        """Forget every bar seen, as if just created."""
        ...


@runtime_checkable
class SeriesIndicator(StreamingIndicator, Protocol):
    """An indicator over one series (close, volume, high ...): ``update(x)``."""

    def update(self, x: float) -> None: ...


@runtime_checkable
class HlcIndicator(StreamingIndicator, Protocol):
    """An indicator over a bar's high, low and close: ``update(high, low, close)``."""

    def update(self, high: float, low: float, close: float) -> None: ...


def warming_up_text(label: str, count: int, warmup: int) -> str:
    """``"daily.adx not ready (9 of 28 bars)"``: the reason a warming-up value is missing."""
    return f"{label} not ready ({count} of {warmup} bars)"


def check_period(name: str, period: object, minimum: int) -> int:
    """The period as an int in ``minimum..MAX_PERIOD``; ValueError naming the indicator."""
    if isinstance(period, bool) or not isinstance(period, Integral):
        raise ValueError(f"{name}: period must be a whole number; was {period!r}")
    if not minimum <= period <= MAX_PERIOD:
        raise ValueError(f"{name}: period must be from {minimum} to {MAX_PERIOD}; was {period}")
    return int(period)


def as_series(values: ArrayLike, label: str, length: int | None = None) -> FloatArray:
    """A 1-D float64 array of finite numbers, or ValueError naming the input and the index."""
    arr = np.ascontiguousarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{label} must be one-dimensional; it has shape {arr.shape}")
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"{label} has {arr.shape[0]} values; the other inputs have {length}")
    finite = np.isfinite(arr)
    if not finite.all():
        index = int(np.argmin(finite))
        raise ValueError(f"{label} has a non-finite value ({arr[index]}) at index {index}")
    return arr


def nan_array(length: int) -> FloatArray:
    """An array of NaN: the batch form's "not ready" for every position."""
    return np.full(length, np.nan, dtype=np.float64)


class ReadSide:
    """The read side every single-output streaming indicator shares.

    Subclasses keep ``_value`` (``None`` while warming up), ``_count`` and ``_period`` in
    their own slots; ``warmup`` defaults to the period and is overridden where it differs.
    """

    __slots__ = ()
    _value: float | None
    _count: int
    _period: int

    @property
    def value(self) -> float | None:
        return self._value

    @property
    def ready(self) -> bool:
        return self._value is not None

    @property
    def count(self) -> int:
        return self._count

    @property
    def warmup(self) -> int:
        return self._period

    @property
    def period(self) -> int:
        return self._period
