"""1-minute bars to 5m, 15m, 1h and daily bars, aligned to the session, streaming or batch.

Buckets are anchored at the open of the session part a bar falls in, and the last bucket
of a part is cut at the part's close: with NSE's 09:15-15:30 the hourly bars are
09:15-10:15, 10:15-11:15 ... 14:15-15:15 and then 15:15-15:30. A daily bar covers the
whole session (every part of it) and is labelled 00:00 IST of its date.

A bucket is emitted the moment its last minute arrives (no waiting for the next bar),
or when a later bar or ``on_clock(now)`` shows it is over. An aggregated bar whose own
data has a hole longer than ``max_gap_ns`` (10 minutes by default: more than ten
consecutive minutes of the bucket's trading time with no source bar, counting the
bucket's start and end, never the break between two session parts) is discarded,
counted and reported as ``BarDiscarded``: such a bar's high and low are not the
market's. ``resample`` runs the same aggregator over a list, so batch equals streaming.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from loguru import logger

from engine.data.session_grid import SessionGrid, SessionSpan
from engine.model.enums import DataIssue, Timeframe
from engine.model.events import BarDiscarded, DataEvent
from engine.model.market import NANOS, Bar, ns_to_datetime
from engine.timeutil import IST

__all__ = ["DEFAULT_MAX_GAP_NS", "BarAggregator", "ResampleResult", "resample"]

log = logger.bind(category="data")

DEFAULT_MAX_GAP_NS = 600 * NANOS


class BarAggregator:
    """Aggregates one symbol's shorter bars into ``timeframe`` bars along the session grid."""

    def __init__(
        self,
        timeframe: Timeframe,
        grid: SessionGrid,
        on_bar: Callable[[Bar], None],
        *,
        max_gap_ns: int | None = DEFAULT_MAX_GAP_NS,
        on_event: Callable[[DataEvent], None] | None = None,
    ) -> None:
        self.timeframe = timeframe
        self.grid = grid
        self.max_gap_ns = max_gap_ns
        self.counts: Counter[DataIssue] = Counter()
        self._on_bar = on_bar
        self._on_event = on_event
        self._period = timeframe.nanos
        self._open = False
        self._floor = 0  # source bars starting before this are out of order
        self._floor_start = -1  # start of the last source bar taken (to name duplicates)
        self._label = 0
        self._end = 0
        self._parts: tuple[tuple[int, int], ...] = ()
        self._part = 0
        self._last_end = 0
        self._gap = 0
        self._symbol = ""
        self._o = self._h = self._l = self._c = 0.0
        self._v = 0
        self._oi: int | None = None
        self._all_filled = True

    def on_bar(self, bar: Bar) -> None:
        """Feed one source bar (shorter than the target timeframe), in time order."""
        s = bar.ts_event
        if self._open and s >= self._end:
            self._close(bar.ts_init or self._end)
        if s < self._floor:
            issue = DataIssue.DUPLICATE if s == self._floor_start else DataIssue.OUT_OF_ORDER
            self._count(issue, bar, "source bar earlier than one already aggregated")
            return
        located = self.grid.locate(s)
        if located is None:
            self._count(DataIssue.OUTSIDE_SESSION, bar, "source bar outside the session")
            return
        span, part = located
        source_end = min(s + bar.timeframe.nanos, span.parts[part][1])
        # which part of the bucket the source bar is in: intraday buckets have one part
        index = part if not self.timeframe.is_intraday else 0
        if not self._open:
            self._start_bucket(bar, span.parts[part], span)
        else:
            self._extend(bar)
        gap = self._gap_before(index, s)
        if gap > self._gap:
            self._gap = gap
        self._part = index
        self._floor = self._last_end = source_end
        self._floor_start = s
        if source_end >= self._end:
            self._close(bar.ts_init or self._end)

    def on_clock(self, now: int) -> None:
        """Close the open bucket once ``now`` is past its end."""
        if self._open and now >= self._end:
            self._close(now)

    def flush(self) -> None:
        """The data has ended: close the open bucket (its missing tail counts as a gap)."""
        if self._open:
            self._close(self._end)

    # ------------------------------------------------------------------ internals
    def _start_bucket(self, bar: Bar, part: tuple[int, int], span: SessionSpan) -> None:
        if self.timeframe.is_intraday:
            lo, hi = part
            start = lo + (bar.ts_event - lo) // self._period * self._period
            self._parts = ((start, min(start + self._period, hi)),)
            self._label = start
        else:
            self._parts = span.parts
            self._label = span.label_ns
        self._end = self._parts[-1][1]
        self._part = 0
        self._last_end = self._parts[0][0]  # nothing covered yet: a late first bar is a gap
        self._gap = 0
        self._open = True
        self._symbol = bar.symbol
        self._o, self._h, self._l, self._c = bar.open, bar.high, bar.low, bar.close
        self._v = bar.volume
        self._oi = bar.oi
        self._all_filled = bar.filled

    def _extend(self, bar: Bar) -> None:
        if bar.high > self._h:
            self._h = bar.high
        if bar.low < self._l:
            self._l = bar.low
        self._c = bar.close
        self._v += bar.volume
        if bar.oi is not None:
            self._oi = bar.oi
        self._all_filled = self._all_filled and bar.filled

    def _gap_before(self, part: int, s: int) -> int:
        """Longest stretch of trading time with no data between the last bar and ``s``."""
        parts = self._parts
        if part == self._part:
            return s - self._last_end
        gap = parts[self._part][1] - self._last_end
        for lo, hi in parts[self._part + 1 : part]:
            gap = max(gap, hi - lo)
        return max(gap, s - parts[part][0])

    def _tail_gap(self) -> int:
        parts = self._parts
        gap = parts[self._part][1] - self._last_end
        for lo, hi in parts[self._part + 1 :]:
            gap = max(gap, hi - lo)
        return gap

    def _close(self, ts_init: int) -> None:
        self._open = False
        gap = max(self._gap, self._tail_gap())
        if self.max_gap_ns is not None and gap > self.max_gap_ns:
            self.counts[DataIssue.INTERNAL_GAP] += 1
            log.info(
                "{} {} bar at {} discarded [internal_gap]: no data for {:.0f} min",
                self._symbol,
                self.timeframe.value,
                ns_to_datetime(self._label, IST).isoformat(),
                gap / 60e9,
            )
            if self._on_event is not None:
                self._on_event(
                    BarDiscarded(
                        self._symbol, self.timeframe, self._label, DataIssue.INTERNAL_GAP, gap
                    )
                )
            return
        bar = Bar(
            self._symbol,
            self.timeframe,
            self._label,
            self._o,
            self._h,
            self._l,
            self._c,
            self._v,
            self._oi,
            self._all_filled,
            ts_init,
        )
        self._on_bar(bar)

    def _count(self, issue: DataIssue, bar: Bar, detail: str) -> None:
        self.counts[issue] += 1
        log.info(
            "{} {} bar at {} not aggregated [{}]: {}",
            bar.symbol,
            bar.timeframe.value,
            bar.start_ist.isoformat(),
            issue.value,
            detail,
        )


@dataclass(slots=True)
class ResampleResult:
    """Bars built by ``resample`` and what was left out, by reason."""

    bars: list[Bar]
    counts: Counter[DataIssue] = field(default_factory=Counter)
    events: list[DataEvent] = field(default_factory=list)


def resample(
    bars: Iterable[Bar],
    timeframe: Timeframe,
    grid: SessionGrid,
    *,
    max_gap_ns: int | None = DEFAULT_MAX_GAP_NS,
) -> ResampleResult:
    """Aggregate time-ordered ``bars`` into ``timeframe`` bars (the streaming path, batched)."""
    out: list[Bar] = []
    events: list[DataEvent] = []
    agg = BarAggregator(timeframe, grid, out.append, max_gap_ns=max_gap_ns, on_event=events.append)
    source: Timeframe | None = None
    for bar in bars:
        if source is None:
            source = bar.timeframe
            if source.nanos >= timeframe.nanos:
                raise ValueError(
                    f"cannot resample {source.value} bars to {timeframe.value}: "
                    "the target must be longer than the source"
                )
        agg.on_bar(bar)
    agg.flush()
    return ResampleResult(out, agg.counts, events)
