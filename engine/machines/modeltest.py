"""Model-based testing: drive a machine along the shortest path to every state and edge.

The paths come from the machine itself (``MachineGraph``), not from a hand-written
script, so a new state or transition is covered the moment it is added. For each step
the driver works out what the world must look like for exactly that transition to be
taken: a context that makes its guard true, the guards of the transitions before it
false and the destination's invariants true (``analysis.witness``, checked by
evaluating the real guards), the other machines' states its guard reads, the calendar
facts, and the instant to move the simulated clock to for ``after:`` and ``at:``.

``run_path`` then sends the step's trigger to a real ``MachineRunner`` and checks the
recorded transition and that no emergency was raised.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from engine.clock import SimClock
from engine.expr.analysis import analyse, conjoin, negate, witness
from engine.machines.events import EmergencyRaised, MachineEvent, RecordingSink, TransitionTaken
from engine.machines.graph import Edge, MachineGraph
from engine.machines.runner import MachineRunner
from engine.machines.spec import TICK, MachineSpec, TransitionSpec
from engine.machines.vocabulary import PeerInfo, state_names
from engine.timeutil import IST

__all__ = [
    "FakeCalendar",
    "FakeSession",
    "PathFailed",
    "Step",
    "all_paths",
    "plan_step",
    "run_path",
]

_START = datetime(2025, 1, 6, 8, 0, tzinfo=IST)  # a Monday morning before the open


@dataclass(frozen=True)
class FakeSession:
    date: date
    open: time = time(9, 15)
    close: time = time(15, 30)
    hours_known: bool = True
    kind: str = "regular"
    segments: tuple[tuple[time, time], ...] = ()


@dataclass
class FakeCalendar:
    """Every date is the same session (or none); the driver changes it between steps."""

    is_session: bool = True
    hours_known: bool = True
    open: time = time(9, 15)
    close: time = time(15, 30)
    brk: tuple[time, time] | None = None  # a break between two parts (a DR Saturday)

    def session(self, d: date) -> FakeSession | None:
        if not self.is_session:
            return None
        if self.brk is None:
            parts: tuple[tuple[time, time], ...] = ((self.open, self.close),)
        else:
            parts = ((self.open, self.brk[0]), (self.brk[1], self.close))
        return FakeSession(d, self.open, self.close, self.hours_known, segments=parts)


class PathFailed(AssertionError):
    """A step could not be planned or did not do what the machine says it does."""


@dataclass
class Step:
    """What the world looks like for one edge to be taken."""

    edge: Edge
    context: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    calendar: dict[str, Any] = field(default_factory=dict)
    known: dict[str, Any] = field(default_factory=dict)  # everything a guard reads here

    def holds(self, t: TransitionSpec) -> bool:
        """Whether ``t``'s guard is true in this step's world."""
        return t.when is None or t.when.evaluate(_Ctx(self.known)) is True


class _Ctx(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> Any:
        from engine.expr import MISSING

        return MISSING


def _peers_read(spec: MachineSpec, exprs: list[Any]) -> list[PeerInfo]:
    heads = {
        n.split(".")[1] for e in exprs if e is not None for n in e.names if n.startswith("state.")
    }
    return [spec.peers[h] for h in sorted(heads) if h in spec.peers and h != spec.name]


def _peer_assignments(peers: list[PeerInfo]) -> Iterator[dict[str, Any]]:
    for combo in itertools.product(*(p.states for p in peers)):
        known: dict[str, Any] = {}
        for peer, state in zip(peers, combo, strict=True):
            known.update(state_names(peer, state))
        yield known


def plan_step(spec: MachineSpec, edge: Edge) -> Step:
    """The context, event values and calendar facts that take exactly ``edge``."""
    t = edge.transition
    before = [o for o in spec.candidates(edge.source, t.trigger) if o.order_key < t.order_key]
    invariants = [i.expr for i in spec.states[t.dest].invariants]
    exprs = [t.when, *(o.when for o in before), *invariants]
    base = {**spec.guard_params, **state_names(spec.peer_info, edge.source)}
    for peers, timed_too in itertools.product(
        _peer_assignments(_peers_read(spec, exprs)), (True, False)
    ):
        known = {**base, **peers}
        parts = [analyse(t.when, spec.vocabulary, known)]
        parts += [
            negate(analyse(o.when, spec.vocabulary, known))
            for o in before
            if timed_too or not o.timed
        ]
        parts += [analyse(e, spec.vocabulary, known) for e in invariants]
        for assignment in witness(conjoin(*parts), spec.vocabulary):
            if _verified(t, before, invariants, known, assignment):
                step = _step(edge, peers, assignment)
                step.known = {**known, **assignment}
                return step
    raise PathFailed(f"{spec.name}: no context found that takes {t.where} from '{edge.source}'")


def _step(edge: Edge, peers: Mapping[str, Any], assignment: Mapping[str, Any]) -> Step:
    step = Step(edge, context=dict(peers))
    for name, value in assignment.items():
        if name.startswith("event."):
            step.values[name[len("event.") :]] = value
        elif name.startswith("calendar."):
            step.calendar[name[len("calendar.") :]] = value
        else:
            step.context[name] = value
    return step


def _verified(
    t: TransitionSpec,
    before: list[TransitionSpec],
    invariants: list[Any],
    known: Mapping[str, Any],
    assignment: Mapping[str, Any],
) -> bool:
    ctx = _Ctx({**known, **assignment})
    if t.when is not None and t.when.evaluate(ctx) is not True:
        return False
    if any(o.when is None or o.when.evaluate(ctx) is True for o in before if not o.timed):
        return False
    return all(e.evaluate(ctx) is True for e in invariants)


# -- driving a runner ------------------------------------------------------------------------


@dataclass
class _World:
    context: dict[str, Any] = field(default_factory=dict)

    def __call__(self) -> Mapping[str, Any]:
        return self.context


_BREAKS: tuple[tuple[time, time] | None, ...] = (
    None,
    *((time(h, 0), time(h + 1, 30)) for h in range(10, 14)),
)


def _at_instant(
    runner: MachineRunner, calendar: FakeCalendar, t: TransitionSpec, others: list[TransitionSpec]
) -> int:
    """The first instant after the state was entered when ``t``'s at: is crossed alone.

    The session's hours are the planner's to choose: its close and whether it has a break
    (``break`` and ``resume`` exist only on a split session)."""
    assert t.at is not None
    entered = runner._entered_at_ns
    start = max(entered, runner.clock.now_ns())
    closes = [calendar.close] + [time(h, m) for h in range(9, 24) for m in (0, 30)]
    for day_offset, brk, close in itertools.product(range(3), _BREAKS, closes):
        day = (runner.clock.now() + timedelta(days=day_offset)).astimezone(IST).date()
        if close <= calendar.open or (brk is not None and not calendar.open < brk[0] < close):
            continue
        if brk is not None and brk[1] >= close:
            continue
        trial = FakeCalendar(calendar.is_session, calendar.hours_known, calendar.open, close, brk)
        target = next((x for x in t.at.resolve_all_ns(day, trial) if x > entered), None)
        if target is None or target < start:
            continue
        crossed = [
            o
            for o in others
            if o.at is not None
            and any(entered < x <= target for x in o.at.resolve_all_ns(day, trial))
        ]
        if not crossed:
            calendar.close = close
            calendar.brk = brk
            return target
    raise PathFailed(f"no day and session hours reach {t.where} before the transitions ahead of it")


def _move_clock(runner: MachineRunner, clock: SimClock, calendar: FakeCalendar, step: Step) -> None:
    t = step.edge.transition
    if t.after is not None:
        clock.set(max(clock.now_ns(), runner.entered_ns + t.after.ns))
    elif t.at is not None:
        others = [
            o
            for o in runner.spec.candidates(step.edge.source, TICK)
            if o.order_key < t.order_key and step.holds(o)
        ]
        clock.set(_at_instant(runner, calendar, t, others))
        runner.refresh_calendar()


def run_path(spec: MachineSpec, path: tuple[Edge, ...]) -> list[MachineEvent]:
    """Drive a fresh runner along ``path``; PathFailed when a step does not do its edge."""
    clock = SimClock(_START)
    calendar = FakeCalendar()
    world = _World()
    events: list[MachineEvent] = []
    runner = MachineRunner(
        spec,
        clock=clock,
        context=world,
        actions=RecordingSink(),
        listener=events.append,
        calendar=calendar,
        strict=True,
    )
    for step in (plan_step(spec, edge) for edge in path):
        t = step.edge.transition
        calendar.is_session = bool(step.calendar.get("is_session", True))
        calendar.hours_known = bool(step.calendar.get("hours_known", True))
        calendar.close = time(15, 30)
        calendar.brk = None
        runner.refresh_calendar()
        world.context = dict(step.context)
        _move_clock(runner, clock, calendar, step)
        if runner.state != step.edge.source:
            raise PathFailed(
                f"{spec.name}: expected to be in '{step.edge.source}', was '{runner.state}'"
            )
        seen = len(events)
        taken = (
            runner.tick(cascade=False)
            if t.trigger == TICK
            else [runner.send(t.trigger, **step.values)]
        )
        _check(spec, step, taken[0] if taken else None, events[seen:])
    return events


def _check(
    spec: MachineSpec, step: Step, taken: TransitionTaken | None, new: list[MachineEvent]
) -> None:
    t = step.edge.transition
    if taken is None or taken.transition != t.name or taken.source != step.edge.source:
        got = "nothing" if taken is None else f"{taken.transition} from {taken.source}"
        raise PathFailed(
            f"{spec.name}: {t.where} from '{step.edge.source}' was expected, "
            f"{got} was taken (context {step.context}, values {step.values})"
        )
    emergencies = [e for e in new if isinstance(e, EmergencyRaised)]
    if emergencies:
        raise PathFailed(f"{spec.name}: emergency after {t.where}: {emergencies[0].message}")


def all_paths(spec: MachineSpec) -> dict[str, tuple[Edge, ...]]:
    """Named paths: 'state:NAME' to each state and 'edge:SOURCE>TRANSITION' to each edge."""
    graph = MachineGraph(spec)
    by_index = {t.index: t for t in spec.transitions}
    out = {f"state:{s}": p for s, p in sorted(graph.paths.items())}
    for (source, index), path in sorted(graph.edge_paths().items()):
        out[f"edge:{source}>{by_index[index].name}"] = path
    return out
