"""The calendar past its last published year, and before its first: provisional, never an error.

Today is 2026-12-01 and the verified files end on 2026-12-31: `engine calendar --days 40`
failed, and from 2027-01-01 every command needing a session would have. History has the
regular hours of its time as known facts: a 15:30 bar is after the close in 2009 and 2023
as in 2024.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime, time
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.clock import SimClock
from engine.data.calendar import SHIPPED_DIR, Calendar
from engine.data.csv_import import read_bars
from engine.data.session_grid import SessionGrid, choose_calendar
from engine.data.validate import validate_bars
from engine.errors import CalendarError
from engine.machines import MachineRunner, RecordingSink, load_machine_file
from engine.model import to_ns
from engine.model.enums import DataIssue
from engine.model.events import BarRejected
from engine.timeutil import IST

REPO = Path(__file__).resolve().parents[2]
MARKET = REPO.parent / "shared" / "data" / "market"


@pytest.fixture(scope="module")
def cal() -> Calendar:
    return Calendar.default()


def series(name: str) -> tuple[list, int]:
    bar_file = read_bars(MARKET / name)
    (bars,) = bar_file.bars.values()
    return bars, bar_file.timeframe.seconds


# -- the coming year ---------------------------------------------------------------------


def test_calendar_command_when_40_days_run_past_the_files_then_exit_0_and_say_provisional(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["calendar", "--from", "2026-12-01", "--days", "40"]) == 0
    out = capsys.readouterr().out
    assert "verified 2024-01-01 .. 2026-12-31" in out
    jan = [line for line in out.splitlines() if line.startswith("2027-01")]
    assert jan and all("provisional" in line for line in jan)
    assert "coverage.csv" in out and "ENGINE_CALENDAR_DIR" in out


def test_calendar_when_2027_then_every_question_a_runtime_asks_has_a_provisional_answer(
    cal: Calendar,
) -> None:
    d = date(2027, 3, 2)
    s = cal.session(d)
    assert s is not None and s.provisional and (s.open, s.close) == (time(9, 15), time(15, 40))
    assert not cal.is_verified(d) and cal.is_verified(date(2026, 12, 31))
    assert cal.next_session(date(2027, 3, 5)).date == date(2027, 3, 8)
    assert cal.previous_session(date(2027, 1, 1)).date == date(2026, 12, 31)
    expiry = cal.next_expiry("NIFTY", d)
    assert (expiry.date, expiry.kind, expiry.provisional) == (d, "weekly", True)
    monthly = cal.next_expiry("NIFTY", d, kind="monthly")
    assert monthly.date == date(2027, 3, 30)  # the last Tuesday, by the rule in force
    assert cal.days_to_expiry(d, monthly.date) == (20, 28)
    assert cal.lot_size("NIFTY", monthly.date) == 65
    assert cal.tick_size("NIFTY", d) == cal.tick_size("NIFTY", date(2026, 1, 5))
    assert len(cal.sessions(date(2027, 1, 1), date(2027, 12, 31))) == 261  # every weekday


def test_day_facts_when_2027_then_dte_and_close_are_values_marked_provisional(
    cal: Calendar,
) -> None:
    from engine.runtime.day import DayFacts, day_number

    day = DayFacts.build(
        day_number(to_ns(datetime(2027, 1, 4, 12, 0, tzinfo=IST))),
        SessionGrid(cal, "FO"),
        ("NIFTY",),
    )
    expiry = day.expiries["NIFTY"]
    assert expiry.dte == 1 and expiry.dte_days == 1  # Tuesday 2027-01-05
    assert day.close_ns == to_ns(datetime(2027, 1, 4, 15, 40, tzinfo=IST))
    assert day.provisional


def test_session_machine_when_day_in_2027_then_opens_at_the_regular_hours(cal: Calendar) -> None:
    spec = load_machine_file(REPO / "machines" / "session.yaml")
    clock = SimClock(datetime(2027, 1, 4, 8, 0, tzinfo=IST))
    runner = MachineRunner(spec, clock=clock, actions=RecordingSink(), calendar=cal)
    clock.set(datetime(2027, 1, 4, 9, 20, tzinfo=IST))
    taken = runner.tick()
    assert [t.dest for t in taken] == ["pre_open", "open"]


def test_calendar_when_far_past_the_files_then_calendar_error_says_what_to_add(
    cal: Calendar,
) -> None:
    with pytest.raises(CalendarError, match="2037-01-01 is outside the calendar.*holidays.csv"):
        cal.session(date(2037, 1, 1))


def test_user_calendar_when_next_year_added_then_verified_and_its_holidays_closed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "nse-calendar"
    shutil.copytree(SHIPPED_DIR, folder)
    with (folder / "holidays.csv").open("a", encoding="utf-8") as f:
        f.write("2027-01-26,Republic Day,CM;FO,test circular\n")
    coverage = (folder / "coverage.csv").read_text(encoding="utf-8")
    (folder / "coverage.csv").write_text(coverage.replace(",2026-12-31,", ",2027-12-31,"))
    mine = Calendar.from_dir(folder)
    assert mine.is_verified(date(2027, 6, 1)) and mine.session(date(2027, 1, 26)) is None
    args = ["calendar", "--from", "2027-01-25", "--days", "3", "--calendar-dir", str(folder)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "provisional" not in out and "Republic Day" in out


# -- history -----------------------------------------------------------------------------


def test_2009_file_when_validated_then_regular_0955_1530_hours_and_1530_bars_rejected() -> None:
    bars, seconds = series("nifty_1m_2009.csv")
    choice = choose_calendar([b.ts_event for b in bars], seconds)
    assert choice.derived and "provisional" in choice.note
    report = validate_bars(bars, SessionGrid(choice.calendar, "CM"))
    assert report.rejected == {DataIssue.OUTSIDE_SESSION: 227}
    rejected = [e.ts_event for e in report.events if isinstance(e, BarRejected)]
    assert len(rejected) == 227
    assert {datetime.fromtimestamp(ts / 1e9, IST).time() for ts in rejected} == {time(15, 30)}
    circuit = choice.calendar.session(date(2009, 5, 18))  # two bars: 09:55 and 11:55
    assert circuit is not None and circuit.describe_hours() == "09:55-15:30"
    assert sum(b.trading_date == date(2009, 5, 18) for b in report.accepted) == 2


def test_2023_file_when_validated_then_the_1530_bar_is_outside_the_session() -> None:
    bars, seconds = series("banknifty_1m_2023q2.csv")
    choice = choose_calendar([b.ts_event for b in bars], seconds)
    report = validate_bars(bars, SessionGrid(choice.calendar, "CM"))
    assert report.rejected == {DataIssue.OUTSIDE_SESSION: 1}
    assert len(report.accepted) == 15000
    assert report.accepted[-1].ts_event == to_ns(datetime(2023, 6, 1, 15, 29, tzinfo=IST))


def test_2018_2023_file_when_backtested_then_banknifty_weekly_expiries_and_lots_known() -> None:
    bars, seconds = series("banknifty_15m_2018_2023.csv")
    choice = choose_calendar([b.ts_event for b in bars], seconds)
    cal = choice.calendar
    # the file has no bars on Thursday 2018-03-29 (Mahavir Jayanti): the monthly moves back
    march = cal.next_expiry("BANKNIFTY", date(2018, 3, 26))
    assert (march.date, march.moved_from, march.provisional) == (
        date(2018, 3, 28),
        date(2018, 3, 29),
        True,
    )
    weekly = cal.next_expiry("BANKNIFTY", date(2022, 6, 6), kind="weekly")
    assert weekly.date == date(2022, 6, 9)  # Thursdays until 2023-08-24
    assert cal.lot_size("BANKNIFTY", weekly.date) == 25
    report = validate_bars(bars, SessionGrid(cal, "CM"))
    assert report.rejected == {DataIssue.OHLC_INVALID: 18}  # no bar outside 09:15-15:30
    span = SessionGrid(cal, "CM").span(bars[5000].trading_date)
    assert span is not None and span.provisional and span.kind == "regular"


def test_2024_file_when_validated_then_the_verified_calendar_itself() -> None:
    bars, seconds = series("nifty_1m_2024.csv")
    choice = choose_calendar([b.ts_event for b in bars[:2000]], seconds)
    assert not choice.derived and choice.calendar is Calendar.default()


def test_calendar_when_before_any_known_hours_then_error_not_a_guess(cal: Calendar) -> None:
    with pytest.raises(CalendarError, match="2008-12-31 is outside the calendar"):
        cal.session(date(2008, 12, 31))
    assert cal.answers[0] == date(2009, 1, 1)


def test_calendar_command_when_user_calendar_has_terminal_escapes_then_printed_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "cal"
    shutil.copytree(SHIPPED_DIR, folder)
    with (folder / "holidays.csv").open("a", encoding="utf-8") as f:
        f.write('2026-12-30,"Closed\x1b[2J\x1b[H",CM;FO,test\n')
    args = ["calendar", "--from", "2026-12-30", "--days", "1", "--calendar-dir", str(folder)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "Closed\\x1b[2J\\x1b[H" in out
