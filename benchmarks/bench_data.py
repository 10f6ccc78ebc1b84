"""Data path speed on the real NIFTY 1m 2024 file: ticks to bars, JSONL loading, resampling.

Targets: at least 250,000 ticks/s through the 1-minute bar builder on one core; loading
the 58,127 bars of nifty_1m_2024 from JSONL in under 0.5 s. Run with
``python -m pytest benchmarks/bench_data.py --benchmark-only``; the ticks/s figure is in
each result's ``extra_info``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from engine.data.bars import BarBuilder
from engine.data.csv_import import read_bars
from engine.data.resample import resample
from engine.data.series import Series, open_series
from engine.data.session_grid import SessionGrid
from engine.data.storage import BarStore
from engine.data.validate import validate_bars
from engine.model import NANOS, Bar, Tick, Timeframe


@pytest.fixture(scope="module")
def nifty(market_dir: Path) -> Series:
    _, [series] = open_series(market_dir / "nifty_1m_2024.csv")
    return series


@pytest.fixture(scope="module")
def ticks(nifty: Series) -> list[Tick]:
    """Four ticks per real 1m bar (O, H, L, C) over the first 100 sessions: 150,000 ticks."""
    days = sorted({b.trading_date for b in nifty.bars})[:100]
    last = days[-1]
    out = []
    for bar in nifty.bars:
        if bar.trading_date > last:
            break
        for i, price in enumerate((bar.open, bar.high, bar.low, bar.close)):
            t = bar.ts_event + (5 + 15 * i) * NANOS
            out.append(Tick("NIFTY", price, ts_init=t + 30_000_000, ts_exchange=t, volume=1))
    return out


def _build(grid: SessionGrid, ticks: list[Tick]) -> list[Bar]:
    out: list[Bar] = []
    builder = BarBuilder("NIFTY", grid, out.append)
    on_tick = builder.on_tick
    for tick in ticks:
        on_tick(tick)
    builder.flush()
    return out


def test_ticks_to_1m_bars(benchmark: BenchmarkFixture, nifty: Series, ticks: list[Tick]) -> None:
    bars = benchmark(_build, nifty.grid, ticks)
    assert len(bars) == len(ticks) // 4
    benchmark.extra_info["ticks"] = len(ticks)
    benchmark.extra_info["ticks_per_s"] = round(len(ticks) / benchmark.stats.stats.mean)


def _update_raw(grid: SessionGrid, raw: list[tuple[int, float]]) -> int:
    out: list[Bar] = []
    builder = BarBuilder("NIFTY", grid, out.append)
    update = builder.update
    for ts, price in raw:
        update(ts, price)
    builder.flush()
    return len(out)


def test_raw_updates_to_1m_bars(
    benchmark: BenchmarkFixture, nifty: Series, ticks: list[Tick]
) -> None:
    """The same stream through ``update(ts, price)``: the floor without Tick objects."""
    raw = [(t.ts_event, t.ltp) for t in ticks]
    assert benchmark(_update_raw, nifty.grid, raw) == len(ticks) // 4
    benchmark.extra_info["ticks_per_s"] = round(len(raw) / benchmark.stats.stats.mean)


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory, market_dir: Path) -> BarStore:
    """All 58,127 bars of the file (the 167 after-close ones too) in a JSONL store."""
    store = BarStore(tmp_path_factory.mktemp("store"))
    bars = read_bars(market_dir / "nifty_1m_2024.csv").bars["NIFTY"]
    assert store.append(bars).written == 58_127
    return store


def test_load_58127_bars_from_jsonl(benchmark: BenchmarkFixture, stored: BarStore) -> None:
    read = benchmark(stored.load, "NIFTY", Timeframe.M1)
    assert len(read.items) == 58_127 and not read.warnings


def test_resample_1m_to_1h(benchmark: BenchmarkFixture, nifty: Series) -> None:
    result = benchmark(resample, nifty.bars, Timeframe.H1, nifty.grid)
    assert len(result.bars) == 1_082


def test_resample_1m_to_daily(benchmark: BenchmarkFixture, nifty: Series) -> None:
    assert len(benchmark(resample, nifty.bars, Timeframe.D1, nifty.grid).bars) == 156


def test_read_csv_58127_rows(benchmark: BenchmarkFixture, market_dir: Path) -> None:
    f = benchmark(read_bars, market_dir / "nifty_1m_2024.csv")
    assert len(f.bars["NIFTY"]) == 58_127


def test_validate_58127_bars(benchmark: BenchmarkFixture, nifty: Series) -> None:
    report = benchmark(validate_bars, nifty.read, nifty.grid)
    assert report.rejected_total == 167
