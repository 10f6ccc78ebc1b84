"""The full ADX strategy of rules/adx.yaml on real January 2024 NIFTY data: three
trigger families, the five exit priorities with the scale-out and trailing stops, the
re-entry rule and stop, and the sizing table, each decision checked from the journal."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from scenario_kit import REPO, rule_copy

FULL = REPO / "rules" / "adx.yaml"

#: The order the exits are checked in (priority, then file order).
EXIT_ORDER = [
    "market_close", "stop_loss", "reentry_stop", "scale_out_1r", "breakeven", "trail_1",
    "trail_2", "take_profit", "trend_fade",
]  # fmt: skip

#: Every percent of the underlying a tenth as large, so January's moves reach each band.
TENTH = {
    "stop_move_pct: -1.0 ": "stop_move_pct: -0.1 ",
    "reentry_stop_pct: -1.5 ": "reentry_stop_pct: -0.15 ",
    "reentry_move_pct: 1.0 ": "reentry_move_pct: 0.1 ",
    "scale_out_pct: 1.0 ": "scale_out_pct: 0.1 ",
    "breakeven_after: 1.0 ": "breakeven_after: 0.1 ",
    "breakeven_lock: 0.5\n": "breakeven_lock: 0.05\n",
    "trail_1_after: 2.0 ": "trail_1_after: 0.2 ",
    "trail_1_gap: 1.5\n": "trail_1_gap: 0.15\n",
    "trail_2_after: 3.0 ": "trail_2_after: 0.3 ",
    "trail_2_gap: 2.0\n": "trail_2_gap: 0.2\n",
    "risk_pct: 2\n": "risk_pct: 8\n",
    # the trend fade on 5-minute closes ends most trades first; off, the others show
    "when: \"position.side == 'CE' and m5.close < m5.ema9 or position.side == 'PE' "
    'and m5.close > m5.ema9"': 'when: "position.pnl_pct > 100000"',
}


def _sent(run, kind: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [r for r in run.kinds(kind) if r.get("outcome") == "sent"]


def test_full_when_january_2024_then_the_trades_are_the_pinned_ones(backtest, golden) -> None:
    from engine.report.backtest import trades_csv

    run = backtest(FULL)
    golden("runtime/adx_full_2024-01_trades.csv", trades_csv(run.trades))
    entries = _sent(run, "entry_decision")
    assert {r["trigger"] for r in entries} >= {"breakout_up", "pullback_down", "higher_highs"}
    for r in entries:
        sizing = r["sizing"]
        assert sizing["mode"] == "risk_pct" and Decimal(sizing["pct"]) == 2
        assert 1 <= sizing["lots"] <= 100
        rows = [m["name"] for m in r["multipliers"]]
        assert rows == ["vix_elevated", "vix_high", "expiry_near", "already_open"]
        filters = {f["name"]: f["reads"] for f in r["filters"]}
        assert list(filters) == ["entry_window", "vix_ok", "hourly_trend", "reentry"]
    for r in _sent(run, "exit_decision"):
        if "exit" in r:
            checked = [c["name"] for c in r["checked"]]
            assert checked == EXIT_ORDER[: EXIT_ORDER.index(r["exit"])]


def test_full_when_moves_scaled_to_a_tenth_then_each_exit_priority_fires(
    backtest, tmp_path: Path
) -> None:
    run = backtest(rule_copy(tmp_path, TENTH, source=FULL))
    fired = {r["exit"] for r in _sent(run, "exit_decision") if "exit" in r}
    assert fired >= {"stop_loss", "scale_out_1r", "breakeven", "trail_2", "take_profit"}
    for trade in run.trades:
        if trade.scale_outs:
            assert trade.scale_outs == ["scale_out_1r"]  # once per position
            assert trade.exit_reasons.startswith("scale_out_1r+")
    for r in _sent(run, "exit_decision"):
        reads = r.get("reads", {})
        if r.get("exit") == "breakeven":
            assert 0.1 <= reads["position.best_underlying_move_pct"] < 0.2
            assert reads["position.underlying_move_pct"] <= 0.05
        if r.get("exit") == "trail_2":
            best = reads["position.best_underlying_move_pct"]
            assert best >= 0.3 and reads["position.underlying_move_pct"] <= best - 0.2
    # a re-entry: after a stop-out the same day, once the move since the last entry is over
    # the threshold; it is stopped by its own, wider stop
    entries = _sent(run, "entry_decision")
    reentries = [
        r for r in entries
        if next(f for f in r["filters"] if f["name"] == "reentry")["reads"][
            "position.entries_today"] > 0
    ]  # fmt: skip
    assert reentries
    for r in reentries:
        reads = next(f for f in r["filters"] if f["name"] == "reentry")["reads"]
        assert reads["last_exit.stop_out"] is True
        assert abs(reads["last_entry.underlying_move_pct"]) > 0.1
    for r in _sent(run, "exit_decision"):
        if r.get("exit") == "stop_loss":
            assert r["reads"]["position.is_reentry"] is False
