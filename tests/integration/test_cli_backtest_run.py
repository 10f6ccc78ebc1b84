"""``engine backtest`` and ``engine run --paper`` as a user runs them: real processes and files."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "data"
ENGINE = [sys.executable, "-m", "engine"]
SAMPLE = [
    "--data", str(EXAMPLES / "nifty_1m_2024-01-08_19.csv"),
    "--daily", str(EXAMPLES / "nifty_daily_2023-01_2024-03.csv"),
    "--vix", str(EXAMPLES / "india_vix_daily_2023-12_2024-03.csv"),
]  # fmt: skip


#: No broker credentials reach these runs: no SMARTAPI_* variable and no OS keyring.
NO_CREDENTIALS = {
    **{k: v for k, v in os.environ.items() if not k.startswith("SMARTAPI_")},
    "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
}


def engine(*args: str, cwd: Path = REPO, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ENGINE, *args], capture_output=True, text=True, cwd=cwd, timeout=timeout,
        env=NO_CREDENTIALS,
    )  # fmt: skip


def test_backtest_when_sample_then_report_and_three_files(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = engine("backtest", "rules/adx.yaml", *SAMPLE, "--out", str(out), "--no-progress")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in ("trades 3", "net P&L", "profit factor", "max drawdown", "Sharpe",
                   "average hold", "exposure", "warming up 4 session(s)",
                   "option premiums: modelled"):  # fmt: skip
        assert needle in proc.stdout
    assert sorted(p.name for p in out.iterdir()) == ["journal.jsonl", "summary.json", "trades.csv"]
    with (out / "trades.csv").open() as f:
        rows = list(csv.reader(f))
    assert rows[0][:4] == ["trade_id", "underlying", "side", "symbol"] and len(rows) == 4
    assert rows[1][9].endswith("+05:30")  # entry_ts
    summary = json.loads((out / "summary.json").read_text())
    assert summary["metrics"]["trades"] == 3 and summary["sessions"] == 10
    header = json.loads((out / "journal.jsonl").read_text().splitlines()[0])
    assert header["kind"] == "journal" and header["schema"] == 2
    assert header["rules_text"] == (REPO / "rules" / "adx.yaml").read_text(encoding="utf-8")


def test_backtest_when_json_then_the_summary_on_stdout(tmp_path: Path) -> None:
    proc = engine("backtest", "rules/adx.yaml", *SAMPLE, "--out", str(tmp_path / "o"), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["metrics"]["trades"] == 3


def test_backtest_when_rules_do_not_validate_then_exit_2_and_nothing_runs(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((REPO / "rules" / "adx.yaml").read_text().replace("m5.rsi < 70", "m5.rsi <"))
    out = tmp_path / "out"
    proc = engine("backtest", str(bad), *SAMPLE, "--out", str(out))
    assert proc.returncode == 2
    assert f"{bad}:" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "nope.csv"], "--data nope.csv: no such file"),
        (["--data", str(EXAMPLES / "nifty_1m_2024-01-08_19.csv")], "give --vix"),
        ([*SAMPLE, "--from", "2024-02-30"], "is not a date"),
        ([*SAMPLE, "--from", "2024-01-19", "--to", "2024-01-08"], "is after --to"),
        ([*SAMPLE, "--from", "2025-01-01"], "no bars between --from and --to"),
        ([*SAMPLE, "--capital", "-5"], "--capital must be a positive number"),
    ],
)
def test_backtest_when_a_careless_input_then_one_clear_line_and_exit_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    proc = engine("backtest", "rules/adx.yaml", *args, "--out", str(tmp_path / "o"))
    assert proc.returncode == 2, proc.stdout
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_backtest_when_data_has_coarser_bars_than_the_rules_read_then_refused(
    tmp_path: Path,
) -> None:
    market = REPO.parent / "shared" / "data" / "market"
    proc = engine(
        "backtest", "rules/adx.yaml", "--data", str(market / "banknifty_15m_2018_2023.csv"),
        "--vix", str(market / "india_vix_daily_2012_2026.csv"), "--out", str(tmp_path / "o"),
    )  # fmt: skip
    assert proc.returncode == 2
    assert "reads m1, m5 bars, but the finest bars" in proc.stderr


def test_run_paper_when_no_credentials_then_replays_the_bundled_sample(tmp_path: Path) -> None:
    proc = engine("run", str(REPO / "rules" / "adx.yaml"), "--paper", "--speed", "0",
                  "--out", str(tmp_path / "p"), cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "PAPER TRADING on a REPLAY of recorded market data" in proc.stdout
    assert "ENTRY  T0001 breakout_up" in proc.stdout and "CLOSED T0001" in proc.stdout
    assert "session: closed -> pre_open (wake_up)" in proc.stdout
    assert "trades 3" in proc.stdout
    records = [json.loads(x) for x in (tmp_path / "p" / "journal.jsonl").read_text().splitlines()]
    assert records[0]["mode"] == "paper"


def test_run_when_live_asked_without_a_live_run_config_then_refused(tmp_path: Path) -> None:
    proc = engine("run", "rules/adx.yaml", "--live", "--out", str(tmp_path / "x"))
    assert proc.returncode == 2 and "needs a run config that says 'mode: live'" in proc.stderr
    assert not (tmp_path / "x").exists()


def test_run_when_ctrl_c_then_flat_halted_and_summary(tmp_path: Path) -> None:
    out = tmp_path / "p"
    proc = subprocess.Popen(
        [*ENGINE, "run", str(REPO / "rules" / "adx.yaml"), "--speed", "20000", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env=NO_CREDENTIALS,
    )  # fmt: skip
    # wait until the replay is past the first entry, then interrupt
    deadline = time.monotonic() + 60
    seen = ""
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        seen += line
        if "ENTRY  T0001" in line:
            break
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=60)
    seen += rest
    assert proc.returncode == 0, err
    assert "stopped on request (graceful): flat and halted" in seen
    assert "killswitch: flattening -> halted (flat)" in seen
    assert "Traceback" not in err
    records = [json.loads(x) for x in (out / "journal.jsonl").read_text().splitlines()]
    assert any(r["kind"] == "operator" and r["trigger"] == "sigint" for r in records)
    assert records[-1]["kind"] == "summary"


def test_run_when_emergency_stop_waits_then_the_start_reads_it_first(tmp_path: Path) -> None:
    from engine.machines.control import STOP_FILE, write_request

    write_request(tmp_path, STOP_FILE, "stop before the open")
    proc = engine(
        "run", str(REPO / "rules" / "adx.yaml"), "--speed", "0", "--quiet",
        "--out", str(tmp_path / "p"), "--workdir", str(tmp_path), cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "trades 0" in proc.stdout
    assert not (tmp_path / STOP_FILE).exists()
    assert [p.name for p in tmp_path.glob(f"{STOP_FILE}.handled-*-pid*")]
    records = [json.loads(x) for x in (tmp_path / "p" / "journal.jsonl").read_text().splitlines()]
    kills = [r for r in records if r["kind"] == "operator"]
    assert kills[0]["trigger"] == "kill" and kills[0]["values"]["source"] == "file"
    assert os.path.exists(tmp_path / "p" / "summary.json")
