"""Lookback beyond one bar on real January 2024 NIFTY data: 'history' declares how many
completed bars a timeframe keeps, read as TF.agoN.FIELD; a deeper read fails at load."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from scenario_kit import MARKET, rule_copy

from engine.errors import SpecError
from engine.spec.rules import load_rule_file

BREAKOUT_UP = 'when: "m1.close > h1.prev.high and h1.plus_di > h1.minus_di and m5.rsi < 70"'
HIGHER_HIGHS = (
    'when: "h1.high > h1.ago1.high and h1.ago1.high > h1.ago2.high and '
    'h1.ago2.high > h1.ago3.high and m5.rsi < 70"'
)
INDICATORS = "indicators:\n"


def test_lookback_when_higher_highs_over_three_hours_then_entries_read_the_true_bars(
    backtest, tmp_path: Path
) -> None:
    rules = rule_copy(
        tmp_path, {INDICATORS: "history: {h1: 3}\n" + INDICATORS, BREAKOUT_UP: HIGHER_HIGHS}
    )
    run = backtest(rules)
    entries = [r for r in run.kinds("entry_decision") if r["trigger"] == "breakout_up"]
    assert entries
    hours = _hourly_highs()
    for r in entries:
        reads = r["trigger_reads"]
        highs = [reads["h1.ago3.high"], reads["h1.ago2.high"], reads["h1.ago1.high"],
                 reads["h1.high"]]  # fmt: skip
        assert highs == sorted(highs) and len(set(highs)) == 4
        done = [h for ts, h in hours if ts <= r["ts"]]
        assert highs == done[-4:]


def _hourly_highs() -> list[tuple[int, float]]:
    """(close instant in ns, high) of every hourly bar of January 2024, built here from
    the 1-minute CSV (hours from 09:15; the last one ends at 15:30)."""
    highs: dict[tuple[str, int], float] = {}
    with (MARKET / "nifty_1m_2024.csv").open() as f:
        next(f)
        for line in f:
            ts, _, high, *_ = line.split(",")
            if not ts.startswith("2024-01"):
                continue
            minute = int(ts[11:13]) * 60 + int(ts[14:16]) - (9 * 60 + 15)
            key = (ts[:10], minute // 60)
            highs[key] = max(highs.get(key, 0.0), float(high))
    out = []
    for (day, k), high in sorted(highs.items()):
        end = min(9 * 60 + 15 + 60 * (k + 1), 15 * 60 + 30)
        close = datetime.fromisoformat(f"{day}T{end // 60:02d}:{end % 60:02d}:00+05:30")
        out.append((int(close.timestamp()) * 1_000_000_000, high))
    return out


def test_lookback_when_deeper_than_declared_then_the_load_fails_naming_the_depth(
    tmp_path: Path,
) -> None:
    rules = rule_copy(
        tmp_path,
        {INDICATORS: "history: {h1: 2}\n" + INDICATORS, BREAKOUT_UP: HIGHER_HIGHS},
    )
    with pytest.raises(SpecError) as e:
        load_rule_file(rules)
    (d,) = e.value.diagnostics
    assert d.code == "unknown-name" and "unknown name 'h1.ago3.high'" in d.message
    assert "'h1' keeps 2 bars back; declare 'history: {h1: 3}'" in d.hint
