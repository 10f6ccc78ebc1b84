"""MachineSpec -> ``transitions.Machine``: the library's machine is the reference semantics.

The machine is built with ``auto_transitions=False`` (no ``to_<state>()`` shortcuts: a
state is reached only by a declared transition) and ``ignore_invalid_triggers=False``;
transitions from one state on one trigger are added in evaluation order (``priority``,
then file order), so the library's "first transition whose conditions pass" is exactly
our rule. Guards and timing are supplied by the caller as condition callables.

The runner steps its own compiled table on the hot path (transitions' own step costs
more than the whole budget of a step here); ``MachineRunner(..., backend="transitions")``
steps through the machine built here, and a property test proves both take the same
transitions on random event sequences.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from transitions import Machine

from engine.machines.spec import MachineSpec, TransitionSpec

__all__ = [
    "Condition",
    "ReferenceBackend",
    "build_machine",
    "machine_config",
    "ordered_transitions",
]

Condition = Callable[[], bool]


def ordered_transitions(spec: MachineSpec) -> list[TransitionSpec]:
    """Transitions in the order the library must try them (priority, then file order)."""
    return sorted(spec.transitions, key=lambda t: t.order_key)


def machine_config(spec: MachineSpec, initial: str | None = None) -> dict[str, Any]:
    """Keyword arguments for a ``transitions.Machine`` (without model or callbacks)."""
    return {
        "states": [{"name": s.name, "final": s.final} for s in spec.states.values()],
        "initial": initial or spec.initial,
        "auto_transitions": False,
        "ignore_invalid_triggers": False,
        "send_event": False,
        "name": spec.name,
    }


class _Model:
    """The object whose ``state`` the library changes."""

    state: str


def build_machine(
    spec: MachineSpec,
    *,
    condition_for: Callable[[TransitionSpec], Condition] | None = None,
    on_taken: Callable[[TransitionSpec], Callable[[], None]] | None = None,
    initial: str | None = None,
    model: Any = None,
) -> tuple[Machine, Any]:
    """The library machine and its model; conditions and callbacks come from the caller."""
    model = model if model is not None else _Model()
    machine = Machine(model=model, **machine_config(spec, initial))
    for t in ordered_transitions(spec):
        machine.add_transition(
            trigger=t.trigger,
            source=list(t.sources),
            dest=t.dest,
            conditions=[condition_for(t)] if condition_for is not None else None,
            before=[on_taken(t)] if on_taken is not None else None,
        )
    return machine, model


class ReferenceBackend:
    """Steps through the ``transitions`` library's machine (the reference semantics)."""

    def __init__(self, runner: Any) -> None:
        self.runner = runner
        self.chosen: tuple[Any, ...] | None = None
        rows = {
            row[0].index: row for by in runner._table.values() for ts in by.values() for row in ts
        }

        def condition_for(t: TransitionSpec) -> Callable[[], bool]:
            return lambda: runner._enabled(rows[t.index])

        def on_taken(t: TransitionSpec) -> Callable[[], None]:
            def record() -> None:
                self.chosen = rows[t.index]

            return record

        self.machine, self.model = build_machine(
            runner.spec, condition_for=condition_for, on_taken=on_taken, initial=runner.state
        )

    def fire(self, trigger: str) -> tuple[Any, ...] | None:
        self.chosen = None
        self.model.trigger(trigger)
        assert self.chosen is None or self.model.state == self.chosen[0].dest
        return self.chosen
