"""Retention: bars kept unless the policy names a limit, old tick files deleted, bars trimmed
atomically, dry runs change nothing, only files the store wrote are touched."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from engine.data.retention import RetentionPolicy, apply_plan, apply_retention, plan_retention
from engine.data.storage import BarStore, TickStore
from engine.model import Bar, Tick, Timeframe, to_ns
from engine.timeutil import IST

NOW = datetime(2024, 6, 10, 16, 0, tzinfo=IST)
EXPLICIT = RetentionPolicy(tick_days=2, intraday_days=90, daily_days=365)


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
    actions = apply_retention(root, NOW, EXPLICIT, dry_run=True)
    assert sorted((a.path.name, a.action, a.removed, a.kept) for a in actions) == [
        ("1d.jsonl", "trim", 35, 365),
        ("1m.jsonl", "trim", 10, 90),
        ("NIFTY_20240607.jsonl", "delete", 1, 0),
        ("NIFTY_20240608.jsonl", "delete", 1, 0),
    ]
    assert {p: p.read_bytes() for p in root.rglob("*.jsonl")} == before


def test_retention_when_applied_then_old_data_gone_and_files_still_load(root: Path) -> None:
    apply_retention(root, NOW, EXPLICIT)
    assert sorted(p.name for p in (root / "raw").iterdir()) == [
        "NIFTY_20240609.jsonl",
        "NIFTY_20240610.jsonl",
    ]
    store = BarStore(root)
    assert store.load("NIFTY", Timeframe.D1).items == daily_bars(365)
    assert len(store.load("NIFTY", Timeframe.M1).items) == 90
    assert apply_retention(root, NOW, EXPLICIT) == []  # nothing left to do


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
    (action,) = [a for a in apply_retention(root, NOW, EXPLICIT) if a.path == path]
    assert action.action == "skip" and "cannot be dated" in action.reason


def test_retention_policy_when_days_below_one_then_value_error() -> None:
    with pytest.raises(ValueError, match="tick_days must be at least 1"):
        RetentionPolicy(tick_days=0)


def test_retention_when_default_policy_then_no_bar_is_touched(root: Path) -> None:
    before = {p: p.read_bytes() for p in (root / "timeframes").rglob("*.jsonl")}
    actions = apply_retention(root, NOW)
    assert {a.path.parent.name for a in actions} == {"raw"}  # only the old tick files
    assert {p: p.read_bytes() for p in (root / "timeframes").rglob("*.jsonl")} == before
    assert RetentionPolicy().describe() == "raw ticks 2 d, intraday bars kept, daily bars kept"


def test_retention_when_file_grows_between_plan_and_apply_then_left_alone(root: Path) -> None:
    plan = plan_retention(root, NOW, EXPLICIT)
    older = daily_bars(500)[:50]  # more bars before the cutoff, merged in after the plan
    BarStore(root).append(older)
    path = BarStore(root).bar_path("NIFTY", Timeframe.D1)
    before = path.read_bytes()
    done = {a.path.name: a for a in apply_plan(root, plan)}
    assert (
        done["1d.jsonl"].action == "skip"
        and "changed since it was listed" in done["1d.jsonl"].reason
    )
    assert path.read_bytes() == before
    assert done["1m.jsonl"].action == "trim"


def test_retention_when_symbol_folder_is_a_link_then_outside_files_untouched(
    root: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside")
    BarStore(outside).append(daily_bars(400))
    victim = outside / "timeframes" / "NIFTY" / "1d.jsonl"
    before = victim.read_bytes()
    (root / "timeframes" / "BANKNIFTY").symlink_to(outside / "timeframes" / "NIFTY")
    actions = apply_retention(root, NOW, EXPLICIT)
    (skip,) = [a for a in actions if a.path.name == "BANKNIFTY"]
    assert skip.action == "skip" and "symbolic link" in skip.reason
    assert victim.read_bytes() == before


def test_retention_when_file_has_a_foreign_header_then_left_alone(root: Path) -> None:
    path = BarStore(root).bar_path("NIFTY", Timeframe.D1)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text('{"schema":"someone.else/1"}\n' + "".join(lines[1:]))
    (action,) = [a for a in apply_retention(root, NOW, EXPLICIT) if a.path == path]
    assert action.action == "skip" and "store's header" in action.reason
