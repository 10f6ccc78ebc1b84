"""Calendar speed: the per-bar session lookup, loading the shipped files, deriving from data."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

from engine.data.calendar import SHIPPED_DIR, Calendar
from engine.timeutil import IST

MARKET = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "market"


def test_session_lookup(benchmark) -> None:
    cal = Calendar.default()
    d = date(2025, 5, 6)
    assert benchmark(cal.session, d) is not None


def test_session_contains(benchmark) -> None:
    s = Calendar.default().session(date(2024, 3, 2))
    ts = datetime.combine(s.date, time(11, 45), tzinfo=IST)
    assert benchmark(s.contains, ts)


def test_next_expiry(benchmark) -> None:
    cal = Calendar.default()
    assert benchmark(cal.next_expiry, "NIFTY", date(2025, 9, 24)).date == date(2025, 9, 30)


def test_load_shipped_files(benchmark) -> None:
    cal = benchmark(Calendar.from_dir, SHIPPED_DIR)
    assert cal.last_date == date(2026, 12, 31)


def test_derive_from_2009_file(benchmark) -> None:
    with (MARKET / "nifty_1m_2009.csv").open(encoding="utf-8") as f:
        next(f)
        ts = [datetime.fromisoformat(line[:25]) for line in f]
    cal = benchmark(Calendar.derive_from_timestamps, ts)
    assert cal.first_date == date(2009, 1, 1)
