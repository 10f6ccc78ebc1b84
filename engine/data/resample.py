"""Shorter bars to 5m, 15m, 1h and daily bars, every timeframe from one pass, streaming or batch.

Buckets are anchored at the open of the session part a bar falls in, and the last bucket
of a part is cut at the part's close: with NSE's 09:15-15:30 the hourly bars are
09:15-10:15, 10:15-11:15 ... 14:15-15:15 and then 15:15-15:30. A daily bar covers the
whole session (every part of it) and is labelled 00:00 IST of its date.

``SessionAggregator`` builds every requested timeframe from one source series: each
source bar is placed in the session grid once (a cached part bound check, a grid lookup
only when the bar leaves the part), and each target's bucket start and end follow by
integer arithmetic from the part's open. A bucket is emitted the moment its last source
bar arrives, or when a later bar or ``on_clock(now)`` shows its end has passed; never
before its end. ``flush()`` at the end of the data emits nothing that has not ended: an
open bucket is reported as ``BarDiscarded`` with reason ``incomplete``.

An aggregated bar whose own data has a hole longer than ``max_gap_ns`` (10 minutes by
default: more than ten consecutive minutes of the bucket's trading time with no source
bar, counting the bucket's start and end, never the break between two session parts) is
discarded, counted and reported as ``BarDiscarded``: such a bar's high and low are not the
market's. ``resample`` runs the same aggregator over a list, so batch equals streaming.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from engine.data.session_grid import SessionGrid, SessionSpan
from engine.logs import category_logger
from engine.model.enums import DataIssue, Timeframe
from engine.model.events import BarDiscarded, DataEvent
from engine.model.market import NANOS, Bar, make_bar, ns_to_datetime
from engine.timeutil import IST

__all__ = [
    "DEFAULT_MAX_GAP_NS",
    "BarAggregator",
    "ResampleResult",
    "SessionAggregator",
    "resample",
]

log = category_logger("data")

DEFAULT_MAX_GAP_NS = 600 * NANOS


class _Bucket:
    """The open bucket of one target timeframe."""

    __slots__ = (
        "all_filled",
        "c",
        "end",
        "gap",
        "h",
        "intraday",
        "is_open",
        "l",
        "label",
        "last_end",
        "o",
        "oi",
        "part",
        "parts",
        "period",
        "symbol",
        "tf",
        "v",
    )

    def __init__(self, tf: Timeframe) -> None:
        self.tf = tf
        self.period = tf.nanos
        self.intraday = tf.is_intraday
        self.is_open = False
        self.label = self.end = self.last_end = self.gap = self.part = 0
        self.parts: tuple[tuple[int, int], ...] = ()
        self.symbol = ""
        self.o = self.h = self.l = self.c = 0.0
        self.v = 0
        self.oi: int | None = None
        self.all_filled = True


class SessionAggregator:
    """Aggregates one symbol's source bars into every target timeframe along the grid."""

    def __init__(
        self,
        grid: SessionGrid,
        targets: Sequence[Timeframe],
        on_bar: Callable[[Bar], None],
        *,
        max_gap_ns: int | None = DEFAULT_MAX_GAP_NS,
        on_event: Callable[[DataEvent], None] | None = None,
    ) -> None:
        self.grid = grid
        self.max_gap_ns = max_gap_ns
        self.counts: Counter[DataIssue] = Counter()
        self._on_bar = on_bar
        self._on_event = on_event
        # shortest first: a 5m bar is emitted before the hour it ends, as time says
        self._buckets = [_Bucket(tf) for tf in sorted(set(targets), key=lambda t: t.nanos)]
        self._floor = 0  # source bars starting before this are out of order
        self._floor_start = -1  # start of the last source bar taken (to name duplicates)
        self._lo = self._hi = 0  # the session part the last source bar fell in
        self._span: SessionSpan | None = None
        self._part = 0

    @property
    def targets(self) -> tuple[Timeframe, ...]:
        return tuple(b.tf for b in self._buckets)

    def on_bar(self, bar: Bar) -> None:  # noqa: C901 - the per-bar path, inlined
        """Feed one source bar (shorter than every target), in time order."""
        s = bar.ts_event
        if s < self._floor:
            issue = DataIssue.DUPLICATE if s == self._floor_start else DataIssue.OUT_OF_ORDER
            self._count(issue, bar, "source bar earlier than one already aggregated")
            return
        if not self._lo <= s < self._hi:
            located = self.grid.locate(s)
            if located is None:
                for b in self._buckets:  # whatever ended before this bar is over
                    if b.is_open and s >= b.end:
                        self._close(b, bar.ts_init or b.end)
                self._count(DataIssue.OUTSIDE_SESSION, bar, "source bar outside the session")
                return
            span, part = located
            self._span, self._part = span, part
            self._lo, self._hi = span.parts[part]
        lo, hi = self._lo, self._hi
        source_end = s + bar.timeframe.nanos
        if source_end > hi:
            source_end = hi
        ts_init = bar.ts_init
        high, low, close = bar.high, bar.low, bar.close
        part = self._part
        for b in self._buckets:
            if b.is_open:
                if s >= b.end:
                    self._close(b, ts_init or b.end)
                    self._start(b, bar, lo, hi)
                else:
                    if high > b.h:
                        b.h = high
                    if low < b.l:
                        b.l = low
                    b.c = close
                    b.v += bar.volume
                    if bar.oi is not None:
                        b.oi = bar.oi
                    if not bar.filled:
                        b.all_filled = False
            else:
                self._start(b, bar, lo, hi)
            index = 0 if b.intraday else part
            gap = s - b.last_end if index == b.part else self._gap_before(b, index, s)
            if gap > b.gap:
                b.gap = gap
            b.part = index
            b.last_end = source_end
            if source_end >= b.end:
                self._close(b, ts_init or b.end)
        self._floor = source_end
        self._floor_start = s

    def on_clock(self, now: int) -> None:
        """Close every open bucket whose end ``now`` has reached."""
        for b in self._buckets:
            if b.is_open and now >= b.end:
                self._close(b, now)

    def flush(self) -> None:
        """The data has ended: an open bucket has not ended, so it is reported, not emitted."""
        for b in self._buckets:
            if not b.is_open:
                continue
            b.is_open = False
            self.counts[DataIssue.INCOMPLETE] += 1
            log.info(
                "{} {} bar at {} not emitted [incomplete]: the data ends before its end",
                b.symbol,
                b.tf.value,
                ns_to_datetime(b.label, IST).isoformat(),
            )
            if self._on_event is not None:
                self._on_event(
                    BarDiscarded(b.symbol, b.tf, b.label, DataIssue.INCOMPLETE, b.end - b.last_end)
                )

    # ------------------------------------------------------------------ internals
    def _start(self, b: _Bucket, bar: Bar, lo: int, hi: int) -> None:
        if b.intraday:
            start = lo + (bar.ts_event - lo) // b.period * b.period
            end = start + b.period
            b.parts = ((start, end if end < hi else hi),)
            b.label = start
        else:
            span = self._span
            assert span is not None
            b.parts = span.parts
            b.label = span.label_ns
        b.end = b.parts[-1][1]
        b.part = 0
        b.last_end = b.parts[0][0]  # nothing covered yet: a late first bar is a gap
        b.gap = 0
        b.is_open = True
        b.symbol = bar.symbol
        b.o, b.h, b.l, b.c = bar.open, bar.high, bar.low, bar.close
        b.v = bar.volume
        b.oi = bar.oi
        b.all_filled = bar.filled

    @staticmethod
    def _gap_before(b: _Bucket, part: int, s: int) -> int:
        """Longest stretch of trading time with no data between the last bar and ``s``."""
        if part == b.part:
            return s - b.last_end
        parts = b.parts
        gap = parts[b.part][1] - b.last_end
        for lo, hi in parts[b.part + 1 : part]:
            gap = max(gap, hi - lo)
        return max(gap, s - parts[part][0])

    @staticmethod
    def _tail_gap(b: _Bucket) -> int:
        parts = b.parts
        gap = parts[b.part][1] - b.last_end
        for lo, hi in parts[b.part + 1 :]:
            gap = max(gap, hi - lo)
        return gap

    def _close(self, b: _Bucket, ts_init: int) -> None:
        b.is_open = False
        gap = max(b.gap, self._tail_gap(b))
        if self.max_gap_ns is not None and gap > self.max_gap_ns:
            self.counts[DataIssue.INTERNAL_GAP] += 1
            log.info(
                "{} {} bar at {} discarded [internal_gap]: no data for {:.0f} min",
                b.symbol,
                b.tf.value,
                ns_to_datetime(b.label, IST).isoformat(),
                gap / 60e9,
            )
            if self._on_event is not None:
                self._on_event(BarDiscarded(b.symbol, b.tf, b.label, DataIssue.INTERNAL_GAP, gap))
            return
        self._on_bar(
            make_bar(b.symbol, b.tf, b.label, b.o, b.h, b.l, b.c, b.v, b.oi, b.all_filled, ts_init)
        )

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


class BarAggregator(SessionAggregator):
    """One target timeframe: ``SessionAggregator`` with a single target."""

    def __init__(
        self,
        timeframe: Timeframe,
        grid: SessionGrid,
        on_bar: Callable[[Bar], None],
        *,
        max_gap_ns: int | None = DEFAULT_MAX_GAP_NS,
        on_event: Callable[[DataEvent], None] | None = None,
    ) -> None:
        super().__init__(grid, (timeframe,), on_bar, max_gap_ns=max_gap_ns, on_event=on_event)
        self.timeframe = timeframe


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
