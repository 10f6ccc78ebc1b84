"""The shipped calendar files: they agree with the sourced facts, and bad edits are reported
with the file, the line and the field."""

from __future__ import annotations

import csv
import shutil
from datetime import date, time
from pathlib import Path

import pytest

from engine.data.calendar import ENV_VAR, SHIPPED_DIR, Calendar
from engine.errors import DataError

REPO = Path(__file__).resolve().parents[3]
FACTS_DIR = REPO.parent / "shared" / "data" / "market" / "calendar"


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _keyed(rows: list[dict[str, str]], key: tuple[str, ...]) -> dict[tuple[str, ...], dict]:
    out: dict[tuple[str, ...], dict] = {}
    for r in rows:
        k = tuple(r[c] for c in key)
        assert k not in out, f"duplicate row {k}"
        out[k] = r
    return out


@pytest.mark.parametrize(
    ("shared_name", "shipped_name", "key", "columns"),
    [
        ("nse_holidays.csv", "holidays.csv", ("date",), ("name", "segments", "source")),
        (
            "nse_special_sessions.csv",
            "special_sessions.csv",
            ("date", "kind", "open"),
            ("close", "segments", "source"),
        ),
        (
            "nse_fo_contract_facts.csv",
            "contract_facts.csv",
            ("underlying", "field", "effective_from"),
            ("value", "effective_to", "source"),
        ),
    ],
)
def test_shipped_files_when_compared_with_the_sourced_facts_then_every_row_is_equal(
    shared_name: str, shipped_name: str, key: tuple[str, ...], columns: tuple[str, ...]
) -> None:
    shared = _keyed(_read(FACTS_DIR / shared_name), key)
    shipped = _keyed(_read(SHIPPED_DIR / shipped_name), key)
    # History before the sourced 2024-2026 files may be added: a shipped row may start
    # where a sourced row had no start (an earlier row then covers the time before it),
    # and rows ending before 2024 may be added. Nothing from 2024 on differs.
    narrowed = {
        k: k[:-1] + ("",)
        for k in shipped
        if "effective_from" in key
        and k not in shared
        and k[-1] < "2024-01-01"
        and k[:-1] + ("",) in shared
        and shipped[k]["value"] == shared[k[:-1] + ("",)]["value"]
    }
    added = {
        k
        for k, row in shipped.items()
        if k not in shared and k not in narrowed and row.get("effective_to", "9") < "2024-01-01"
    }
    assert {narrowed.get(k, k) for k in shipped.keys() - added} == shared.keys()
    for k, row in shipped.items():
        if k in added:
            assert row["source"], f"{shipped_name} {k}: a row added for history needs a source"
            continue
        for c in columns:
            assert row[c] == shared[narrowed.get(k, k)][c], f"{shipped_name} {k} column {c}"


def test_shared_holidays_when_read_then_each_weekday_column_matches_its_date() -> None:
    for row in _read(FACTS_DIR / "nse_holidays.csv"):
        assert date.fromisoformat(row["date"]).strftime("%a") == row["weekday"]


def test_regular_hours_when_compared_with_contract_facts_then_fo_times_agree() -> None:
    cal = Calendar.default()
    hours = _read(SHIPPED_DIR / "regular_hours.csv")
    fo = [h for h in hours if h["segment"] == "FO"]
    assert fo, "regular_hours.csv has FO rows"
    for h in fo:
        for field, column in (
            ("fo_normal_market_open", "open"),
            ("fo_normal_market_close", "close"),
        ):
            for boundary in (h["effective_from"], h["effective_to"]):
                if not boundary:
                    continue
                fact = cal.fact("NIFTY", field, date.fromisoformat(boundary))
                assert fact is not None and fact.value == h[column], (field, boundary)


def test_coverage_when_loaded_then_it_is_2024_to_2026() -> None:
    cal = Calendar.default()
    assert (cal.first_date, cal.last_date) == (date(2024, 1, 1), date(2026, 12, 31))


@pytest.fixture()
def cal_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "cal"
    shutil.copytree(SHIPPED_DIR, folder)
    return folder


def _append(path: Path, line: str) -> int:
    with path.open("a", encoding="utf-8") as f:
        f.write(line + "\n")
    return len(path.read_text(encoding="utf-8").splitlines())


def test_from_dir_when_a_copy_of_the_shipped_files_then_it_matches_the_default(
    cal_dir: Path,
) -> None:
    mine, shipped = Calendar.from_dir(cal_dir), Calendar.default()
    days = [date(2024, 1, 20), date(2024, 3, 2), date(2025, 10, 21), date(2026, 11, 23)]
    assert [mine.session(d) for d in days] == [shipped.session(d) for d in days]


def test_from_dir_when_a_user_adds_a_holiday_then_that_weekday_is_closed(cal_dir: Path) -> None:
    assert Calendar.from_dir(cal_dir).is_session(date(2026, 12, 30))
    _append(cal_dir / "holidays.csv", "2026-12-30,Test closure,CM;FO,test")
    cal = Calendar.from_dir(cal_dir)
    assert not cal.is_session(date(2026, 12, 30))
    assert cal.holiday_name(date(2026, 12, 30)) == "Test closure"


def test_default_when_env_var_names_a_folder_then_it_is_used(
    cal_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _append(cal_dir / "holidays.csv", "2026-12-30,Test closure,CM;FO,test")
    monkeypatch.setenv(ENV_VAR, str(cal_dir))
    assert not Calendar.default().is_session(date(2026, 12, 30))
    monkeypatch.delenv(ENV_VAR)
    assert Calendar.default().is_session(date(2026, 12, 30))


def test_default_when_env_var_names_no_folder_then_data_error_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "missing"))
    with pytest.raises(DataError, match=f"{ENV_VAR} names .*missing, which is not a folder"):
        Calendar.default()


def test_from_dir_when_a_comment_row_is_added_then_it_is_ignored(cal_dir: Path) -> None:
    _append(cal_dir / "holidays.csv", "# 2026-12-30,not yet confirmed,CM;FO,")
    assert Calendar.from_dir(cal_dir).is_session(date(2026, 12, 30))


@pytest.mark.parametrize(
    ("file", "line", "message"),
    [
        ("holidays.csv", "2026-13-01,Bad,CM;FO,x", "date '2026-13-01' is not a date"),
        ("holidays.csv", "2027-01-26,Republic Day,CM;FO,x", "outside the coverage"),
        ("holidays.csv", "2026-12-25,Christmas again,CM;FO,x", "listed twice"),
        ("holidays.csv", "2026-12-30,Bad segment,EQ,x", "segments 'EQ' must be CM, FO"),
        ("special_sessions.csv", "2026-12-26,muhurat,18:00,,CM;FO,x", "give both open and close"),
        ("special_sessions.csv", "2026-12-26,muhurat,18:00,17:00,CM;FO,x", "is not after open"),
        ("special_sessions.csv", "2026-12-26,muhurat,25:00,26:00,CM;FO,x", "open: '25:00'"),
        ("special_sessions.csv", "2024-03-02,dr_extra,09:45,10:30,FO,x", "starts before the part"),
        ("special_sessions.csv", "2026-11-08,muhurat_2,18:00,19:00,FO,x", "some trading parts"),
        ("regular_hours.csv", "FO,09:15,15:30,2026-01-01,,x", "overlap"),
        ("regular_hours.csv", "XX,09:15,15:30,2030-01-01,,x", "segment 'XX' must be CM or FO"),
        ("contract_facts.csv", "NIFTY,lot_size,sixty,2030-01-01,,x", "lot_size: 'sixty'"),
        ("contract_facts.csv", "NIFTY,lot_size,60,2026-06-01,,x", "dates overlap line"),
        (
            "contract_facts.csv",
            "NIFTY,monthly_expiry_rule,first Monday,2030-01-01,,x",
            "'last <Weekday>'",
        ),
        (
            "contract_facts.csv",
            "NIFTY,weekly_expiry_weekday,Tues,2030-01-01,,x",
            "is not a weekday",
        ),
        (
            "contract_facts.csv",
            "ALL,expiry_holiday_rule,next trading day,2030-01-01,,x",
            "'previous trading day'",
        ),
    ],
)
def test_from_dir_when_a_row_is_wrong_then_data_error_names_file_and_line(
    cal_dir: Path, file: str, line: str, message: str
) -> None:
    lineno = _append(cal_dir / file, line)
    with pytest.raises(DataError, match=message) as info:
        Calendar.from_dir(cal_dir)
    assert info.value.file == str(cal_dir / file)
    assert info.value.line == lineno


def test_from_dir_when_a_file_is_missing_then_data_error_names_it(cal_dir: Path) -> None:
    (cal_dir / "regular_hours.csv").unlink()
    with pytest.raises(DataError, match="calendar file is missing") as info:
        Calendar.from_dir(cal_dir)
    assert info.value.file == str(cal_dir / "regular_hours.csv")


def test_from_dir_when_a_short_comment_or_a_short_row_then_comment_ok_row_rejected(
    cal_dir: Path,
) -> None:
    _append(cal_dir / "holidays.csv", "# 2027 list expected in December")
    assert Calendar.from_dir(cal_dir).is_session(date(2026, 12, 30))
    line = _append(cal_dir / "holidays.csv", "2026-12-30,Closure")
    with pytest.raises(DataError, match="different number of cells") as info:
        Calendar.from_dir(cal_dir)
    assert info.value.line == line


def test_from_dir_when_a_file_is_not_utf8_then_data_error(cal_dir: Path) -> None:
    with (cal_dir / "holidays.csv").open("ab") as f:
        f.write("2026-12-30,F\xeate,CM;FO,x\n".encode("latin-1"))
    with pytest.raises(DataError, match="not a readable UTF-8 CSV file"):
        Calendar.from_dir(cal_dir)


def test_from_dir_when_a_column_is_missing_then_data_error_lists_it(cal_dir: Path) -> None:
    (cal_dir / "holidays.csv").write_text("date,name\n2026-12-30,x\n", encoding="utf-8")
    with pytest.raises(DataError, match="lacks column.*segments"):
        Calendar.from_dir(cal_dir)


def test_from_dir_when_the_folder_does_not_exist_then_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        Calendar.from_dir(tmp_path / "nowhere")


def test_from_dir_when_hours_do_not_cover_a_weekday_then_data_error(cal_dir: Path) -> None:
    rows = (cal_dir / "regular_hours.csv").read_text(encoding="utf-8").splitlines()
    kept = [r for r in rows if not r.startswith("CM,")]
    (cal_dir / "regular_hours.csv").write_text("\n".join(kept) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="no CM hours are given for 2024-01-01"):
        Calendar.from_dir(cal_dir)


def test_from_dir_when_muhurat_times_are_published_then_the_session_has_them(
    cal_dir: Path,
) -> None:
    path = cal_dir / "special_sessions.csv"
    text = path.read_text(encoding="utf-8").replace(
        "2026-11-08,muhurat,,,", "2026-11-08,muhurat,18:00,19:15,"
    )
    path.write_text(text, encoding="utf-8")
    s = Calendar.from_dir(cal_dir).session(date(2026, 11, 8))
    assert s is not None and s.hours_known
    assert s.segments == ((time(18, 0), time(19, 15)),)
