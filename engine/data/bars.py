"""Ticks to 1-minute bars on the exchange's session boundaries.

Why a hand-rolled builder: the minute grid is not the wall clock's. Each minute is
anchored at the open of the session part it falls in (09:15, or 11:30 for the second
part of a disaster-recovery Saturday), comes from the calendar for that very date, and
the last minute of a part is cut at the part's close. A tick outside every part is
rejected, never folded into a neighbouring bar.

A bar closes on whichever comes first: the first tick at or past its end, or
``on_clock(now)`` with ``now`` at or past its end (plus an optional grace for exchange
timestamps that arrive late), so a bar-close is never later than one clock tick. A
minute without a tick produces no bar; with ``fill_quiet_minutes=True`` it produces a
flat bar at the previous close with volume 0 and ``filled=True`` (never enable that for
option premiums: a price nobody traded is not a price).

The per-tick path is integer nanoseconds and two comparisons; datetimes only appear
once per session, in ``SessionGrid``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from engine.data.session_grid import SessionGrid
from engine.logs import category_logger
from engine.model.enums import DataIssue, Timeframe
from engine.model.events import DataEvent, TickRejected
from engine.model.market import NANOS, Bar, Tick, ns_to_datetime
from engine.timeutil import IST

__all__ = ["BarBuilder", "SkewStats"]

log = category_logger("data")

_MINUTE = 60 * NANOS
_M1 = Timeframe.M1


@dataclass(slots=True)
class SkewStats:
    """Running clock skew between local receive time and exchange time, in nanoseconds.

    Positive skew means the tick reached us after the exchange stamped it (network delay
    plus any difference between the two clocks).
    """

    count: int = 0
    last_ns: int = 0
    total_ns: int = 0
    max_ns: int = 0
    min_ns: int = 0

    def add(self, skew_ns: int) -> None:
        if self.count == 0:
            self.max_ns = self.min_ns = skew_ns
        elif skew_ns > self.max_ns:
            self.max_ns = skew_ns
        elif skew_ns < self.min_ns:
            self.min_ns = skew_ns
        self.count += 1
        self.last_ns = skew_ns
        self.total_ns += skew_ns

    @property
    def mean_ns(self) -> float:
        return self.total_ns / self.count if self.count else 0.0

    def summary(self) -> str:
        if not self.count:
            return "clock skew: no exchange timestamps seen"
        ms = 1e6
        return (
            f"clock skew (local - exchange) over {self.count} ticks: last "
            f"{self.last_ns / ms:.1f} ms, mean {self.mean_ns / ms:.1f} ms, "
            f"max {self.max_ns / ms:.1f} ms, min {self.min_ns / ms:.1f} ms"
        )


class BarBuilder:
    """Builds one symbol's 1-minute bars from its ticks and hands each closed bar to ``on_bar``."""

    def __init__(
        self,
        symbol: str,
        grid: SessionGrid,
        on_bar: Callable[[Bar], None],
        *,
        fill_quiet_minutes: bool = False,
        grace_ns: int = 0,
        on_event: Callable[[DataEvent], None] | None = None,
    ) -> None:
        self.symbol = symbol
        self.grid = grid
        self.fill_quiet_minutes = fill_quiet_minutes
        self.grace_ns = grace_ns
        self.rejected: Counter[DataIssue] = Counter()
        self.skew = SkewStats()
        self._on_bar = on_bar
        self._on_event = on_event
        # The open bar covers [_start, _end); both 0 while no bar is open.
        self._start = 0
        self._end = 0
        self._o = self._h = self._l = self._c = 0.0
        self._v = 0
        self._oi: int | None = None
        self._last_ts = 0
        self._floor = 0  # ticks earlier than this belong to a closed minute: late
        # Where the last closed bar left off, for quiet-minute filling.
        self._fill_from = 0
        self._fill_until = 0  # close of the trading part of the last bar
        self._last_close = 0.0

    # ------------------------------------------------------------------ hot path
    def on_tick(self, tick: Tick) -> None:
        """Feed one tick; its exchange time is used when present, and the skew recorded."""
        ex = tick.ts_exchange
        if ex is None:
            self.update(tick.ts_init, tick.ltp, tick.volume, tick.oi)
        else:
            self.skew.add(tick.ts_init - ex)
            self.update(ex, tick.ltp, tick.volume, tick.oi)

    def update(self, ts: int, price: float, volume: int = 0, oi: int | None = None) -> None:
        """Feed one trade at ``ts`` (UTC ns). The minimal per-tick path."""
        if self._start <= ts < self._end and price > 0.0:
            if price > self._h:
                self._h = price
            if price < self._l:
                self._l = price
            if ts >= self._last_ts:
                self._c = price
                self._last_ts = ts
            self._v += volume
            if oi is not None:
                self._oi = oi
            return
        self._roll(ts, price, volume, oi)

    # ------------------------------------------------------------------ clock
    def on_clock(self, now: int) -> None:
        """Close the open bar once ``now`` has passed its end (plus the grace)."""
        if self._end and now >= self._end + self.grace_ns:
            self._close(now)
        if self.fill_quiet_minutes:
            self._fill(now - self.grace_ns, now)

    def flush(self, now: int | None = None) -> None:
        """Close the open bar now (the data has ended): replay and shutdown use this."""
        if self._end:
            self._close(self._end if now is None else now)

    @property
    def has_open_bar(self) -> bool:
        return self._end != 0

    # ------------------------------------------------------------------ slow path
    def _roll(self, ts: int, price: float, volume: int, oi: int | None) -> None:
        if self._end and ts >= self._end:
            self._close(ts)
        if not price > 0.0:  # also catches NaN
            self._reject(ts, DataIssue.NON_POSITIVE_PRICE, f"price {price!r}")
            return
        if ts < self._floor:
            self._reject(ts, DataIssue.LATE_TICK, "its minute's bar was already closed")
            return
        located = self.grid.locate(ts)
        if located is None:
            self._reject(ts, DataIssue.OUTSIDE_SESSION, "not inside a session part")
            return
        span, part = located
        lo, hi = span.parts[part]
        start = lo + (ts - lo) // _MINUTE * _MINUTE
        if self.fill_quiet_minutes and self._fill_until == hi:
            self._fill(start, ts)
        self._start = self._floor = start
        self._end = min(start + _MINUTE, hi)
        self._fill_until = hi
        self._o = self._h = self._l = self._c = price
        self._v = volume
        self._oi = oi
        self._last_ts = ts

    def _close(self, ts_init: int) -> None:
        bar = Bar(
            self.symbol,
            _M1,
            self._start,
            self._o,
            self._h,
            self._l,
            self._c,
            self._v,
            self._oi,
            False,
            ts_init,
        )
        self._floor = self._fill_from = self._end
        self._last_close = self._c
        self._start = self._end = 0
        self._on_bar(bar)

    def _fill(self, limit: int, ts_init: int) -> None:
        """Flat bars at the last close for quiet minutes ending at or before ``limit``."""
        start = self._fill_from
        hi = self._fill_until
        if self._end or not start or start >= hi:
            return
        price = self._last_close
        while start < hi and min(start + _MINUTE, hi) <= limit:
            end = min(start + _MINUTE, hi)
            bar = Bar(self.symbol, _M1, start, price, price, price, price, 0, None, True, ts_init)
            self._on_bar(bar)
            start = end
        self._fill_from = self._floor = start

    def _reject(self, ts: int, reason: DataIssue, detail: str) -> None:
        self.rejected[reason] += 1
        log.info(
            "{} tick at {} rejected [{}]: {}",
            self.symbol,
            ns_to_datetime(ts, IST).isoformat(),
            reason.value,
            detail,
        )
        if self._on_event is not None:
            self._on_event(TickRejected(self.symbol, ts, reason, detail))
