"""``engine explain`` on real backtests: every form pinned by golden files, the questions the
issue names answered with values, and bad input refused with exit 2 and no traceback.

The fixed run is ``examples/rules/adx_basic.yaml`` (the short ADX strategy) over NIFTY
1-minute bars of January 2024 with the official daily file and India VIX (ten trades, a
CE direction to mid-month, PE after).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest

from engine.cli.main import main

REPO = Path(__file__).resolve().parents[2]
MARKET = REPO.parent / "shared" / "data" / "market"
DAILY = str(MARKET / "nifty_daily_2005_2026.csv")
VIX = str(MARKET / "india_vix_daily_2012_2026.csv")


BASIC = REPO / "examples" / "rules" / "adx_basic.yaml"


def backtest(out: Path, *, rules: Path = BASIC, start: str = "2024-01-01",
             end: str = "2024-01-31", data: str = "nifty_1m_2024.csv",
             extra: tuple[str, ...] = ()) -> Path:  # fmt: skip
    args = ["backtest", str(rules), "--data", str(MARKET / data), "--vix", VIX,
            "--out", str(out), "--no-progress", "--json", *extra]  # fmt: skip
    if data.startswith("nifty"):
        args += ["--daily", DAILY]
    if start:
        args += ["--from", start, "--to", end]
    assert main(args) == 0
    return out


def rule_copy(folder: Path, old: str, new: str) -> Path:
    text = BASIC.read_text(encoding="utf-8")
    assert text.count(old) == 1
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "adx.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def jan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return backtest(tmp_path_factory.mktemp("explain") / "jan")


@pytest.fixture(scope="module")
def jan_target4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same run with one threshold changed: take profit at 4% instead of 40%."""
    base = tmp_path_factory.mktemp("explain-target")
    rules = rule_copy(base / "rules", "target_pct: 40 ", "target_pct: 4  ")
    return backtest(base / "jan", rules=rules)


def explain(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["explain", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _clean(text: str, *runs: Path) -> str:
    for i, run in enumerate(runs):
        text = text.replace(str(run), f"<run{'' if len(runs) == 1 else 'AB'[i]}>")
    return text


# -- every form, pinned -------------------------------------------------------------------
FORMS = {
    "trades": ("--trades",),
    "trade_T0001": ("T0001",),
    "trade_T0005": ("T0005",),
    "at_2024-01-15T1105": ("--at", "2024-01-15T11:05"),
    "at_2024-01-15T1220_position_open": ("--at", "2024-01-15T12:20", "--underlying", "NIFTY"),
    "at_2024-01-15T1215_entered": ("--at", "2024-01-15T12:15"),
    "at_2024-01-13_no_session": ("--at", "2024-01-13T11:00"),
    "rule_breakout_up": ("--rule", "breakout_up"),
    "rule_hourly_trend_week": ("--rule", "hourly_trend", "--from", "2024-01-15", "--to",
                               "2024-01-19"),
    "rule_trend_fade": ("--rule", "trend_fade"),
    "near_misses_top5": ("--near-misses", "--top", "5"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(FORMS))
def test_explain_when_each_form_then_text_and_json_match_golden(
    name: str, jan: Path, capsys: pytest.CaptureFixture[str], golden
) -> None:  # type: ignore[no-untyped-def]
    args = FORMS[name]
    code, text, err = explain(capsys, *args, "--journal", str(jan))
    assert code == 0, err
    assert all(len(line) <= 80 for line in text.splitlines()), text
    assert "\x1b[" not in text  # no colour when not on a terminal
    golden(f"explain/{name}.txt", _clean(text, jan))
    code, js, err = explain(capsys, *args, "--journal", str(jan), "--json")
    assert code == 0, err
    json.loads(js)
    golden(f"explain/{name}.json", _clean(js, jan))


def test_explain_when_diff_then_golden_names_the_first_divergence(
    jan: Path, jan_target4: Path, capsys: pytest.CaptureFixture[str], golden
) -> None:  # type: ignore[no-untyped-def]
    code, text, _ = explain(capsys, "--diff", str(jan), str(jan_target4))
    assert code == 0
    golden("explain/diff_target_pct.txt", _clean(text, jan, jan_target4))
    code, js, _ = explain(capsys, "--diff", str(jan), str(jan_target4), "--json")
    golden("explain/diff_target_pct.json", _clean(js, jan, jan_target4))


# -- the answers, with their values ----------------------------------------------------------
def test_trade_when_explained_then_entry_exit_and_money_carry_values(
    jan: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, js, _ = explain(capsys, "T0001", "--journal", str(jan), "--json")
    a = json.loads(js)
    e = a["entry"]
    assert e["direction"]["sides"] == ["CE"] and e["trigger"]["name"] == "breakout_up"
    assert all(c["holds"] for c in e["trigger"]["clauses"])
    assert [f["name"] for f in e["filters"]] == ["entry_window", "vix_ok", "hourly_trend"]
    assert e["strike"]["strike"] == 22050 and e["sizing"]["lots"] == 1
    assert all(c["passed"] for c in e["checks"]) and len(e["checks"]) == 11
    assert [o["event"] for o in e["orders"]] == ["intent", "order_accepted", "order_filled"]
    x = a["exit"]
    assert (x["exit"], x["priority"]) == ("trend_fade", 4)
    assert [c["name"] for c in x["checked"]] == ["market_close", "stop_loss", "take_profit"]
    assert all(not cl["holds"] for c in x["checked"] for cl in c["clauses"])
    assert a["pnl"]["net_pnl"] == "-94.09"


def test_at_when_a_filter_failed_then_the_filter_value_threshold_and_nearest_trigger(
    jan: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, js, _ = explain(capsys, "--at", "2024-01-15T11:05", "--journal", str(jan), "--json")
    (ans,) = json.loads(js)["answers"]
    assert ans["answer"] == "no trade"
    failed = ans["filters"][-1]
    assert failed["name"] == "hourly_trend" and not failed["holds"]
    (clause,) = failed["clauses"]
    assert clause["clause"].startswith("h1.adx=") and clause["clause"].endswith(">= 25")
    assert 0 < -clause["margin"] < 1  # h1.adx 24.52: missed 25 by 0.48
    assert ans["triggers"][0]["name"] == "breakout_up"


def test_recorded_values_when_traced_again_then_each_evaluation_decides_the_same(
    jan: Path,
) -> None:
    """The recorded values are enough: every entry evaluation rebuilt from them fails at
    the recorded filter, and every recorded firing trigger holds."""
    from engine.explain.answers import _entry_reads
    from engine.explain.clauses import RunRules
    from engine.explain.journal import read_journal

    run = read_journal(jan / "journal.jsonl")
    rules = RunRules(run)
    layout = run.layouts[0]
    evals = run.kind("entry_eval")
    assert len(evals) > 1000
    for ev in evals:
        reads, fail = _entry_reads(run, ev)
        names = [n for n, _ in layout["filters"]]
        held = [rules.trace(rules.filters[n].when, reads).value is True for n in
                names[: (fail + 1) if fail >= 0 else len(names)]]  # fmt: skip
        if fail >= 0:
            assert held == [True] * fail + [False]
        else:
            assert all(held)
        if "fired" in ev:
            assert rules.trace(rules.triggers[ev["fired"]].when, reads).value is True


def test_no_direction_when_february_to_august_then_any_minute_answers_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from engine.explain import answers
    from engine.explain.clauses import RunRules
    from engine.explain.journal import read_journal
    from engine.explain.render import render
    from engine.timeutil import IST

    out = backtest(tmp_path / "feb-aug", start="2024-02-01", end="2024-08-31")
    run = read_journal(out / "journal.jsonl")
    rules = RunRules(run)
    sessions = [r for r in run.kind("day") if r["parts"]]
    assert len(sessions) > 130
    pattern = re.compile(r"no direction today: daily\.adx=\d+(\.\d+)? >= 25 ✗")
    checked = 0
    for day in sessions:
        d = datetime.fromisoformat(day["date"])
        for minute in range(0, 24 * 60, 37):  # every 37th minute of the day, day and night
            moment = (d + timedelta(minutes=minute)).replace(tzinfo=IST)
            text = render(answers.at(run, rules, moment, None))
            assert text.count("\n") == 1 and pattern.search(text), text
            checked += 1
    assert checked > 5000
    for moment in ("2024-02-02T09:15", "2024-03-12T11:05", "2024-08-23T15:29"):
        code, text, err = explain(capsys, "--at", moment, "--journal", str(out))
        assert code == 0 and text.count("\n") == 1 and pattern.search(text), (text, err)
        assert "daily.adx=" in text and ">= 25" in text


def test_banknifty_15m_when_every_trade_is_explained_then_each_has_its_reasons(
    tmp_path: Path,
) -> None:
    from engine.explain import answers
    from engine.explain.clauses import RunRules
    from engine.explain.journal import read_journal
    from engine.explain.render import render

    out = backtest(tmp_path / "bn", rules=REPO / "rules" / "adx_15m.yaml", start="",
                   end="", data="banknifty_15m_2018_2023.csv")  # fmt: skip
    run = read_journal(out / "journal.jsonl")
    rules = RunRules(run)
    assert len(run.trade_ids) > 50
    for trade_id in run.trade_ids:
        a = answers.trade(run, rules, trade_id)
        entry = a["entry"]
        assert entry["direction"]["sides"] == [entry["side"]]
        assert entry["trigger"]["clauses"] and all(c["holds"] for c in entry["trigger"]["clauses"])
        assert all(re.search(r"=-?\d", c["clause"]) for c in entry["trigger"]["clauses"])
        assert all(cl["holds"] for f in entry["filters"] for cl in f["clauses"])
        x = a["exit"]
        assert x is not None, trade_id
        if "clauses" in x:  # an exit rule fired: its clauses held, the higher ones did not
            assert any(c["holds"] for c in x["clauses"])
            assert all(re.search(r"=", c["clause"]) for c in x["clauses"])
            assert [c["priority"] for c in x["checked"]] == list(range(1, x["priority"]))
        else:
            assert x.get("asked_by") or x.get("why")
        assert a["pnl"]["net_pnl"] is not None
        text = render(a)
        assert text.startswith(trade_id) and "entry" in text and "exit" in text


def test_one_threshold_changed_when_explained_then_only_the_exit_of_the_trade_changes(
    jan: Path, jan_target4: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, before, _ = explain(capsys, "T0001", "--journal", str(jan))
    _, after, _ = explain(capsys, "T0001", "--journal", str(jan_target4))
    entry_a, exit_a = before.split("\n  exit ")
    entry_b, exit_b = after.split("\n  exit ")
    assert entry_a == entry_b  # why it entered, size, strike, checks, fills: unchanged
    assert "trend_fade priority 4" in exit_a and "take_profit priority 3" in exit_b
    assert "take_profit (p3): position.pnl_pct=" in exit_a and ">= 40 ✗" in exit_a
    assert re.search(r"take_profit: position\.pnl_pct=[\d.]+ >= 4 ✓", exit_b)
    _, js, _ = explain(capsys, "T0001", "--journal", str(jan_target4), "--json")
    exit_at = json.loads(js)["exit"]["at"]
    _, js, _ = explain(capsys, "--diff", str(jan), str(jan_target4), "--json")
    d = json.loads(js)
    assert d["same"] is False
    b = d["first_divergence"]["b"]
    assert b["at"] == exit_at and b["decision"].get("fired") == "take_profit"
    assert b["values"]["params.target_pct"] == 4
    assert d["first_divergence"]["a"]["at"] >= exit_at  # A had no decision at that moment


def test_diff_when_same_run_twice_then_same_decisions(
    jan: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    again = backtest(tmp_path / "again")
    code, text, _ = explain(capsys, "--diff", str(jan), str(again))
    assert code == 0 and text.startswith("same decisions (")


def test_recording_off_when_backtest_then_same_trades_and_explain_says_what_it_lacks(
    jan: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    off = backtest(tmp_path / "off", extra=("--no-bar-records",))
    assert (off / "trades.csv").read_bytes() == (jan / "trades.csv").read_bytes()
    kinds = {json.loads(x)["kind"] for x in (off / "journal.jsonl").read_text().splitlines()}
    assert not kinds & {"layout", "entry_eval", "exit_eval", "entries"}
    code, text, _ = explain(capsys, "T0001", "--journal", str(off))
    assert code == 0 and "trend_fade" in text
    code, _, err = explain(capsys, "--near-misses", "--journal", str(off))
    assert code == 2 and "--no-bar-records" in err


def test_latest_run_when_no_journal_given_then_the_newest_under_runs(
    jan: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import shutil

    (tmp_path / "runs").mkdir()
    shutil.copytree(jan, tmp_path / "runs" / "backtest-x")
    monkeypatch.chdir(tmp_path)
    code, text, _ = explain(capsys, "--trades")
    assert code == 0 and "T0010" in text and "runs/backtest-x/journal.jsonl" in text


# -- bad input -------------------------------------------------------------------------------
def _bad(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code, out, err = explain(capsys, *args)
    assert code == 2, (out, err)
    assert "Traceback" not in err and err.startswith("error:")
    return err


def test_bad_input_when_given_then_exit_2_with_a_clear_message(
    jan: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    j = ("--journal", str(jan))
    assert "no trade 'T9999'" in _bad(capsys, "T9999", *j)
    assert "outside the run's data" in _bad(capsys, "--at", "2023-06-01T11:05", *j)
    assert "not a time" in _bad(capsys, "--at", "yesterday", *j)
    assert "no filter, trigger or exit" in _bad(capsys, "--rule", "nope", *j)
    assert "not a date" in _bad(capsys, "--rule", "vix_ok", "--from", "Jan", *j)
    assert "no journal there" in _bad(capsys, "T0001", "--journal", str(tmp_path / "none"))
    assert "say what to explain" in _bad(capsys, *j)
    lines = (jan / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    corrupt = tmp_path / "corrupt.jsonl"
    corrupt.write_text("\n".join([*lines[:50], '{"kind": "entry_ev', *lines[50:]]) + "\n")
    assert f"{corrupt}:51: not a journal record" in _bad(capsys, "T0001", "--journal", str(corrupt))
    future = tmp_path / "future.jsonl"
    header = json.loads(lines[0]) | {"schema": 99}
    future.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    assert "schema 99" in _bad(capsys, "--trades", "--journal", str(future))
    empty = tmp_path / "runs-empty"
    empty.mkdir()
    import os

    cwd = os.getcwd()
    os.chdir(empty)
    try:
        assert "no run found" in _bad(capsys, "--trades")
    finally:
        os.chdir(cwd)


def test_at_when_entry_fired_then_it_names_the_trade(
    jan: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, js, _ = explain(capsys, "--at", "2024-01-15T12:15", "--journal", str(jan), "--json")
    (ans,) = json.loads(js)["answers"]
    assert ans["answer"] == "entered" and "T0001" in ans["summary"]
    assert time(12, 15) == datetime.fromisoformat(ans["bar"]).time()
