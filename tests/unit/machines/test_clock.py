"""engine.clock: the wall clock and the simulated clock every timed transition reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.clock import Clock, SimClock, WallClock
from engine.model.market import to_ns


def test_simclock_when_created_then_reports_the_start_both_ways() -> None:
    start = datetime(2025, 1, 7, 3, 45, tzinfo=UTC)
    clock = SimClock(start)
    assert clock.now() == start
    assert clock.now_ns() == to_ns(start)
    assert isinstance(clock, Clock)


def test_simclock_when_advanced_then_moves_by_exactly_that() -> None:
    clock = SimClock(datetime(2025, 1, 7, 3, 45, tzinfo=UTC))
    clock.advance(timedelta(minutes=30))
    clock.advance(90)
    assert clock.now() == datetime(2025, 1, 7, 4, 16, 30, tzinfo=UTC)


def test_simclock_when_set_backwards_then_refuses() -> None:
    clock = SimClock(datetime(2025, 1, 7, 3, 45, tzinfo=UTC))
    with pytest.raises(ValueError, match="cannot go back"):
        clock.set(datetime(2025, 1, 7, 3, 44, tzinfo=UTC))
    with pytest.raises(ValueError, match="cannot go back"):
        clock.advance(-1)


def test_simclock_when_given_a_naive_datetime_then_refuses() -> None:
    with pytest.raises(ValueError, match="naive"):
        SimClock(datetime(2025, 1, 7, 9, 15))  # noqa: DTZ001 - the point of the test


def test_wallclock_when_read_then_is_aware_utc_and_close_to_now_ns() -> None:
    clock = WallClock()
    now = clock.now()
    assert now.tzinfo is UTC
    assert abs(clock.now_ns() - to_ns(now)) < 5 * 10**9
