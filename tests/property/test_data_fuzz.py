"""Fuzzers for the data inputs: the CSV importer and the bar store's reader and writer.

Random edits of a real file's bytes and random damaged store lines give a result or the
project's own error (``DataError``/``UserInputError``), never another exception; what is
returned or stored always stays inside ``bounds``, in time order, each start once. The
example counts are bounded so the fuzzers run in a few seconds in CI; ``FUZZ_EXAMPLES=2000``
runs a longer search locally.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from engine.data.bounds import EARLIEST_NS, LATEST_NS, MAX_PRICE
from engine.data.series import open_series
from engine.data.storage import BarStore
from engine.errors import DataError
from engine.model import Bar, Timeframe

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data" / "market"
REAL = b"".join((SHARED / "nifty_1m_2024.csv").read_bytes().splitlines(keepends=True)[:40])
SETTINGS = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

PIECES = st.one_of(
    st.binary(max_size=8),
    st.sampled_from(
        [
            b"\x00",
            b"\xff\xfe",
            b"\xe9",
            b'"',
            b",",
            b"\n",
            b"\r\n",
            "²²".encode(),
            "٣".encode(),
            b"-9",
            b"1e308",
            b"nan",
            b"inf",
            b"9" * 400,
            b"0001-01-01T09:15:00+05:30",
            b"9999-12-31T09:15:00+05:30",
            b"2024-01-01T10:-9:00+05:30",
        ]
    ),
)


def _check_bars(bars: list[Bar]) -> None:
    for bar in bars:
        assert EARLIEST_NS <= bar.ts_event < LATEST_NS
        for price in (bar.open, bar.high, bar.low, bar.close):
            assert math.isfinite(price) and abs(price) <= MAX_PRICE
    starts = [b.ts_event for b in bars]
    assert starts == sorted(starts)


@SETTINGS
@given(
    edits=st.lists(st.tuples(st.integers(0, len(REAL)), st.integers(0, 6), PIECES), max_size=4),
    lenient=st.booleans(),
)
def test_csv_importer_when_real_bytes_edited_then_validated_series_or_data_error(
    tmp_path_factory, edits: list[tuple[int, int, bytes]], lenient: bool
) -> None:
    data = REAL
    for at, cut, piece in edits:
        data = data[:at] + piece + data[at + cut :]
    path = tmp_path_factory.mktemp("csv") / "nifty_1m_2024.csv"
    path.write_bytes(data)
    try:
        bar_file, all_series = open_series(path, lenient=lenient)
    except DataError as e:
        event("refused")
        assert str(e).startswith(str(path)) and "\n" not in str(e) and len(str(e)) < 500
        return
    event("read")
    for series in all_series:
        _check_bars(series.read)
        _check_bars(series.bars)
    for problem in bar_file.problems:
        assert problem.startswith(f"{path}:") and len(problem) < 500


HEADER = '{"schema":"engine.bars/1","symbol":"NIFTY","timeframe":"1m"}\n'
T0 = 1704167100  # 2024-01-02 09:15 IST
GOOD = [
    json.dumps({"t": T0 + 60 * i, "o": 1.0 + i, "h": 2.0 + i, "l": 0.5 + i, "c": 1.5 + i, "v": i})
    for i in range(6)
]
VALUE = st.one_of(
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.none(),
    st.booleans(),
    st.just(T0 - 7 * 86_400),
    st.just(99_999_999_999),
)
RECORD = st.dictionaries(st.sampled_from(["t", "o", "h", "l", "c", "v", "oi", "f"]), VALUE)
DAMAGED_LINE = st.one_of(
    RECORD.map(lambda r: json.dumps(r)),  # NaN and Infinity included
    st.text(max_size=20),
    st.sampled_from(["{}", '{"t":1e400}', "[" * 3000, '{"t":' + "9" * 5000 + "}", "null"]),
    st.sampled_from(GOOD),  # a repeated line, out of order
)


def _store_file(tmp_path_factory, lines: list[str], torn: str) -> BarStore:  # type: ignore[no-untyped-def]
    store = BarStore(tmp_path_factory.mktemp("store"))
    path = store.bar_path("NIFTY", Timeframe.M1)
    path.parent.mkdir(parents=True)
    path.write_bytes(
        (HEADER + "".join(line + "\n" for line in lines) + torn).encode("utf-8", "surrogatepass")
    )
    return store


@SETTINGS
@given(
    damage=st.lists(st.tuples(st.integers(0, 6), DAMAGED_LINE), max_size=3),
    torn=st.sampled_from(["", '{"t":17041', GOOD[0]]),
    new=st.lists(st.integers(-5, 12), max_size=8),
)
def test_store_when_lines_damaged_then_reads_refuses_or_merges_never_loses_or_doubles(
    tmp_path_factory, damage: list[tuple[int, str]], torn: str, new: list[int]
) -> None:
    lines = list(GOOD)
    for at, line in damage:
        lines.insert(at, line.replace("\n", " "))
    store = _store_file(tmp_path_factory, lines, torn)
    path = store.bar_path("NIFTY", Timeframe.M1)
    loaded = store.load("NIFTY", Timeframe.M1, skip_corrupt=True).items  # never raises
    _check_bars(loaded)
    assert len({b.ts_event for b in loaded}) == len(loaded)
    try:
        store.load("NIFTY", Timeframe.M1)
    except DataError as e:
        assert e.file == str(path) and e.line is not None
    bars = [
        Bar("NIFTY", Timeframe.M1, (T0 + 60 * i) * 10**9, 10.0 + i, 20.0 + i, 6.0 + i, 15.0 + i)
        for i in new
    ]
    before = path.read_bytes()
    if torn == GOOD[0]:  # a whole last line without its newline gets one
        expected = before + b"\n"
    else:  # a torn last line is cut off before appending
        expected = before[: len(before) - len(torn)]
    try:
        store.append(bars)
    except DataError as e:
        event("append refused")
        assert e.file == str(path) and "engine data repair" in str(e)
        assert path.read_bytes() == expected  # nothing was added
        store.repair("NIFTY", Timeframe.M1)
        store.append(bars)
    after = store.load("NIFTY", Timeframe.M1, skip_corrupt=True).items
    store.repair("NIFTY", Timeframe.M1)
    assert store.load("NIFTY", Timeframe.M1).items == after  # whole after a repair
    _check_bars(after)
    starts = [b.ts_event for b in after]
    assert len(set(starts)) == len(starts)
    assert {b.ts_event for b in bars} <= set(starts)
    assert {b.ts_event for b in loaded} <= set(starts)  # nothing readable was lost
