"""A malformed charges table is refused whole, each problem located by file, line and key."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from engine.costs.charges import DEFAULT_TABLE, ChargesTable
from engine.errors import SpecError

GOOD = """\
version: 1
segments:
  index_option:
    brokerage:
      - {effective_from: 2024-01-01, effective_to: null, per_order: 20}
    stt:
      - {effective_from: 2024-01-01, effective_to: 2024-06-30, side: sell, pct: 0.1}
      - {effective_from: 2024-07-01, effective_to: null, side: sell, pct: 0.2}
    exchange:
      - {effective_from: 2024-01-01, effective_to: null, side: both, pct: 0.03503}
    ipft:
      - {effective_from: 2024-01-01, effective_to: null, side: both, per_crore: 50}
    sebi:
      - {effective_from: 2024-01-01, effective_to: null, side: both, per_crore: 10}
    stamp:
      - {effective_from: 2024-01-01, effective_to: null, side: buy, pct: 0.003}
    gst:
      - {effective_from: 2024-01-01, effective_to: null, pct: 18, applies_to: [brokerage]}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "charges.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(SpecError) as e:
        ChargesTable.from_file(write(tmp_path, text))
    return [d.headline() for d in e.value.diagnostics]


def test_from_file_when_valid_then_rates_read_exactly_from_the_text(tmp_path: Path) -> None:
    table = ChargesTable.from_file(write(tmp_path, GOOD))
    # 1,00,000 of premium sold on 2024-07-01: STT 0.2 % = 200.00, exchange 0.03503 % = 35.03
    # (0.03503 read as text; as a binary float it is 0.035029999...), IPFT 0.50, SEBI 0.10,
    # brokerage a flat 20.00 (no cap), GST 18 % of the brokerage only = 3.60.
    got = table.for_fill(date(2024, 7, 1), "sell", Decimal("200.00"), 500)
    assert got.to_dict()["total"] == "259.23"  # 20 + 200 + 35.03 + 0.10 + 3.60 + 0.50
    assert got.exchange == Decimal("35.03")
    assert table.coverage() == (date(2024, 1, 1), None)


def test_from_file_when_shipped_table_then_it_loads(tmp_path: Path) -> None:
    text = DEFAULT_TABLE.read_text(encoding="utf-8")
    assert ChargesTable.from_file(write(tmp_path, text)).segments == ("index_option",)


def test_from_file_when_key_misspelt_then_located_with_a_suggestion(tmp_path: Path) -> None:
    text = GOOD.replace("per_crore: 10}", "per_crore: 10, sid: both}")
    (found,) = problems(tmp_path, text)
    assert found.endswith(
        "charges.yaml:14:85: error[unknown-key]: segments.index_option.sebi[0]: unknown key 'sid'"
    )
    with pytest.raises(SpecError) as e:
        ChargesTable.from_file(write(tmp_path, text))
    assert "did you mean 'side'?" in e.value.render()


def test_from_file_when_rate_not_a_number_then_located_at_the_value(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, GOOD.replace("pct: 0.003}", "pct: 0.003%}"))
    assert (
        ":16:74: error[bad-rate]: segments.index_option.stamp[0].pct: '0.003%' is not a number"
        in found
    )


def test_from_file_when_rate_negative_or_above_100_pct_then_out_of_range(tmp_path: Path) -> None:
    text = GOOD.replace("pct: 0.003}", "pct: -1}").replace("pct: 18,", "pct: 180,")
    found = problems(tmp_path, text)
    assert len(found) == 2
    assert "stamp[0].pct: -1 is out of range" in found[0]
    assert "gst[0].pct: 180 is out of range: it must be 0 or more and at most 100" in found[1]


def test_from_file_when_rows_overlap_then_error_at_the_later_row(tmp_path: Path) -> None:
    text = GOOD.replace(
        "from: 2024-07-01, effective_to: null", "from: 2024-06-30, effective_to: null"
    )
    (found,) = problems(tmp_path, text)
    assert ":8:26: error[overlap]: segments.index_option.stt[1].effective_from: " in found
    assert "'stt' rows overlap: 2024-06-30 is not after 2024-06-30" in found


def test_from_file_when_rows_leave_a_gap_then_the_missing_days_are_named(tmp_path: Path) -> None:
    text = GOOD.replace(
        "from: 2024-07-01, effective_to: null", "from: 2024-07-03, effective_to: null"
    )
    (found,) = problems(tmp_path, text)
    assert "error[gap]" in found and "'stt' has no rate from 2024-07-01 to 2024-07-02" in found


def test_from_file_when_open_row_is_not_last_then_overlap(tmp_path: Path) -> None:
    text = GOOD.replace("effective_to: 2024-06-30", "effective_to: null")
    (found,) = problems(tmp_path, text)
    assert "row 0 of 'stt' has no end, so no row can follow it" in found


def test_from_file_when_dates_wrong_then_each_is_reported(tmp_path: Path) -> None:
    text = GOOD.replace(
        "effective_from: 2024-01-01, effective_to: null, side: both, pct: 0.03503",
        "effective_from: 1 Jan 2024, effective_to: null, side: both, pct: 0.03503",
    ).replace("effective_to: 2024-06-30", "effective_to: 2023-06-30")
    found = problems(tmp_path, text)
    assert any(
        "stt[0].effective_to: effective_to 2023-06-30 is before 2024-01-01" in f for f in found
    )
    assert any(
        "exchange[0].effective_from: '1 Jan 2024' is not a date (YYYY-MM-DD)" in f for f in found
    )


def test_from_file_when_component_missing_or_unknown_then_both_reported(tmp_path: Path) -> None:
    text = GOOD.replace("    stamp:\n", "    stamps:\n")
    found = problems(tmp_path, text)
    assert any(
        "charges.yaml:15:5: error[unknown-key]: segments.index_option: unknown key 'stamps'" in f
        for f in found
    )
    assert any("segment 'index_option' has no 'stamp' rows" in f for f in found)


def test_from_file_when_side_or_gst_base_wrong_then_reported(tmp_path: Path) -> None:
    text = GOOD.replace("side: buy", "side: buyer").replace("[brokerage]", "[brokerage, stt]")
    found = problems(tmp_path, text)
    assert any("stamp[0].side: side 'buyer' is not one of buy, sell, both" in f for f in found)
    assert any("gst[0].applies_to: 'applies_to' must list components" in f for f in found)


def test_from_file_when_both_pct_and_per_crore_then_exactly_one_needed(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, GOOD.replace("per_crore: 50}", "per_crore: 50, pct: 1}"))
    assert "ipft[0]: a row needs exactly one of 'pct' or 'per_crore'" in found


def test_from_file_when_key_missing_then_named(tmp_path: Path) -> None:
    text = GOOD.replace("effective_to: null, per_order: 20", "per_order: 20")
    (found,) = problems(tmp_path, text)
    assert "brokerage[0]: the row has no 'effective_to' (empty for a row still in force)" in found


def test_from_file_when_yaml_broken_then_syntax_error_with_line(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, GOOD.replace("per_order: 20}", "per_order: 20"))
    assert "charges.yaml:" in found and "yaml-syntax" in found


def test_from_file_when_version_wrong_or_file_missing_then_refused(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, GOOD.replace("version: 1", "version: 2"))
    assert ":1:10: error[bad-version]: version: version must be 1" in found
    with pytest.raises(SpecError, match="cannot read the file"):
        ChargesTable.from_file(tmp_path / "absent.yaml")


def test_from_file_when_date_impossible_then_located_not_a_traceback(tmp_path: Path) -> None:
    text = GOOD.replace("effective_from: 2024-07-01", "effective_from: 2024-02-30")
    (found,) = problems(tmp_path, text)
    assert found.endswith(
        "charges.yaml:8:26: error[bad-value]: '2024-02-30' is not a valid timestamp "
        "(day is out of range for month)"
    )
