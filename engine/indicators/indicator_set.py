"""The indicators one timeframe of a rule file declares, updated together bar by bar.

A rule writes ``daily: {adx: adx(14), plus_di: plus_di(14), minus_di: minus_di(14)}``;
the context builds ``IndicatorSet.from_specs`` from that mapping, calls ``update`` once per
closed bar and reads ``values()`` (``None`` = still warming up) and ``status(name)`` (bars
seen, bars needed) to say "daily.adx not ready (9 of 28 bars)".

Specs that share a computation share one object: adx(14), plus_di(14) and minus_di(14)
smooth DM and TR once; ``volume_avg(20)`` and ``sma(volume, 20)`` are one SMA. The set
groups the update calls by what each computation reads, so a bar costs one call per
distinct computation and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from operator import attrgetter

from engine.indicators.registry import Core, as_spec, make_core
from engine.indicators.spec import SOURCES, IndicatorSpec, IndicatorSpecError
from engine.logs import category_logger

__all__ = ["IndicatorSet"]

log = category_logger("indicators")


class IndicatorSet:
    """Named indicators fed one bar at a time; shared computations run once per bar."""

    __slots__ = ("_cores", "_hlc", "_outputs", "_series", "_specs")

    def __init__(self, specs: Mapping[str, IndicatorSpec]) -> None:
        self._specs = dict(specs)
        self._cores: dict[str, Core] = {}
        for spec in self._specs.values():
            if spec.core_key not in self._cores:
                self._cores[spec.core_key] = make_core(spec)
        self._hlc: list[Callable[[float, float, float], None]] = []
        # One list of update methods per series, in SOURCES order (open .. volume).
        self._series: list[list[Callable[[float], None]]] = [[] for _ in SOURCES]
        seen: set[str] = set()
        for spec in self._specs.values():
            if spec.core_key in seen:
                continue
            seen.add(spec.core_key)
            update = self._cores[spec.core_key].update
            if spec.source is None:
                self._hlc.append(update)  # type: ignore[arg-type]
            else:
                self._series[SOURCES.index(spec.source)].append(update)  # type: ignore[arg-type]
        self._outputs: dict[str, tuple[Core, Callable[[Core], float | None]]] = {
            name: (self._cores[spec.core_key], attrgetter(spec.output))
            for name, spec in self._specs.items()
        }
        log.debug(
            "indicator set: {} outputs over {} computations", len(self._specs), len(self._cores)
        )

    @classmethod
    def from_specs(cls, specs: Mapping[str, IndicatorSpec | str]) -> IndicatorSet:
        """Build from ``{name: "adx(14)", ...}``; IndicatorSpecError names the bad entry."""
        parsed: dict[str, IndicatorSpec] = {}
        for name, spec in specs.items():
            try:
                parsed[name] = as_spec(spec)
            except IndicatorSpecError as e:
                raise IndicatorSpecError(
                    e.text, e.column, f"indicator '{name}': {e.reason}", e.hint
                ) from e
        return cls(parsed)

    def update(self, open_: float, high: float, low: float, close: float, volume: float) -> None:
        """Feed one closed bar to every computation."""
        for update_hlc in self._hlc:
            update_hlc(high, low, close)
        opens, highs, lows, closes, volumes = self._series
        for update in closes:
            update(close)
        if opens:
            for update in opens:
                update(open_)
        if highs:
            for update in highs:
                update(high)
        if lows:
            for update in lows:
                update(low)
        if volumes:
            for update in volumes:
                update(volume)

    def values(self) -> dict[str, float | None]:
        """Every indicator's latest value by name; ``None`` while it is warming up."""
        return {name: read(core) for name, (core, read) in self._outputs.items()}

    def value(self, name: str) -> float | None:
        """One indicator's latest value, ``None`` while warming up (KeyError if unknown)."""
        core, read = self._outputs[name]
        return read(core)

    def ready(self, name: str) -> bool:
        return self.value(name) is not None

    def status(self, name: str) -> tuple[int, int]:
        """(bars seen, bars needed) for one indicator: ``(9, 28)`` for a young adx(14)."""
        core, _ = self._outputs[name]
        return core.count, self._specs[name].warmup

    def spec(self, name: str) -> IndicatorSpec:
        return self._specs[name]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._specs)

    @property
    def computations(self) -> int:
        """How many distinct computations run per bar (shared specs count once)."""
        return len(self._cores)

    @property
    def warmup(self) -> int:
        """Bars until every indicator of the set is ready (0 for an empty set)."""
        return max((spec.warmup for spec in self._specs.values()), default=0)

    def reset(self) -> None:
        """Forget every bar: the start of a new backtest or after a data gap."""
        for core in self._cores.values():
            core.reset()

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self._specs
