"""MachineRunner: the stepping API (send, tick, timers, events, actions, invariants)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.clock import SimClock
from engine.errors import InvalidTransition, InvariantViolated
from engine.expr import Missing
from engine.machines import (
    ActionRequested,
    EmergencyRaised,
    MachineRunner,
    MachineSpec,
    RecordingSink,
    TransitionTaken,
    TriggerIgnored,
)
from engine.machines.modeltest import FakeCalendar
from engine.timeutil import IST

REPO = Path(__file__).resolve().parents[3]

Events = list[Any]


def runner_for(
    spec: MachineSpec, clock: SimClock, world: dict[str, Any], **kw: Any
) -> tuple[MachineRunner, Events, RecordingSink]:
    events: Events = []
    sink = RecordingSink()
    kw.setdefault("calendar", FakeCalendar())
    r = MachineRunner(
        spec, clock=clock, context=lambda: world, actions=sink, listener=events.append, **kw
    )
    return r, events, sink


def test_send_when_guard_holds_then_transition_taken_with_values_read(
    shipped: dict[str, MachineSpec], clock: SimClock, world: dict[str, Any]
) -> None:
    world.update(
        {
            "state.session": "entry_window",
            "state.session.entries_allowed": True,
            "state.breakers.entries_allowed": True,
            "state.killswitch.entries_allowed": True,
        }
    )
    r, events, _ = runner_for(shipped["position"], clock, world)
    taken = r.send("enter", side="CE", rule="adx")
    assert isinstance(taken, TransitionTaken)
    assert (taken.machine, taken.transition, taken.source, taken.dest) == (
        "position",
        "enter",
        "flat",
        "entry_pending",
    )
    assert taken.values == {"side": "CE", "rule": "adx"}
    assert taken.guard["reads"]["event.side"] == "CE"
    assert taken.guard["reads"]["state.breakers.entries_allowed"] is True
    assert taken.ts_event == clock.now_ns()
    assert r.state == "entry_pending"
    assert events[0] == taken


def test_send_when_no_guard_holds_then_none_and_trigger_ignored(
    shipped: dict[str, MachineSpec], clock: SimClock, world: dict[str, Any]
) -> None:
    world.update(
        {
            "state.session.entries_allowed": False,
            "state.breakers.entries_allowed": True,
            "state.killswitch.entries_allowed": True,
        }
    )
    r, events, _ = runner_for(shipped["position"], clock, world)
    assert r.send("enter", side="PE", rule="adx") is None
    assert r.state == "flat"
    assert events == [
        TriggerIgnored(
            "position",
            "flat",
            "enter",
            "no guard held",
            clock.now_ns(),
            {"side": "PE", "rule": "adx"},
        )
    ]


def test_send_when_state_has_no_transition_then_invalid_transition(
    shipped: dict[str, MachineSpec], clock: SimClock, world: dict[str, Any]
) -> None:
    r, _, _ = runner_for(shipped["position"], clock, world)
    with pytest.raises(InvalidTransition, match="position: flat -> exit_filled"):
        r.send("exit_filled", stop_out=False)
    with pytest.raises(InvalidTransition, match="flat -> no_such_trigger"):
        r.send("no_such_trigger")


def test_send_when_state_ignores_trigger_then_recorded_not_raised(
    shipped: dict[str, MachineSpec], clock: SimClock, world: dict[str, Any]
) -> None:
    r, events, _ = runner_for(shipped["position"], clock, world)
    assert r.send("exit", reason="kill_switch") is None
    assert [(e.state, e.trigger, e.reason) for e in events] == [
        ("flat", "exit", "ignored in this state")
    ]


def test_send_when_value_not_declared_then_value_error(
    shipped: dict[str, MachineSpec], clock: SimClock, world: dict[str, Any]
) -> None:
    r, _, _ = runner_for(shipped["position"], clock, world)
    with pytest.raises(ValueError, match="carries no value 'sid'"):
        r.send("enter", sid="CE")


def test_send_when_value_missing_then_guard_reads_missing(
    shipped: dict[str, MachineSpec], clock: SimClock, world: dict[str, Any]
) -> None:
    r, events, _ = runner_for(shipped["killswitch"], clock, world, state="halted")
    assert r.send("resume", confirm_safe=True) is None  # no reason given
    assert events[-1].reason == "no guard held"
    taken = r.send("resume", confirm_safe=True, reason="checked the books")
    assert taken is not None and r.state == "resume_pending"


def test_tick_when_after_not_elapsed_then_waits_and_fires_once_elapsed(
    shipped: dict[str, MachineSpec], clock: SimClock, world: dict[str, Any]
) -> None:
    r, _, _ = runner_for(shipped["position"], clock, world, state="cooldown")
    clock.advance(timedelta(minutes=29, seconds=59))
    assert r.tick() == []
    clock.advance(1)
    taken = r.tick()
    # cooldown -> closed after 30m, then closed -> flat at once (entries left today)
    assert [(t.transition, t.dest) for t in taken] == [
        ("cooled_down", "closed"),
        ("ready_again", "flat"),
    ]
    assert taken[0].guard["after"] == "30m"
    assert taken[0].guard["in_state_s"] == 1800.0


def test_tick_when_started_late_then_catches_up_through_the_days_stages(
    shipped: dict[str, MachineSpec], world: dict[str, Any]
) -> None:
    clock = SimClock(datetime(2025, 1, 7, 11, 0, tzinfo=IST))
    r, _, sink = runner_for(shipped["session"], clock, world)
    taken = r.tick()
    assert [t.dest for t in taken] == ["pre_open", "open", "entry_window"]
    assert [t.guard["at_time"] for t in taken] == ["09:00:00", "09:15:00", "10:00:00"]
    assert r.state == "entry_window"
    assert sink.names() == ["resume_entries"]


def test_tick_when_the_day_is_not_a_session_then_data_mode(
    shipped: dict[str, MachineSpec], world: dict[str, Any]
) -> None:
    clock = SimClock(datetime(2025, 1, 11, 9, 30, tzinfo=IST))
    r, _, _ = runner_for(shipped["session"], clock, world, calendar=FakeCalendar(is_session=False))
    assert [t.dest for t in r.tick()] == ["data_mode"]
    clock.advance(timedelta(days=1))
    assert r.tick() == []


def test_tick_when_session_closes_early_then_its_stages_follow_its_own_close(
    shipped: dict[str, MachineSpec], world: dict[str, Any]
) -> None:
    clock = SimClock(datetime(2025, 1, 7, 11, 30, tzinfo=IST))
    calendar = FakeCalendar(close=time(13, 0))
    r, _, sink = runner_for(shipped["session"], clock, world, calendar=calendar)
    r.tick()
    assert r.state == "entry_window"
    stages = []
    for hm in ("12:00", "12:30", "12:50", "13:00"):
        h, m = map(int, hm.split(":"))
        clock.set(datetime(2025, 1, 7, h, m, tzinfo=IST))
        stages += [(hm, t.transition, t.dest) for t in r.tick()]
    assert stages == [
        ("12:00", "stop_entries", "wind_down"),
        ("12:30", "cancel_pending", "wind_down"),
        ("12:50", "final_exit_time", "final_exit"),
        ("13:00", "market_close", "post_close"),
    ]
    assert "exit_all" in sink.names() and "cancel_orders" in sink.names()


def test_tick_when_clock_jumps_past_the_close_then_early_close_exits_all(
    shipped: dict[str, MachineSpec], world: dict[str, Any]
) -> None:
    clock = SimClock(datetime(2025, 1, 7, 11, 30, tzinfo=IST))
    calendar = FakeCalendar(close=time(13, 0))
    r, _, sink = runner_for(shipped["session"], clock, world, calendar=calendar)
    r.tick()
    clock.set(datetime(2025, 1, 7, 13, 0, tzinfo=IST))
    assert [t.transition for t in r.tick()] == ["early_close"]
    assert "exit_all" in sink.names()


def test_tick_when_split_session_then_each_part_ends_flat_and_the_break_has_no_entries(
    shipped: dict[str, MachineSpec], world: dict[str, Any]
) -> None:
    """The DR Saturday shape: 09:15-10:00 and 11:30-12:30, with the strategy's defaults and
    with times that fit the short parts."""
    clock = SimClock(datetime(2024, 3, 2, 8, 0, tzinfo=IST))
    calendar = FakeCalendar(close=time(12, 30), brk=(time(10, 0), time(11, 30)))
    r, _, _ = runner_for(shipped["session"], clock, world, calendar=calendar)
    seen: list[tuple[str, str]] = []
    t = datetime(2024, 3, 2, 8, 0, tzinfo=IST)
    while t < datetime(2024, 3, 2, 13, 0, tzinfo=IST):
        clock.set(t)
        seen += [(f"{t:%H:%M}", x.dest) for x in r.tick()]
        t += timedelta(minutes=5)
    assert seen == [
        ("09:00", "pre_open"), ("09:15", "open"),
        ("09:30", "wind_down"),  # cancel_pending: 30 minutes before the part's close
        ("09:50", "final_exit"), ("10:00", "in_break"),
        ("11:30", "reopened"), ("11:30", "wind_down"),  # the part's last hour: no entries
        ("12:00", "wind_down"), ("12:20", "final_exit"), ("12:30", "post_close"),
    ]  # fmt: skip


def test_tick_when_split_session_and_short_part_times_then_entries_only_inside_parts(
    shipped: dict[str, MachineSpec], world: dict[str, Any]
) -> None:
    from engine.machines import load_machine_text

    text = (REPO / "machines" / "session.yaml").read_text(encoding="utf-8")
    for old, new in (
        ("entry_window_at: '10:00'", "entry_window_at: open + 10m"),
        ("wind_down_at: close - 60m", "wind_down_at: close - 20m"),
        ("cancel_pending_at: close - 30m", "cancel_pending_at: close - 15m"),
    ):
        assert old in text
        text = text.replace(old, new)
    spec = load_machine_text(text, "session.yaml", REPO / "machines")
    clock = SimClock(datetime(2024, 3, 2, 8, 0, tzinfo=IST))
    calendar = FakeCalendar(close=time(12, 30), brk=(time(10, 0), time(11, 30)))
    r, _, _ = runner_for(spec, clock, world, calendar=calendar)
    window: list[str] = []
    t = datetime(2024, 3, 2, 8, 0, tzinfo=IST)
    while t < datetime(2024, 3, 2, 13, 0, tzinfo=IST):
        clock.set(t)
        r.tick()
        if r.state == "entry_window":
            window.append(f"{t:%H:%M}")
        t += timedelta(minutes=5)
    assert window == ["09:25", "09:30", "09:35", "11:45", "11:50", "11:55", "12:00", "12:05"]


def test_tick_when_time_goes_backwards_then_refuses(
    shipped: dict[str, MachineSpec], clock: SimClock, world: dict[str, Any]
) -> None:
    r, _, _ = runner_for(shipped["breakers"], clock, world)
    r.tick()
    with pytest.raises(ValueError, match="backwards"):
        r.tick(clock.now() - timedelta(seconds=1))


def test_transition_when_taken_then_actions_in_exit_then_enter_order(
    shipped: dict[str, MachineSpec], clock: SimClock, world: dict[str, Any]
) -> None:
    r, events, sink = runner_for(shipped["breakers"], clock, world)
    world["underlying.change_5m_pct"] = 2.5  # a flash move pauses entries for 5 minutes
    r.tick()
    world["underlying.change_5m_pct"] = 0.1
    clock.advance(timedelta(minutes=5))
    r.tick()
    assert [(a.action, a.cause) for a in sink.actions] == [
        ("pause_entries", "enter paused"),
        ("resume_entries", "exit paused"),
    ]
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["TransitionTaken", "ActionRequested", "TransitionTaken", "ActionRequested"]


def test_transition_when_then_actions_then_they_follow_the_exit_actions(
    shipped: dict[str, MachineSpec], clock: SimClock, world: dict[str, Any]
) -> None:
    r, _, sink = runner_for(shipped["killswitch"], clock, world, state="cancelling")
    r.send("sigint")
    assert [(a.action, a.args.get("urgency"), a.cause) for a in sink.actions] == [
        ("cancel_orders", None, "transition second_sigint"),
        ("exit_all", "immediate", "transition second_sigint"),
        ("exit_all", "normal", "enter flattening"),
    ]


def test_invariant_when_violated_then_emergency_escalated_once(
    shipped: dict[str, MachineSpec], clock: SimClock, world: dict[str, Any]
) -> None:
    r, events, sink = runner_for(shipped["killswitch"], clock, world, state="flattening")
    world.update({"positions.open": 0, "orders.pending": 0})
    r.tick()
    assert r.state == "halted" and sink.emergencies == []
    world["positions.open"] = 1  # a late fill while halted
    first = r.check_invariants()
    again = r.check_invariants()
    assert [e.code for e in first] == ["INVARIANT_VIOLATED"] and again == []
    assert sink.emergencies == first
    assert first[0].reads == {"positions.open": 1, "orders.pending": 0}
    assert isinstance(events[-1], EmergencyRaised)
    world["positions.open"] = 0
    assert r.check_invariants() == []
    world["positions.open"] = 2
    assert len(r.check_invariants()) == 1  # violated again after it held: reported again


def test_invariant_when_strict_then_raises(
    shipped: dict[str, MachineSpec], clock: SimClock, world: dict[str, Any]
) -> None:
    r, _, sink = runner_for(shipped["killswitch"], clock, world, state="halted", strict=True)
    world["orders.pending"] = 3
    with pytest.raises(InvariantViolated, match="orders.pending"):
        r.check_invariants()
    assert len(sink.emergencies) == 1


def test_invariant_when_no_action_sink_then_never_silently_ignored(
    shipped: dict[str, MachineSpec], clock: SimClock, world: dict[str, Any]
) -> None:
    r = MachineRunner(shipped["killswitch"], clock=clock, context=lambda: world, state="halted")
    world["positions.open"] = 1
    with pytest.raises(InvariantViolated):
        r.check_invariants()


def test_tick_when_machine_loops_then_cascade_emergency(
    machine: Callable[[str], MachineSpec], clock: SimClock, world: dict[str, Any]
) -> None:
    spec = machine("""machine: loop
initial: a
states: {a: {}, b: {}}
transitions:
  - {name: ab, trigger: tick, source: a, dest: b}
  - {name: ba, trigger: tick, source: b, dest: a}
""")
    r, _, sink = runner_for(spec, clock, world)
    taken = r.tick()
    assert len(taken) == 32
    assert [e.code for e in sink.emergencies] == ["TICK_CASCADE"]


def test_explain_when_transition_taken_then_trace_rebuilt_from_values_read(
    shipped: dict[str, MachineSpec], clock: SimClock, world: dict[str, Any]
) -> None:
    r, _, _ = runner_for(shipped["breakers"], clock, world)
    world["vix"] = 31.5
    taken = r.tick()[0]
    assert taken.transition == "vix_trip"
    trace = r.explain(taken)
    assert trace is not None and trace.value is True
    assert trace.reads["vix"] == 31.5
    assert "vix > params.vix_max" in trace.render()


def test_records_when_serialised_then_plain_json(
    shipped: dict[str, MachineSpec], clock: SimClock, world: dict[str, Any]
) -> None:
    r, events, sink = runner_for(shipped["session"], clock, world)
    clock.set(datetime(2025, 1, 7, 10, 30, tzinfo=IST))
    r.tick()
    world["positions.open"] = Missing("feed down")
    r.send("reconciled")
    sink.escalate(
        EmergencyRaised("session", "closed", "INVARIANT_VIOLATED", "m", 1, {"t": time(9, 15)})
    )
    for event in [*events, *sink.emergencies]:
        record = json.loads(json.dumps(event.to_record()))
        assert record["kind"] == event.kind
        assert record["ts_event"] == event.ts_event
    assert isinstance(events[-1], (TriggerIgnored, ActionRequested))


def test_runner_when_started_in_a_state_then_resumes_there(
    shipped: dict[str, MachineSpec], clock: SimClock, world: dict[str, Any]
) -> None:
    r, _, _ = runner_for(shipped["killswitch"], clock, world, state="halted")
    assert r.state == "halted"
    with pytest.raises(ValueError, match="no state 'nowhere'"):
        runner_for(shipped["killswitch"], clock, world, state="nowhere")


def test_enabled_when_asked_then_lists_what_would_fire_first(
    shipped: dict[str, MachineSpec], clock: SimClock, world: dict[str, Any]
) -> None:
    r, _, _ = runner_for(shipped["breakers"], clock, world)
    world.update({"vix": 35.0, "account.day_pnl_pct": -4.0})
    assert [t.name for t in r.enabled("tick")] == ["daily_loss", "vix_trip"]
    assert r.state == "normal"


def test_calendar_when_date_outside_the_real_calendar_then_facts_are_missing(
    shipped: dict[str, MachineSpec], world: dict[str, Any]
) -> None:
    from engine.data.calendar import Calendar

    clock = SimClock(datetime(2005, 3, 3, 9, 30, tzinfo=IST))  # before any known hours
    r = MachineRunner(
        shipped["session"],
        clock=clock,
        context=lambda: world,
        actions=RecordingSink(),
        calendar=Calendar.default(),
    )
    wake_up = r.spec.candidates("closed", "tick")[0]
    assert wake_up.name == "wake_up"
    taken = r.tick()
    # not known to be a session: wake_up's guard is missing, not true; no trading
    assert [t.transition for t in taken] == ["no_session"]
    assert [t.dest for t in taken] == ["data_mode"]
    assert isinstance(wake_up.when.evaluate({"calendar.is_session": Missing("x")}), Missing)


@pytest.mark.parametrize("name", ["killswitch", "breakers", "position"])
def test_backends_when_same_script_then_same_transitions(
    shipped: dict[str, MachineSpec], name: str, world: dict[str, Any]
) -> None:
    script: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        ("tick", {"vix": 35.0}, {}),
        ("tick", {"vix": 20.0}, {}),
        ("kill", {}, {"source": "cli"}),
        ("tick", {"positions.open": 0}, {}),
        ("tick", {}, {}),
        ("entry_filled", {}, {}),
        ("exit", {}, {"reason": "x"}),
        ("exit_filled", {}, {"stop_out": True}),
    ]
    results = []
    for backend in ("table", "transitions"):
        clock = SimClock(datetime(2025, 1, 7, 10, 0, tzinfo=IST))
        w = dict(world)
        r, events, _ = runner_for(shipped[name], clock, w, backend=backend)
        for trigger, update, values in script:
            w.update(update)
            clock.advance(timedelta(minutes=20))
            try:
                r.send(trigger, **values)
            except (InvalidTransition, ValueError) as e:
                events.append(type(e).__name__)
        results.append(
            [
                (e.transition, e.source, e.dest) if isinstance(e, TransitionTaken) else e
                for e in events
            ]
        )
    assert results[0] == results[1]
