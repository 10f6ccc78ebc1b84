"""Files to events, in time order, each at the instant it would have been known.

=========================  ==========================================================
source                      delivered at
=========================  ==========================================================
intraday bar                its end (start + length, cut at the session part's close)
official daily bar (D)      00:00 IST of D + 1: a daily file row is known only after
                            its session, so the direction of day D reads D - 1 at most
India VIX daily close (D)   00:00 IST of D + 1, as the previous session's value
India VIX 1m bar            its end
=========================  ==========================================================

Inside a bar the price path is ``bar_path``: the open at the bar's start, then the low
and the high (an up bar, close >= open, visits its low first; a down bar its high first),
then the close, at a quarter, a half and three quarters of the bar. The core asks for the
path only while something listens to ticks (an open position or a working order), so a
quiet bar costs one event.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence

from engine.data.session_grid import SessionGrid
from engine.model.market import Bar
from engine.ports import BarClosed, DailyBarPublished, FeedEvent, VixUpdated
from engine.runtime.day import DAY_NS, day_number, day_start_ns

__all__ = ["ReplayFeed", "bar_path"]


def bar_path(bar: Bar, end: int) -> tuple[tuple[int, float], ...]:
    """The ticks inside ``bar`` (which ends at ``end``): open, low/high, high/low, close."""
    s = bar.ts_event
    q = (end - s) // 4
    if bar.close >= bar.open:
        first, second = bar.low, bar.high
    else:
        first, second = bar.high, bar.low
    return ((s, bar.open), (s + q, first), (s + 2 * q, second), (s + 3 * q, bar.close))


def _ends(bars: Sequence[Bar], grid: SessionGrid) -> list[int]:
    """Each bar's end: start plus its length, cut at the close of its session part."""
    out = []
    lo = hi = 0
    for bar in bars:
        s = bar.ts_event
        end = s + bar.timeframe.nanos
        if not lo <= s < hi:
            located = grid.locate(s)
            lo, hi = located[0].parts[located[1]] if located is not None else (s, end)
        out.append(end if end < hi else hi)
    return out


class ReplayFeed:
    """``engine.ports.Feed`` over stored bars; see the module docstring."""

    def __init__(
        self,
        bars: Sequence[Bar],
        grid: SessionGrid,
        *,
        symbol: str,
        daily: Sequence[Bar] = (),
        vix_daily: Sequence[Bar] = (),
        vix_intraday: Sequence[Bar] = (),
        description: str = "",
    ) -> None:
        self.bars = bars
        self.grid = grid
        self.symbol = symbol
        self.daily = daily
        self.vix_daily = vix_daily
        self.vix_intraday = vix_intraday
        self._description = description or f"replay of {len(bars)} {symbol} bars"

    @property
    def description(self) -> str:
        return self._description

    @property
    def first_ts(self) -> int | None:
        return self.bars[0].ts_event if self.bars else None

    def events(self) -> Iterator[FeedEvent]:
        others: list[Iterator[FeedEvent]] = []
        if self.daily:
            others.append(self._daily_events())
        if self.vix_daily:
            others.append(self._vix_daily_events())
        if self.vix_intraday:
            others.append(self._vix_intraday_events())
        if not others:
            return self._bar_events()
        return self._merged(heapq.merge(*others, key=_ts))

    def _merged(self, others: Iterator[FeedEvent]) -> Iterator[FeedEvent]:
        """The bars with the other, sparser streams slotted in by time (ties: others first)."""
        pending = next(others, None)
        symbol = self.symbol
        for bar, end in zip(self.bars, _ends(self.bars, self.grid), strict=True):
            while pending is not None and pending.ts <= end:
                yield pending
                pending = next(others, None)
            yield BarClosed(end, symbol, bar, bar_path)
        while pending is not None:
            yield pending
            pending = next(others, None)

    def _bar_events(self) -> Iterator[FeedEvent]:
        symbol = self.symbol
        for bar, end in zip(self.bars, _ends(self.bars, self.grid), strict=True):
            yield BarClosed(end, symbol, bar, bar_path)

    def _daily_events(self) -> Iterator[FeedEvent]:
        symbol = self.symbol
        for bar in self.daily:
            yield DailyBarPublished(_next_day(bar.ts_event), symbol, bar)

    def _vix_daily_events(self) -> Iterator[FeedEvent]:
        for bar in self.vix_daily:
            yield VixUpdated(_next_day(bar.ts_event), bar.close, "daily")

    def _vix_intraday_events(self) -> Iterator[FeedEvent]:
        for bar, end in zip(self.vix_intraday, _ends(self.vix_intraday, self.grid), strict=True):
            yield VixUpdated(end, bar.close, "1m")


def _ts(event: FeedEvent) -> int:
    return event.ts


def _next_day(ts: int) -> int:
    """00:00 IST of the day after the IST date of ``ts``."""
    return day_start_ns(day_number(ts)) + DAY_NS
