"""Machines woken, not polled: touch, wake, next_deadline, accepts, and the order of a step.

A runner built with ``facts`` reads the runtime's live mapping; nothing is re-evaluated
until the runtime touches a name a tick guard reads or a deadline passes. Taking a
transition is one step in a fixed order: the state is set, the invariants are checked,
the listener hears the ``TransitionTaken``, and only then does the action sink get the
actions. The clock starts on Tuesday 2025-01-07 at 08:00 IST, a regular session of the
shipped calendar.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from engine.clock import SimClock
from engine.data.calendar import Calendar
from engine.machines import (
    ActionRequested,
    EmergencyRaised,
    MachineRunner,
    MachineSpec,
    MachineSystem,
    RecordingSink,
    TransitionTaken,
    load_machine_file,
)
from engine.model.market import to_ns
from engine.timeutil import IST

MINUTE = 60_000_000_000

WATCH = """machine: watch
initial: idle
params:
  vix_max: 30
  hold: 5m
triggers:
  poke:
    doc: a trigger only the idle state takes
states:
  idle:
    tags: [entries_allowed]
    on_exit: [{notify: leaving idle}]
  hot:
    on_enter: [{notify: VIX high}, {pause_entries: VIX}]
    invariant: not data.gap
  cooled:
    tags: [entries_allowed]
    on_enter: [resume_entries]
transitions:
  - {name: heat, trigger: tick, source: idle, dest: hot, when: vix > params.vix_max,
     then: [{notify: heating}]}
  - {name: cool, after: params.hold, source: hot, dest: cooled}
  - {name: back, trigger: tick, source: cooled, dest: idle, when: not data.gap}
  - {name: poke, trigger: poke, source: idle, dest: idle}
"""

#: A machine that follows another one's state (read as state.watch and state.watch.entries_allowed).
FOLLOWER = """machine: follower
initial: waiting
requires: [watch]
states:
  waiting: {}
  alarmed: {}
transitions:
  - {name: alarm, trigger: tick, source: waiting, dest: alarmed, when: state.watch == 'hot'}
  - {name: settle, trigger: tick, source: alarmed, dest: waiting, when: state.watch.entries_allowed}
"""

#: A stage at a time of the trading day.
STAGES = """machine: stages
initial: early
states: {early: {}, late: {final: true}}
transitions:
  - {name: ten, at: '10:00', source: early, dest: late}
"""


class OrderSink:
    """An action sink that notes, for each request, the runner's state and what the
    listener had heard by then (the order of a step made visible)."""

    def __init__(self, heard: list[Any]) -> None:
        self.heard = heard
        self.runner: MachineRunner | None = None
        self.requests: list[tuple[str, str, list[str]]] = []
        self.escalated: list[tuple[EmergencyRaised, list[str]]] = []

    def request(self, action: ActionRequested) -> None:
        assert self.runner is not None
        self.requests.append((action.action, self.runner.state, [e.kind for e in self.heard]))

    def escalate(self, emergency: EmergencyRaised) -> None:
        self.escalated.append((emergency, [e.kind for e in self.heard]))


@pytest.fixture(scope="module")
def calendar() -> Calendar:
    return Calendar.default()


@pytest.fixture
def watch(machine: Callable[[str], MachineSpec]) -> MachineSpec:
    return machine(WATCH)


def settled(runner: MachineRunner, now: int) -> MachineRunner:
    """A runner after its first wake (a new runner evaluates everything once)."""
    assert runner.pending
    assert runner.wake(now) == []
    assert not runner.pending
    return runner


def make(
    spec: MachineSpec,
    clock: SimClock,
    world: dict[str, Any],
    calendar: Calendar,
    **kw: Any,
) -> tuple[MachineRunner, list[Any], RecordingSink]:
    heard: list[Any] = []
    sink = kw.pop("actions", None) or RecordingSink()
    runner = MachineRunner(
        spec, clock=clock, facts=world, actions=sink, listener=heard.append, calendar=calendar, **kw
    )
    return runner, heard, sink


# -- touch and wake ------------------------------------------------------------------------


def test_touch_when_name_read_by_a_tick_guard_of_this_state_then_true(
    watch: MachineSpec, clock: SimClock, world: dict[str, Any], calendar: Calendar
) -> None:
    r, _, _ = make(watch, clock, world, calendar)
    settled(r, clock.now_ns())
    assert r.touch("vix") is True and r.pending
    assert r.touch("data.gap") is False  # read only by the cooled state's guard
    assert r.touch("no.such.name") is False
    assert {"vix", "data.gap"} <= r.watched_names


def test_wake_when_a_fact_changed_but_nobody_touched_it_then_not_evaluated(
    watch: MachineSpec, clock: SimClock, world: dict[str, Any], calendar: Calendar
) -> None:
    """Machines are not polled: the runtime must say what changed."""
    r, heard, _ = make(watch, clock, world, calendar)
    now = settled(r, clock.now_ns()).clock.now_ns()
    world["vix"] = 35.0
    assert r.wake(now + MINUTE) == [] and r.state == "idle" and heard == []
    assert r.touch("vix")
    taken = r.wake(now + 2 * MINUTE)
    assert [t.transition for t in taken] == ["heat"] and r.state == "hot"
    assert taken[0].ts_event == now + 2 * MINUTE
    assert taken[0].guard["reads"] == {"vix": 35.0, "params.vix_max": 30}


def test_wake_when_touched_name_still_false_then_nothing_and_no_longer_pending(
    watch: MachineSpec, clock: SimClock, world: dict[str, Any], calendar: Calendar
) -> None:
    r, heard, _ = make(watch, clock, world, calendar)
    settled(r, clock.now_ns())
    world["vix"] = 29.0
    r.touch("vix")
    assert r.wake(clock.now_ns() + MINUTE) == [] and not r.pending and heard == []


def test_wake_when_deadline_passes_then_timed_transition_taken_untouched(
    watch: MachineSpec, clock: SimClock, world: dict[str, Any], calendar: Calendar
) -> None:
    r, _, _ = make(watch, clock, world, calendar, state="hot")
    t0 = clock.now_ns()
    settled(r, t0)
    assert r.next_deadline() == t0 + 5 * MINUTE
    assert r.wake(t0 + 5 * MINUTE - 1) == [] and r.state == "hot"
    taken = r.wake(t0 + 5 * MINUTE)
    assert [t.transition for t in taken] == ["cool", "back"]  # back: data.gap is false
    assert taken[0].guard["in_state_s"] == 300.0 and taken[0].ts_event == t0 + 5 * MINUTE


def test_wake_when_deadline_long_past_then_taken_at_the_wake_and_cascade_continues(
    watch: MachineSpec, clock: SimClock, world: dict[str, Any], calendar: Calendar
) -> None:
    """A machine woken late takes the timed transition, then whatever follows from it."""
    r, _, _ = make(watch, clock, world, calendar, state="hot")
    t0 = clock.now_ns()
    settled(r, t0)
    taken = r.wake(t0 + 60 * MINUTE)
    assert [t.transition for t in taken] == ["cool", "back"] and r.state == "idle"


def test_wake_when_time_goes_backwards_then_refused(
    watch: MachineSpec, clock: SimClock, world: dict[str, Any], calendar: Calendar
) -> None:
    r, _, _ = make(watch, clock, world, calendar)
    settled(r, clock.now_ns() + MINUTE)
    with pytest.raises(ValueError, match="time went backwards"):
        r.wake(clock.now_ns())


def test_wake_when_transition_taken_then_new_states_guards_are_evaluated(
    watch: MachineSpec, clock: SimClock, world: dict[str, Any], calendar: Calendar
) -> None:
    """Entering a state marks its candidates: they were never evaluated in it."""
    r, _, _ = make(watch, clock, world, calendar, state="hot")
    t0 = clock.now_ns()
    world["data.gap"] = True
    settled(r, t0)
    assert [t.transition for t in r.wake(t0 + 5 * MINUTE)] == ["cool"]  # back: data.gap
    world["data.gap"] = False
    assert r.wake(t0 + 6 * MINUTE) == []  # untouched: cooled stays
    assert r.touch("data.gap") and r.touch("vix") is False
    assert [t.transition for t in r.wake(t0 + 6 * MINUTE)] == ["back"]


# -- deadlines -------------------------------------------------------------------------------


def test_next_deadline_when_state_has_no_timed_transition_then_none(
    watch: MachineSpec, clock: SimClock, world: dict[str, Any], calendar: Calendar
) -> None:
    r, _, _ = make(watch, clock, world, calendar)
    assert settled(r, clock.now_ns()).next_deadline() is None


def test_next_deadline_when_at_time_later_today_then_that_instant(
    machine: Callable[[str], MachineSpec],
    clock: SimClock,
    world: dict[str, Any],
    calendar: Calendar,
) -> None:
    r, _, _ = make(machine(STAGES), clock, world, calendar)
    settled(r, clock.now_ns())
    ten = to_ns(datetime(2025, 1, 7, 10, 0, tzinfo=IST))
    assert r.next_deadline() == ten
    assert r.wake(ten - 1) == []
    taken = r.wake(ten)
    assert [t.transition for t in taken] == ["ten"] and taken[0].guard["at_time"] == "10:00:00"
    assert r.next_deadline() is None


def test_next_deadline_when_started_after_the_at_time_then_caught_up_at_first_wake(
    machine: Callable[[str], MachineSpec], world: dict[str, Any], calendar: Calendar
) -> None:
    late = SimClock(datetime(2025, 1, 7, 11, 0, tzinfo=IST))
    r, _, _ = make(machine(STAGES), late, world, calendar)
    assert r.next_deadline() is None  # already due: nothing to wait for
    assert [t.transition for t in r.wake(late.now_ns())] == ["ten"]


# -- accepts ---------------------------------------------------------------------------------


def test_accepts_when_state_has_a_transition_on_the_trigger_then_true(
    watch: MachineSpec,
    shipped: dict[str, MachineSpec],
    clock: SimClock,
    world: dict[str, Any],
    calendar: Calendar,
) -> None:
    r, _, _ = make(watch, clock, world, calendar)
    assert r.accepts("poke") and r.accepts("tick")
    hot, _, _ = make(watch, clock, world, calendar, state="hot")
    assert not hot.accepts("poke")
    ks, _, _ = make(shipped["killswitch"], clock, world, calendar)
    assert ks.accepts("kill")
    assert not ks.accepts("resume")  # ignored in every state: ignoring is not accepting
    halted, _, _ = make(shipped["killswitch"], clock, world, calendar, state="halted")
    assert not halted.accepts("kill") and halted.accepts("resume")


# -- the order of a step ---------------------------------------------------------------------


def test_step_when_transition_taken_then_state_set_before_listener_and_actions_after_event(
    watch: MachineSpec, clock: SimClock, world: dict[str, Any], calendar: Calendar
) -> None:
    heard: list[Any] = []
    states_heard: list[str] = []
    sink = OrderSink(heard)

    def listener(event: Any) -> None:
        heard.append(event)
        if isinstance(event, TransitionTaken):
            states_heard.append(runner.state)

    runner = MachineRunner(
        watch, clock=clock, facts=world, actions=sink, listener=listener, calendar=calendar
    )
    sink.runner = runner
    settled(runner, clock.now_ns())
    world["vix"] = 35.0
    runner.touch("vix")
    runner.wake(clock.now_ns() + MINUTE)
    assert states_heard == ["hot"]  # the listener hears a state already set
    # exit of the source, the transition's own, the destination's entry; each handed over
    # only after the listener heard the transition (and the action itself)
    assert [(a, s) for a, s, _ in sink.requests] == [
        ("notify", "hot"),
        ("notify", "hot"),
        ("notify", "hot"),
        ("pause_entries", "hot"),
    ]
    for i, (_, _, seen) in enumerate(sink.requests):
        assert seen == ["transition"] + ["action"] * (i + 1)
    causes = [e.cause for e in heard if isinstance(e, ActionRequested)]
    assert causes == ["exit idle", "transition heat", "enter hot", "enter hot"]


def test_step_when_new_state_violates_its_invariant_then_emergency_before_the_event(
    watch: MachineSpec, clock: SimClock, world: dict[str, Any], calendar: Calendar
) -> None:
    """Nobody observes a state whose invariants were not checked."""
    heard: list[Any] = []
    sink = OrderSink(heard)
    runner = MachineRunner(
        watch, clock=clock, facts=world, actions=sink, listener=heard.append, calendar=calendar
    )
    sink.runner = runner
    settled(runner, clock.now_ns())
    world.update({"vix": 35.0, "data.gap": True})  # hot's invariant: not data.gap
    runner.touch("vix")
    runner.wake(clock.now_ns() + MINUTE)
    kinds = [e.kind for e in heard]
    assert kinds[:2] == ["emergency", "transition"]
    (emergency, seen) = sink.escalated[0]
    assert emergency.code == "INVARIANT_VIOLATED" and emergency.state == "hot"
    assert seen == ["emergency"]  # escalated before the transition was heard
    assert all("transition" in s for _, _, s in sink.requests)


def test_step_when_runner_without_sink_and_invariant_fails_then_raises_before_event(
    watch: MachineSpec, clock: SimClock, world: dict[str, Any], calendar: Calendar
) -> None:
    heard: list[Any] = []
    runner = MachineRunner(watch, clock=clock, facts=world, listener=heard.append,
                           calendar=calendar)  # fmt: skip
    settled(runner, clock.now_ns())
    world.update({"vix": 35.0, "data.gap": True})
    runner.touch("vix")
    with pytest.raises(Exception, match="not data.gap"):
        runner.wake(clock.now_ns() + MINUTE)
    assert "transition" not in [e.kind for e in heard]


# -- a system ---------------------------------------------------------------------------------


@pytest.fixture
def pair(tmp_path: Path) -> list[MachineSpec]:
    (tmp_path / "watch.yaml").write_text(WATCH, encoding="utf-8")
    (tmp_path / "follower.yaml").write_text(FOLLOWER, encoding="utf-8")
    return [
        load_machine_file(tmp_path / "watch.yaml"),
        load_machine_file(tmp_path / "follower.yaml"),
    ]


def system_of(
    specs: list[MachineSpec], clock: SimClock, world: dict[str, Any], calendar: Calendar
) -> tuple[MachineSystem, list[Any], RecordingSink]:
    heard: list[Any] = []
    sink = RecordingSink()
    system = MachineSystem(
        specs, clock=clock, facts=world, actions=sink, listener=heard.append, calendar=calendar
    )
    assert system.wake(clock.now_ns()) == []  # first wake: everything evaluated once
    return system, heard, sink


def test_system_touch_when_no_machine_reads_the_name_then_false(
    pair: list[MachineSpec], clock: SimClock, world: dict[str, Any], calendar: Calendar
) -> None:
    system, _, _ = system_of(pair, clock, world, calendar)
    assert system.touch("vix") is True
    assert system.touch("account.margin_used_pct") is False


def test_system_wake_when_one_machine_moves_then_its_reader_follows_in_the_same_wake(
    pair: list[MachineSpec], clock: SimClock, world: dict[str, Any], calendar: Calendar
) -> None:
    system, _, _ = system_of(pair, clock, world, calendar)
    world["vix"] = 35.0
    system.touch("vix")
    taken = system.wake(clock.now_ns() + MINUTE)
    assert [(t.machine, t.transition) for t in taken] == [("watch", "heat"), ("follower", "alarm")]
    assert system.states == {"watch": "hot", "follower": "alarmed"}


def test_system_wake_when_deadline_passed_then_only_with_due(
    pair: list[MachineSpec], clock: SimClock, world: dict[str, Any], calendar: Calendar
) -> None:
    system, _, _ = system_of(pair, clock, world, calendar)
    world["vix"] = 35.0
    system.touch("vix")
    hot_at = clock.now_ns() + MINUTE
    system.wake(hot_at)
    world["vix"] = 18.0
    system.touch("vix")
    assert system.wake(hot_at + MINUTE) == []  # hot waits its five minutes
    assert system.next_deadline() == hot_at + 5 * MINUTE
    later = hot_at + 5 * MINUTE
    assert system.wake(later - 1, due=True) == []  # not yet
    assert system.wake(later) == []  # due, but the runtime did not say so: not stepped
    taken = system.wake(later, due=True)
    assert [(t.machine, t.transition) for t in taken] == [
        ("watch", "cool"),
        ("watch", "back"),
        ("follower", "settle"),  # state.watch.entries_allowed became true: it was touched
    ]
    assert system.states == {"watch": "idle", "follower": "waiting"}
    assert system.next_deadline() is None


def test_system_wake_when_due_and_nothing_due_then_no_machine_stepped(
    pair: list[MachineSpec], clock: SimClock, world: dict[str, Any], calendar: Calendar
) -> None:
    system, heard, _ = system_of(pair, clock, world, calendar)
    assert system.wake(clock.now_ns() + 60 * MINUTE, due=True) == []
    assert heard == []


def test_system_wake_when_shipped_breakers_paused_then_woken_at_the_pause_end(
    shipped: dict[str, MachineSpec], clock: SimClock, world: dict[str, Any], calendar: Calendar
) -> None:
    """The real breakers machine: a flash move pauses entries for 5 minutes."""
    specs = [shipped[n] for n in ("killswitch", "breakers", "session", "position")]
    system, _, sink = system_of(specs, clock, world, calendar)
    t0 = clock.now_ns() + 120 * MINUTE  # 10:00
    system.wake(t0, due=True)  # the session's morning stages
    world["underlying.change_5m_pct"] = -2.4
    assert system.touch("underlying.change_5m_pct")
    taken = system.wake(t0 + MINUTE)
    assert [(t.machine, t.transition) for t in taken] == [("breakers", "flash_move")]
    world["underlying.change_5m_pct"] = 0.3
    system.touch("underlying.change_5m_pct")
    assert system.wake(t0 + 2 * MINUTE) == []  # the pause lasts 5 minutes
    end = t0 + MINUTE + 5 * MINUTE
    assert system.next_deadline() == end  # the session's next stage is later (14:30)
    taken = system.wake(end, due=True)
    assert ("breakers", "pause_over") in [(t.machine, t.transition) for t in taken]
    assert system["breakers"].state == "normal"
    assert "pause_entries" in sink.names() and "resume_entries" in sink.names()
