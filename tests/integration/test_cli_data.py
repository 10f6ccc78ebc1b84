"""``engine data``: import, validate, gaps and cleanup on the real market files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.data.storage import BarStore
from engine.model import Timeframe

ENGINE = Path(sys.executable).parent / "engine"


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    rc = main(["data", *map(str, args)])
    out, err = capsys.readouterr()
    return rc, out, err


def lines_of(out: str) -> list[str]:
    return [line.strip() for line in out.splitlines()]


def test_validate_when_nifty_1m_2024_then_report_and_exit_1_for_rejections(
    capsys: pytest.CaptureFixture[str], market_dir: Path
) -> None:
    rc, out, _ = run(capsys, "validate", market_dir / "nifty_1m_2024.csv")
    assert rc == 1
    got = lines_of(out)
    assert "calendar: shipped NSE calendar (CM hours)" in got
    for expected in [
        "bars read          58127",
        "accepted           57960",
        "rejected           167 (outside_session 167)",
        "first bar          2024-01-01T09:15:00+05:30",
        "last bar           2024-08-23T15:29:00+05:30",
        "sessions           156 (2024-01-01 .. 2024-08-23)",
    ]:
        assert expected in got


def test_validate_when_banknifty_15m_then_one_tick_breaks_flagged_unless_strict(
    capsys: pytest.CaptureFixture[str], market_dir: Path
) -> None:
    path = market_dir / "banknifty_15m_2018_2023.csv"
    _, out, _ = run(capsys, "validate", path)
    assert "flagged, kept      678 (ohlc_off_by_tick 678)" in lines_of(out)
    assert "rejected           18 (ohlc_invalid 18)" in lines_of(out)
    assert "calendar: shipped NSE calendar, provisional for the file's dates" in out
    _, out, _ = run(capsys, "validate", path, "--strict")
    assert "rejected           696 (ohlc_invalid 18, ohlc_off_by_tick 678)" in lines_of(out)


def test_validate_when_clean_file_then_exit_0(
    capsys: pytest.CaptureFixture[str], market_dir: Path
) -> None:
    rc, out, _ = run(capsys, "validate", market_dir / "india_vix_daily_2023_2024.csv")
    assert rc == 0 and "INDIA_VIX 1d (inferred from the bars)" in out


def test_gaps_when_nifty_1m_2024_then_exactly_five_missing_sessions(
    capsys: pytest.CaptureFixture[str], market_dir: Path
) -> None:
    rc, out, _ = run(capsys, "gaps", market_dir / "nifty_1m_2024.csv")
    assert rc == 0
    assert (
        "missing sessions (5, per the calendar): 2024-02-01, 2024-03-04, 2024-04-05, "
        "2024-05-07, 2024-07-10"
    ) in out
    assert "sessions with data: 156 of 161 expected (2024-01-01 .. 2024-08-23)" in out
    assert "gaps inside sessions: none" in out
    assert "2024-06-03  +3.49%" in out


def test_gaps_when_2009_then_provisional_calendar_said_and_daily_file_names_missing_sessions(
    capsys: pytest.CaptureFixture[str], market_dir: Path
) -> None:
    rc, out, _ = run(
        capsys,
        "gaps",
        market_dir / "nifty_1m_2009.csv",
        "--sessions-from",
        market_dir / "nifty_daily_2005_2026.csv",
    )
    assert rc == 0 and "at the regular hours in force" in out
    line = next(x for x in out.splitlines() if x.startswith("missing sessions"))
    assert line.startswith("missing sessions (13, per ")
    assert line.endswith(
        ": 2009-04-20, 2009-07-13, 2009-10-17, 2009-12-07, 2009-12-08, "
        "2009-12-09, 2009-12-10, 2009-12-11, 2009-12-14, 2009-12-15, "
        "2009-12-16, 2009-12-17, 2009-12-18"
    )
    assert "2009-01-23T10:08:00+05:30  2009-01-23T10:09:00+05:30       1 min  intraday" in out


def test_gaps_when_calendar_derived_and_no_session_list_then_missing_sessions_unknown(
    capsys: pytest.CaptureFixture[str], market_dir: Path
) -> None:
    rc, out, _ = run(capsys, "gaps", market_dir / "banknifty_1m_2023q2.csv")
    assert rc == 0 and "sessions with data: 40 (2023-04-03 .. 2023-06-01)" in out
    assert "missing sessions: unknown (the calendar was derived from this file" in out


def test_import_when_run_twice_then_stored_once_and_loads_back(
    capsys: pytest.CaptureFixture[str], market_dir: Path, tmp_path: Path
) -> None:
    path = market_dir / "banknifty_1m_2023q2.csv"
    rc, out, _ = run(
        capsys, "import", path, "--symbol", "BANKNIFTY", "--tf", "1m", "--root", tmp_path
    )
    assert rc in (0, 1)  # the 15:30 bar of 2023-06-01 is rejected: after the regular close
    assert f"BANKNIFTY 1m -> {tmp_path}/timeframes/BANKNIFTY/1m.jsonl" in out
    assert (
        "read 15001, rejected 1 (outside_session 1), flagged and kept 0, stored 15000, "
        "already stored 0" in out
    )
    _, out, _ = run(capsys, "import", path, "--symbol", "BANKNIFTY", "--root", tmp_path)
    assert "stored 0, already stored 15000" in out
    bars = BarStore(tmp_path).load("BANKNIFTY", Timeframe.M1).items
    assert len(bars) == 15000 and bars[0].open == 40695.8


def test_import_when_option_file_then_one_store_file_per_contract(
    capsys: pytest.CaptureFixture[str], market_dir: Path, tmp_path: Path
) -> None:
    rc, _, _ = run(
        capsys,
        "import",
        market_dir / "nifty_options_1m_2023-06-05.csv",
        "--segment",
        "FO",
        "--root",
        tmp_path,
    )
    assert rc == 0
    stored = BarStore(tmp_path).series()
    assert len(stored) == 95 and ("NIFTY23JUN18500CE", Timeframe.M1) in stored


BAD_CSV = (
    "ts,open,high,low,close,volume\n"
    "2024-01-02T09:15:00+05:30,10,12,9,11,0\n"
    "2024-01-02T09:16:00+05:30,10,abc,9,11,0\n"
    "2024-01-02T09:17:00+05:30,10,12,9,11,0\n"
)


def test_import_when_row_corrupt_then_exit_2_with_file_line_field_and_no_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("nifty.csv").write_text(BAD_CSV)
    rc, out, err = run(capsys, "import", "nifty.csv", "--symbol", "NIFTY", "--root", "store")
    assert rc == 2 and out == ""
    assert err.strip() == "error: nifty.csv:3: field 'high': 'abc' is not a number"
    assert not Path("store").exists()


def test_import_when_lenient_then_bad_row_counted_and_rest_stored(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("nifty.csv").write_text(BAD_CSV)
    rc, out, _ = run(capsys, "import", "nifty.csv", "--tf", "1m", "--lenient", "--root", "s")
    assert rc == 1 and "stored 2" in out  # 1: a row was rejected; the rest is stored
    assert "nifty.csv:3: field 'high': 'abc' is not a number" in out


def test_validate_when_naive_times_then_tz_required_and_accepted_when_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "kite.csv"
    path.write_text(
        "date,open,high,low,close,volume\n2024-01-02 09:15:00,10,12,9,11,5\n"
        "2024-01-02 09:16:00,11,12,10,11,5\n"
    )
    rc, _, err = run(capsys, "validate", path)
    assert rc == 2 and "has no UTC offset" in err and "--tz Asia/Kolkata" in err
    rc, out, _ = run(capsys, "validate", path, "--tz", "Asia/Kolkata")
    assert rc == 0 and "first bar          2024-01-02T09:15:00+05:30" in lines_of(out)
    rc, _, err = run(capsys, "validate", path, "--tz", "Mars/Olympus")
    assert rc == 2 and "'Mars/Olympus' is not a known time zone" in err


def test_cleanup_when_default_policy_then_imported_bars_kept(
    capsys: pytest.CaptureFixture[str], market_dir: Path, tmp_path: Path
) -> None:
    run(capsys, "import", market_dir / "india_vix_daily_2023_2024.csv", "--root", tmp_path)
    path = tmp_path / "timeframes" / "INDIA_VIX" / "1d.jsonl"
    before = path.read_bytes()
    rc, out, _ = run(capsys, "cleanup", "--root", tmp_path, "--yes")
    assert rc == 0 and out.startswith("nothing to clean up under")
    assert "intraday bars kept, daily bars kept" in out
    assert path.read_bytes() == before


def test_cleanup_when_limit_given_then_listed_confirmed_and_applied(
    capsys: pytest.CaptureFixture[str], market_dir: Path, tmp_path: Path
) -> None:
    run(capsys, "import", market_dir / "india_vix_daily_2023_2024.csv", "--root", tmp_path)
    path = tmp_path / "timeframes" / "INDIA_VIX" / "1d.jsonl"
    before = path.read_bytes()
    rc, out, _ = run(capsys, "cleanup", "--root", tmp_path, "--daily-days", "365", "--dry-run")
    assert rc == 0 and "will trim" in out and "dry run: nothing was changed" in out
    assert "removed 309, kept 0" in out
    assert path.read_bytes() == before
    done = subprocess.run(  # no terminal to ask on and no --yes: refused, nothing removed
        [str(ENGINE), "data", "cleanup", "--root", str(tmp_path), "--daily-days", "365"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "--yes" in done.stderr and "will trim" in done.stdout
    assert "Traceback" not in done.stderr and path.read_bytes() == before
    rc, out, _ = run(capsys, "cleanup", "--root", tmp_path, "--daily-days", "365", "--yes")
    assert rc == 0 and "trimmed" in out and "removed 309, kept 0" in out
    assert path.read_text().count("\n") == 1  # the header stays


def test_cleanup_help_when_shown_then_policy_defaults_named() -> None:
    done = subprocess.run(
        [str(ENGINE), "data", "cleanup", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    text = " ".join(done.stdout.split())
    assert done.returncode == 0
    assert "older than N days (default: 2)" in text
    assert text.count("(default: keep every bar)") == 2 and "--yes" in text
