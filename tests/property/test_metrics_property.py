"""Properties of the performance statistics for any run (hypothesis)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from engine.report.metrics import TradeResult, compute_metrics

MINUTE = 60 * 10**9
DAY = 1440 * MINUTE
BASE = 1_704_080_700 * 10**9  # 2024-01-01 09:15 IST
SESSIONS = [(BASE + d * DAY, BASE + d * DAY + 375 * MINUTE) for d in range(5)]
CAPITAL = Decimal("100000")

money = st.decimals(min_value=-5000, max_value=5000, places=2)
fees = st.decimals(min_value=0, max_value=100, places=2)


@st.composite
def trade(draw: st.DrawFn) -> TradeResult:
    day = draw(st.integers(0, 4))
    start = draw(st.integers(0, 374))
    length = draw(st.integers(0, 2000))
    gross, charges = draw(money), draw(fees)
    entry = SESSIONS[day][0] + start * MINUTE
    return TradeResult(entry, entry + length * MINUTE, gross, charges, gross - charges)


RUNS = st.lists(trade(), max_size=30)


@given(RUNS, st.randoms())
def test_metrics_when_trades_reordered_then_identical(trades: list[TradeResult], rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(trades)
    rnd.shuffle(shuffled)
    assert compute_metrics(trades, capital=CAPITAL, sessions=SESSIONS) == compute_metrics(
        shuffled, capital=CAPITAL, sessions=list(reversed(SESSIONS))
    )


@given(RUNS)
def test_metrics_when_any_run_then_within_their_ranges(trades: list[TradeResult]) -> None:
    m = compute_metrics(trades, capital=CAPITAL, sessions=SESSIONS)
    assert m.win_rate_pct is None or 0.0 <= m.win_rate_pct <= 100.0
    assert m.wins + m.losses <= m.trades == len(trades)
    assert m.max_drawdown >= 0 and m.max_drawdown_pct is not None and m.max_drawdown_pct >= 0
    assert m.max_drawdown <= -sum((t.net_pnl for t in trades if t.net_pnl < 0), Decimal(0))
    assert m.exposure_pct is not None and 0.0 <= m.exposure_pct <= 100.0 + 1e-9
    assert m.net_pnl == m.gross_pnl - m.charges
    assert m.profit_factor is None or m.profit_factor >= 0.0


@given(RUNS, st.integers(min_value=2, max_value=10))
def test_metrics_when_pnl_scaled_then_sharpe_unchanged_and_drawdown_scaled(
    trades: list[TradeResult], k: int
) -> None:
    scaled = [
        TradeResult(t.entry_ts, t.exit_ts, t.gross_pnl * k, t.charges * k, t.net_pnl * k)
        for t in trades
    ]
    a = compute_metrics(trades, capital=CAPITAL, sessions=SESSIONS)
    b = compute_metrics(scaled, capital=CAPITAL * k, sessions=SESSIONS)
    assert b.max_drawdown == a.max_drawdown * k
    assert (a.sharpe is None) == (b.sharpe is None)
    if a.sharpe is not None and b.sharpe is not None:
        assert abs(a.sharpe - b.sharpe) <= 1e-9 * max(1.0, abs(a.sharpe))
    assert a.win_rate_pct == b.win_rate_pct and a.exposure_pct == b.exposure_pct
