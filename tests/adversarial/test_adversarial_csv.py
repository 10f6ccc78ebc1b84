"""Hostile and careless CSV and JSON input: each gets one clean message with file:line.

Exit 2 when the input cannot be read (nothing is used); with ``--lenient`` an unreadable
row is counted as a rejected bar instead and the command exits 1, still naming file:line.
No input here may produce a traceback, a hang or a wrong time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.data.csv_import import read_bars
from engine.model import Timeframe

HEADER = "ts,open,high,low,close,volume\n"
GOOD = "2024-01-02T09:15:00+05:30,21700,21710,21690,21705,0\n"


@dataclass(frozen=True)
class Case:
    """One input: the file written, the message expected, its line, and whether
    ``--lenient`` turns it into a rejected row (exit 1) or it stays unreadable (exit 2)."""

    id: str
    name: str
    content: Callable[[], bytes]
    message: str
    line: int
    row_level: bool


def text(body: str) -> Callable[[], bytes]:
    return lambda: (HEADER + GOOD + body).encode("utf-8")


CASES = [
    Case(
        "utf16",
        "nifty.csv",
        lambda: (HEADER + GOOD).encode("utf-16"),
        "the file is UTF-16 text",
        1,
        False,
    ),
    Case(
        "utf16-no-bom",
        "nifty.csv",
        lambda: (HEADER + GOOD).encode("utf-16-le"),
        "NUL bytes",
        1,
        False,
    ),
    Case(
        "latin1",
        "nifty.csv",
        lambda: (HEADER + GOOD + "2024-01-02T09:16:00+05:30,1,2,1,1,0 café\n").encode("latin-1"),
        "not UTF-8 text (byte 0xe9 at column 40)",
        3,
        False,
    ),
    Case(
        "binary",
        "nifty.csv",
        lambda: HEADER.encode() + bytes(range(256)),
        "not UTF-8 text (byte 0x80 at column 118)",
        3,
        False,
    ),
    Case(
        "field-over-128k",
        "nifty.csv",
        text('2024-01-02T09:16:00+05:30,"' + "1" * 140_000 + '",2,1,1,0\n'),
        "longer than 65536 characters",
        3,
        False,
    ),
    Case(
        "quoted-field-over-128k-on-many-lines",
        "nifty.csv",
        text('2024-01-02T09:16:00+05:30,"' + ("1" * 1000 + "\n") * 140 + '",2,1,1,0\n'),
        "a field is longer than 131072 characters",
        133,  # where the quoted field crossed the limit
        False,
    ),
    Case(
        "header-100mb",
        "nifty.csv",
        lambda: b"ts" * (50 * 1024 * 1024) + b"\n" + GOOD.encode(),
        "longer than 65536 characters",
        1,
        False,
    ),
    Case(
        "year-1",
        "nifty.csv",
        text("0001-01-01T09:15:00+05:30,1,2,1,1,0\n"),
        "field 'ts': '0001-01-01T09:15:00+05:30' is outside the years the engine handles",
        3,
        True,
    ),
    Case(
        "year-9999",
        "nifty.csv",
        text("9999-12-31T09:15:00+05:30,1,2,1,1,0\n"),
        "'9999-12-31T09:15:00+05:30' is outside the years the engine handles (1990-2099)",
        3,
        True,
    ),
    Case(
        "epoch-year-2286",
        "nifty.csv",
        text("9999999999,1,2,1,1,0\n"),
        "'9999999999' is outside the years the engine handles",
        3,
        True,
    ),
    Case(
        "superscript-digits",
        "nifty.csv",
        text("²²²²²²²²²²,1,2,1,1,0\n"),
        "field 'ts': '²²²²²²²²²²' is not an ISO 8601 date or time",
        3,
        True,
    ),
    Case(
        "superscript-in-time",
        "nifty.csv",
        text("2024-01-02T09:1²:00+05:30,1,2,1,1,0\n"),
        "is not an ISO 8601 date or time",
        3,
        True,
    ),
    Case(
        "signed-minute",
        "nifty.csv",
        text("2024-01-02T10:-9:00+05:30,1,2,1,1,0\n"),
        "'2024-01-02T10:-9:00+05:30' is not an ISO 8601 date or time",
        3,
        True,
    ),
    Case(
        "price-1e308",
        "nifty.csv",
        text("2024-01-02T09:16:00+05:30,1e308,1e308,1e308,1e308,0\n"),
        "field 'open': '1e308' is beyond the largest the engine accepts (1e9)",
        3,
        True,
    ),
    Case(
        "price-inf",
        "nifty.csv",
        text("2024-01-02T09:16:00+05:30,1,inf,1,1,0\n"),
        "field 'high': 'inf' is not a finite number",
        3,
        True,
    ),
    Case(
        "volume-5000-digits",
        "nifty.csv",
        text("2024-01-02T09:16:00+05:30,1,2,1,1," + "9" * 5000 + "\n"),
        "...' is not a finite number",
        3,
        True,
    ),
    Case(
        "json-5000-digits",
        "candles.json",
        lambda: (
            '{"data": [\n["2024-01-02T09:15:00+05:30", 1, 2, 1, 1, 0],\n'
            '["2024-01-02T09:16:00+05:30", ' + "9" * 5000 + ", 2, 1, 1, 0]]}"
        ).encode(),
        "a number has thousands of digits",
        3,
        False,
    ),
    Case(
        "json-nested",
        "candles.json",
        lambda: ('{"data":\n' + "[" * 100_000 + "]" * 100_000 + "}").encode(),
        "nested too deeply",
        2,
        False,
    ),
    Case(
        "json-not-utf8",
        "candles.json",
        lambda: b'{"data": [\n["2024-01-02T09:15:00+05:30\xff", 1, 2, 1, 1, 0]]}',
        "not UTF-8 text (byte 0xff)",
        2,
        False,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_data_validate_when_hostile_input_then_one_clean_line_exit_2(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path(case.name).write_bytes(case.content())
    start = time.monotonic()
    rc = main(["data", "validate", case.name])
    out, err = capsys.readouterr()
    assert rc == 2 and out == ""
    assert err.startswith(f"error: {case.name}:{case.line}: "), err[:300]
    assert case.message in err and err.count("\n") == 1 and len(err) < 400
    assert time.monotonic() - start < 10


@pytest.mark.parametrize("case", [c for c in CASES if c.row_level], ids=lambda c: c.id)
def test_data_validate_when_hostile_row_and_lenient_then_rejected_exit_1(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path(case.name).write_bytes(case.content())
    rc = main(["data", "validate", case.name, "--lenient", "--tf", "1m"])
    out, err = capsys.readouterr()
    assert rc == 1 and err == ""
    assert f"{case.name}:{case.line}: " in out and case.message in out
    assert "unreadable rows    1 (bad_row)" in out


def test_reader_when_minute_is_signed_then_never_read_as_an_earlier_minute(tmp_path: Path) -> None:
    path = tmp_path / "nifty.csv"
    path.write_text(HEADER + GOOD + "2024-01-02T10:-9:00+05:30,1,2,1,1,0\n")
    bar_file = read_bars(path, lenient=True, timeframe=Timeframe.M1)
    starts = [b.start_ist.strftime("%H:%M") for b in bar_file.all_bars]
    assert starts == ["09:15"]  # 10:-9 is not 09:51


def test_gaps_when_sessions_from_is_binary_then_clean_error(
    tmp_path: Path, market_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"date,open,high,low,close\n" + bytes(range(128, 256)) * 4)
    rc = main(
        [
            "data",
            "gaps",
            str(market_dir / "india_vix_daily_2023_2024.csv"),
            "--sessions-from",
            str(binary),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith(f"error: {binary}:2: the file is not UTF-8 text")


@pytest.mark.parametrize("action", ["import", "repair", "cleanup"])
def test_data_when_root_is_a_file_then_clean_error_and_file_untouched(
    tmp_path: Path, market_dir: Path, capsys: pytest.CaptureFixture[str], action: str
) -> None:
    root = tmp_path / "store"
    root.write_text("not a folder")
    args = ["data", action, "--root", str(root)]
    if action == "import":
        args.insert(2, str(market_dir / "india_vix_daily_2023_2024.csv"))
    assert main(args) == 2
    assert capsys.readouterr().err.startswith(f"error: --root: '{root}' is not a folder")
    assert root.read_text() == "not a folder"


def test_import_when_rows_reversed_then_every_bar_stored_once(
    tmp_path: Path, market_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = (market_dir / "banknifty_1m_2023q2.csv").read_text().splitlines(keepends=True)
    reversed_file = tmp_path / "banknifty_1m_reversed.csv"
    reversed_file.write_text(lines[0] + "".join(reversed(lines[1:])))
    root = tmp_path / "store"
    # exit 1: the one bar at 15:30 (2023-06-01) is outside the session and rejected
    assert main(["data", "import", str(reversed_file), "--root", str(root)]) == 1
    out = capsys.readouterr().out
    assert "stored 15000, already stored 0" in out and "rows out of time order: 15000" in out
    assert main(["data", "import", str(reversed_file), "--root", str(root)]) == 1
    assert "stored 0, already stored 15000" in capsys.readouterr().out
    stored = (root / "timeframes" / "BANKNIFTY" / "1m.jsonl").read_text().splitlines()
    starts = [json.loads(line)["t"] for line in stored[1:]]
    assert len(starts) == 15000 and starts == sorted(set(starts))
