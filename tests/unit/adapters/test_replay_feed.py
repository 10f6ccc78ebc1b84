"""The replay feed: real files to events, each at the instant it would have been known.

The window is NIFTY's 1-minute bars of 2024-02-29 .. 2024-03-06: it holds a regular
Thursday and Friday, the disaster-recovery Saturday 2024-03-02 (09:15-10:00 and
11:30-12:30), a missing session in the data (2024-03-04) and a regular Tuesday and
Wednesday. The official daily file and India VIX are the real ones too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.replay import ReplayFeed, bar_path
from engine.data.calendar import Calendar
from engine.data.csv_import import read_bars
from engine.data.resample import resample
from engine.data.session_grid import SessionGrid, choose_calendar
from engine.model.enums import Timeframe
from engine.model.market import Bar, to_ns
from engine.ports import BarClosed, DailyBarPublished, Feed, VixUpdated
from engine.timeutil import IST

FIRST, LAST = date(2024, 2, 29), date(2024, 3, 6)
MINUTE = 60_000_000_000


def ns(d: date, hh: int, mm: int, ss: int = 0) -> int:
    return to_ns(datetime.combine(d, time(hh, mm, ss), tzinfo=IST))


def within(bars: list[Bar], first: date = FIRST, last: date = LAST) -> list[Bar]:
    return [b for b in bars if first <= b.trading_date <= last]


@pytest.fixture(scope="module")
def grid() -> SessionGrid:
    return SessionGrid(Calendar.default(), "CM")


@pytest.fixture(scope="module")
def minute_bars(market_bars: Callable[[str], Any]) -> list[Bar]:
    return within(market_bars("nifty_1m_2024.csv").bars["NIFTY"])


@pytest.fixture(scope="module")
def daily(market_dir: Path) -> list[Bar]:
    return within(read_bars(market_dir / "nifty_daily_2005_2026.csv").bars["NIFTY"])


@pytest.fixture(scope="module")
def vix(market_dir: Path) -> list[Bar]:
    return within(read_bars(market_dir / "india_vix_daily_2012_2026.csv").bars["INDIA_VIX"])


@pytest.fixture(scope="module")
def full_feed(
    minute_bars: list[Bar], daily: list[Bar], vix: list[Bar], grid: SessionGrid
) -> list[Any]:
    feed = ReplayFeed(minute_bars, grid, symbol="NIFTY", daily=daily, vix_daily=vix)
    return list(feed.events())


def test_replay_feed_when_checked_then_a_feed_describing_itself(
    minute_bars: list[Bar], grid: SessionGrid
) -> None:
    feed = ReplayFeed(minute_bars, grid, symbol="NIFTY")
    assert isinstance(feed, Feed)
    assert feed.description == f"replay of {len(minute_bars)} NIFTY bars"
    assert feed.first_ts == ns(FIRST, 9, 15)
    assert ReplayFeed([], grid, symbol="NIFTY").first_ts is None
    assert ReplayFeed([], grid, symbol="NIFTY", description="x").description == "x"


def test_events_when_real_files_merged_then_in_time_order_and_nothing_lost(
    full_feed: list[Any], minute_bars: list[Bar], daily: list[Bar], vix: list[Bar]
) -> None:
    stamps = [e.ts for e in full_feed]
    assert stamps == sorted(stamps)
    assert sum(isinstance(e, BarClosed) for e in full_feed) == len(minute_bars)
    assert sum(isinstance(e, DailyBarPublished) for e in full_feed) == len(daily)
    assert sum(isinstance(e, VixUpdated) for e in full_feed) == len(vix)
    assert len(minute_bars) == 375 * 4 + 105  # four regular sessions and the DR Saturday


def test_events_when_only_bars_then_one_bar_closed_per_bar_in_file_order(
    minute_bars: list[Bar], grid: SessionGrid
) -> None:
    events = list(ReplayFeed(minute_bars, grid, symbol="NIFTY").events())
    assert [e.bar for e in events] == minute_bars
    assert all(isinstance(e, BarClosed) and e.symbol == "NIFTY" for e in events)
    assert all(e.path is bar_path for e in events)


def test_bar_closed_when_1m_bar_then_delivered_at_its_end(full_feed: list[Any]) -> None:
    bars = [e for e in full_feed if isinstance(e, BarClosed)]
    first = bars[0]
    assert first.bar.ts_event == ns(FIRST, 9, 15) and first.ts == ns(FIRST, 9, 16)
    last_of_day = [e for e in bars if e.bar.trading_date == FIRST][-1]
    assert last_of_day.bar.ts_event == ns(FIRST, 15, 29)
    assert last_of_day.ts == ns(FIRST, 15, 30)
    assert all(e.ts == e.bar.ts_event + MINUTE for e in bars)


def test_bar_closed_when_dr_saturday_then_each_part_ends_at_its_own_close(
    full_feed: list[Any],
) -> None:
    sat = date(2024, 3, 2)
    bars = [e for e in full_feed if isinstance(e, BarClosed) and e.bar.trading_date == sat]
    ends = [e.ts for e in bars]
    assert ends[0] == ns(sat, 9, 16) and ns(sat, 10, 0) in ends
    assert ns(sat, 11, 31) in ends and ends[-1] == ns(sat, 12, 30)
    assert not any(ns(sat, 10, 0) < t < ns(sat, 11, 31) for t in ends)


@pytest.mark.parametrize(
    ("tf", "day", "starts_ends"),
    [
        # a 15m bar starting 15:15 ends 15:30
        (Timeframe.M15, date(2024, 3, 6), [((15, 0), (15, 15)), ((15, 15), (15, 30))]),
        # an hourly bar starting 15:15 is cut at the 15:30 close, not delivered at 16:15
        (Timeframe.H1, date(2024, 3, 6), [((14, 15), (15, 15)), ((15, 15), (15, 30))]),
        # on the DR Saturday each part's last bar ends at the part's close
        (Timeframe.M15, date(2024, 3, 2), [((9, 45), (10, 0)), ((11, 30), (11, 45))]),
        (Timeframe.H1, date(2024, 3, 2), [((9, 15), (10, 0)), ((11, 30), (12, 30))]),
    ],
)
def test_bar_closed_when_bar_runs_past_the_close_then_cut_at_the_parts_close(
    minute_bars: list[Bar],
    grid: SessionGrid,
    tf: Timeframe,
    day: date,
    starts_ends: list[tuple[tuple[int, int], tuple[int, int]]],
) -> None:
    bars = [b for b in resample(minute_bars, tf, grid).bars if b.trading_date == day]
    events = {e.bar.ts_event: e.ts for e in ReplayFeed(bars, grid, symbol="NIFTY").events()}
    for (sh, sm), (eh, em) in starts_ends:
        assert events[ns(day, sh, sm)] == ns(day, eh, em)


def test_daily_bar_when_published_then_at_midnight_ist_of_the_next_day(
    full_feed: list[Any], daily: list[Bar]
) -> None:
    published = [e for e in full_feed if isinstance(e, DailyBarPublished)]
    assert [e.bar for e in published] == daily
    for e in published:
        assert e.ts == ns(e.bar.trading_date + timedelta(days=1), 0, 0)
        assert e.symbol == "NIFTY"
    friday = next(e for e in published if e.bar.trading_date == date(2024, 3, 1))
    assert friday.ts == ns(date(2024, 3, 2), 0, 0)  # known before the Saturday session


def test_daily_bar_when_published_then_never_before_its_own_sessions_last_bar(
    full_feed: list[Any],
) -> None:
    """No look-ahead: every 1m bar of day D is delivered before D's official bar."""
    seen_daily: set[date] = set()
    for e in full_feed:
        if isinstance(e, DailyBarPublished):
            seen_daily.add(e.bar.trading_date)
        elif isinstance(e, BarClosed):
            assert e.bar.trading_date not in seen_daily


def test_daily_bar_when_published_then_before_the_next_sessions_first_bar(
    full_feed: list[Any],
) -> None:
    kinds = [(type(e).__name__, e.ts) for e in full_feed]
    i = kinds.index(("BarClosed", ns(date(2024, 3, 5), 9, 16)))
    before = {type(e).__name__ for e in full_feed[i - 3 : i]}
    assert before == {"DailyBarPublished", "VixUpdated"}
    # Monday 2024-03-04's official bar is published though the 1m file lacks that session
    assert any(
        isinstance(e, DailyBarPublished) and e.bar.trading_date == date(2024, 3, 4)
        for e in full_feed[i - 3 : i]
    )


def test_vix_daily_when_published_then_close_at_midnight_of_the_next_day(
    full_feed: list[Any], vix: list[Bar]
) -> None:
    updates = [e for e in full_feed if isinstance(e, VixUpdated)]
    assert [e.value for e in updates] == [b.close for b in vix]
    assert all(e.source == "daily" for e in updates)
    assert [e.ts for e in updates] == [ns(b.trading_date + timedelta(days=1), 0, 0) for b in vix]
    # the DR Saturday has no VIX row: nothing is published on Sunday 00:00
    assert ns(date(2024, 3, 3), 0, 0) not in {e.ts for e in updates}


def test_vix_intraday_when_given_then_each_value_at_its_bars_end_in_order(
    market_bars: Callable[[str], Any],
) -> None:
    first, last = date(2023, 4, 3), date(2023, 4, 4)
    bank = within(market_bars("banknifty_1m_2023q2.csv").bars["BANKNIFTY"], first, last)
    vix_file = market_bars("india_vix_1m_2023q2.csv")
    vix = within(next(iter(vix_file.bars.values())), first, last)
    choice = choose_calendar([b.ts_event for b in bank])  # 2023: before the shipped calendar
    grid = SessionGrid(choice.calendar, "CM")
    events = list(ReplayFeed(bank, grid, symbol="BANKNIFTY", vix_intraday=vix).events())
    stamps = [e.ts for e in events]
    assert stamps == sorted(stamps)
    updates = [e for e in events if isinstance(e, VixUpdated)]
    assert len(updates) == len(vix) and all(u.source == "1m" for u in updates)
    assert [(u.ts, u.value) for u in updates] == [(b.ts_event + MINUTE, b.close) for b in vix]
    # a VIX value ending with a bar comes before that bar (ties: the other streams first)
    i = next(k for k, e in enumerate(events) if isinstance(e, BarClosed))
    assert isinstance(events[i - 1], VixUpdated) and events[i - 1].ts == events[i].ts


def test_bar_closed_when_bar_outside_every_session_part_then_at_its_nominal_end(
    market_bars: Callable[[str], Any], grid: SessionGrid
) -> None:
    """2024-01-20's feed ran on after the 15:30 close: those bars are not cut to anything."""
    sat = date(2024, 1, 20)
    bars = within(market_bars("nifty_1m_2024.csv").bars["NIFTY"], sat, sat)
    events = list(ReplayFeed(bars, grid, symbol="NIFTY").events())
    late = [e for e in events if e.bar.ts_event >= ns(sat, 15, 30)]
    assert late and all(e.ts == e.bar.ts_event + MINUTE for e in late)
    assert [e.ts for e in events] == sorted(e.ts for e in events)


# -- the path inside a bar ---------------------------------------------------------------


def _bar(o: float, h: float, low: float, c: float, start: int, tf: Timeframe) -> Bar:
    return Bar("NIFTY", tf, start, o, h, low, c)


def test_bar_path_when_up_bar_then_open_low_high_close_at_quarters(
    minute_bars: list[Bar],
) -> None:
    up = next(b for b in minute_bars if b.close > b.open and b.low < b.open and b.high > b.close)
    end = up.ts_event + MINUTE
    q = MINUTE // 4
    assert bar_path(up, end) == (
        (up.ts_event, up.open),
        (up.ts_event + q, up.low),
        (up.ts_event + 2 * q, up.high),
        (up.ts_event + 3 * q, up.close),
    )


def test_bar_path_when_down_bar_then_open_high_low_close_at_quarters(
    minute_bars: list[Bar],
) -> None:
    down = next(b for b in minute_bars if b.close < b.open and b.high > b.open)
    end = down.ts_event + MINUTE
    q = MINUTE // 4
    assert bar_path(down, end) == (
        (down.ts_event, down.open),
        (down.ts_event + q, down.high),
        (down.ts_event + 2 * q, down.low),
        (down.ts_event + 3 * q, down.close),
    )


def test_bar_path_when_close_equals_open_then_treated_as_up_bar() -> None:
    start = ns(date(2024, 3, 6), 10, 0)
    flat = _bar(22000.0, 22010.0, 21990.0, 22000.0, start, Timeframe.M1)
    assert [p for _, p in bar_path(flat, start + MINUTE)] == [22000.0, 21990.0, 22010.0, 22000.0]


def test_bar_path_when_bar_was_cut_then_quarters_of_the_cut_bar(
    minute_bars: list[Bar], grid: SessionGrid
) -> None:
    day = date(2024, 3, 6)
    last = [b for b in resample(minute_bars, Timeframe.H1, grid).bars if b.trading_date == day][-1]
    event = list(ReplayFeed([last], grid, symbol="NIFTY").events())[0]
    assert (last.ts_event, event.ts) == (ns(day, 15, 15), ns(day, 15, 30))
    times = [t for t, _ in event.path(last, event.ts)]
    assert times == [ns(day, 15, 15), ns(day, 15, 18, 45), ns(day, 15, 22, 30), ns(day, 15, 26, 15)]
    assert all(t < event.ts for t in times)  # every tick of a bar before the bar is closed
