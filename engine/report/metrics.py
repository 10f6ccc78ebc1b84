"""Performance statistics of a backtest, from closed trades and the sessions of the run.

Pure functions over plain records, so the same numbers come out of a backtest, a paper
run and a test, and every figure can be checked by hand. Definitions (docs/backtesting.md
repeats them):

- a trade is a win when its net P&L is above zero and a loss when below; a trade that
  nets exactly zero is neither (it still counts in ``trades``);
- ``profit_factor``: the sum of winning trades' net P&L over the absolute sum of losing
  trades'; None when no trade lost (the ratio has no finite value), 0.0 when none won;
- the equity curve starts at ``capital`` and moves by each trade's net P&L at its exit
  (realised P&L only; trades exiting at the same instant move it together).
  ``max_drawdown`` is the largest fall in rupees from a peak of that curve to a later
  point; ``max_drawdown_pct`` the largest fall as a percentage of the peak it fell from
  (the two may come from different episodes);
- ``sharpe``: each session's net P&L (the trades whose exit falls in it; 0 on a session
  without exits) divided by ``capital`` is that day's return; the mean over the standard
  deviation (sample, n - 1) of those returns, times sqrt(252). A trade counts on the last
  session that opened at or before its exit. No risk-free rate is subtracted. None with
  fewer than two sessions or returns that never vary;
- ``avg_hold_minutes``: mean of exit minus entry;
- ``exposure_pct``: the time inside sessions during which at least one trade was open,
  over the total session time of the run (overnight holds count only their session time;
  overlapping trades count once).
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal

__all__ = ["Metrics", "TradeResult", "compute_metrics"]

_NS_PER_MINUTE = 60 * 1_000_000_000
_TRADING_DAYS = 252


@dataclass(frozen=True, slots=True)
class TradeResult:
    """The facts of one closed trade that metrics need (times in UTC nanoseconds)."""

    entry_ts: int
    exit_ts: int
    gross_pnl: Decimal
    charges: Decimal
    net_pnl: Decimal


@dataclass(frozen=True, slots=True)
class Metrics:
    trades: int
    wins: int
    losses: int
    win_rate_pct: float | None
    gross_pnl: Decimal
    charges: Decimal
    net_pnl: Decimal
    profit_factor: float | None
    max_drawdown: Decimal
    max_drawdown_pct: float | None
    sharpe: float | None
    avg_hold_minutes: float | None
    exposure_pct: float | None

    def to_dict(self) -> dict[str, object]:
        """Plain values for JSON: rupee amounts as strings (exact), ratios as floats."""
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(self).items()}


def compute_metrics(
    trades: Sequence[TradeResult], *, capital: Decimal, sessions: Sequence[tuple[int, int]]
) -> Metrics:
    """Every statistic of a run; ValueError for inconsistent input (see the module docstring)."""
    if not isinstance(capital, Decimal) or not capital.is_finite() or capital <= 0:
        raise ValueError(f"capital must be a positive Decimal; it was {capital!r}")
    for t in trades:
        _check_trade(t)
    spans = _check_sessions(sessions)
    nets = [t.net_pnl for t in trades]
    wins = sum(1 for n in nets if n > 0)
    losses = sum(1 for n in nets if n < 0)
    drawdown, drawdown_pct = _drawdowns(trades, capital)
    return Metrics(
        trades=len(trades),
        wins=wins,
        losses=losses,
        win_rate_pct=100.0 * wins / len(trades) if trades else None,
        gross_pnl=sum((t.gross_pnl for t in trades), Decimal(0)),
        charges=sum((t.charges for t in trades), Decimal(0)),
        net_pnl=sum(nets, Decimal(0)),
        profit_factor=_profit_factor(nets),
        max_drawdown=drawdown,
        max_drawdown_pct=drawdown_pct,
        sharpe=_sharpe(trades, capital, spans),
        avg_hold_minutes=(
            statistics.fmean((t.exit_ts - t.entry_ts) / _NS_PER_MINUTE for t in trades)
            if trades
            else None
        ),
        exposure_pct=_exposure(trades, spans),
    )


def _check_trade(t: TradeResult) -> None:
    if t.exit_ts < t.entry_ts:
        raise ValueError(f"a trade exits ({t.exit_ts}) before it enters ({t.entry_ts})")
    if t.gross_pnl - t.charges != t.net_pnl:
        raise ValueError(
            f"net P&L {t.net_pnl} is not gross {t.gross_pnl} minus charges {t.charges}"
        )


def _check_sessions(sessions: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    spans = sorted(sessions)
    for i, (open_ns, close_ns) in enumerate(spans):
        if close_ns <= open_ns:
            raise ValueError(f"a session closes ({close_ns}) before it opens ({open_ns})")
        if i and open_ns < spans[i - 1][1]:
            raise ValueError(f"sessions overlap: one opens at {open_ns} before the last closed")
    return spans


def _profit_factor(nets: list[Decimal]) -> float | None:
    won = sum((n for n in nets if n > 0), Decimal(0))
    lost = -sum((n for n in nets if n < 0), Decimal(0))
    return None if lost == 0 else float(won / lost)


def _drawdowns(trades: Sequence[TradeResult], capital: Decimal) -> tuple[Decimal, float]:
    by_exit: dict[int, Decimal] = {}
    for t in trades:
        by_exit[t.exit_ts] = by_exit.get(t.exit_ts, Decimal(0)) + t.net_pnl
    equity = peak = capital
    worst, worst_pct = Decimal(0), 0.0
    for ts in sorted(by_exit):
        equity += by_exit[ts]
        peak = max(peak, equity)
        worst = max(worst, peak - equity)
        worst_pct = max(worst_pct, float((peak - equity) / peak * 100))
    return worst, worst_pct


def _sharpe(
    trades: Sequence[TradeResult], capital: Decimal, spans: list[tuple[int, int]]
) -> float | None:
    if len(spans) < 2:
        return None
    opens = [s[0] for s in spans]
    daily = [Decimal(0)] * len(spans)
    for t in trades:
        i = bisect_right(opens, t.exit_ts) - 1
        if i < 0:
            raise ValueError(f"a trade exits at {t.exit_ts}, before the first session of the run")
        daily[i] += t.net_pnl
    returns = [float(p / capital) for p in daily]
    sd = statistics.stdev(returns)
    if sd == 0 or not math.isfinite(sd):
        return None
    return statistics.fmean(returns) / sd * math.sqrt(_TRADING_DAYS)


def _exposure(trades: Sequence[TradeResult], spans: list[tuple[int, int]]) -> float | None:
    total = sum(close - open_ for open_, close in spans)
    if total == 0:
        return None
    closes = [s[1] for s in spans]
    covered = 0
    for start, end in _union((t.entry_ts, t.exit_ts) for t in trades):
        i = bisect_right(closes, start)  # the first session still open at the start
        while i < len(spans) and spans[i][0] < end:
            open_, close = spans[i]
            covered += max(0, min(end, close) - max(start, open_))
            i += 1
    return 100.0 * covered / total


def _union(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
