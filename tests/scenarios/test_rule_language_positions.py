"""New position names on real January 2024 NIFTY data: the best underlying move since
entry (breakeven and trailing exits on the underlying) and the held contract's expiry."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from scenario_kit import rule_copy

from engine.data.calendar import Calendar
from engine.model.market import ns_to_datetime
from engine.timeutil import IST

TREND_FADE = (
    "when: \"position.side == 'CE' and m5.close < m5.ema9 or position.side == 'PE' "
    'and m5.close > m5.ema9"'
)


def _sent_exits(run, name: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [
        r
        for r in run.kinds("exit_decision")
        if r.get("outcome") == "sent" and r.get("exit") == name
    ]


def test_breakeven_when_the_underlying_ran_in_favour_then_back_then_out_near_entry(
    backtest, tmp_path: Path
) -> None:
    rules = rule_copy(
        tmp_path,
        {
            "name: trend_fade": "name: breakeven",
            TREND_FADE: 'when: "position.best_underlying_move_pct >= 0.2 and '
            'position.underlying_move_pct <= 0.05"',
        },
    )
    run = backtest(rules)
    fired = _sent_exits(run, "breakeven")
    assert fired
    for r in fired:
        reads = r["reads"]
        assert reads["position.best_underlying_move_pct"] >= 0.2
        assert reads["position.underlying_move_pct"] <= 0.05
        assert reads["position.best_underlying_move_pct"] >= reads["position.underlying_move_pct"]
    for trade in run.trades:  # the trade keeps the best move it saw
        if trade.exit_reason == "breakeven":
            assert trade.best_underlying_move_pct >= 0.2


def test_trailing_when_the_move_gives_back_more_than_the_trail_then_it_exits(
    backtest, tmp_path: Path
) -> None:
    rules = rule_copy(
        tmp_path,
        {
            "name: trend_fade": "name: trail",
            TREND_FADE: 'when: "position.best_underlying_move_pct >= 0.3 and '
            'position.underlying_move_pct <= position.best_underlying_move_pct - 0.15"',
        },
    )
    run = backtest(rules)
    fired = _sent_exits(run, "trail")
    assert fired
    for r in fired:
        reads = r["reads"]
        best, now = (
            reads["position.best_underlying_move_pct"],
            reads["position.underlying_move_pct"],
        )
        assert best >= 0.3 and now <= best - 0.15


def test_position_dte_when_held_then_it_counts_sessions_to_the_held_contracts_expiry(
    backtest, tmp_path: Path
) -> None:
    # exit when the held contract is 2 or fewer sessions from its expiry
    rules = rule_copy(
        tmp_path,
        {"name: trend_fade": "name: near_expiry", TREND_FADE: 'when: "position.dte <= 2"'},
    )
    run = backtest(rules)
    calendar = Calendar.default()
    fired = _sent_exits(run, "near_expiry")
    assert fired
    for r in fired:
        trade = next(t for t in run.trades if t.trade_id == r["trade_id"])
        day = ns_to_datetime(r["ts"], IST).date()
        expected = calendar.days_to_expiry(day, trade.instrument.expiry)[0]
        assert r["reads"]["position.dte"] == expected <= 2
    # Thursday 2024-01-18 expiry: an entry on Tuesday 16th holds a 2-session contract
    assert any(t.instrument.expiry == date(2024, 1, 18) for t in run.trades)
