"""Retention: old tick files deleted, old bars trimmed atomically, dry runs change nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from engine.data.retention import RetentionPolicy, apply_retention
from engine.data.storage import BarStore, TickStore
from engine.model import Bar, Tick, Timeframe, to_ns
from engine.timeutil import IST

NOW = datetime(2024, 6, 10, 16, 0, tzinfo=IST)


def daily_bars(days: int) -> list[Bar]:
    start = datetime(2024, 6, 10, tzinfo=IST) - timedelta(days=days - 1)
    return [
        Bar("NIFTY", Timeframe.D1, to_ns(start + timedelta(days=i)), 1.0, 1.0, 1.0, 1.0)
        for i in range(days)
    ]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ticks = TickStore(tmp_path)
    for days_ago in range(4):
        t = to_ns(datetime(2024, 6, 10, 10, 0, tzinfo=IST) - timedelta(days=days_ago))
        ticks.append([Tick("NIFTY", 100.0, ts_init=t)])
    store = BarStore(tmp_path)
    store.append(daily_bars(400))
    store.append(
        [
            Bar("NIFTY", Timeframe.M1, b.ts_event + 10**9 * 33_300, 1.0, 1.0, 1.0, 1.0)
            for b in daily_bars(100)
        ]
    )
    return tmp_path


def test_retention_when_dry_run_then_reports_and_changes_nothing(root: Path) -> None:
    before = {p: p.read_bytes() for p in root.rglob("*.jsonl")}
    actions = apply_retention(root, NOW, dry_run=True)
    assert sorted((a.path.name, a.action, a.removed, a.kept) for a in actions) == [
        ("1d.jsonl", "trim", 35, 365),
        ("1m.jsonl", "trim", 10, 90),
        ("NIFTY_20240607.jsonl", "delete", 1, 0),
        ("NIFTY_20240608.jsonl", "delete", 1, 0),
    ]
    assert {p: p.read_bytes() for p in root.rglob("*.jsonl")} == before


def test_retention_when_applied_then_old_data_gone_and_files_still_load(root: Path) -> None:
    apply_retention(root, NOW)
    assert sorted(p.name for p in (root / "raw").iterdir()) == [
        "NIFTY_20240609.jsonl",
        "NIFTY_20240610.jsonl",
    ]
    store = BarStore(root)
    assert store.load("NIFTY", Timeframe.D1).items == daily_bars(365)
    assert len(store.load("NIFTY", Timeframe.M1).items) == 90
    assert apply_retention(root, NOW) == []  # nothing left to do


def test_retention_when_custom_policy_then_limits_used(root: Path) -> None:
    actions = apply_retention(
        root, NOW, RetentionPolicy(tick_days=1, intraday_days=5, daily_days=10), dry_run=True
    )
    assert {a.path.name: a.kept for a in actions if a.action == "trim"} == {
        "1d.jsonl": 10,
        "1m.jsonl": 5,
    }
    assert sum(a.action == "delete" for a in actions) == 3


def test_retention_when_line_cannot_be_dated_then_file_skipped(root: Path) -> None:
    path = BarStore(root).bar_path("NIFTY", Timeframe.D1)
    lines = path.read_text().splitlines(keepends=True)
    lines[2] = "garbage\n"
    path.write_text("".join(lines))
    (action,) = [a for a in apply_retention(root, NOW) if a.path == path]
    assert action.action == "skip" and "cannot be dated" in action.reason


def test_retention_policy_when_days_below_one_then_value_error() -> None:
    with pytest.raises(ValueError, match="tick_days must be at least 1"):
        RetentionPolicy(tick_days=0)
