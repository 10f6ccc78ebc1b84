"""Reading real option bars with their contract facts, and refusing broken rows by line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from engine.data.calendar import Calendar
from engine.errors import DataError
from engine.pricing.option_bars import read_option_bars

NAME = "nifty_options_1m_2023-06-05.csv"
# The June 2023 monthly contract expired on Wednesday 2023-06-28 (NSE moved the Bakri Id
# holiday to Thursday 2023-06-29 by its circulars of 2023-06-27).
JUNE = {"2023-06 monthly": date(2023, 6, 28)}
HEADER = "ts,symbol,contract,strike,type,open,high,low,close,volume\n"


def test_read_option_bars_when_real_file_then_every_row_with_its_contract(market_dir: Path) -> None:
    bars = read_option_bars(market_dir / NAME, expiries=JUNE)
    assert len(bars) == 5587
    contracts = {(b.strike, b.kind) for b in bars}
    assert len(contracts) == 95
    assert {b.underlying for b in bars} == {"NIFTY"} and {b.expiry for b in bars} == {
        JUNE["2023-06 monthly"]
    }
    assert min(b.strike for b in bars) == 17000 and max(b.strike for b in bars) == 19700
    first = bars[0]
    assert (first.symbol, first.kind, first.close, first.volume) == (
        "NIFTY23JUN17000CE", "CE", Decimal("1700.70"), 0,
    )  # fmt: skip


def test_read_option_bars_when_monthly_label_in_a_provisional_year_then_the_rule_in_force(
    market_dir: Path,
) -> None:
    # 2023 is not verified in the shipped calendar: its monthly expiry follows the rule in
    # force then (the last Thursday); name the expiry to override it
    bars = read_option_bars(market_dir / NAME)
    assert {b.expiry for b in bars} == {date(2023, 6, 29)}


def test_read_option_bars_when_label_in_calendar_years_then_its_monthly_expiry(
    tmp_path: Path,
) -> None:
    path = tmp_path / "opts.csv"
    path.write_text(
        HEADER + "2024-06-03T09:15:00+05:30,NIFTY24JUN22500CE,2024-06 monthly,22500,CE,"
        "300,310,295,305.5,100\n",
        encoding="utf-8",
    )
    (bar,) = read_option_bars(path, calendar=Calendar.default())
    assert bar.expiry == date(2024, 6, 27)  # last Thursday of June 2024


def test_read_option_bars_when_contract_is_a_date_then_taken_as_is(tmp_path: Path) -> None:
    path = tmp_path / "opts.csv"
    path.write_text(
        HEADER + "2024-06-03T09:15:00+05:30,BANKNIFTY24JUN49000PE,2024-06-26,49000,PE,"
        "300,310,295,305.5,100\n",
        encoding="utf-8",
    )
    (bar,) = read_option_bars(path)
    assert (bar.underlying, bar.expiry, bar.kind) == ("BANKNIFTY", date(2024, 6, 26), "PE")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "2024-06-03T09:15:00,NIFTY24JUN22500CE,2024-06-27,22500,CE,1,1,1,1,0",
            "has no UTC offset",
        ),
        (
            "2024-06-03T09:15:00+05:30,NIFTY24JUN22500CE,2024-06-27,22500,XX,1,1,1,1,0",
            "field 'type'",
        ),
        (
            "2024-06-03T09:15:00+05:30,NIFTY24JUN22500CE,2024-06-27,abc,CE,1,1,1,1,0",
            "field 'strike'",
        ),
        (
            "2024-06-03T09:15:00+05:30,NIFTY24JUN22500CE,2024-06-27,22500,CE,1,1,1,-2,0",
            "field 'close'",
        ),
        (
            "2024-06-03T09:15:00+05:30,NIFTY24JUN22500CE,2024-06-27,22500,CE,1,1,1,1,x",
            "field 'volume'",
        ),
        ("2024-06-03T09:15:00+05:30,22500CE,2024-06-27,22500,CE,1,1,1,1,0", "field 'symbol'"),
        ("2024-06-03T09:15:00+05:30,NIFTY24JUN22500CE,June,22500,CE,1,1,1,1,0", "field 'contract'"),
        ("2024-06-03T09:15:00+05:30,NIFTY24JUN22500CE,2024-06-27,22500", "the row has 4 fields"),
    ],
)
def test_read_option_bars_when_row_broken_then_data_error_names_line_and_field(
    tmp_path: Path, row: str, message: str
) -> None:
    path = tmp_path / "opts.csv"
    good = "2024-06-03T09:14:00+05:30,NIFTY24JUN22500CE,2024-06-27,22500,CE,1,1,1,1,0\n"
    path.write_text(HEADER + good + row + "\n", encoding="utf-8")
    with pytest.raises(DataError) as e:
        read_option_bars(path)
    assert str(e.value).startswith(f"{path}:3: ")
    assert message in str(e.value)


def test_read_option_bars_when_header_lacks_columns_then_refused(tmp_path: Path) -> None:
    path = tmp_path / "opts.csv"
    path.write_text("ts,open,high,low,close,volume\n", encoding="utf-8")
    with pytest.raises(DataError, match=r":1: header lacks symbol, contract, strike, type"):
        read_option_bars(path)
    with pytest.raises(DataError, match="cannot read the file"):
        read_option_bars(tmp_path / "absent.csv")
