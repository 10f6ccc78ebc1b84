"""Checks every bar before it is used or stored; counts and reports each refusal by reason.

The rules, in the order they run (the first that fails decides):

1. ``non_positive_price``: open, high, low or close is zero, negative or not a number
   (India VIX daily 2021-02-12 and 2021-03-30 publish open/high/low as 0).
2. ``negative_volume``.
3. OHLC relations: high >= max(open, close), low <= min(open, close), high >= low. A
   break no larger than ``ohlc_tolerance`` (0.05, one NSE index tick, by default) is the
   vendor rounding artefact of banknifty_15m_2018_2023.csv: the bar is kept and flagged
   ``ohlc_off_by_tick``; ``strict=True`` rejects it under that code instead. A larger
   break is rejected as ``ohlc_invalid``.
4. ``duplicate`` / ``out_of_order``: a bar not later than the last accepted one.
5. ``outside_session`` / ``misaligned`` (with a calendar): an intraday bar must start
   inside a trading part of its date's session and on that part's grid; a daily bar's
   date must be a session. This rejects the 167 bars after the 15:30 close of
   2024-01-20, and accepts the two parts of the 2024 disaster-recovery Saturdays.
6. ``outlier``: the bar moves further from the previous close than ``outlier_sigma``
   rolling standard deviations of close-to-close returns *and* more than
   ``outlier_min_move`` (relative). Only bars after the first of a session are checked
   and only accepted bars feed the band: an opening gap is not an outlier (it is a
   ``GapOpened`` event), and a bad print cannot widen the band for the next one.

Rejected bars produce ``BarRejected`` events, flagged ones ``BarFlagged``; each is
logged (category ``data``, level INFO) with its reason code.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from engine.data.session_grid import SessionGrid, SessionSpan
from engine.logs import category_logger
from engine.model.enums import DataIssue
from engine.model.events import BarFlagged, BarRejected, DataEvent
from engine.model.market import Bar, ist_date_of

__all__ = ["BarValidator", "ValidationConfig", "ValidationReport", "validate_bars"]

log = category_logger("data")

_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class ValidationConfig:
    """Validation settings; the defaults pass every real bar in the bundled files except
    the quirks the README lists."""

    ohlc_tolerance: float = 0.05  # price units; a break up to this is flagged, not rejected
    strict: bool = False  # reject breaks within the tolerance as well
    outlier_sigma: float | None = 25.0  # None turns the outlier check off
    outlier_min_move: float = 0.03  # and the move must exceed 3% of the previous close
    outlier_window: int = 60  # returns in the rolling band
    outlier_min_periods: int = 20  # returns needed before the band is used


@dataclass(slots=True)
class ValidationReport:
    """Accepted bars and the counts of what was rejected or flagged, by reason."""

    accepted: list[Bar]
    rejected: Counter[DataIssue] = field(default_factory=Counter)
    flagged: Counter[DataIssue] = field(default_factory=Counter)
    events: list[DataEvent] = field(default_factory=list)

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


class BarValidator:
    """Validates one series (one symbol, one timeframe) bar by bar, in time order."""

    def __init__(
        self,
        grid: SessionGrid | None,
        config: ValidationConfig | None = None,
        *,
        on_event: Callable[[DataEvent], None] | None = None,
    ) -> None:
        self.grid = grid
        self.config = config or ValidationConfig()
        self.rejected: Counter[DataIssue] = Counter()
        self.flagged: Counter[DataIssue] = Counter()
        self.accepted = 0
        self._on_event = on_event
        self._last_ts: int | None = None
        self._last_close = 0.0
        self._last_session: object = None
        self._returns: deque[float] = deque(maxlen=self.config.outlier_window)
        self._sum = 0.0
        self._sum_sq = 0.0

    def check(self, bar: Bar) -> bool:
        """True when the bar may be used (possibly flagged); False when it was rejected."""
        found = self._price_checks(bar) or self._order_check(bar)
        session: object = None
        if found is None and self.grid is not None:
            found, session = self._session_check(bar, self.grid)
        if found is None:
            found = self._outlier_check(bar, session)
        if found is not None:
            self._reject(bar, *found)
            return False
        self._accept(bar, session)
        return True

    # ------------------------------------------------------------------ rules
    def _price_checks(self, bar: Bar) -> tuple[DataIssue, str] | None:
        o, h, lo, c = bar.open, bar.high, bar.low, bar.close
        if not (o > 0 and h > 0 and lo > 0 and c > 0):  # NaN fails every comparison
            return DataIssue.NON_POSITIVE_PRICE, f"open {o} high {h} low {lo} close {c}"
        if bar.volume < 0:
            return DataIssue.NEGATIVE_VOLUME, f"volume {bar.volume}"
        breach = max(max(o, c) - h, lo - min(o, c), lo - h)
        if breach <= _EPS:
            return None
        detail = f"open {o} high {h} low {lo} close {c}: off by {breach:.4g}"
        if breach <= self.config.ohlc_tolerance + _EPS:
            if self.config.strict:
                return DataIssue.OHLC_OFF_BY_TICK, detail + " (strict mode)"
            self._flag(bar, DataIssue.OHLC_OFF_BY_TICK, detail + " (within tolerance; kept)")
            return None
        return DataIssue.OHLC_INVALID, detail

    def _order_check(self, bar: Bar) -> tuple[DataIssue, str] | None:
        last = self._last_ts
        if last is None or bar.ts_event > last:
            return None
        if bar.ts_event == last:
            return DataIssue.DUPLICATE, "same start as the previous bar"
        return DataIssue.OUT_OF_ORDER, "earlier than the previous bar"

    def _session_check(
        self, bar: Bar, grid: SessionGrid
    ) -> tuple[tuple[DataIssue, str] | None, SessionSpan | None]:
        ts = bar.ts_event
        span = grid.span_at(ts)
        if span is None:
            return (DataIssue.OUTSIDE_SESSION, f"{bar.trading_date} is not a session"), None
        if not bar.timeframe.is_intraday:
            return None, span
        part = span.part_index(ts)
        if part < 0:
            where = f"session hours {span.describe()}"
            return (DataIssue.OUTSIDE_SESSION, f"starts outside the {where}"), span
        lo = span.parts[part][0]
        if (ts - lo) % bar.timeframe.nanos:
            return (
                DataIssue.MISALIGNED,
                f"not on the {bar.timeframe.value} grid of the part",
            ), span
        return None, span

    def _outlier_check(self, bar: Bar, session: object) -> tuple[DataIssue, str] | None:
        cfg = self.config
        n = len(self._returns)
        if cfg.outlier_sigma is None or self._last_ts is None or n < cfg.outlier_min_periods:
            return None
        if session is not None and session is not self._last_session:
            return None
        if session is None and bar.trading_date != ist_date_of(self._last_ts):
            return None
        pc = self._last_close
        move = max(abs(bar.high - pc), abs(bar.low - pc), abs(bar.close - pc), abs(bar.open - pc))
        move /= pc
        mean = self._sum / n
        sd = math.sqrt(max(self._sum_sq / n - mean * mean, 0.0))
        if move > cfg.outlier_min_move and move > cfg.outlier_sigma * sd:
            sigmas = move / sd if sd else math.inf
            return DataIssue.OUTLIER, f"moved {move:.2%} from {pc} ({sigmas:.0f} sigma)"
        return None

    # ------------------------------------------------------------------ outcomes
    def _accept(self, bar: Bar, session: object) -> None:
        self.accepted += 1
        same_session = self._last_ts is not None and (
            session is self._last_session
            if session is not None
            else bar.trading_date == ist_date_of(self._last_ts)
        )
        if same_session and self._last_close > 0:
            r = bar.close / self._last_close - 1.0
            if len(self._returns) == self._returns.maxlen:
                old = self._returns[0]
                self._sum -= old
                self._sum_sq -= old * old
            self._returns.append(r)
            self._sum += r
            self._sum_sq += r * r
        self._last_ts = bar.ts_event
        self._last_close = bar.close
        self._last_session = session

    def _reject(self, bar: Bar, reason: DataIssue, detail: str) -> None:
        self._note(bar, reason, detail, "rejected", self.rejected, BarRejected)

    def _flag(self, bar: Bar, reason: DataIssue, detail: str) -> None:
        self._note(bar, reason, detail, "flagged", self.flagged, BarFlagged)

    def _note(
        self,
        bar: Bar,
        reason: DataIssue,
        detail: str,
        verdict: str,
        counter: Counter[DataIssue],
        event: type[BarRejected] | type[BarFlagged],
    ) -> None:
        """Count, log and announce one rejected or flagged bar."""
        counter[reason] += 1
        log.info(
            "{} {} bar at {} {} [{}]: {}",
            bar.symbol,
            bar.timeframe.value,
            bar.start_ist.isoformat(),
            verdict,
            reason.value,
            detail,
        )
        if self._on_event is not None:
            self._on_event(event(bar.symbol, bar.timeframe, bar.ts_event, reason, detail))


def validate_bars(
    bars: Iterable[Bar], grid: SessionGrid | None, config: ValidationConfig | None = None
) -> ValidationReport:
    """Run a validator over one series and return the accepted bars with the counts."""
    events: list[DataEvent] = []
    validator = BarValidator(grid, config, on_event=events.append)
    accepted = [bar for bar in bars if validator.check(bar)]
    return ValidationReport(accepted, validator.rejected, validator.flagged, events)
