"""``engine calendar``: coming sessions, hours, expiries and lot sizes, and clean errors."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.data.calendar import SHIPPED_DIR, Calendar
from engine.timeutil import IST


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(["calendar", *args])
    out, err = capsys.readouterr()
    return rc, out, err


def _line(out: str, day: str) -> str:
    found = [line for line in out.splitlines() if line.startswith(day)]
    assert len(found) == 1, f"one line for {day} in:\n{out}"
    return found[0]


def test_calendar_when_dr_week_then_two_part_hours_holiday_and_expiries(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rc, out, err = _run(
        capsys,
        "--from",
        "2024-02-26",
        "--days",
        "12",
        "--underlying",
        "NIFTY",
        "--underlying",
        "banknifty",
    )
    assert rc == 0 and err == ""
    assert "expiries for NIFTY, BANKNIFTY" in out
    assert "09:15-10:00, 11:30-12:30" in _line(out, "2024-03-02 Sat")
    assert "dr_session" in _line(out, "2024-03-02 Sat")
    holiday = _line(out, "2024-03-08 Fri")
    assert "closed" in holiday and "Mahashivratri" in holiday
    lines = out.splitlines()
    i = lines.index(_line(out, "2024-02-29 Thu"))
    assert "NIFTY monthly expiry, lot 50" in lines[i]
    assert lines[i + 1].strip() == "BANKNIFTY monthly expiry, lot 15"
    assert "BANKNIFTY weekly expiry, lot 15" in _line(out, "2024-02-28 Wed")
    assert not any(line.startswith("2024-03-03") for line in lines)  # a plain Sunday


def test_calendar_when_muhurat_2026_then_hours_not_published(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rc, out, _ = _run(capsys, "--from", "2026-11-06", "--days", "5")
    assert rc == 0
    muhurat = _line(out, "2026-11-08 Sun")
    assert "hours not published" in muhurat and "muhurat" in muhurat
    moved = _line(out, "2026-11-09 Mon")
    assert "NIFTY weekly expiry (moved from 2026-11-10, a holiday), lot 65" in moved
    assert "09:15-15:40" in moved


def test_calendar_when_cm_segment_then_cash_hours(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(capsys, "--from", "2026-11-23", "--days", "1", "--segment", "CM")
    assert rc == 0 and "(CM hours, IST)" in out
    assert "09:15-15:30" in _line(out, "2026-11-23 Mon")


def test_calendar_when_no_from_then_starts_today_in_ist_and_never_fails(
    capsys: pytest.CaptureFixture[str],
) -> None:
    today = datetime.now(IST).date()
    rc, out, err = _run(capsys, "--days", "40")
    assert rc == 0 and err == "" and out.startswith(f"NSE sessions {today.isoformat()} ..")
    left = Calendar.default().verified_days_left(today)
    assert (f"{left} days of verified coverage left" in out) or "has ended" in out


def test_calendar_when_from_is_before_any_known_hours_then_clean_error_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rc, out, err = _run(capsys, "--from", "2008-05-02")
    assert rc == 2 and out == ""
    assert err.startswith("error: 2008-05-02 is outside the calendar (2009-01-01 .. 2036-12-31)")
    assert "Traceback" not in err


def test_calendar_when_window_runs_past_the_verified_files_then_provisional_days_and_how_to_add(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rc, out, err = _run(capsys, "--from", "2026-12-28", "--days", "10")
    assert rc == 0 and err == ""
    assert "NIFTY monthly expiry, lot 65" in _line(out, "2026-12-29 Tue")
    assert "provisional" not in _line(out, "2026-12-31 Thu")
    assert "09:15-15:40" in _line(out, "2027-01-01 Fri") and "provisional" in out
    lines = out.splitlines()
    i = lines.index(_line(out, "2027-01-05 Tue"))
    assert "provisional" in lines[i] and "NIFTY weekly expiry, lot 65" in lines[i + 1]
    assert "holidays.csv" in out and "coverage.csv" in out and "--calendar-dir" in out


def test_calendar_when_history_then_provisional_regular_hours_of_the_time(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rc, out, _ = _run(capsys, "--from", "2009-12-31", "--days", "5")
    assert rc == 0
    assert "09:55-15:30" in _line(out, "2009-12-31 Thu")
    assert "09:00-15:30" in _line(out, "2010-01-04 Mon")


def test_calendar_when_unknown_underlying_then_clean_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rc, out, err = _run(capsys, "--from", "2025-01-01", "--underlying", "SENSEX")
    assert rc == 2 and out == "" and "unknown underlying 'SENSEX'" in err


def test_calendar_when_bad_date_then_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["calendar", "--from", "02-05-2024"])
    assert info.value.code == 2
    assert "'02-05-2024' is not a date; expected YYYY-MM-DD" in capsys.readouterr().err


def test_calendar_when_days_is_not_a_sensible_count_then_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for bad in ("0", "-3", "999999"):
        with pytest.raises(SystemExit) as info:
            main(["calendar", "--days", bad])
        assert info.value.code == 2
        assert "is not a number of days from 1 to 3660" in capsys.readouterr().err


def test_calendar_when_calendar_dir_given_then_its_files_are_used(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "cal"
    shutil.copytree(SHIPPED_DIR, folder)
    with (folder / "holidays.csv").open("a", encoding="utf-8") as f:
        f.write("2026-12-30,Exchange closure (test),CM;FO,test\n")
    rc, out, _ = _run(capsys, "--from", "2026-12-30", "--days", "1", "--calendar-dir", str(folder))
    assert rc == 0 and str(folder) in out
    assert "Exchange closure (test)" in _line(out, "2026-12-30 Wed")


def test_calendar_when_calendar_dir_is_broken_then_error_names_file_and_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "cal"
    shutil.copytree(SHIPPED_DIR, folder)
    with (folder / "special_sessions.csv").open("a", encoding="utf-8") as f:
        f.write("2026-12-26,muhurat,18:00,,CM;FO,test\n")
    line = len((folder / "special_sessions.csv").read_text(encoding="utf-8").splitlines())
    rc, _, err = _run(capsys, "--calendar-dir", str(folder))
    assert rc == 2
    assert f"{folder / 'special_sessions.csv'}:{line}: give both open and close" in err


def test_calendar_when_run_as_a_console_script_then_prints_the_1540_close() -> None:
    engine = Path(sys.executable).parent / "engine"
    done = subprocess.run(
        [str(engine), "calendar", "--from", "2026-08-03", "--days", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "09:15-15:40" in _line(done.stdout, "2026-08-03 Mon")
