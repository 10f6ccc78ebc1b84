"""``engine indicators``: resampled bars and indicator values, checked against TA-Lib."""

from __future__ import annotations

import csv
import io
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import talib

from engine.cli.indicators import split_specs
from engine.cli.main import main

ENGINE = Path(sys.executable).parent / "engine"
SPECS = "adx(14),plus_di(14),minus_di(14),rsi(14),ema(9)"


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    rc = main(["indicators", *map(str, args)])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture(scope="module")
def hourly_csv(market_dir: Path) -> list[dict[str, str]]:
    """The whole NIFTY 2024 file as 1h bars with the five indicators, as CSV rows."""
    out = io.StringIO()
    old = sys.stdout
    sys.stdout = out
    try:
        rc = main(
            [
                "indicators",
                "--data",
                str(market_dir / "nifty_1m_2024.csv"),
                "--tf",
                "1h",
                "--with",
                SPECS,
                "--csv",
            ]
        )
    finally:
        sys.stdout = old
    assert rc == 0
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def test_indicators_csv_when_hourly_then_columns_as_written_and_session_aligned(
    hourly_csv: list[dict[str, str]],
) -> None:
    assert list(hourly_csv[0]) == [
        "ts",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "adx(14)",
        "plus_di(14)",
        "minus_di(14)",
        "rsi(14)",
        "ema(9)",
    ]
    assert len(hourly_csv) == 154 * 7 + 2 * 2
    assert [r["ts"][11:] for r in hourly_csv[:8]] == [
        "09:15:00+05:30",
        "10:15:00+05:30",
        "11:15:00+05:30",
        "12:15:00+05:30",
        "13:15:00+05:30",
        "14:15:00+05:30",
        "15:15:00+05:30",
        "09:15:00+05:30",
    ]
    first = hourly_csv[0]
    assert (first["ts"], first["open"], first["close"], first["volume"]) == (
        "2024-01-01T09:15:00+05:30",
        "21727.75",
        "21709.65",
        "0",
    )


def test_indicators_csv_when_warming_up_then_cells_empty_until_talib_has_values(
    hourly_csv: list[dict[str, str]],
) -> None:
    highs, lows, closes = (
        np.array([float(r[k]) for r in hourly_csv]) for k in ("high", "low", "close")
    )
    reference = {
        "adx(14)": talib.ADX(highs, lows, closes, 14),
        "plus_di(14)": talib.PLUS_DI(highs, lows, closes, 14),
        "minus_di(14)": talib.MINUS_DI(highs, lows, closes, 14),
        "rsi(14)": talib.RSI(closes, 14),
        "ema(9)": talib.EMA(closes, 9),
    }
    for name, expected in reference.items():
        cells = [r[name] for r in hourly_csv]
        assert [c == "" for c in cells] == [math.isnan(x) for x in expected], name
        got = np.array([float(c) if c else np.nan for c in cells])
        assert np.allclose(got, expected, atol=1e-5, equal_nan=True), name


def test_indicators_when_date_range_then_values_from_the_whole_series(
    capsys: pytest.CaptureFixture[str], market_dir: Path, hourly_csv: list[dict[str, str]]
) -> None:
    rc, out, err = run(
        capsys,
        "--data",
        market_dir / "nifty_1m_2024.csv",
        "--tf",
        "1h",
        "--with",
        SPECS,
        "--from",
        "2024-03-01",
        "--to",
        "2024-03-02",
        "--csv",
    )
    assert rc == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["ts"] for r in rows][-2:] == [
        "2024-03-02T09:15:00+05:30",
        "2024-03-02T11:30:00+05:30",
    ]
    assert len(rows) == 7 + 2
    whole = {r["ts"]: r for r in hourly_csv}
    assert rows == [whole[r["ts"]] for r in rows]  # not restarted at --from: no warm-up gap
    assert "note: left out 167 bars that failed validation (outside_session 167)" in err


def test_indicators_table_when_default_then_aligned_columns_and_dash_for_warm_up(
    capsys: pytest.CaptureFixture[str], market_dir: Path
) -> None:
    rc, out, _ = run(
        capsys,
        "--data",
        market_dir / "nifty_1m_2024.csv",
        "--tf",
        "1d",
        "--with",
        "rsi(14), sma(volume, 20)",
        "--to",
        "2024-01-03",
    )
    assert rc == 0
    lines = out.splitlines()
    assert lines[0] == "# left out 167 bars that failed validation (outside_session 167)"
    header = next(x for x in lines if x.startswith("ts (IST)"))
    assert header.split()[-3:] == ["rsi(14)", "sma(volume,", "20)"]
    assert lines[-1].startswith("2024-01-03 00:00   21661.10") and lines[-1].endswith("-")


def test_indicators_when_2009_data_then_provisional_calendar_noted_and_hours_from_0955(
    capsys: pytest.CaptureFixture[str], market_dir: Path, tmp_path: Path
) -> None:
    head = (market_dir / "nifty_1m_2009.csv").read_text().splitlines()[: 1 + 3 * 336]
    path = tmp_path / "nifty_1m_2009_head.csv"  # the file's first three sessions
    path.write_text("\n".join(head) + "\n")
    rc, out, _ = run(
        capsys,
        "--data",
        path,
        "--tf",
        "1h",
        "--with",
        "ema(9)",
        "--from",
        "2009-01-02",
        "--to",
        "2009-01-02",
    )
    assert rc == 0 and "# calendar: shipped NSE calendar, provisional" in out
    assert "2009-01-02 09:55" in out and "09:15" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tf", "1h", "--with", "adx(14),foo(3)"], "error: --with: unknown indicator 'foo'"),
        (["--tf", "2h"], "error: --tf: '2h' is not a timeframe"),
        (["--from", "2024-13-01"], "error: --from: '2024-13-01' is not a date"),
        (["--from", "2025-01-01"], "error: no 1m bars between 2025-01-01 and the end"),
    ],
)
def test_indicators_when_input_wrong_then_exit_2_with_message(
    capsys: pytest.CaptureFixture[str], market_dir: Path, args: list[str], message: str
) -> None:
    rc, _, err = run(capsys, "--data", market_dir / "banknifty_1m_2023q2.csv", *args)
    assert rc == 2 and err.startswith(message)


def test_indicators_when_shorter_timeframe_asked_then_exit_2(
    capsys: pytest.CaptureFixture[str], market_dir: Path
) -> None:
    rc, _, err = run(capsys, "--data", market_dir / "india_vix_daily_2023_2024.csv", "--tf", "1h")
    assert rc == 2 and "a shorter timeframe cannot be made from them" in err


def test_indicators_when_file_holds_many_symbols_then_asks_for_one(
    capsys: pytest.CaptureFixture[str], market_dir: Path
) -> None:
    path = market_dir / "nifty_options_1m_2023-06-05.csv"
    rc, _, err = run(capsys, "--data", path, "--with", "ema(9)")
    assert rc == 2 and "holds 95 symbols" in err and "--symbol" in err
    rc, out, _ = run(
        capsys,
        "--data",
        path,
        "--symbol",
        "NIFTY23JUN18500CE",
        "--tf",
        "5m",
        "--with",
        "ema(3)",
        "--csv",
        "--segment",
        "FO",
    )
    # 09:15 .. 10:10: the 10:15 bucket has one minute of data and has not ended, so it is
    # not a bar
    assert rc == 0 and len(out.splitlines()) == 1 + 12


def test_split_specs_when_commas_inside_parentheses_then_kept_together() -> None:
    assert split_specs("adx(14), sma(volume, 20) ,ema(9),") == [
        "adx(14)",
        "sma(volume, 20)",
        "ema(9)",
    ]


def test_indicators_when_run_as_console_script_then_csv_on_stdout(market_dir: Path) -> None:
    proc = subprocess.run(
        [
            str(ENGINE),
            "indicators",
            "--data",
            str(market_dir / "banknifty_1m_2023q2.csv"),
            "--tf",
            "1d",
            "--with",
            "rsi(14)",
            "--csv",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert len(rows) == 40 and rows[0]["rsi(14)"] == "" and rows[-1]["rsi(14)"] != ""
    assert "provisional for the file's dates" in proc.stderr
