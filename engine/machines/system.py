"""Several machines stepping together, each one's state readable by the others' guards.

The four shipped machines form one system: the position machine's ``enter`` is enabled
only when ``state.session.entries_allowed``, ``state.breakers.entries_allowed`` and
``state.killswitch.entries_allowed`` all hold. The system is the ``RunnerHost`` of its
runners: when one takes a transition it publishes the new state (``state.NAME`` and
``state.NAME.TAG``) to every other runner, checks the invariants of *every* machine (a
late fill that opens a position while the kill switch is halted is caught on the position
machine's transition), emits the event, and only then hands the requested actions to the
one action sink, which queues them for after the step.

Two ways to step it:

- ``tick()`` evaluates every tick transition of every machine, in the order given (put
  the kill switch and the breakers first), and repeats until a whole pass takes nothing;
- ``touch(name)`` / ``wake(now)`` / ``next_deadline()``: the runtime's way. It touches the
  names it changed, wakes the system when something is pending or a deadline passed, and
  only the transitions whose inputs changed or whose time came are evaluated.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from engine.clock import Clock
from engine.machines.events import (
    ActionRequested,
    ActionSink,
    EmergencyRaised,
    Listener,
    MachineEvent,
    TransitionTaken,
)
from engine.machines.runner import MAX_CASCADE, ContextProvider, MachineRunner
from engine.machines.spec import MachineSpec
from engine.machines.timing import SessionSource
from engine.machines.vocabulary import state_names
from engine.model.market import to_ns

__all__ = ["MachineSystem"]


class MachineSystem:
    """Runners for several machines on one clock; see the module docstring."""

    def __init__(
        self,
        specs: Iterable[MachineSpec],
        *,
        clock: Clock,
        context: ContextProvider | None = None,
        facts: Mapping[str, Any] | None = None,
        actions: ActionSink | None = None,
        listener: Listener | None = None,
        calendar: SessionSource | None = None,
        states: Mapping[str, str] | None = None,
        strict: bool = False,
        backend: str = "table",
    ) -> None:
        self.clock = clock
        self._sink = actions
        self._listener = listener
        self._common: dict[str, Any] = {
            "clock": clock,
            "actions": actions,
            "listener": listener,
            "calendar": calendar,
            "strict": strict,
            "backend": backend,
        }
        self._context = context
        self._facts = facts
        self.runners: dict[str, MachineRunner] = {}
        self._attached: dict[str, MachineRunner] = {}
        self._order: list[MachineRunner] = []
        self._watchers: dict[str, list[MachineRunner]] = {}
        for spec in specs:
            if spec.name in self.runners:
                raise ValueError(f"machine '{spec.name}' is in the system twice")
            start = (states or {}).get(spec.name)
            self.runners[spec.name] = self._runner(spec, spec.name, start)
        for runner in self.runners.values():
            self.published(runner)

    def _runner(
        self,
        spec: MachineSpec,
        name: str,
        state: str | None,
        context: ContextProvider | None = None,
        facts: Mapping[str, Any] | None = None,
    ) -> MachineRunner:
        if context is None and facts is None:
            context, facts = self._context, self._facts
        runner = MachineRunner(
            spec,
            context=context,
            facts=facts if context is None else None,
            state=state,
            name=name,
            host=self,
            **self._common,
        )
        for other in self._order:  # what the others already are
            if other.name in self.runners:
                runner._ctx.update(state_names(other.spec.peer_info, other.state))
        self._order.append(runner)
        for watched in runner.watched_names:
            self._watchers.setdefault(watched, []).append(runner)
        return runner

    # -- access ----------------------------------------------------------------------------
    def __getitem__(self, name: str) -> MachineRunner:
        return self.runners.get(name) or self._attached[name]

    def __iter__(self) -> Iterator[MachineRunner]:
        return iter(self._order)

    @property
    def states(self) -> dict[str, str]:
        return {r.name: r.state for r in self._order}

    def attach(
        self,
        spec: MachineSpec,
        instance: str,
        *,
        context: ContextProvider | None = None,
        facts: Mapping[str, Any] | None = None,
        state: str | None = None,
    ) -> MachineRunner:
        """Another instance of a machine (one position machine per rule and underlying).

        It reads every machine's state like the others, but its own state is not
        published as ``state.NAME`` (several instances share one name). ``context`` or
        ``facts`` give it its own view (its position's names over the shared facts).
        """
        if instance in self.runners or instance in self._attached:
            raise ValueError(f"an instance named '{instance}' is already in the system")
        runner = self._runner(spec, instance, state, context, facts)
        self._attached[instance] = runner
        self.published(runner)
        return runner

    # -- stepping ----------------------------------------------------------------------------
    def send(self, machine: str, trigger: str, **values: Any) -> TransitionTaken | None:
        """Send one trigger to one machine (or attached instance)."""
        return self[machine].send(trigger, **values)

    def tick(self, now: datetime | int | None = None) -> list[TransitionTaken]:
        """Tick every machine, in order, until a whole pass takes no transition."""
        ns = self.clock.now_ns() if now is None else (now if isinstance(now, int) else to_ns(now))
        taken: list[TransitionTaken] = []
        for _ in range(MAX_CASCADE):
            step = [t for r in self._order for t in r.tick(ns)]
            if not step:
                break
            taken += step
        return taken

    def touch(self, name: str) -> bool:
        """A name the machines may read changed; True when some machine must look again."""
        hit = False
        for runner in self._watchers.get(name, ()):
            if runner.touch(name):
                hit = True
        return hit

    def wake(self, now: int, *, due: bool = False) -> list[TransitionTaken]:
        """Step every machine with something pending (with ``due``, also every machine
        whose deadline has passed), until nothing is left."""
        taken: list[TransitionTaken] = []
        for _ in range(MAX_CASCADE):
            step: list[TransitionTaken] = []
            for runner in self._order:
                if runner._dirty or (due and _due(runner, now)):
                    step += runner.wake(now)
            if not step:
                break
            taken += step
            due = False  # a transition marks its machine dirty: the next pass sees it
        return taken

    def next_deadline(self) -> int | None:
        """The earliest deadline of any machine's current state (None: none today)."""
        best: int | None = None
        for runner in self._order:
            due = runner.next_deadline()
            if due is not None and (best is None or due < best):
                best = due
        return best

    def check_invariants(self) -> list[Any]:
        return [e for r in self._order for e in r.check_invariants()]

    # -- RunnerHost ------------------------------------------------------------------------
    def published(self, runner: MachineRunner) -> None:
        entries = state_names(runner.spec.peer_info, runner.state)
        if runner.name not in self.runners:  # an attached instance: only it sees itself
            runner._ctx.update(entries)
            return
        for other in self._order:
            if other is runner or other.spec.name != runner.spec.name:
                other._ctx.update(entries)
                if other is not runner:
                    for key in entries:
                        other.touch(key)

    def transition_done(
        self, runner: MachineRunner, event: TransitionTaken, actions: list[ActionRequested]
    ) -> None:
        runner.check_invariants(refresh=False)
        for other in self._order:
            if other is not runner:
                other.check_invariants()
        self.emit(event)
        for action in actions:
            self.emit(action)
            if self._sink is not None:
                self._sink.request(action)

    def emit(self, event: MachineEvent) -> None:
        if self._listener is not None:
            self._listener(event)

    def escalate(self, emergency: EmergencyRaised) -> None:
        if self._sink is not None:
            self._sink.escalate(emergency)


def _due(runner: MachineRunner, now: int) -> bool:
    due = runner.next_deadline()
    return due is not None and due <= now
