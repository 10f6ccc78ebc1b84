"""MachineSystem: machines that read each other's states, on one clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from engine.clock import SimClock
from engine.machines import MachineSpec, MachineSystem, RecordingSink, TransitionTaken
from engine.machines.modeltest import FakeCalendar
from engine.timeutil import IST

ORDER = ("killswitch", "breakers", "session", "position")


@pytest.fixture
def system(shipped: dict[str, MachineSpec], world: dict[str, Any]):  # type: ignore[no-untyped-def]
    clock = SimClock(datetime(2025, 1, 7, 10, 30, tzinfo=IST))
    sink = RecordingSink()
    events: list[Any] = []
    s = MachineSystem(
        [shipped[n] for n in ORDER],
        clock=clock,
        context=lambda: world,
        actions=sink,
        listener=events.append,
        calendar=FakeCalendar(),
    )
    s.tick()
    return s, clock, sink, events


def test_system_when_started_mid_session_then_session_catches_up_alone(system) -> None:  # type: ignore[no-untyped-def]
    s, _, sink, _ = system
    assert s.states == {
        "killswitch": "armed",
        "breakers": "normal",
        "session": "entry_window",
        "position": "flat",
    }
    assert sink.emergencies == []


def test_system_when_breaker_trips_then_position_cannot_enter(system, world) -> None:  # type: ignore[no-untyped-def]
    s, _, _, _ = system
    world["data.gap"] = True
    world["data.silent_min"] = 10
    s.tick()
    assert s.states["breakers"] == "data_gap"
    assert s.send("position", "enter", side="CE", rule="r") is None
    world.update({"data.gap": False, "data.silent_min": 0, "data.last_gap_min": 10.0})
    s.tick()
    assert s.states["breakers"] == "data_settling"  # back, but 15 more minutes without entries
    assert s.send("position", "enter", side="CE", rule="r") is None
    s.clock.advance(timedelta(minutes=15))
    s.tick()
    assert s.states["breakers"] == "normal"
    assert isinstance(s.send("position", "enter", side="CE", rule="r"), TransitionTaken)


def test_system_when_feed_silent_over_30_minutes_then_day_halted(system, world) -> None:  # type: ignore[no-untyped-def]
    s, _, sink, _ = system
    world.update({"data.gap": True, "data.silent_min": 2})
    s.tick()
    assert s.states["breakers"] == "data_gap"
    world["data.silent_min"] = 31
    s.tick()
    assert s.states["breakers"] == "halted_day"


def test_system_when_kill_switch_stops_then_entries_blocked_until_it_is_armed(
    system, world
) -> None:  # type: ignore[no-untyped-def]
    s, clock, sink, _ = system
    s.send("killswitch", "kill", source="cli", reason="test")
    s.tick()
    assert s.states["killswitch"] == "halted"  # nothing open: straight through
    assert s.send("position", "enter", side="PE", rule="r") is None
    s.send("killswitch", "resume", confirm_safe=True, reason="checked")
    s.send("killswitch", "reconciled")
    assert s.states["killswitch"] == "limited"
    assert "set_size_factor" in sink.names()
    assert s.send("position", "enter", side="PE", rule="r") is not None  # limited allows entries


def test_system_when_late_fill_while_halted_then_emergency_from_another_machines_step(
    system,
    world,  # type: ignore[no-untyped-def]
) -> None:
    s, _, sink, _ = system
    s.send("killswitch", "kill", source="file", reason="test")
    s.tick()
    assert s.states["killswitch"] == "halted"
    world["positions.open"] = 1  # a fill raced the cancel
    s.send("position", "entry_filled")  # flat -> open (late_fill): invariants of all checked
    assert s.states["position"] == "open"
    assert [(e.machine, e.code) for e in sink.emergencies] == [("killswitch", "INVARIANT_VIOLATED")]


def test_system_when_attached_instances_then_each_tracks_its_own_state(
    shipped: dict[str, MachineSpec], world: dict[str, Any]
) -> None:
    clock = SimClock(datetime(2025, 1, 7, 10, 30, tzinfo=IST))
    s = MachineSystem(
        [shipped[n] for n in ORDER[:3]],
        clock=clock,
        context=lambda: world,
        actions=RecordingSink(),
        calendar=FakeCalendar(),
    )
    nifty = s.attach(shipped["position"], "position:NIFTY")
    bank = s.attach(shipped["position"], "position:BANKNIFTY")
    s.tick()
    assert nifty.send("enter", side="CE", rule="r") is not None
    assert s.states["position:NIFTY"] == "entry_pending"
    assert s.states["position:BANKNIFTY"] == "flat"
    assert bank._ctx["state.position"] == "flat"
    with pytest.raises(ValueError, match="already"):
        s.attach(shipped["position"], "position:NIFTY")


def test_system_when_same_machine_twice_then_refused(shipped: dict[str, MachineSpec]) -> None:
    clock = SimClock(datetime(2025, 1, 7, 10, 30, tzinfo=IST))
    with pytest.raises(ValueError, match="twice"):
        MachineSystem([shipped["breakers"], shipped["breakers"]], clock=clock)


def test_system_when_replayed_then_identical_records(shipped: dict[str, MachineSpec]) -> None:
    """Same machines, same events, same simulated clock: byte-identical records."""

    def replay() -> str:
        import json

        clock = SimClock(datetime(2025, 1, 7, 8, 55, tzinfo=IST))
        world: dict[str, Any] = {
            "vix": 14.0,
            "positions.open": 0,
            "orders.pending": 0,
            "position.entries_today": 0,
            "underlying.side_held": "none",
        }
        events: list[Any] = []
        s = MachineSystem(
            [shipped[n] for n in ORDER],
            clock=clock,
            context=lambda: world,
            actions=RecordingSink(),
            listener=events.append,
            calendar=FakeCalendar(),
        )
        for minutes in (10, 20, 50, 5):
            clock.advance(timedelta(minutes=minutes))
            s.tick()
        s.send("position", "enter", side="CE", rule="r")
        s.send("position", "entry_filled")
        world["vix"] = 33.0
        clock.advance(timedelta(minutes=1))
        s.tick()
        s.send("position", "exit", reason="breaker")
        s.send("position", "exit_filled", stop_out=False)
        clock.advance(timedelta(minutes=20))
        s.tick()
        return "\n".join(json.dumps(e.to_record(), sort_keys=True) for e in events)

    first = replay()
    assert '"transition": "vix_trip"' in first and '"dest": "closed"' in first
    assert first == replay()
