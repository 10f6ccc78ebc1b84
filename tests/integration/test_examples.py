"""The walkthrough in examples/README.md works as written, on the bundled real data."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli.main import main

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
DATA = EXAMPLES / "data" / "nifty_1m_2024-03-01_07.csv"


@pytest.mark.parametrize("rule", sorted((EXAMPLES / "rules").glob("*.yaml")), ids=lambda p: p.stem)
def test_example_rule_when_validated_then_ok(rule: Path, capsys) -> None:
    assert main(["validate", str(rule)]) == 0
    assert capsys.readouterr().out.startswith("ok ")


def test_example_data_when_gaps_reported_then_names_the_missing_monday(capsys) -> None:
    main(["data", "gaps", str(DATA)])
    out = capsys.readouterr().out
    assert "sessions with data: 5 of 6 expected (2024-03-01 .. 2024-03-07)" in out
    assert "missing sessions (1, per the calendar): 2024-03-04" in out


def test_example_data_when_validated_then_every_bar_accepted(capsys) -> None:
    main(["data", "validate", str(DATA)])
    out = capsys.readouterr().out
    assert "accepted           1605" in out and "rejected           0" in out


def test_example_indicators_when_hourly_csv_then_session_aligned_rows(capsys) -> None:
    assert (
        main(
            [
                "indicators",
                "--data",
                str(DATA),
                "--tf",
                "1h",
                "--with",
                "adx(14),plus_di(14),minus_di(14)",
                "--csv",
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "ts,open,high,low,close,volume,adx(14),plus_di(14),minus_di(14)"
    starts = [line.split(",")[0][11:16] for line in lines[1:8]]
    assert starts == ["09:15", "10:15", "11:15", "12:15", "13:15", "14:15", "15:15"]
    # The Saturday DR session restarts its buckets at its second part's open.
    saturday = [line[11:16] for line in lines if line.startswith("2024-03-02")]
    assert saturday == ["09:15", "11:30"]
