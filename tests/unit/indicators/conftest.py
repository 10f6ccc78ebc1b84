"""Real market series for the indicator tests, read once per session.

A small local reader (csv + numpy) on purpose: the indicator tests must not depend on the
project's data import. Intraday files are resampled here to session-aligned buckets on the
IST wall clock: 1h = 09:15-10:15, 10:15-11:15, ..., 15:15-close; 5m = 09:15, 09:20, ...
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

_SESSION_OPEN_MINUTE = 9 * 60 + 15  # 09:15 IST


@dataclass(frozen=True)
class Ohlcv:
    """One real series: bar labels (ts or date) and float64 OHLCV arrays."""

    name: str
    labels: list[str]
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def bars(self) -> list[tuple[float, float, float, float, float]]:
        """(open, high, low, close, volume) per bar, as Python floats (the streaming input)."""
        cols = (self.open, self.high, self.low, self.close, self.volume)
        return list(zip(*(c.tolist() for c in cols), strict=True))

    def head(self, count: int, name: str) -> Ohlcv:
        return Ohlcv(
            name,
            self.labels[:count],
            self.open[:count],
            self.high[:count],
            self.low[:count],
            self.close[:count],
            self.volume[:count],
        )


def read_ohlcv(path: Path) -> Ohlcv:
    """The file's first column as labels and its OHLCV columns as float64 arrays."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    label = "date" if "date" in rows[0] else "ts"

    def column(key: str) -> np.ndarray:
        return np.array([float(row[key]) for row in rows], dtype=np.float64)

    return Ohlcv(
        path.stem,
        [row[label] for row in rows],
        column("open"),
        column("high"),
        column("low"),
        column("close"),
        column("volume"),
    )


def resample_session(bars: Ohlcv, minutes: int) -> Ohlcv:
    """Bucket 1m bars by IST date and (minute of day - 09:15) // minutes; first/max/min/last/sum.

    The timestamps carry +05:30, so their wall-clock digits are IST already.
    """
    keys = np.array(
        [
            int(ts[:10].replace("-", "")) * 10_000
            + (int(ts[11:13]) * 60 + int(ts[14:16]) - _SESSION_OPEN_MINUTE) // minutes
            for ts in bars.labels
        ]
    )
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)] - 1
    return Ohlcv(
        f"{bars.name}_{minutes}m",
        [bars.labels[i] for i in starts],
        bars.open[starts],
        np.maximum.reduceat(bars.high, starts),
        np.minimum.reduceat(bars.low, starts),
        bars.close[ends],
        np.add.reduceat(bars.volume, starts),
    )


def option_volume_series(path: Path) -> list[np.ndarray]:
    """Real traded volumes: one series per option contract of the options file, in time order."""
    series: dict[str, list[float]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            series.setdefault(row["symbol"], []).append(float(row["volume"]))
    return [np.array(values) for _, values in sorted(series.items())]


@pytest.fixture(scope="session")
def read_market(market_dir: Path) -> Callable[[str], Ohlcv]:
    cache: dict[str, Ohlcv] = {}

    def read(name: str) -> Ohlcv:
        if name not in cache:
            cache[name] = read_ohlcv(market_dir / name)
        return cache[name]

    return read


@pytest.fixture(scope="session")
def nifty_daily(read_market: Callable[[str], Ohlcv]) -> Ohlcv:
    return read_market("nifty_daily_2005_2026.csv")


@pytest.fixture(scope="session")
def nifty_1m(read_market: Callable[[str], Ohlcv]) -> Ohlcv:
    return read_market("nifty_1m_2024.csv")


@pytest.fixture(scope="session")
def nifty_1h(nifty_1m: Ohlcv) -> Ohlcv:
    return resample_session(nifty_1m, 60)


@pytest.fixture(scope="session")
def nifty_5m(nifty_1m: Ohlcv) -> Ohlcv:
    return resample_session(nifty_1m, 5)


@pytest.fixture(scope="session")
def option_volumes(market_dir: Path) -> list[np.ndarray]:
    return option_volume_series(market_dir / "nifty_options_1m_2023-06-05.csv")


@pytest.fixture(scope="session", params=["daily", "1h", "5m"])
def real_series(request: pytest.FixtureRequest) -> Ohlcv:
    """Each real series the TA-Lib comparison runs on."""
    fixture = {"daily": "nifty_daily", "1h": "nifty_1h", "5m": "nifty_5m"}[request.param]
    return request.getfixturevalue(fixture)  # type: ignore[no-any-return]
