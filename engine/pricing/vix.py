"""India VIX as the modelled premiums' volatility, known only once it was published.

A backtest must not price an option at 10:00 with a VIX value that was only known at
15:30. The sources here make that impossible by construction: the daily source gives, on
trading date D, the close of the last session before D (a daily value exists only after
its session closed), and the intraday source gives the close of the last 1-minute bar that
had completed at the moment asked (the bar labelled 09:15 is complete at 09:16).
Neither carries a value across a long data hole: a value older than its ``max_gap_days``
or ``max_age_s`` is no value (None), and the caller decides what to do without one.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Protocol

from engine.model.market import NANOS, Bar, ist_date_of

__all__ = ["DailyVixSource", "FallbackVix", "IntradayVixSource", "VixSource"]


class VixSource(Protocol):
    """India VIX (in index points, e.g. 13.5) known at an instant, or None."""

    def vix_at(self, ts_ns: int) -> float | None: ...


def _usable(value: float) -> bool:
    return math.isfinite(value) and value > 0


class DailyVixSource:
    """The daily close of the last session before the trading date of ``ts``.

    ``rows`` are ``(trading date, close)`` pairs or daily ``Bar``s, in any order; rows whose
    close is not a positive number are skipped (counted in ``skipped``). The previous
    session is the previous row: the VIX file lists every session it has a value for.
    """

    def __init__(self, rows: Iterable[tuple[date, float] | Bar], *, max_gap_days: int = 7) -> None:
        pairs: dict[date, float] = {}
        self.skipped = 0
        for row in rows:
            d, close = (row.trading_date, row.close) if isinstance(row, Bar) else row
            if not _usable(float(close)):
                self.skipped += 1
                continue
            if d in pairs:
                raise ValueError(f"two daily VIX values for {d.isoformat()}")
            pairs[d] = float(close)
        self._dates = sorted(pairs)
        self._closes = [pairs[d] for d in self._dates]
        self.max_gap_days = max_gap_days

    @classmethod
    def from_csv(cls, path: str | Path, **kwargs: int) -> DailyVixSource:
        """From a daily file such as india_vix_daily_2012_2026.csv (``engine.data`` reader)."""
        from engine.data.csv_import import read_bars

        return cls(read_bars(path).all_bars, **kwargs)

    def __len__(self) -> int:
        return len(self._dates)

    def as_of(self, ts_ns: int) -> tuple[date, float] | None:
        """The session date and close used at ``ts_ns``, or None."""
        d = ist_date_of(ts_ns)
        i = bisect_left(self._dates, d) - 1
        if i < 0 or (d - self._dates[i]).days > self.max_gap_days:
            return None
        return self._dates[i], self._closes[i]

    def vix_at(self, ts_ns: int) -> float | None:
        found = self.as_of(ts_ns)
        return None if found is None else found[1]


class IntradayVixSource:
    """The close of the last bar completed at or before ``ts``, from the same trading date.

    ``bars`` are intraday ``Bar``s (or ``(start ns, close)`` pairs) of ``bar_seconds``
    length, labelled by their start as the data files label them. Before the day's first
    bar has completed there is no value (None): chain a ``DailyVixSource`` behind it with
    ``FallbackVix`` to cover the first minute.
    """

    def __init__(
        self,
        bars: Iterable[tuple[int, float] | Bar],
        *,
        bar_seconds: int = 60,
        max_age_s: int | None = None,
    ) -> None:
        pairs: dict[int, float] = {}
        self.skipped = 0
        for bar in bars:
            start, close = (bar.ts_event, bar.close) if isinstance(bar, Bar) else bar
            if not _usable(float(close)):
                self.skipped += 1
                continue
            pairs[start] = float(close)
        starts = sorted(pairs)
        length = bar_seconds * NANOS
        self._ends = [s + length for s in starts]
        self._closes = [pairs[s] for s in starts]
        self.max_age_ns = None if max_age_s is None else max_age_s * NANOS

    @classmethod
    def from_csv(cls, path: str | Path, **kwargs: int) -> IntradayVixSource:
        """From a 1-minute file such as india_vix_1m_2023q2.csv."""
        from engine.data.csv_import import read_bars

        found = read_bars(path)
        return cls(found.all_bars, bar_seconds=found.timeframe.seconds, **kwargs)

    def __len__(self) -> int:
        return len(self._ends)

    def vix_at(self, ts_ns: int) -> float | None:
        i = bisect_right(self._ends, ts_ns) - 1
        if i < 0:
            return None
        end = self._ends[i]
        if ist_date_of(end - 1) != ist_date_of(ts_ns):  # never yesterday's last bar
            return None
        if self.max_age_ns is not None and ts_ns - end > self.max_age_ns:
            return None
        return self._closes[i]


class FallbackVix:
    """The first source's value, else the second's (intraday first, daily behind it)."""

    def __init__(self, first: VixSource, second: VixSource) -> None:
        self.first = first
        self.second = second

    def vix_at(self, ts_ns: int) -> float | None:
        value = self.first.vix_at(ts_ns)
        return value if value is not None else self.second.vix_at(ts_ns)
