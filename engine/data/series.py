"""A data file turned into validated series, each with the calendar it was checked against.

The front half every data command shares (``engine data import|validate|gaps`` and
``engine indicators``): read the file, pick the calendar (the shipped NSE calendar when
it covers the file's dates, else one derived from the file, with a note saying so), and
validate each symbol's bars. Index files follow the cash market (``CM``) hours, so that
is the default segment here; pass ``"FO"`` for derivatives data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

from engine.data.csv_import import BarFile, read_bars
from engine.data.session_grid import CalendarChoice, SessionGrid, choose_calendar
from engine.data.validate import ValidationConfig, ValidationReport, validate_bars
from engine.model.enums import Timeframe
from engine.model.market import Bar

__all__ = ["Series", "open_series"]


@dataclass(slots=True)
class Series:
    """One symbol's bars from a file: as read, and as accepted by validation."""

    symbol: str
    timeframe: Timeframe
    read: list[Bar]
    validation: ValidationReport
    choice: CalendarChoice
    grid: SessionGrid

    @property
    def bars(self) -> list[Bar]:
        """The accepted bars, in time order."""
        return self.validation.accepted


def open_series(
    path: str | Path,
    *,
    symbol: str | None = None,
    timeframe: Timeframe | None = None,
    tz: tzinfo | None = None,
    lenient: bool = False,
    segment: str = "CM",
    config: ValidationConfig | None = None,
) -> tuple[BarFile, list[Series]]:
    """Read ``path`` and validate every symbol in it (one series per symbol)."""
    bar_file = read_bars(path, symbol=symbol, timeframe=timeframe, tz=tz, lenient=lenient)
    tf = bar_file.timeframe
    out = []
    for sym, bars in bar_file.bars.items():
        choice = choose_calendar([b.ts_event for b in bars], tf.seconds)
        grid = SessionGrid(choice.calendar, segment)
        report = validate_bars(bars, grid, config)
        out.append(Series(sym, tf, bars, report, choice, grid))
    return bar_file, out


def load_validated_series(
    path: str | Path, *, segment: str = "CM", config: ValidationConfig | None = None
) -> list[Series]:
    """``open_series`` for the runtime: the validated bars of a file, remembered.

    A backtest reads the same file again and again; the bars a validation accepted are
    kept in ``engine.cache`` under the hash of the file's bytes, the calendar's files and
    the engine's code, so an unchanged file is neither parsed nor validated twice. The
    series returned from the cache carry the counts of what was rejected and flagged, not
    the rejected bars themselves (``engine data validate`` reads the file every time).
    """
    from engine.data._series_cache import read_cached, write_cached

    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError:
        raw = None
    if raw is not None and config is None:
        found = read_cached(raw, segment)
        if found is not None:
            return found
    _, series = open_series(p, segment=segment, config=config)
    if raw is not None and config is None:
        write_cached(raw, segment, series)
    return series
