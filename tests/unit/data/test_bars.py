"""Ticks to 1-minute bars on the calendar's session boundaries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pytest

from engine.data.bars import BarBuilder, SkewStats
from engine.data.calendar import Calendar
from engine.data.csv_import import BarFile
from engine.data.session_grid import SessionGrid
from engine.data.validate import validate_bars
from engine.model import NANOS, Bar, DataIssue, Tick, TickRejected, Timeframe, to_ns
from engine.timeutil import IST

MarketBars = Callable[[str], BarFile]

MS = 1_000_000


def ist(y: int, mo: int, d: int, h: int, mi: int, s: int = 0, ms: int = 0) -> int:
    return to_ns(datetime(y, mo, d, h, mi, s, tzinfo=IST)) + ms * MS


@pytest.fixture(scope="module")
def grid_cm() -> SessionGrid:
    return SessionGrid(Calendar.default(), "CM")


def make(grid: SessionGrid, **kw: object) -> tuple[BarBuilder, list[Bar]]:
    out: list[Bar] = []
    return BarBuilder("NIFTY", grid, out.append, **kw), out  # type: ignore[arg-type]


def test_builder_when_ticks_in_one_minute_then_one_bar_with_ohlcv(grid_cm: SessionGrid) -> None:
    b, out = make(grid_cm)
    for sec, price, qty in [(0, 100.0, 1), (10, 103.0, 2), (20, 99.0, 3), (59, 101.0, 4)]:
        b.update(ist(2024, 1, 2, 9, 15, sec), price, qty)
    assert out == []  # the minute is not over yet
    b.update(ist(2024, 1, 2, 9, 16), 102.0)
    assert [(x.ts_event, x.open, x.high, x.low, x.close, x.volume) for x in out] == [
        (ist(2024, 1, 2, 9, 15), 100.0, 103.0, 99.0, 101.0, 10)
    ]
    assert out[0].ts_init == ist(2024, 1, 2, 9, 16)  # closed by the first tick past its end


def test_builder_when_tick_one_ns_before_boundary_then_same_bar(grid_cm: SessionGrid) -> None:
    b, out = make(grid_cm)
    b.update(ist(2024, 1, 2, 9, 15), 100.0)
    b.update(ist(2024, 1, 2, 9, 16) - 1, 105.0)
    b.flush()
    assert len(out) == 1 and out[0].close == 105.0


def test_builder_when_clock_passes_quiet_minute_end_then_bar_closes_on_time(
    grid_cm: SessionGrid,
) -> None:
    b, out = make(grid_cm)
    b.update(ist(2024, 1, 2, 9, 15, 30), 100.0)
    b.on_clock(ist(2024, 1, 2, 9, 15, 59, 999))
    assert out == []
    b.on_clock(ist(2024, 1, 2, 9, 16, 0, 250))
    assert len(out) == 1 and out[0].ts_init == ist(2024, 1, 2, 9, 16, 0, 250)
    assert not b.has_open_bar


def test_builder_when_grace_set_then_clock_waits_and_late_exchange_tick_still_counts(
    grid_cm: SessionGrid,
) -> None:
    b, out = make(grid_cm, grace_ns=500 * MS)
    b.update(ist(2024, 1, 2, 9, 15, 30), 100.0)
    b.on_clock(ist(2024, 1, 2, 9, 16, 0, 300))
    b.update(ist(2024, 1, 2, 9, 15, 59, 900), 104.0)  # stamped 09:15:59.9, arrived late
    b.on_clock(ist(2024, 1, 2, 9, 16, 0, 500))
    assert [(x.high, x.close) for x in out] == [(104.0, 104.0)]


def test_builder_when_tick_for_closed_minute_then_rejected_as_late(grid_cm: SessionGrid) -> None:
    events: list[object] = []
    b, out = make(grid_cm, on_event=events.append)
    b.update(ist(2024, 1, 2, 9, 15, 30), 100.0)
    b.on_clock(ist(2024, 1, 2, 9, 16, 1))
    b.update(ist(2024, 1, 2, 9, 15, 59), 120.0)
    assert out[0].high == 100.0
    assert b.rejected == {DataIssue.LATE_TICK: 1}
    assert isinstance(events[0], TickRejected) and events[0].reason is DataIssue.LATE_TICK


@pytest.mark.parametrize(
    ("h", "m", "s"), [(9, 14, 59), (15, 30, 0), (18, 0, 0)], ids=["preopen", "at-close", "evening"]
)
def test_builder_when_tick_outside_session_then_rejected_and_no_bar(
    grid_cm: SessionGrid, h: int, m: int, s: int
) -> None:
    b, out = make(grid_cm)
    b.update(ist(2024, 1, 2, h, m, s), 100.0)
    b.flush()
    assert out == [] and b.rejected == {DataIssue.OUTSIDE_SESSION: 1}


def test_builder_when_holiday_then_every_tick_outside_session(grid_cm: SessionGrid) -> None:
    b, out = make(grid_cm)
    b.update(ist(2024, 1, 26, 10, 0), 100.0)  # Republic Day
    assert b.rejected == {DataIssue.OUTSIDE_SESSION: 1}


def test_builder_when_tick_after_close_then_last_bar_closes_and_tick_is_rejected(
    grid_cm: SessionGrid,
) -> None:
    b, out = make(grid_cm)
    b.update(ist(2024, 1, 2, 15, 29, 10), 100.0)
    b.update(ist(2024, 1, 2, 15, 30, 5), 101.0)
    assert [x.ts_event for x in out] == [ist(2024, 1, 2, 15, 29)]
    assert b.rejected == {DataIssue.OUTSIDE_SESSION: 1}


def test_builder_when_dr_saturday_then_bars_only_in_its_two_parts(grid_cm: SessionGrid) -> None:
    b, out = make(grid_cm)
    for h, m in [(9, 59), (10, 0), (10, 30), (11, 29), (11, 30), (12, 29), (12, 30)]:
        b.update(ist(2024, 3, 2, h, m, 30), 100.0)
    b.flush()
    starts = [datetime.fromtimestamp(x.ts_event / NANOS, IST).strftime("%H:%M") for x in out]
    assert starts == ["09:59", "11:30", "12:29"]
    assert b.rejected == {DataIssue.OUTSIDE_SESSION: 4}


def test_builder_when_fo_close_moves_to_1540_then_fo_takes_1535_and_cm_does_not() -> None:
    calendar = Calendar.default()
    fo, out_fo = make(SessionGrid(calendar, "FO"))
    cm, out_cm = make(SessionGrid(calendar, "CM"))
    for builder in (fo, cm):
        builder.update(ist(2026, 8, 3, 15, 35, 10), 100.0)
        builder.flush()
    assert len(out_fo) == 1 and out_cm == []
    # before the change the FO session also ended at 15:30
    old, out_old = make(SessionGrid(calendar, "FO"))
    old.update(ist(2026, 7, 31, 15, 35, 10), 100.0)
    assert out_old == [] and old.rejected == {DataIssue.OUTSIDE_SESSION: 1}


def test_builder_when_quiet_minutes_and_no_fill_then_no_bar_for_them(grid_cm: SessionGrid) -> None:
    b, out = make(grid_cm)
    b.update(ist(2024, 1, 2, 9, 15, 1), 100.0)
    b.update(ist(2024, 1, 2, 9, 18, 1), 101.0)
    b.flush()
    assert [x.ts_event for x in out] == [ist(2024, 1, 2, 9, 15), ist(2024, 1, 2, 9, 18)]


def test_builder_when_fill_quiet_minutes_then_flat_filled_bars_at_previous_close(
    grid_cm: SessionGrid,
) -> None:
    b, out = make(grid_cm, fill_quiet_minutes=True)
    b.update(ist(2024, 1, 2, 9, 15, 1), 100.0)
    b.update(ist(2024, 1, 2, 9, 15, 2), 99.0)
    b.update(ist(2024, 1, 2, 9, 18, 1), 101.0)  # 09:16 and 09:17 were quiet
    b.on_clock(ist(2024, 1, 2, 9, 20, 0))  # 09:19 was quiet too
    got = [(x.ts_event, x.open, x.close, x.volume, x.filled) for x in out]
    assert got == [
        (ist(2024, 1, 2, 9, 15), 100.0, 99.0, 0, False),
        (ist(2024, 1, 2, 9, 16), 99.0, 99.0, 0, True),
        (ist(2024, 1, 2, 9, 17), 99.0, 99.0, 0, True),
        (ist(2024, 1, 2, 9, 18), 101.0, 101.0, 0, False),
        (ist(2024, 1, 2, 9, 19), 101.0, 101.0, 0, True),
    ]


def test_builder_when_fill_quiet_minutes_then_never_across_the_dr_break(
    grid_cm: SessionGrid,
) -> None:
    b, out = make(grid_cm, fill_quiet_minutes=True)
    b.update(ist(2024, 3, 2, 9, 59, 1), 100.0)
    b.update(ist(2024, 3, 2, 11, 31, 1), 101.0)
    b.flush()
    assert [x.filled for x in out] == [False, False]


@pytest.mark.parametrize("price", [0.0, -5.0, float("nan")])
def test_builder_when_price_not_positive_then_tick_rejected(
    grid_cm: SessionGrid, price: float
) -> None:
    b, out = make(grid_cm)
    b.update(ist(2024, 1, 2, 9, 15, 1), 100.0)
    b.update(ist(2024, 1, 2, 9, 15, 2), price)
    b.flush()
    assert (out[0].low, out[0].close) == (100.0, 100.0)
    assert b.rejected == {DataIssue.NON_POSITIVE_PRICE: 1}


def test_builder_when_ticks_carry_exchange_time_then_bars_use_it_and_skew_is_measured(
    grid_cm: SessionGrid,
) -> None:
    b, out = make(grid_cm)
    t0 = ist(2024, 1, 2, 9, 15, 59, 800)
    b.on_tick(Tick("NIFTY", 100.0, ts_init=t0 + 300 * MS, ts_exchange=t0))  # received 09:16:00.1
    b.on_tick(Tick("NIFTY", 101.0, ts_init=t0 + 400 * MS, ts_exchange=t0 + 450 * MS))
    b.flush()
    assert [x.ts_event for x in out] == [ist(2024, 1, 2, 9, 15), ist(2024, 1, 2, 9, 16)]
    assert (b.skew.count, b.skew.last_ns, b.skew.max_ns, b.skew.min_ns) == (
        2,
        -50 * MS,
        300 * MS,
        -50 * MS,
    )
    assert b.skew.mean_ns == 125 * MS
    assert "mean 125.0 ms" in b.skew.summary()


def test_skew_stats_when_empty_then_summary_says_so() -> None:
    assert SkewStats().summary() == "clock skew: no exchange timestamps seen"


def _replay_ticks(bar: Bar, index: int) -> list[Tick]:
    """Four ticks inside the bar's minute: O, H, L, C or O, L, H, C (alternating)."""
    mid = (bar.high, bar.low) if index % 2 == 0 else (bar.low, bar.high)
    prices = (bar.open, *mid, bar.close)
    t = bar.ts_event
    return [
        Tick(
            bar.symbol,
            p,
            ts_init=t + (5 + 15 * i) * NANOS + 40 * MS,
            ts_exchange=t + (5 + 15 * i) * NANOS,
        )
        for i, p in enumerate(prices)
    ]


def test_builder_when_real_bars_replayed_as_ticks_then_same_bars(
    market_bars: MarketBars, grid_cm: SessionGrid
) -> None:
    """NIFTY 1m 2024, 2024-01-01 .. 2024-03-05: with the 2024-01-20 Saturday (whose 167
    after-close bars are rejected) and the 2024-03-02 disaster-recovery session."""
    source = [
        b
        for b in market_bars("nifty_1m_2024.csv").bars["NIFTY"]
        if b.trading_date <= date(2024, 3, 5)
    ]
    expected = validate_bars(source, grid_cm).accepted
    out: list[Bar] = []
    builder = BarBuilder("NIFTY", grid_cm, out.append)
    for i, bar in enumerate(source):
        for tick in _replay_ticks(bar, i):
            builder.on_tick(tick)
    builder.flush()
    assert len(expected) == len(source) - 167
    assert [(b.ts_event, b.open, b.high, b.low, b.close) for b in out] == [
        (b.ts_event, b.open, b.high, b.low, b.close) for b in expected
    ]
    assert builder.rejected == {DataIssue.OUTSIDE_SESSION: 167 * 4}
    assert all(b.timeframe is Timeframe.M1 for b in out)
