"""Holes in market data: a silent feed, missing bars and sessions, and opening gaps.

Two views of the same question:

- live, ``GapMonitor`` watches ticks and the clock: more than 60 s without a tick inside
  a session part raises ``GapDetected`` while the feed is still silent, and the next tick
  raises ``FeedResumed`` with the gap's extent; the first tick of a session more than
  2% away from the previous session's last price raises ``GapOpened``.
- for a file, ``find_gaps`` lists every stretch of session time without bars (start,
  end, duration), every session the calendar knows was traded but the file lacks, and
  the opening gaps. Time between the parts of a split session is not a gap, and a
  holiday is not a missing session. With a calendar derived from the file itself the
  missing sessions cannot be known and are reported as unknown.

``fill_short_gaps`` fills holes of at most ``max_missing`` bars (4 one-minute bars: a
gap shorter than 5 minutes) in an underlying's series by linear interpolation from the
close before to the open after, marking each made-up bar ``filled=True``. Option
premiums are never interpolated: asking for it raises ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import groupby

from engine.data.session_grid import SessionGrid, SessionSpan
from engine.model.enums import InstrumentKind, Timeframe
from engine.model.events import DataEvent, FeedResumed, GapDetected, GapOpened
from engine.model.market import NANOS, Bar

__all__ = [
    "DEFAULT_OPEN_GAP_PCT",
    "DEFAULT_SILENCE_NS",
    "Gap",
    "GapMonitor",
    "GapReport",
    "fill_short_gaps",
    "find_gaps",
]

DEFAULT_SILENCE_NS = 60 * NANOS
DEFAULT_OPEN_GAP_PCT = 2.0


@dataclass(frozen=True, slots=True)
class Gap:
    """Session time without data: ``start`` inclusive, ``end`` exclusive, UTC ns.

    ``kind`` is ``"intraday"`` (between two bars), ``"late_start"`` (from the part's
    open to the first bar), ``"early_end"`` (from the last bar to the part's close) or
    ``"missing_part"`` (a whole part of a split session without bars).
    """

    session_date: date
    start: int
    end: int
    kind: str

    @property
    def duration_ns(self) -> int:
        return self.end - self.start


@dataclass(slots=True)
class GapReport:
    """Everything ``find_gaps`` found in one series."""

    gaps: list[Gap] = field(default_factory=list)
    missing_sessions: list[date] | None = None  # None: unknown (derived calendar)
    opening_gaps: list[GapOpened] = field(default_factory=list)
    sessions_with_data: int = 0
    first_date: date | None = None
    last_date: date | None = None


def find_gaps(
    bars: Sequence[Bar],
    grid: SessionGrid,
    *,
    derived: bool = False,
    open_gap_pct: float = DEFAULT_OPEN_GAP_PCT,
) -> GapReport:
    """Gaps in a validated, time-ordered series; bars outside every session are ignored."""
    report = GapReport()
    if not bars:
        return report
    tf = bars[0].timeframe
    by_day = [(d, list(group)) for d, group in groupby(bars, key=lambda b: b.trading_date)]
    report.first_date, report.last_date = by_day[0][0], by_day[-1][0]
    report.sessions_with_data = len(by_day)
    previous: Bar | None = None
    for day, day_bars in by_day:
        span = grid.span(day)
        if span is None:
            continue
        if tf.is_intraday:
            report.gaps.extend(_session_gaps(day, day_bars, span, tf))
        first = day_bars[0]
        if previous is not None:
            change = abs(first.open / previous.close - 1.0) * 100.0
            if change > open_gap_pct:
                report.opening_gaps.append(
                    GapOpened(first.symbol, day, first.ts_event, previous.close, first.open)
                )
        previous = day_bars[-1]
    if not derived:
        seg = grid.segment
        expected = grid.calendar.sessions(report.first_date, report.last_date, seg)
        have = {d for d, _ in by_day}
        report.missing_sessions = [s.date for s in expected if s.date not in have]
    return report


def _session_gaps(day: date, bars: list[Bar], span: SessionSpan, tf: Timeframe) -> list[Gap]:
    step = tf.nanos
    gaps: list[Gap] = []
    for lo, hi in span.parts:
        inside = [b.ts_event for b in bars if lo <= b.ts_event < hi]
        if not inside:
            gaps.append(Gap(day, lo, hi, "missing_part"))
            continue
        cursor = lo
        for ts in inside:
            if ts > cursor:
                gaps.append(Gap(day, cursor, ts, "late_start" if cursor == lo else "intraday"))
            cursor = max(cursor, min(ts + step, hi))
        if cursor < hi:
            gaps.append(Gap(day, cursor, hi, "early_end"))
    return gaps


class GapMonitor:
    """Watches one symbol's ticks and the clock for silences and opening gaps.

    Watching starts with the first tick or clock call: silence before that (an engine
    started at 10:00) is not a gap. Feed only accepted, in-session ticks.
    """

    def __init__(
        self,
        symbol: str,
        grid: SessionGrid,
        on_event: Callable[[DataEvent], None],
        *,
        silence_ns: int = DEFAULT_SILENCE_NS,
        open_gap_pct: float = DEFAULT_OPEN_GAP_PCT,
    ) -> None:
        self.symbol = symbol
        self.grid = grid
        self.silence_ns = silence_ns
        self.open_gap_pct = open_gap_pct
        self._emit = on_event
        self._last_ts = 0  # the last tick, or when watching began (no gap before that)
        self._last_price = 0.0
        self._day: date | None = None
        self._alarm_from: int | None = None  # start of a reported, unfinished gap
        self._alarm_part_end = 0

    def on_tick(self, ts: int, price: float) -> None:
        """Feed an accepted in-session tick (exchange time, UTC ns) and its price."""
        if not self._last_ts:
            self._last_ts = ts
        located = self.grid.locate(ts)
        if located is None:
            return
        span, part = located
        lo, hi = span.parts[part]
        if span.date != self._day:
            self._new_session(span, ts, price)
        ref = self._last_ts if self._last_ts >= lo else lo
        if self._alarm_from is not None:
            end = ts if self._alarm_part_end == hi else self._alarm_part_end
            self._emit(FeedResumed(self.symbol, self._alarm_from, end))
            self._alarm_from = None
        elif ts - ref > self.silence_ns:
            self._emit(GapDetected(self.symbol, ref, ts, ts - ref))
            self._emit(FeedResumed(self.symbol, ref, ts))
        self._last_ts = ts
        self._last_price = price

    def on_clock(self, now: int) -> None:
        """Raise ``GapDetected`` once when the feed has been silent too long in session."""
        if self._alarm_from is not None:
            return
        if not self._last_ts:
            self._last_ts = now
        located = self.grid.locate(now)
        if located is None:
            return
        span, part = located
        lo, hi = span.parts[part]
        ref = self._last_ts if self._last_ts >= lo else lo
        if now - ref > self.silence_ns:
            self._alarm_from = ref
            self._alarm_part_end = hi
            self._emit(GapDetected(self.symbol, ref, now, now - ref))

    def _new_session(self, span: SessionSpan, ts: int, price: float) -> None:
        if self._day is not None and self._last_price > 0:
            change = abs(price / self._last_price - 1.0) * 100.0
            if change > self.open_gap_pct:
                self._emit(GapOpened(self.symbol, span.date, ts, self._last_price, price))
        self._day = span.date


def fill_short_gaps(
    bars: Iterable[Bar],
    grid: SessionGrid,
    *,
    kind: InstrumentKind,
    max_missing: int = 4,
) -> tuple[list[Bar], int]:
    """The series with holes of at most ``max_missing`` bars interpolated; and how many.

    Only holes between two bars of the same session part are filled; a hole at a part's
    start or end, or longer than ``max_missing`` bars, is left as it is.
    """
    if kind is InstrumentKind.OPTION:
        raise ValueError("option premiums are never interpolated; only underlyings can be")
    out: list[Bar] = []
    filled = 0
    prev: Bar | None = None
    prev_part: tuple[int, int] | None = None
    for bar in bars:
        located = grid.locate(bar.ts_event)
        part = located[0].parts[located[1]] if located else None
        if prev is not None and part is not None and part == prev_part:
            made = _interpolate(prev, bar, max_missing)
            out.extend(made)
            filled += len(made)
        out.append(bar)
        prev, prev_part = bar, part
    return out, filled


def _interpolate(prev: Bar, nxt: Bar, max_missing: int) -> list[Bar]:
    step = prev.timeframe.nanos
    missing = (nxt.ts_event - prev.ts_event) // step - 1
    if missing < 1 or missing > max_missing or not prev.timeframe.is_intraday:
        return []
    made = []
    for i in range(1, missing + 1):
        price = round(prev.close + (nxt.open - prev.close) * i / (missing + 1), 2)
        ts = prev.ts_event + i * step
        made.append(
            Bar(prev.symbol, prev.timeframe, ts, price, price, price, price, 0, None, True, 0)
        )
    return made
