"""Reading bar files: the project's layouts, broker exports, and errors that name the cell."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from engine.data.csv_import import BarFile, infer_timeframe, read_bars, symbol_from_name
from engine.errors import DataError
from engine.model import NANOS, DataIssue, Timeframe, to_ns
from engine.timeutil import IST

MarketBars = Callable[[str], BarFile]

T0915 = to_ns(datetime(2024, 1, 1, 9, 15, tzinfo=IST))


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_read_when_project_1m_file_then_every_row_and_timeframe_inferred(
    market_bars: MarketBars,
) -> None:
    f = market_bars("nifty_1m_2024.csv")
    (bars,) = f.bars.values()
    assert (len(bars), f.timeframe, f.timeframe_inferred) == (58127, Timeframe.M1, True)
    first = bars[0]
    assert (first.symbol, first.ts_event, first.open, first.high, first.low, first.close) == (
        "NIFTY",
        T0915,
        21727.75,
        21737.35,
        21701.8,
        21712.0,
    )


def test_read_when_daily_file_then_daily_bars_labelled_at_ist_midnight(
    market_bars: MarketBars,
) -> None:
    f = market_bars("nifty_daily_2005_2026.csv")
    bar = f.all_bars[0]
    assert f.timeframe is Timeframe.D1 and len(f.all_bars) == 5189
    assert bar.start_ist.isoformat() == "2005-04-01T00:00:00+05:30"


def test_read_when_option_file_then_one_series_per_symbol(market_bars: MarketBars) -> None:
    f = market_bars("nifty_options_1m_2023-06-05.csv")
    assert len(f.bars) == 95 and sum(len(b) for b in f.bars.values()) == 5587
    assert f.bars["NIFTY23JUN17000PE"][0].volume == 1300


def test_read_when_symbol_given_for_option_file_then_other_symbols_skipped(
    market_dir: Path,
) -> None:
    f = read_bars(market_dir / "nifty_options_1m_2023-06-05.csv", symbol="nifty23jun18500ce")
    assert list(f.bars) == ["NIFTY23JUN18500CE"]
    assert f.skipped_other_symbols == 5587 - len(f.bars["NIFTY23JUN18500CE"])


@pytest.mark.parametrize(
    ("header", "stamp"),
    [
        ("timestamp,open,high,low,close,volume", "2024-01-01T09:15:00+05:30"),  # Angel One
        ("date,open,high,low,close,volume,oi", "2024-01-01 09:15:00+05:30"),  # Zerodha Kite
        ("Date,Open,High,Low,Close,Volume", "2024-01-01T03:45:00Z"),
        ("ts,open,high,low,close", "1704080700"),  # epoch seconds, no volume column
        ("ts,open,high,low,close,volume", "1704080700000"),  # epoch milliseconds
    ],
    ids=["angel-one", "kite", "utc-z", "epoch-s", "epoch-ms"],
)
def test_read_when_broker_layouts_then_same_bar(tmp_path: Path, header: str, stamp: str) -> None:
    extra = ",7" if header.endswith("oi") else ""
    volume = ",150" if "volume" in header.lower() else ""
    path = write(tmp_path, "x.csv", f"{header}\n{stamp},10,12,9,11{volume}{extra}\n")
    bar = read_bars(path, symbol="NIFTY", timeframe=Timeframe.M1).all_bars[0]
    assert (bar.ts_event, bar.open, bar.high, bar.low, bar.close) == (T0915, 10, 12, 9, 11)
    assert bar.volume == (150 if volume else 0) and bar.oi == (7 if extra else None)


def test_read_when_separate_date_and_time_columns_then_combined(tmp_path: Path) -> None:
    path = write(
        tmp_path, "x.csv", "date,time,open,high,low,close\n2024-01-01,09:15:00+05:30,10,12,9,11\n"
    )
    assert read_bars(path, timeframe=Timeframe.M1).all_bars[0].ts_event == T0915


def test_read_when_angel_one_json_response_then_candles_read(tmp_path: Path) -> None:
    doc = {
        "status": True,
        "message": "SUCCESS",
        "errorcode": "",
        "data": [
            ["2024-01-01T09:15:00+05:30", 10, 12, 9, 11, 150],
            ["2024-01-01T09:16:00+05:30", 11, 13, 10, 12, 160],
        ],
    }
    path = write(tmp_path, "nifty.json", json.dumps(doc))
    f = read_bars(path, symbol="NIFTY")
    assert f.timeframe is Timeframe.M1 and f.layout == "Angel One getCandleData JSON"
    assert [(b.ts_event, b.close, b.volume) for b in f.all_bars] == [
        (T0915, 11, 150),
        (T0915 + 60 * NANOS, 12, 160),
    ]


def test_read_when_json_candle_broken_then_error_names_its_position(tmp_path: Path) -> None:
    doc = {
        "data": [
            ["2024-01-01T09:15:00+05:30", 10, 12, 9, 11, 150],
            ["2024-01-01T09:16:00+05:30", 11, "x", 10, 12, 160],
        ]
    }
    path = write(tmp_path, "nifty.json", json.dumps(doc))
    with pytest.raises(DataError, match=r"nifty.json:2: field 'high': 'x' is not a number$"):
        read_bars(path, timeframe=Timeframe.M1)


# --------------------------------------------------------------------- time zones
def test_read_when_naive_times_and_no_zone_then_error_says_to_name_it(tmp_path: Path) -> None:
    path = write(
        tmp_path, "kite.csv", "date,open,high,low,close,volume\n2024-01-01 09:15:00,10,12,9,11,0\n"
    )
    with pytest.raises(DataError) as info:
        read_bars(path)
    assert str(info.value) == str(path) + (
        ":2: field 'date': '2024-01-01 09:15:00' has no UTC offset; name the zone the "
        "file is written in (e.g. --tz Asia/Kolkata); it is never guessed"
    )


def test_read_when_naive_times_and_zone_given_then_read_in_that_zone(tmp_path: Path) -> None:
    path = write(
        tmp_path, "kite.csv", "date,open,high,low,close,volume\n2024-01-01 09:15:00,10,12,9,11,0\n"
    )
    assert read_bars(path, tz=IST, timeframe=Timeframe.M1).all_bars[0].ts_event == T0915


# --------------------------------------------------------------------- corrupt rows
BAD = (
    "ts,open,high,low,close,volume\n"
    "2024-01-01T09:15:00+05:30,10,12,9,11,0\n"
    "2024-01-01T09:16:00+05:30,10,abc,9,11,0\n"
    "2024-01-01T09:17:00+05:30,10,12,9,nan,0\n"
    "2024-01-01T09:18:00+05:30,10,12,9\n"
    "2024-01-01T25:19:00+05:30,10,12,9,11,0\n"
    "2024-01-01T09:20:00+05:30,10,12,9,11,1.5\n"
    "2024-01-01T09:21:00+05:30,10,12,,11,0\n"
    "2024-01-01T09:22:00+05:30,10,12,9,11,0\n"
)


def test_read_when_row_corrupt_then_data_error_names_file_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, "nifty.csv", BAD)
    with pytest.raises(DataError) as info:
        read_bars(path)
    assert str(info.value) == f"{path}:3: field 'high': 'abc' is not a number"
    assert (info.value.file, info.value.line) == (str(path), 3)


def test_read_when_lenient_then_each_bad_row_counted_with_its_reason(tmp_path: Path) -> None:
    path = write(tmp_path, "nifty.csv", BAD)
    f = read_bars(path, lenient=True, timeframe=Timeframe.M1)
    assert [b.ts_event for b in f.all_bars] == [T0915, T0915 + 7 * 60 * NANOS]
    assert f.rejected == {DataIssue.BAD_ROW: 6}
    assert [p.removeprefix(str(path)) for p in f.problems] == [
        ":3: field 'high': 'abc' is not a number",
        ":4: field 'close': 'nan' is not a finite number",
        ":5: field 'close': the row has 4 fields; the header has 6",
        ":6: field 'ts': '2024-01-01T25:19:00+05:30' is not an ISO 8601 date or time",
        ":7: field 'volume': '1.5' is not a whole number",
        ":8: field 'low' is empty; a number was expected",
    ]


def test_read_when_header_lacks_columns_then_data_error_on_line_1(tmp_path: Path) -> None:
    path = write(tmp_path, "x.csv", "when,open,high,close\n")
    with pytest.raises(
        DataError,
        match=r"x.csv:1: header .* lacks a time column .* and "
        r"price columns low$",
    ):
        read_bars(path)


def test_read_when_file_missing_or_empty_then_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read the file"):
        read_bars(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="the file is empty"):
        read_bars(write(tmp_path, "empty.csv", ""))


# --------------------------------------------------------------------- timeframe and names
def test_infer_timeframe_when_spacing_common_then_that_timeframe() -> None:
    ts = [T0915 + i * 900 * NANOS for i in range(5)] + [T0915 + 86_400 * NANOS]
    assert infer_timeframe(ts) is Timeframe.M15


def test_infer_timeframe_when_spacing_unknown_then_asks_for_tf() -> None:
    with pytest.raises(DataError, match=r"most common spacing: 120 s\); pass --tf"):
        infer_timeframe([T0915 + i * 120 * NANOS for i in range(4)])


@pytest.mark.parametrize(
    ("name", "symbol"),
    [
        ("nifty_1m_2024.csv", "NIFTY"),
        ("india_vix_daily_2012_2026.csv", "INDIA_VIX"),
        ("banknifty_15m_2018_2023.csv", "BANKNIFTY"),
        ("export.csv", "EXPORT"),
    ],
)
def test_symbol_from_name_when_project_file_names_then_symbol(name: str, symbol: str) -> None:
    assert symbol_from_name(Path(name)).upper() == symbol
