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
