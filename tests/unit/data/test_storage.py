"""JSONL bar and tick stores: round trips, crash safety, corrupt lines, the ring buffer."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from engine.data.bounds import SymbolError
from engine.data.storage import AppendReport, BarStore, RingBuffer, TickStore
from engine.errors import DataError
from engine.model import NANOS, Bar, Tick, Timeframe, to_ns
from engine.timeutil import IST

T0 = to_ns(datetime(2024, 1, 2, 9, 15, tzinfo=IST))


def bars(n: int, start: int = T0, tf: Timeframe = Timeframe.M1) -> list[Bar]:
    return [
        Bar("NIFTY", tf, start + i * tf.nanos, 100.0 + i, 101.25 + i, 99.5 + i, 100.75 + i, i)
        for i in range(n)
    ]


@pytest.fixture
def store(tmp_path: Path) -> BarStore:
    return BarStore(tmp_path)


def test_store_when_bars_appended_then_loaded_back_equal(store: BarStore) -> None:
    data = bars(5)
    data.append(
        Bar(
            "NIFTY",
            Timeframe.M1,
            T0 + 5 * 60 * NANOS,
            1.5,
            2.0,
            1.0,
            1.25,
            3,
            oi=12_000,
            filled=True,
        )
    )
    assert store.append(data).written == 6
    read = store.load("NIFTY", Timeframe.M1)
    assert read.items == data and read.warnings == []
    path = store.bar_path("NIFTY", Timeframe.M1)
    assert path == store.root / "timeframes" / "NIFTY" / "1m.jsonl"
    lines = path.read_text().splitlines()
    assert lines[0] == '{"schema":"engine.bars/1","symbol":"NIFTY","timeframe":"1m"}'
    assert lines[1] == '{"t":1704167100,"o":100.0,"h":101.25,"l":99.5,"c":100.75,"v":0}'
    assert lines[-1].endswith(',"oi":12000,"f":1}')


def test_store_when_same_bars_appended_twice_then_stored_once(store: BarStore) -> None:
    store.append(bars(3))
    report = store.append(bars(5))
    assert (report.written, report.skipped) == (2, 3)
    assert len(store.load("NIFTY", Timeframe.M1).items) == 5
    assert store.last_ts("NIFTY", Timeframe.M1) == T0 + 4 * 60 * NANOS


def test_store_when_series_listed_then_symbol_and_timeframe_pairs(store: BarStore) -> None:
    store.append(bars(1) + bars(1, tf=Timeframe.H1))
    assert store.series() == [("NIFTY", Timeframe.H1), ("NIFTY", Timeframe.M1)]


def test_store_when_no_file_then_empty(store: BarStore) -> None:
    assert store.load("NIFTY", Timeframe.D1).items == []
    assert store.last_ts("NIFTY", Timeframe.D1) is None


@pytest.mark.parametrize(
    "symbol", ["../etc", "../../etc", "a/b", "", ".hidden", "NIFTY\n", '"NIFTY"', "x" * 65]
)
def test_store_when_symbol_cannot_name_a_file_then_refused_before_writing(
    store: BarStore, symbol: str
) -> None:
    with pytest.raises(SymbolError, match="cannot name a store file"):
        store.bar_path(symbol, Timeframe.M1)
    bad = Bar(symbol, Timeframe.M1, T0, 1.0, 1.0, 1.0, 1.0)
    with pytest.raises(SymbolError):
        store.append([*bars(2), bad])  # the good series is not written either
    assert not (store.root / "timeframes").exists()


# --------------------------------------------------------------------- crash safety
def test_store_when_file_truncated_mid_line_then_complete_lines_back_and_warning(
    store: BarStore,
) -> None:
    store.append(bars(10))
    path = store.bar_path("NIFTY", Timeframe.M1)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 20])  # a crash in the middle of the last record
    read = store.load("NIFTY", Timeframe.M1)
    assert read.items == bars(9)
    assert read.torn_line == 11
    assert len(read.warnings) == 1 and f"{path}:11: torn last line dropped" in read.warnings[0]


def test_store_when_appending_after_torn_tail_then_tail_removed_and_new_bars_follow(
    store: BarStore,
) -> None:
    store.append(bars(3))
    path = store.bar_path("NIFTY", Timeframe.M1)
    with path.open("ab") as f:
        f.write(b'{"t":17041672')  # the torn record of the fourth bar
    store.append(bars(5)[3:])
    read = store.load("NIFTY", Timeframe.M1)
    assert read.items == bars(5) and read.warnings == []


def test_store_when_last_line_complete_but_newline_missing_then_kept(store: BarStore) -> None:
    store.append(bars(3))
    path = store.bar_path("NIFTY", Timeframe.M1)
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    read = store.load("NIFTY", Timeframe.M1)
    assert read.items == bars(3) and "no newline" in read.warnings[0]
    store.append(bars(4)[3:])
    assert store.load("NIFTY", Timeframe.M1).items == bars(4)


def test_store_when_only_a_torn_header_then_empty_and_next_append_writes_header(
    store: BarStore,
) -> None:
    path = store.bar_path("NIFTY", Timeframe.M1)
    path.parent.mkdir(parents=True)
    path.write_bytes(b'{"schema":"engine.ba')
    assert store.load("NIFTY", Timeframe.M1).items == []
    store.append(bars(2))
    assert path.read_text().startswith('{"schema":"engine.bars/1"')
    assert store.load("NIFTY", Timeframe.M1).items == bars(2)


def _corrupt_middle(store: BarStore) -> Path:
    store.append(bars(5))
    path = store.bar_path("NIFTY", Timeframe.M1)
    lines = path.read_text().splitlines(keepends=True)
    lines[3] = '{"t":1704167220,"o":102.0,"h":GARBAGE}\n'
    path.write_text("".join(lines))
    return path


def test_store_when_corrupt_line_in_middle_then_data_error_names_file_and_line(
    store: BarStore,
) -> None:
    path = _corrupt_middle(store)
    with pytest.raises(DataError) as info:
        store.load("NIFTY", Timeframe.M1)
    assert (info.value.file, info.value.line) == (str(path), 4)
    assert str(info.value).startswith(f"{path}:4: corrupt record in the middle of the file")


def test_store_when_corrupt_line_in_middle_and_skip_then_others_back_with_warning(
    store: BarStore,
) -> None:
    path = _corrupt_middle(store)
    read = store.load("NIFTY", Timeframe.M1, skip_corrupt=True)
    expected = bars(5)
    assert read.items == expected[:2] + expected[3:]
    assert read.corrupt_lines == [4] and read.warnings[0].startswith(f"{path}:4: corrupt")


def test_store_when_record_lacks_a_field_then_reported_as_corrupt(store: BarStore) -> None:
    store.append(bars(2))
    path = store.bar_path("NIFTY", Timeframe.M1)
    with path.open("a") as f:
        f.write('{"t":1704167300,"o":1.0,"h":1.0,"l":1.0,"v":0}\n')
        f.write('{"t":1704167360,"o":1.0,"h":1.0,"l":1.0,"c":1.0,"v":0}\n')
    with pytest.raises(DataError, match=r":4: corrupt record .*field 'c' is missing"):
        store.load("NIFTY", Timeframe.M1)


def test_store_when_header_names_another_series_then_data_error(store: BarStore) -> None:
    store.append(bars(1))
    src = store.bar_path("NIFTY", Timeframe.M1)
    dst = store.bar_path("BANKNIFTY", Timeframe.M1)
    dst.parent.mkdir(parents=True)
    dst.write_bytes(src.read_bytes())
    with pytest.raises(DataError, match="the header says symbol 'NIFTY'"):
        store.load("BANKNIFTY", Timeframe.M1)


def test_store_when_price_not_finite_then_refused_before_writing(store: BarStore) -> None:
    bad = Bar("NIFTY", Timeframe.M1, T0, float("nan"), 1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="non-finite price"):
        store.append([bad])
    assert not store.bar_path("NIFTY", Timeframe.M1).exists()


def test_store_when_fsync_on_then_bars_written_the_same(tmp_path: Path) -> None:
    store = BarStore(tmp_path, fsync=True)
    store.append(bars(2))
    assert store.load("NIFTY", Timeframe.M1).items == bars(2)


# --------------------------------------------------------------------- ticks
def test_tick_store_when_ticks_appended_then_one_file_per_ist_date(tmp_path: Path) -> None:
    store = TickStore(tmp_path)
    late = to_ns(datetime(2024, 1, 2, 23, 59, tzinfo=IST))
    ticks = [
        Tick(
            "NIFTY",
            21700.5,
            ts_init=T0 + 7,
            ts_exchange=T0,
            bid=21700.0,
            ask=21701.0,
            volume=50,
            oi=1000,
        ),
        Tick("NIFTY", 21701.0, ts_init=T0 + 9),
        Tick("NIFTY", 21702.0, ts_init=late + 120 * NANOS),  # 00:01 IST on 01-03
    ]
    assert store.append(ticks) == 3
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == [
        "NIFTY_20240102.jsonl",
        "NIFTY_20240103.jsonl",
    ]
    assert store.load("NIFTY", date(2024, 1, 2)).items == ticks[:2]
    assert store.load("NIFTY", date(2024, 1, 3)).items == ticks[2:]


# --------------------------------------------------------------------- ring buffer
def test_ring_buffer_when_over_capacity_then_keeps_newest_and_indexes_from_end() -> None:
    ring: RingBuffer[int] = RingBuffer(3)
    for i in range(5):
        ring.append(i)
    assert (len(ring), ring[-1], ring[-3], ring[0]) == (3, 4, 2, 2)
    assert list(ring) == [2, 3, 4] and ring.to_list() == [2, 3, 4]
    with pytest.raises(IndexError):
        ring[-4]
    with pytest.raises(IndexError):
        ring[3]


def test_ring_buffer_when_partly_filled_then_only_items_present() -> None:
    ring = RingBuffer(5, [1, 2])
    assert (len(ring), ring[-1], ring[0], list(ring)) == (2, 2, 1, [1, 2])
    ring.clear()
    assert len(ring) == 0 and list(ring) == []


def test_ring_buffer_when_capacity_below_one_then_value_error() -> None:
    with pytest.raises(ValueError, match="capacity must be at least 1"):
        RingBuffer(0)


# --------------------------------------------------------------------- merge by start
def test_store_when_older_bars_after_newer_then_all_stored_in_time_order(
    store: BarStore,
) -> None:
    data = bars(10)
    assert store.append(data[5:]).written == 5
    report = store.append(data[:5])
    assert (report.written, report.skipped) == (5, 0)
    assert store.load("NIFTY", Timeframe.M1).items == data
    assert store.append(data) == AppendReport(0, 10, 0)  # a re-import stores nothing


def test_store_when_bars_in_reverse_order_then_every_bar_stored(store: BarStore) -> None:
    data = bars(6)
    assert store.append(list(reversed(data))).written == 6
    assert store.load("NIFTY", Timeframe.M1).items == data


def test_store_when_bars_interleave_stored_ones_then_merged_once_each(store: BarStore) -> None:
    data = bars(9)
    store.append(data[::2])
    report = store.append(data)
    assert (report.written, report.skipped) == (4, 5)
    lines = store.bar_path("NIFTY", Timeframe.M1).read_text().splitlines()
    assert len(lines) == 10 and lines[0].startswith('{"schema"')
    assert store.load("NIFTY", Timeframe.M1).items == data


def test_store_when_stored_bar_has_other_values_then_stored_kept_and_counted(
    store: BarStore,
) -> None:
    store.append(bars(3))
    other = Bar("NIFTY", Timeframe.M1, T0, 5.0, 6.0, 4.0, 5.5, 1)
    report = store.append([other])
    assert report == AppendReport(0, 1, 1)
    assert store.load("NIFTY", Timeframe.M1).items == bars(3)


@pytest.mark.parametrize(
    "damage",
    [
        "{}",
        '{"t":"abc"}',
        '{"t":1e400}',
        '{"t":99999999999,"o":1,"h":1,"l":1,"c":1,"v":0}',
        '{"t":1704167100,"o":NaN,"h":1,"l":1,"c":1,"v":0}',
        "[" * 5000,
        '{"t":' + "9" * 5000 + "}",
    ],
)
def test_store_when_last_line_damaged_then_append_refuses_and_load_skips(
    store: BarStore, damage: str
) -> None:
    store.append(bars(3))
    path = store.bar_path("NIFTY", Timeframe.M1)
    with path.open("a") as f:
        f.write(damage + "\n")
    before = path.read_bytes()
    with pytest.raises(DataError, match="engine data repair --root") as info:
        store.append(bars(5))
    assert info.value.line == 5 and path.read_bytes() == before  # nothing added
    read = store.load("NIFTY", Timeframe.M1, skip_corrupt=True)
    assert read.items == bars(3) and read.corrupt_lines == [5]
    with pytest.raises(DataError, match=r":5: corrupt record on the last line"):
        store.load("NIFTY", Timeframe.M1)


def test_store_when_far_future_bar_stored_last_then_later_imports_still_merge(
    store: BarStore,
) -> None:
    future = Bar("NIFTY", Timeframe.M1, to_ns(datetime(2099, 12, 1, 10, tzinfo=IST)), 1, 1, 1, 1)
    store.append([future])
    assert store.append(bars(4)).written == 4
    assert store.load("NIFTY", Timeframe.M1).items == [*bars(4), future]


def test_store_when_repaired_then_damaged_lines_set_aside_and_file_in_order(
    store: BarStore,
) -> None:
    store.append(bars(4))
    path = store.bar_path("NIFTY", Timeframe.M1)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0] + lines[3] + "{}\n" + lines[1] + lines[1] + lines[2] + lines[4])
    now = datetime(2026, 12, 1, 9, tzinfo=IST)
    dry = store.repair("NIFTY", Timeframe.M1, dry_run=True)
    assert (dry.kept, dry.set_aside, dry.duplicates, dry.reordered) == (4, 1, 1, True)
    report = store.repair("NIFTY", Timeframe.M1, now=now)
    assert report.side_file == path.with_name("1m.jsonl.damaged-20261201T033000Z")
    assert report.side_file.read_text() == "{}\n"
    assert path.read_text() == "".join(lines)
    assert not store.repair("NIFTY", Timeframe.M1).changed
    assert store.append(bars(5)).written == 1


def test_store_when_file_out_of_order_then_load_returns_sorted_with_warning(
    store: BarStore,
) -> None:
    store.append(bars(3))
    path = store.bar_path("NIFTY", Timeframe.M1)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0] + lines[3] + lines[1] + lines[2] + lines[1])
    read = store.load("NIFTY", Timeframe.M1)
    assert read.items == bars(3) and "out of time order or repeated" in read.warnings[0]


def test_store_when_header_names_another_series_then_append_refuses(store: BarStore) -> None:
    store.append(bars(1))
    src = store.bar_path("NIFTY", Timeframe.M1)
    dst = store.bar_path("BANKNIFTY", Timeframe.M1)
    dst.parent.mkdir(parents=True)
    dst.write_bytes(src.read_bytes())
    other = Bar("BANKNIFTY", Timeframe.M1, T0 + 600 * NANOS, 1.0, 1.0, 1.0, 1.0)
    with pytest.raises(DataError, match="the header says symbol 'NIFTY'"):
        store.append([other])


def test_store_when_bar_outside_bounds_then_refused_before_writing(store: BarStore) -> None:
    for bad in (
        Bar("NIFTY", Timeframe.M1, T0, 2e9, 2e9, 2e9, 2e9),
        Bar("NIFTY", Timeframe.M1, T0, 0.0, 1.0, 1.0, 1.0),
        Bar("NIFTY", Timeframe.M1, to_ns(datetime(2100, 1, 2, tzinfo=IST)), 1, 1, 1, 1),
        Bar("NIFTY", Timeframe.M1, T0, 1.0, 1.0, 1.0, 1.0, volume=-1),
    ):
        with pytest.raises(ValueError):
            store.append([bad])
    assert not store.bar_path("NIFTY", Timeframe.M1).exists()
