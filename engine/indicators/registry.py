"""From a specification to a working indicator: streaming objects and batch arrays.

``make_streaming(spec)`` gives an object fed whole bars, ``update(open, high, low, close,
volume)``, whatever the indicator reads; ``compute_batch(spec, ...)`` gives the same numbers
for whole arrays. Both accept a spec string (``"ema(close, 9)"``) or a parsed
:class:`~engine.indicators.spec.IndicatorSpec`. ``compute_batch_set`` computes several
specs at once and, like :class:`~engine.indicators.indicator_set.IndicatorSet`, runs a
shared computation (adx/plus_di/minus_di of one period) only once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from engine.indicators import atr as _atr
from engine.indicators import averages as _averages
from engine.indicators import directional as _directional
from engine.indicators import extremes as _extremes
from engine.indicators import rsi as _rsi
from engine.indicators.base import as_series
from engine.indicators.spec import SOURCES, IndicatorSpec, parse_indicator_spec

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from engine.indicators.base import FloatArray

__all__ = [
    "BoundIndicator",
    "Core",
    "as_spec",
    "compute_batch",
    "compute_batch_set",
    "make_core",
    "make_streaming",
]

Core = (
    _averages.Sma
    | _averages.Ema
    | _rsi.Rsi
    | _atr.Atr
    | _extremes.Highest
    | _extremes.Lowest
    | _directional.DirectionalMovement
)

_SERIES_CORES: dict[str, Callable[[int], Core]] = {
    "sma": _averages.Sma,
    "ema": _averages.Ema,
    "rsi": _rsi.Rsi,
    "highest": _extremes.Highest,
    "lowest": _extremes.Lowest,
}
_HLC_CORES: dict[str, Callable[[int], Core]] = {
    "atr": _atr.Atr,
    "dmi": _directional.DirectionalMovement,
}
_SERIES_BATCH: dict[str, Callable[[ArrayLike, int], FloatArray]] = {
    "sma": _averages.sma,
    "ema": _averages.ema,
    "rsi": _rsi.rsi,
    "highest": _extremes.highest,
    "lowest": _extremes.lowest,
}


def as_spec(spec: IndicatorSpec | str) -> IndicatorSpec:
    """A parsed spec; a string is parsed (IndicatorSpecError when it is wrong)."""
    return spec if isinstance(spec, IndicatorSpec) else parse_indicator_spec(spec)


def make_core(spec: IndicatorSpec) -> Core:
    """A new streaming computation for ``spec.core_key`` (shared by specs with equal keys)."""
    core = spec.info.core
    if core in _HLC_CORES:
        return _HLC_CORES[core](spec.period)
    return _SERIES_CORES[core](spec.period)


class BoundIndicator:
    """One indicator fed whole bars: ``update(open, high, low, close, volume)``.

    Offers the streaming protocol (``value``, ``ready``, ``count``, ``warmup``,
    ``reset()``); ``core`` is the underlying computation, e.g. the
    :class:`~engine.indicators.directional.DirectionalMovement` behind ``adx(14)``.
    """

    __slots__ = ("_source", "core", "spec")

    def __init__(self, spec: IndicatorSpec, core: Core | None = None) -> None:
        self.spec = spec
        self.core = core if core is not None else make_core(spec)
        # Position of the series in (open, high, low, close, volume); -1: reads high/low/close.
        self._source = -1 if spec.source is None else SOURCES.index(spec.source)

    def update(self, open_: float, high: float, low: float, close: float, volume: float) -> None:
        if self._source < 0:
            self.core.update(high, low, close)  # type: ignore[call-arg]
        else:
            value = (open_, high, low, close, volume)[self._source]
            self.core.update(value)  # type: ignore[call-arg]

    @property
    def value(self) -> float | None:
        return getattr(self.core, self.spec.output)  # type: ignore[no-any-return]

    @property
    def ready(self) -> bool:
        return self.value is not None

    @property
    def count(self) -> int:
        return self.core.count

    @property
    def warmup(self) -> int:
        return self.spec.warmup

    def reset(self) -> None:
        self.core.reset()


def make_streaming(spec: IndicatorSpec | str) -> BoundIndicator:
    """A streaming indicator for one spec, e.g. ``make_streaming("adx(14)")``."""
    return BoundIndicator(as_spec(spec))


def compute_batch(
    spec: IndicatorSpec | str,
    opens: ArrayLike | None = None,
    highs: ArrayLike | None = None,
    lows: ArrayLike | None = None,
    closes: ArrayLike | None = None,
    volumes: ArrayLike | None = None,
) -> FloatArray:
    """The spec over whole arrays (NaN while warming up); pass the arrays it reads."""
    arrays = (opens, highs, lows, closes, volumes)
    return _batch(as_spec(spec), arrays, {})


def compute_batch_set(
    specs: Mapping[str, IndicatorSpec | str],
    opens: ArrayLike | None = None,
    highs: ArrayLike | None = None,
    lows: ArrayLike | None = None,
    closes: ArrayLike | None = None,
    volumes: ArrayLike | None = None,
) -> dict[str, FloatArray]:
    """Several specs at once, by name; shared computations (ADX/DI) run once."""
    arrays = (opens, highs, lows, closes, volumes)
    cache: dict[str, object] = {}
    return {name: _batch(as_spec(spec), arrays, cache) for name, spec in specs.items()}


def _batch(
    spec: IndicatorSpec, arrays: tuple[ArrayLike | None, ...], cache: dict[str, object]
) -> FloatArray:
    core = spec.info.core
    if core == "dmi":
        key = spec.core_key
        if key not in cache:
            cache[key] = _directional.dmi(*_hlc(spec, arrays), spec.period)
        return getattr(cache[key], spec.output)  # type: ignore[no-any-return]
    if core == "atr":
        return _atr.atr(*_hlc(spec, arrays), spec.period)
    assert spec.source is not None
    series = arrays[SOURCES.index(spec.source)]
    if series is None:
        raise ValueError(f"{spec.key} reads {spec.source}: pass the {spec.source} array")
    return _SERIES_BATCH[core](as_series(series, spec.source), spec.period)


def _hlc(
    spec: IndicatorSpec, arrays: tuple[ArrayLike | None, ...]
) -> tuple[ArrayLike, ArrayLike, ArrayLike]:
    _, high, low, close, _ = arrays
    if high is None or low is None or close is None:
        raise ValueError(f"{spec.key} reads high, low and close: pass all three arrays")
    return high, low, close
