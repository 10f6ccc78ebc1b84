"""Parsers of user input never crash: random edits of real files and random text give a
result or the project's own error, with a location, never another exception."""

from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from engine.errors import DataError, SpecError
from engine.indicators import IndicatorSpecError, parse_indicator_spec

REPO = Path(__file__).resolve().parents[2]
POSITION = (REPO / "machines" / "position.yaml").read_text()
NOISE = st.text(alphabet=st.sampled_from(list("az_.:'\" \n-[]{}()<>=0123456789")), max_size=6)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(position=st.integers(0, len(POSITION) - 1), cut=st.integers(0, 8), insert=NOISE)
def test_machine_loader_when_real_file_edited_then_spec_or_spec_error(
    tmp_path_factory, position: int, cut: int, insert: str
) -> None:
    from engine.machines import load_machine_file

    folder = tmp_path_factory.mktemp("machines")
    for f in (REPO / "machines").glob("*.yaml"):
        shutil.copy(f, folder / f.name)
    text = POSITION[:position] + insert + POSITION[position + cut :]
    (folder / "position.yaml").write_text(text)
    lines = len(text.splitlines()) + 1
    try:
        load_machine_file(folder / "position.yaml", "machines/position.yaml")
    except SpecError as e:
        assert e.diagnostics
        for d in e.diagnostics:
            assert d.message and d.col >= 1
            if d.file == "machines/position.yaml":
                assert 1 <= d.line <= lines, d.headline()


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=30),
        st.from_regex(r"[a-z_]{1,10}\(([a-z]{1,7}, ?)?-?[0-9]{0,5}\)", fullmatch=True),
    )
)
def test_indicator_spec_parser_when_random_text_then_spec_or_located_error(text: str) -> None:
    try:
        spec = parse_indicator_spec(text)
    except IndicatorSpecError as e:
        assert e.reason and 1 <= e.column <= len(text) + 1
    else:
        assert spec.period >= 1 and parse_indicator_spec(spec.key) == spec


GOOD_TS = [f"2024-01-01T09:{m:02d}:00+05:30" for m in range(15, 45)]
BAD_TS = ["2024-13-01T09:15", "", "x", "2024-01-01 09:17:00"]
PRICE = st.one_of(
    st.sampled_from(["21700.5", "21712", "21690.05"]),
    st.sampled_from(["0", "-1", "abc", "", "1e400", "nan"]),
)
ROW = st.tuples(
    st.one_of(st.sampled_from(GOOD_TS), st.sampled_from(BAD_TS)),
    PRICE,
    PRICE,
    PRICE,
    PRICE,
    st.sampled_from(["0", "10", "-5", "1.5", ""]),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(ROW, max_size=6), lenient=st.booleans(), given_tf=st.booleans())
def test_csv_import_when_random_rows_then_bars_or_data_error_with_line(
    tmp_path_factory, rows: list[tuple[str, ...]], lenient: bool, given_tf: bool
) -> None:
    import math

    from engine.data.csv_import import read_bars
    from engine.model import Timeframe

    path = tmp_path_factory.mktemp("csv") / "nifty.csv"
    path.write_text("ts,open,high,low,close,volume\n" + "".join(",".join(r) + "\n" for r in rows))
    timeframe = Timeframe.M1 if given_tf else None
    try:
        result = read_bars(path, symbol="NIFTY", timeframe=timeframe, lenient=lenient)
    except DataError as e:
        assert e.file and str(path.name) in str(e)
    else:
        event(f"parsed {len(result.all_bars)} bars")
        # Parsing keeps only rows whose fields are well-formed; OHLC sense is validation's job.
        for bar in result.all_bars:
            assert all(math.isfinite(x) for x in (bar.open, bar.high, bar.low, bar.close))
        assert len(result.all_bars) + sum(result.rejected.values()) <= len(rows)
        for problem in result.problems:
            assert problem.startswith(f"{path}:")
