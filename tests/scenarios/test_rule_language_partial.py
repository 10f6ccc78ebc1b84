"""Partial exits on real January 2024 NIFTY data: half the lots at a first target, the
rest by the other exits; once per position unless repeatable."""

from __future__ import annotations

from pathlib import Path

from scenario_kit import rule_copy

EXITS = "exits:                 # first match by priority, checked on every tick"
LOTS = "sizing:   {mode: fixed_lots, lots: 1, max_lots: 4}"


def _sent(run, kind: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [r for r in run.kinds(kind) if r.get("outcome") == "sent"]


def _copy(tmp_path: Path, exit_line: str, lots: int = 4) -> Path:
    return rule_copy(
        tmp_path,
        {
            EXITS: EXITS + "\n  - " + exit_line,
            LOTS: f"sizing:   {{mode: fixed_lots, lots: {lots}, max_lots: 4}}",
            "max_premium_per_order_inr: 50000": "max_premium_per_order_inr: 500000",
        },
    )


def test_partial_exit_when_first_target_then_half_the_lots_sold_once_rest_held(
    backtest, tmp_path: Path
) -> None:
    rules = _copy(
        tmp_path,
        '{name: half_at_target, priority: 2, when: "position.pnl_pct >= 3", fraction: 0.5}',
    )
    run = backtest(rules)
    halves = [r for r in _sent(run, "exit_decision") if r.get("exit") == "half_at_target"]
    assert halves
    fills = {r["key"]: r for r in run.kinds("order_filled")}
    cancelled = {r["key"] for r in run.kinds("order_cancelled")}
    filled = [r for r in halves if r["key"] in fills]
    assert filled
    for r in halves:
        assert r["scale_out"] == {"fraction": 0.5, "held_lots": 4, "lots": 2}
        assert r["key"] in fills or r["key"] in cancelled
    for r in filled:
        trade = next(t for t in run.trades if t.trade_id == r["trade_id"])
        assert trade.bought_qty == 4 * trade.instrument.lot_size
        assert fills[r["key"]]["qty"] == 2 * trade.instrument.lot_size  # half, in whole lots
        # once per position: a trade's scale-out fills once (an unfilled one may fire again)
        assert sum(1 for h in filled if h["trade_id"] == r["trade_id"]) == 1
        # the rest left by a later, full exit, and the trade row names both
        assert trade.scale_outs == ["half_at_target"] and trade.exit_reason != "half_at_target"
        assert trade.exit_reasons == "half_at_target+" + trade.exit_reason
        assert trade.sold_qty == trade.bought_qty
    from engine.report.backtest import trades_csv

    assert "half_at_target+" in trades_csv(run.trades)


def test_partial_exit_when_repeatable_then_it_scales_out_again_down_to_one_lot(
    backtest, tmp_path: Path
) -> None:
    rules = _copy(
        tmp_path,
        '{name: quarter, priority: 2, when: "position.pnl_pct >= 3", fraction: 0.25, '
        "repeatable: true}",
    )
    run = backtest(rules)
    quarters = [r for r in _sent(run, "exit_decision") if r.get("exit") == "quarter"]
    by_trade: dict[str, list[dict]] = {}
    for r in quarters:
        by_trade.setdefault(r["trade_id"], []).append(r)
    assert any(len(v) > 1 for v in by_trade.values()), "some trade scaled out more than once"
    for legs in by_trade.values():
        held = [leg["scale_out"]["held_lots"] for leg in legs]
        assert held == sorted(held, reverse=True) and held[0] == 4
        for leg in legs:
            s = leg["scale_out"]
            assert s["lots"] >= 1
            assert s["lots"] == max(1, int(s["held_lots"] * 0.25))


def test_partial_exit_when_one_lot_held_then_it_sells_everything(backtest, tmp_path: Path) -> None:
    rules = _copy(
        tmp_path,
        '{name: half_at_target, priority: 2, when: "position.pnl_pct >= 3", fraction: 0.5}',
        lots=1,
    )
    run = backtest(rules)
    halves = [r for r in _sent(run, "exit_decision") if r.get("exit") == "half_at_target"]
    filled = {r["key"] for r in run.kinds("order_filled")}
    assert any(r["key"] in filled for r in halves)
    for r in halves:
        assert r["scale_out"] == {"fraction": 0.5, "held_lots": 1, "lots": 1, "sells_all": True}
        trade = next(t for t in run.trades if t.trade_id == r["trade_id"])
        assert trade.scale_outs == []  # a full exit, not a leg
        if r["key"] in filled:
            assert trade.exit_reason == "half_at_target" and trade.qty == 0
