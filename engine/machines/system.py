"""Several machines stepping together, each one's state readable by the others' guards.

The four shipped machines form one system: the position machine's ``enter`` is enabled
only when ``state.session.entries_allowed``, ``state.breakers.entries_allowed`` and
``state.killswitch.entries_allowed`` all hold. The system shares one clock, one action
sink and one listener, publishes every machine's state (``state.NAME`` and
``state.NAME.TAG``) to every runner the moment it changes, and after any transition
checks the invariants of *every* machine (a late fill that opens a position while the
kill switch is halted is caught on the position machine's transition).

``tick`` steps the machines in the order given (put the kill switch and the breakers
first), and repeats until a whole pass takes nothing, so a change in one machine reaches
the guards of the machines before it within the same tick.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from engine.clock import Clock
from engine.machines.events import ActionSink, Listener, TransitionTaken
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
        actions: ActionSink | None = None,
        listener: Listener | None = None,
        calendar: SessionSource | None = None,
        states: Mapping[str, str] | None = None,
        strict: bool = False,
        backend: str = "table",
    ) -> None:
        self.clock = clock
        self._common: dict[str, Any] = {
            "clock": clock,
            "actions": actions,
            "listener": listener,
            "calendar": calendar,
            "strict": strict,
            "backend": backend,
        }
        self._context = context
        self.runners: dict[str, MachineRunner] = {}
        self._attached: dict[str, MachineRunner] = {}
        for spec in specs:
            if spec.name in self.runners:
                raise ValueError(f"machine '{spec.name}' is in the system twice")
            start = (states or {}).get(spec.name)
            self.runners[spec.name] = self._runner(spec, spec.name, context, start)
        for runner in self.runners.values():
            self._publish(runner)

    def _runner(
        self, spec: MachineSpec, name: str, context: ContextProvider | None, state: str | None
    ) -> MachineRunner:
        runner = MachineRunner(spec, context=context, state=state, name=name, **self._common)
        runner._publish = self._publish
        runner._after = self._after_transition
        for other in self.runners.values():  # what the others already are
            runner._ctx.update(state_names(other.spec.peer_info, other.state))
        return runner

    # -- access ----------------------------------------------------------------------------
    def __getitem__(self, name: str) -> MachineRunner:
        return self.runners.get(name) or self._attached[name]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter([*self.runners.values(), *self._attached.values()])

    @property
    def states(self) -> dict[str, str]:
        return {name: r.state for name, r in [*self.runners.items(), *self._attached.items()]}

    def attach(
        self,
        spec: MachineSpec,
        instance: str,
        *,
        context: ContextProvider | None = None,
        state: str | None = None,
    ) -> MachineRunner:
        """Another instance of a machine (one position machine per underlying).

        It reads every machine's state like the others, but its own state is not
        published as ``state.NAME`` (several instances share one name).
        """
        if instance in self.runners or instance in self._attached:
            raise ValueError(f"an instance named '{instance}' is already in the system")
        runner = self._runner(spec, instance, context or self._context, state)
        self._attached[instance] = runner
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
            step = [t for r in self for t in r.tick(ns)]
            if not step:
                break
            taken += step
        return taken

    def check_invariants(self) -> list[Any]:
        return [e for r in self for e in r.check_invariants()]

    # -- wiring ------------------------------------------------------------------------------
    def _publish(self, runner: MachineRunner) -> None:
        entries = state_names(runner.spec.peer_info, runner.state)
        if runner.name not in self.runners:  # an attached instance: only it sees itself
            runner._ctx.update(entries)
            return
        for other in self:
            if other is runner or other.spec.name != runner.spec.name:
                other._ctx.update(entries)

    def _after_transition(self, runner: MachineRunner) -> None:
        runner.check_invariants(refresh=False)
        for other in self:
            if other is not runner:
                other.check_invariants()
