"""The session machine on any shape of trading day: entries only inside an open part, and
every part exited before it closes, however the parts fall and however coarsely the
clock is stepped (a late start, a slow feed)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.clock import SimClock
from engine.machines import MachineRunner, load_machine_file
from engine.machines.events import RecordingSink
from engine.machines.modeltest import FakeCalendar
from engine.timeutil import IST

MACHINES = Path(__file__).resolve().parents[2] / "machines"
SESSION = load_machine_file(MACHINES / "session.yaml")
DAY = datetime(2024, 3, 2, tzinfo=IST)


def minute(m: int) -> time:
    return time(m // 60, m % 60)


@st.composite
def days(draw: st.DrawFn) -> FakeCalendar:
    """A session opening 09:15-10:00, closing 12:00-16:00, with or without one break."""
    open_ = draw(st.integers(9 * 60 + 15, 10 * 60))
    close = draw(st.integers(12 * 60, 16 * 60))
    cal = FakeCalendar(open=minute(open_), close=minute(close))
    if draw(st.booleans()):
        b0 = draw(st.integers(open_ + 15, close - 45))
        b1 = draw(st.integers(b0 + 15, close - 15))
        cal.brk = (minute(b0), minute(b1))
    return cal


def parts(cal: FakeCalendar) -> list[tuple[datetime, datetime]]:
    def at(t: time) -> datetime:
        return DAY.replace(hour=t.hour, minute=t.minute)

    if cal.brk is None:
        return [(at(cal.open), at(cal.close))]
    return [(at(cal.open), at(cal.brk[0])), (at(cal.brk[1]), at(cal.close))]


@settings(max_examples=150, deadline=None)
@given(cal=days(), step=st.sampled_from([1, 2, 5, 7]), start=st.integers(0, 240))
def test_session_when_any_day_then_entries_only_inside_parts_and_parts_end_exited(
    cal: FakeCalendar, step: int, start: int
) -> None:
    clock = SimClock(DAY.replace(hour=8) + timedelta(minutes=start))
    sink = RecordingSink()
    runner = MachineRunner(
        SESSION, clock=clock, context=lambda: {"broker.session_ending": False},
        actions=sink, calendar=cal,
    )  # fmt: skip
    windows = parts(cal)
    exits: list[datetime] = []
    t = clock.now()
    while t < DAY.replace(hour=17):
        clock.set(t)
        for taken in runner.tick():
            if taken.dest in ("final_exit", "in_break", "post_close"):
                exits.append(t)
        if runner.state == "entry_window":
            assert any(lo <= t < hi for lo, hi in windows), (t, runner.state, windows)
        t += timedelta(minutes=step)
    assert runner.state in ("post_close", "closed")
    # every part the clock saw open ends with an exit at or before its close (or, when
    # the clock jumped over the close, at the first step after it)
    for lo, hi in windows:
        if hi <= DAY.replace(hour=8) + timedelta(minutes=start):
            continue
        assert any(lo - timedelta(minutes=step) < x <= hi + timedelta(minutes=step)
                   for x in exits), (lo, hi, exits)  # fmt: skip
    assert "exit_all" in sink.names()
