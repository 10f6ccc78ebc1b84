"""Liquidity on real January 2024 NIFTY data, whose option premiums are modelled: a rule
that asks for traded volume never trades on a contract whose volume is not known."""

from __future__ import annotations

from pathlib import Path

from scenario_kit import rule_copy

STRIKES = (
    "strikes:  {expiry: nearest_weekly, select: atm, min_premium_inr: 20, max_premium_inr: 400}"
)


def test_min_volume_when_premiums_are_modelled_then_every_entry_refused_with_each_try(
    backtest, tmp_path: Path
) -> None:
    rules = rule_copy(
        tmp_path,
        {STRIKES: STRIKES[:-1] + ", min_volume: 100, fallback: adjacent}"},
    )
    run = backtest(rules)
    decisions = run.kinds("entry_decision")
    assert decisions and run.trades == []
    for r in decisions:
        assert r["refused_by"] == "strike: no volume known for the contract (min_volume)"
        tried = r["strike"]["tried"]
        atm = r["strike"]["atm"]
        assert [t["strike"] for t in tried][0] == atm and len(tried) == 3
        assert {t["strike"] for t in tried} == {atm - 50, atm, atm + 50}
        assert all(t["volume"] is None and t["premium"] is not None for t in tried)
