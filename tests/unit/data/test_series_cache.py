"""Validated series remembered in the cache: the same bars as reading the file, or a miss.

The file is the first four sessions of the real nifty_1m_2024.csv (2024-01-01 .. 01-04,
1,500 bars), copied into the test's folder so a test may change it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import engine.data.series as series_module
from engine import cache
from engine.data.series import Series, load_validated_series, open_series
from engine.data.validate import ValidationConfig

BARS = 4 * 375


@pytest.fixture
def cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("ENGINE_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def data_file(tmp_path: Path, market_dir: Path) -> Path:
    with (market_dir / "nifty_1m_2024.csv").open(encoding="utf-8") as f:
        lines = [next(f) for _ in range(BARS + 1)]
    path = tmp_path / "nifty_1m_head.csv"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def entry_of(folder: Path) -> Path:
    (entry,) = sorted((folder / "series").glob("*.bin"))
    return entry


def same(a: list[Series], b: list[Series]) -> None:
    assert [(s.symbol, s.timeframe) for s in a] == [(s.symbol, s.timeframe) for s in b]
    for x, y in zip(a, b, strict=True):
        assert x.bars == y.bars  # bar for bar: every field of every bar
        assert x.validation.rejected == y.validation.rejected
        assert x.validation.flagged == y.validation.flagged
        assert x.choice.derived == y.choice.derived and x.choice.note == y.choice.note
        assert x.grid.segment == y.grid.segment


def file_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kw: object) -> None:
        raise AssertionError("the file was parsed again")

    monkeypatch.setattr(series_module, "open_series", refuse)


def test_load_when_second_time_then_same_bars_without_reading_the_file(
    cache_folder: Path, data_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_validated_series(data_file)
    assert len(first[0].bars) == BARS
    entry_of(cache_folder)
    file_not_read(monkeypatch)
    second = load_validated_series(data_file)
    same(first, second)


def test_load_when_cached_then_equal_to_a_fresh_read_and_validation(
    cache_folder: Path, data_file: Path
) -> None:
    load_validated_series(data_file)
    _, fresh = open_series(data_file)
    same(fresh, load_validated_series(data_file))


def test_load_when_rejected_bars_then_their_counts_survive_the_cache(
    cache_folder: Path, tmp_path: Path, market_dir: Path
) -> None:
    """2024-01-20 ran on after the close: 167 bars outside the session are rejected."""
    with (market_dir / "nifty_1m_2024.csv").open(encoding="utf-8") as f:
        header = next(f)
        rows = [line for line in f if line.startswith("2024-01-20")]
    path = tmp_path / "saturday.csv"
    path.write_text(header + "".join(rows), encoding="utf-8")
    first = load_validated_series(path)
    second = load_validated_series(path)
    assert sum(first[0].validation.rejected.values()) == 167
    same(first, second)


def test_load_when_file_changed_then_cache_misses(cache_folder: Path, data_file: Path) -> None:
    load_validated_series(data_file)
    lines = data_file.read_text(encoding="utf-8").splitlines(keepends=True)
    data_file.write_text("".join(lines[:-375]), encoding="utf-8")  # one session fewer
    assert len(load_validated_series(data_file)[0].bars) == BARS - 375
    assert len(list((cache_folder / "series").glob("*.bin"))) == 2


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: b"",
        lambda raw: b"\x00" * 64,
        lambda raw: b"garbage that is not an entry at all",
        lambda raw: raw[: len(raw) // 2],  # cut in the middle of the columns
        lambda raw: raw[:-8],  # the last volume missing
    ],
    ids=["empty", "zeros", "garbage", "half", "one-value-short"],
)
def test_load_when_entry_corrupt_then_file_read_again_and_entry_rewritten(
    cache_folder: Path, data_file: Path, damage: object
) -> None:
    first = load_validated_series(data_file)
    entry = entry_of(cache_folder)
    good = entry.read_bytes()
    entry.write_bytes(damage(good))  # type: ignore[operator]
    same(first, load_validated_series(data_file))
    assert entry.read_bytes() == good


def test_load_when_entry_lost_its_columns_then_file_read_again(
    cache_folder: Path, data_file: Path
) -> None:
    """An entry whose header survived but whose columns did not (written whole, so its
    checksum holds) must not pass for a file without bars."""
    first = load_validated_series(data_file)
    key = entry_of(cache_folder).stem
    data = cache.read_entry("series", key)
    assert data is not None
    cache.write_entry("series", key, data[: len(data) - 6 * 8 * BARS])  # six columns gone
    assert len(load_validated_series(data_file)[0].bars) == BARS
    same(first, load_validated_series(data_file))


def test_load_when_entry_damaged_inside_a_column_then_not_trusted(
    cache_folder: Path, data_file: Path
) -> None:
    """A flipped bit in a price column must not change a price the engine sees."""
    first = load_validated_series(data_file)
    entry = entry_of(cache_folder)
    raw = bytearray(entry.read_bytes())
    close_column = len(raw) - 2 * 8 * BARS  # the last columns: close, then volume
    raw[close_column + 8 * 10 + 6] ^= 0x01  # the 11th close, a bit of its exponent
    entry.write_bytes(bytes(raw))
    same(first, load_validated_series(data_file))


def test_load_when_validation_config_given_then_cache_not_used(
    cache_folder: Path, data_file: Path
) -> None:
    load_validated_series(data_file, config=ValidationConfig())
    assert not (cache_folder / "series").exists()


def test_load_when_cache_off_then_nothing_written(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data_file: Path
) -> None:
    monkeypatch.setenv("ENGINE_CACHE_DIR", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert len(load_validated_series(data_file)[0].bars) == BARS
    assert not (tmp_path / "xdg").exists()


def test_load_when_segment_differs_then_separate_entries(
    cache_folder: Path, data_file: Path
) -> None:
    cm = load_validated_series(data_file, segment="CM")
    fo = load_validated_series(data_file, segment="FO")
    assert cm[0].grid.segment == "CM" and fo[0].grid.segment == "FO"
    assert len(list((cache_folder / "series").glob("*.bin"))) == 2
