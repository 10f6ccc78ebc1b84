"""DayFacts: one IST day's sessions, open, close and expiries, built once from the calendar.

Every day here is a real day of the shipped NSE calendar; the expected hours and expiries
are the exchange's (see engine/data/calendar_data/ for the sources).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from engine.data.calendar import Calendar
from engine.data.session_grid import SessionGrid
from engine.expr import Missing
from engine.model.market import to_ns
from engine.runtime.day import DAY_NS, DayFacts, day_number, day_start_ns
from engine.timeutil import IST

UNDERLYINGS = ("NIFTY", "BANKNIFTY")


@pytest.fixture(scope="module")
def fo() -> SessionGrid:
    return SessionGrid(Calendar.default(), "FO")


@pytest.fixture(scope="module")
def cm() -> SessionGrid:
    return SessionGrid(Calendar.default(), "CM")


def ns(d: date, hh: int, mm: int) -> int:
    return to_ns(datetime.combine(d, time(hh, mm), tzinfo=IST))


def facts(d: date, grid: SessionGrid) -> DayFacts:
    return DayFacts.build(day_number(ns(d, 12, 0)), grid, UNDERLYINGS)


def test_day_number_when_instant_just_before_ist_midnight_then_previous_day() -> None:
    d = date(2024, 3, 6)
    midnight = ns(d, 0, 0)
    assert day_start_ns(day_number(midnight)) == midnight
    assert day_number(midnight - 1) == day_number(midnight) - 1
    assert day_number(midnight + DAY_NS - 1) == day_number(midnight)
    # 00:00 IST is 18:30 UTC of the previous day
    assert midnight == to_ns(datetime(2024, 3, 5, 18, 30, tzinfo=UTC))


def test_build_when_regular_2024_day_then_one_part_0915_to_1530(fo: SessionGrid) -> None:
    d = date(2024, 3, 6)  # a Wednesday
    f = facts(d, fo)
    assert f.date == d and f.weekday == "Wed"
    assert f.session_kind == "regular" and f.is_session and f.trading and f.hours_known
    assert f.parts == ((ns(d, 9, 15), ns(d, 15, 30)),)
    assert (f.open_ns, f.close_ns) == (ns(d, 9, 15), ns(d, 15, 30))
    assert (f.start_ns, f.end_ns) == (ns(d, 0, 0), ns(d, 0, 0) + DAY_NS)


def test_part_at_when_regular_day_then_open_inclusive_close_exclusive(fo: SessionGrid) -> None:
    d = date(2024, 3, 6)
    f = facts(d, fo)
    assert f.part_at(ns(d, 9, 15)) == 0
    assert f.part_at(ns(d, 15, 29)) == 0
    assert f.part_at(ns(d, 15, 30) - 1) == 0
    assert f.part_at(ns(d, 15, 30)) == -1
    assert f.part_at(ns(d, 9, 15) - 1) == -1


def test_build_when_dr_saturday_2024_03_02_then_two_parts(fo: SessionGrid) -> None:
    d = date(2024, 3, 2)
    f = facts(d, fo)
    assert f.weekday == "Sat" and f.session_kind == "dr_session" and f.trading
    assert f.parts == ((ns(d, 9, 15), ns(d, 10, 0)), (ns(d, 11, 30), ns(d, 12, 30)))
    assert (f.open_ns, f.close_ns) == (ns(d, 9, 15), ns(d, 12, 30))


@pytest.mark.parametrize(
    ("hh", "mm", "part"),
    [(9, 15, 0), (9, 59, 0), (10, 0, -1), (11, 0, -1), (11, 29, -1), (11, 30, 1), (12, 29, 1)],
)
def test_part_at_when_dr_saturday_then_gap_between_parts_is_outside(
    fo: SessionGrid, hh: int, mm: int, part: int
) -> None:
    d = date(2024, 3, 2)
    assert facts(d, fo).part_at(ns(d, hh, mm)) == part


def test_build_when_holiday_2024_01_26_then_no_session_no_parts(fo: SessionGrid) -> None:
    d = date(2024, 1, 26)  # Republic Day, a Friday
    f = facts(d, fo)
    assert f.weekday == "Fri" and f.session_kind == "none"
    assert not f.is_session and not f.trading and not f.hours_known
    assert f.parts == () and f.open_ns is None and f.close_ns is None
    assert f.part_at(ns(d, 10, 0)) == -1
    # expiries are still known on a closed day: the next NIFTY weekly is Thursday 2024-02-01
    assert f.expiries["NIFTY"].expiry == date(2024, 2, 1)
    assert f.expiries["NIFTY"].dte == 4  # 29, 30, 31 Jan and 1 Feb
    assert f.expiries["NIFTY"].dte_days == 6


def test_build_when_weekend_without_session_then_no_session(fo: SessionGrid) -> None:
    f = facts(date(2024, 3, 3), fo)  # the Sunday after the DR Saturday
    assert f.weekday == "Sun" and not f.is_session and f.parts == ()


def test_build_when_fo_day_from_2026_08_03_then_closes_1540(fo: SessionGrid) -> None:
    before, after = date(2026, 7, 31), date(2026, 8, 3)
    assert facts(before, fo).close_ns == ns(before, 15, 30)
    f = facts(after, fo)
    assert f.weekday == "Mon" and f.session_kind == "regular"
    assert f.parts == ((ns(after, 9, 15), ns(after, 15, 40)),)
    assert f.part_at(ns(after, 15, 35)) == 0


def test_build_when_cm_day_from_2026_08_03_then_still_closes_1530(cm: SessionGrid) -> None:
    d = date(2026, 8, 3)
    assert facts(d, cm).close_ns == ns(d, 15, 30)


def test_build_when_session_without_published_hours_then_session_but_not_trading(
    fo: SessionGrid,
) -> None:
    f = facts(date(2026, 11, 8), fo)  # Muhurat 2026: date announced, hours not yet
    assert f.is_session and f.session_kind == "muhurat"
    assert not f.hours_known and not f.trading
    assert f.parts == () and f.open_ns is None and f.close_ns is None


def test_build_when_regular_day_then_nearest_expiries_and_dte_from_calendar(
    fo: SessionGrid,
) -> None:
    f = facts(date(2024, 3, 6), fo)
    nifty, bank = f.expiries["NIFTY"], f.expiries["BANKNIFTY"]
    assert (nifty.expiry, nifty.dte, nifty.dte_days, nifty.kind) == (
        date(2024, 3, 7),
        1,
        1,
        "weekly",
    )
    # BANKNIFTY weeklies expired on Wednesdays then: the day is its own expiry, 0 sessions
    assert (bank.expiry, bank.dte, bank.dte_days, bank.kind) == (date(2024, 3, 6), 0, 0, "weekly")


def test_build_when_dr_saturday_then_dte_counts_sessions_not_days(fo: SessionGrid) -> None:
    nifty = facts(date(2024, 3, 2), fo).expiries["NIFTY"]
    assert nifty.expiry == date(2024, 3, 7)
    assert (nifty.dte, nifty.dte_days) == (4, 5)  # Mon..Thu are sessions; Sunday is not


def test_build_when_expiry_thursday_is_a_holiday_then_expiry_moves_to_wednesday(
    fo: SessionGrid,
) -> None:
    nifty = facts(date(2024, 8, 12), fo).expiries["NIFTY"]  # Thursday 15 Aug is a holiday
    assert nifty.expiry == date(2024, 8, 14)
    assert (nifty.dte, nifty.dte_days) == (2, 2)


def test_build_when_banknifty_after_weeklies_ended_then_monthly_expiry(fo: SessionGrid) -> None:
    bank = facts(date(2024, 11, 14), fo).expiries["BANKNIFTY"]
    assert (bank.expiry, bank.kind) == (date(2024, 11, 27), "monthly")
    assert bank.dte == 7 and bank.dte_days == 13


def test_build_when_last_monthly_thursday_then_expiry_kind_monthly(fo: SessionGrid) -> None:
    nifty = facts(date(2024, 1, 25), fo).expiries["NIFTY"]
    assert (nifty.expiry, nifty.kind, nifty.dte) == (date(2024, 1, 25), "monthly", 0)


def test_build_when_underlying_unknown_then_expiry_missing_with_reason(fo: SessionGrid) -> None:
    d = date(2024, 3, 6)
    f = DayFacts.build(day_number(ns(d, 12, 0)), fo, ("NOSUCH",))
    e = f.expiries["NOSUCH"]
    assert e.expiry is None
    assert isinstance(e.dte, Missing) and "NOSUCH" in e.dte.reason
    assert f.to_record()["expiries"]["NOSUCH"] == {
        "expiry": None,
        "expiry_kind": "",
        "dte": None,
    }


def test_build_when_day_outside_the_calendar_then_no_session_and_missing_expiries(
    fo: SessionGrid,
) -> None:
    d = date(2005, 6, 6)  # before anything the calendar answers, even provisionally
    f = facts(d, fo)
    assert not f.is_session and f.parts == ()
    assert isinstance(f.expiries["NIFTY"].dte, Missing)


def test_to_record_when_regular_day_then_plain_values_for_the_journal(fo: SessionGrid) -> None:
    d = date(2024, 3, 6)
    record = facts(d, fo).to_record()
    assert record == {
        "date": "2024-03-06",
        "weekday": "Wed",
        "session": "regular",
        "parts": [[ns(d, 9, 15), ns(d, 15, 30)]],
        "hours_known": True,
        "provisional": False,
        "expiries": {
            "BANKNIFTY": {"expiry": "2024-03-06", "expiry_kind": "weekly", "dte": 0},
            "NIFTY": {"expiry": "2024-03-07", "expiry_kind": "weekly", "dte": 1},
        },
    }
