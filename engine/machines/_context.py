"""What a runner's guards read: its own names layered over the runtime's context.

The runner keeps one dict per machine: parameters, ``state.*``, ``calendar.*`` and
``event.*`` live in it; of the runtime's context, only the names some guard or invariant
of the machine reads are copied in at each step, so a guard's every read is one plain
dictionary lookup and the runtime's (possibly large) context is never copied whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from engine.expr import Missing
from engine.machines.actions import ActionCall
from engine.machines.spec import MachineSpec

__all__ = [
    "EMPTY",
    "NOT_PROVIDED",
    "GuardContext",
    "action_rows",
    "needs_calendar",
    "runtime_reads",
]

NOT_PROVIDED = Missing("not provided by the runtime's context")
EMPTY: Mapping[str, Any] = MappingProxyType({})
ActionRow = tuple[str, Mapping[str, Any], str]


class GuardContext(dict):  # type: ignore[type-arg]
    """What guards read: the runner's own names plus the runtime's names they use.

    Only the runtime names some guard or invariant of the machine reads are copied in at
    each step (``reads``); a name the runtime does not provide reads as missing.
    """

    __slots__ = ("provided", "reads")

    def __init__(self, reads: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.provided: Mapping[str, Any] = EMPTY
        self.reads = reads

    def load(self, provided: Mapping[str, Any]) -> None:
        self.provided = provided
        get = provided.get
        for key in self.reads:
            self[key] = get(key, NOT_PROVIDED)

    def __missing__(self, key: str) -> Any:
        return self.provided.get(key, NOT_PROVIDED)


def action_rows(calls: tuple[ActionCall, ...], cause: str) -> tuple[ActionRow, ...]:
    """Actions ready to emit: name, read-only arguments, cause."""
    return tuple((c.name, MappingProxyType(dict(c.args)), cause) for c in calls)


def runtime_reads(spec: MachineSpec) -> tuple[str, ...]:
    """The runtime names the machine's guards and invariants read (not its own names)."""
    own = ("params.", "state.", "event.", "calendar.")
    names: set[str] = set()
    for t in spec.transitions:
        if t.when is not None:
            names.update(t.when.names)
    for state in spec.states.values():
        for inv in state.invariants:
            names.update(inv.expr.names)
    return tuple(sorted(n for n in names if not n.startswith(own)))


def needs_calendar(spec: MachineSpec) -> bool:
    """Whether the machine reads calendar.* or has session-relative at: times."""
    for t in spec.transitions:
        if t.at is not None and t.at.relative:
            return True
        if t.when is not None and any(n.startswith("calendar.") for n in t.when.names):
            return True
    return any(
        n.startswith("calendar.")
        for s in spec.states.values()
        for i in s.invariants
        for n in i.expr.names
    )
