"""Closeness and clause rendering on real compiled conditions of the short ADX rules,
and the recorder's changed-values encoding read back by the journal reader."""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.explain.clauses import INF, clauses, closeness, render_clause
from engine.expr import Missing
from engine.journal import Journal
from engine.journal.recorder import DecisionRecorder
from engine.spec.rules import load_rule_file

REPO = Path(__file__).resolve().parents[3]
SPEC = load_rule_file(REPO / "examples" / "rules" / "adx_basic.yaml")
FILTERS = {f.name: f for f in SPEC.filters}
TRIGGERS = {t.name: t for t in SPEC.triggers}


def test_closeness_when_a_comparison_misses_then_gap_over_threshold() -> None:
    root = FILTERS["hourly_trend"].when.trace({"h1.adx": 24.0, "params.adx_min": 25}).root
    assert closeness(root) == pytest.approx(1 / 25)
    (c,) = clauses(root)
    assert c.text == "h1.adx=24 >= 25" and c.holds is False and c.margin == -1.0


def test_closeness_when_and_then_the_farthest_failed_part() -> None:
    ctx = {"m1.close": 99.0, "h1.prev.high": 100.0, "h1.plus_di": 10.0, "h1.minus_di": 20.0,
           "m5.rsi": 50.0}  # fmt: skip
    root = TRIGGERS["breakout_up"].when.trace(ctx).root
    assert closeness(root) == pytest.approx(10 / 20)
    parts = clauses(root)
    assert [p.holds for p in parts] == [False, False, True]
    assert parts[0].text == "m1.close=99 > h1.prev.high=100"


def test_closeness_when_time_window_or_missing_then_not_measurable() -> None:
    window = FILTERS["entry_window"].when.trace({"time": time(9, 30)}).root
    assert window.value is False and closeness(window) == INF
    missing = (
        FILTERS["hourly_trend"]
        .when.trace({"h1.adx": Missing("h1.adx warming up"), "params.adx_min": 25})
        .root
    )
    assert closeness(missing) == INF
    assert render_clause(missing).endswith("(missing: h1.adx is missing: h1.adx warming up)")


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
       st.floats(min_value=0.5, max_value=1e6, allow_nan=False))  # fmt: skip
def test_closeness_when_any_values_then_zero_iff_the_clause_holds(
    value: float, adx_min: float
) -> None:
    root = FILTERS["hourly_trend"].when.trace({"h1.adx": value, "params.adx_min": adx_min}).root
    c = closeness(root)
    assert (c == 0.0) == (root.value is True)
    if root.value is False:
        assert c == pytest.approx(abs(value - adx_min) / adx_min)


def test_recorder_when_values_repeat_then_only_changes_are_written_and_read_back(
    tmp_path: Path,
) -> None:
    from engine.explain.journal import read_journal

    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    rec = DecisionRecorder(journal)
    slot = rec.attach("adx-trend", "NIFTY", SPEC)
    rec.entries_gate(1, True, "")
    missing = Missing("h1.adx has no value yet")
    base = {"time": time(10, 0), "params.vix_max": 30, "vix": 13.1, "h1.adx": missing,
            "params.adx_min": 25, "h1.minus_di": 11.0, "h1.plus_di": 44.0,
            "h1.prev.high": 22047.9, "h1.prev.low": 21900.0, "m1.close": 22052.1,
            "m5.rsi": 58.7}  # fmt: skip
    rec.entry_eval(slot, 10, base, 2, None)
    second = base | {"time": time(10, 1), "m1.close": 22053.0}
    rec.entry_eval(slot, 20, second, 2, None)
    third = second | {"time": time(10, 2), "h1.adx": 26.0}
    rec.entry_eval(slot, 30, third, -1, "breakout_up")
    journal.close()
    raw = [json.loads(x) for x in path.read_text().splitlines() if '"entry_eval"' in x]
    assert len(raw[1]["c"]) == 4  # time and m1.close only
    run = read_journal(path)
    layout = run.layouts[0]
    for r, values in zip(run.kind("entry_eval"), (base, second, third), strict=True):
        fail = r.get("fail", -1)
        used = layout["filters"] if fail < 0 else layout["filters"][: fail + 1]
        names = [n for _, reads in used for n in reads] + layout["trigger_names"]
        expect = [values[n] for n in names]
        for e, g in zip(expect, r["v"], strict=True):
            if isinstance(e, Missing):
                assert g == {"missing": e.reason}
            elif isinstance(e, time):
                assert g == e.strftime("%H:%M")
            else:
                assert g == e
    assert run.kind("entry_eval")[2]["fired"] == "breakout_up"
