"""Re-entry names on real January 2024 NIFTY data: the move since the previous entry,
the previous exit's reason, and a stop that applies to re-entries only."""

from __future__ import annotations

from pathlib import Path

from scenario_kit import rule_copy

from engine.model.market import ns_to_datetime
from engine.timeutil import IST

EXITS = "exits:                 # first match by priority, checked on every tick"
WINDOW = "{name: entry_window, when: \"time >= '10:00' and time <= '14:30'\"}"


def _sent(run, kind: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [r for r in run.kinds(kind) if r.get("outcome") == "sent"]


def _day(r: dict):  # type: ignore[no-untyped-def]
    return ns_to_datetime(r["ts"], IST).date()


def test_reentry_when_the_underlying_has_not_moved_enough_since_the_last_entry_then_no_entry(
    backtest, tmp_path: Path
) -> None:
    base = backtest()
    rules = rule_copy(
        tmp_path,
        {
            WINDOW: WINDOW + '\n  - {name: moved_since_entry, when: "position.entries_today '
            '== 0 or abs(last_entry.underlying_move_pct) > 0.15"}'
        },
    )
    run = backtest(rules)
    entries = _sent(run, "entry_decision")
    seconds = [r for i, r in enumerate(entries) if i and _day(entries[i - 1]) == _day(r)]
    assert seconds, "some day has a re-entry"
    for r in seconds:
        reads = next(f for f in r["filters"] if f["name"] == "moved_since_entry")["reads"]
        assert abs(reads["last_entry.underlying_move_pct"]) > 0.15
    firsts = [r for r in entries if r not in seconds]
    for r in firsts:
        reads = next(f for f in r["filters"] if f["name"] == "moved_since_entry")["reads"]
        assert reads["position.entries_today"] == 0
    base_days = [_day(r) for r in _sent(base, "entry_decision")]
    assert len(entries) < len(base_days)  # the filter held some re-entries back


def test_reentry_when_the_last_exit_was_a_stop_out_then_no_entry_that_day(
    backtest, tmp_path: Path
) -> None:
    edits = {"stop_move_pct: -1.0": "stop_move_pct: -0.05"}
    stopped = backtest(rule_copy(tmp_path, edits))
    stop_days = {_day(r) for r in _sent(stopped, "exit_decision") if r.get("exit") == "stop_loss"}
    assert stop_days
    edits[WINDOW] = (
        WINDOW + '\n  - {name: not_after_stop, when: "not last_exit.stop_out and '
        "last_exit.reason != 'stop_loss'\"}"
    )
    (tmp_path / "b").mkdir()
    run = backtest(rule_copy(tmp_path / "b", edits))
    exits = [r for r in _sent(run, "exit_decision") if r.get("exit") == "stop_loss"]
    assert exits
    for stop in exits:
        later = [r for r in _sent(run, "entry_decision")
                 if _day(r) == _day(stop) and r["ts"] > stop["ts"]]  # fmt: skip
        assert later == []
    # without the filter, some day enters again after its stop-out
    first_stop = {}
    for r in _sent(stopped, "exit_decision"):
        if r.get("exit") == "stop_loss":
            first_stop.setdefault(_day(r), r["ts"])
    assert any(
        _day(r) in first_stop and r["ts"] > first_stop[_day(r)]
        for r in _sent(stopped, "entry_decision")
    )


def test_reentry_stop_when_a_reentry_moves_against_then_its_own_stop_fires(
    backtest, tmp_path: Path
) -> None:
    rules = rule_copy(
        tmp_path,
        {
            EXITS: EXITS + "\n  - {name: reentry_stop, priority: 1, when: "
            '"position.is_reentry and position.underlying_move_pct <= -0.05", stop_out: true}'
        },
    )
    run = backtest(rules)
    fired = [r for r in _sent(run, "exit_decision") if r.get("exit") == "reentry_stop"]
    assert fired
    entries = _sent(run, "entry_decision")
    for r in fired:
        assert r["reads"]["position.is_reentry"] is True
        trade_entries = [e for e in entries if e["trade_id"] == r["trade_id"]]
        earlier = [e for e in entries if _day(e) == _day(r) and e["ts"] < trade_entries[0]["ts"]]
        assert earlier, "only a re-entry has this stop"
