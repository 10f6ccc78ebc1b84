"""A machine file as checked values: what the loader returns and everything else reads.

``MachineSpec`` is built only from a file that passed the schema and every semantic
check, so its states, transitions, guards and actions are known to be consistent: every
source and destination exists, every guard compiled against the vocabulary, every action
is in the registry. Runners, static checks, safety properties and diagrams all read this
one structure; none of them re-reads the YAML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from engine.diagnostics import Diagnostic
from engine.expr import Expr, Vocabulary
from engine.machines.actions import ActionCall
from engine.machines.timing import ClockTime, Duration
from engine.machines.vocabulary import PeerInfo
from engine.spec._yaml import Path_, SourceMap

__all__ = [
    "TICK",
    "Invariant",
    "MachineSpec",
    "Param",
    "StateSpec",
    "TransitionSpec",
    "TriggerSpec",
]

#: The engine clock's trigger: sent on every update; after:/at: transitions run on it.
TICK = "tick"


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter: its value and what kind of value it is."""

    name: str
    value: Any
    kind: str  # "number" | "bool" | "string" | "duration" | "time"
    duration: Duration | None = None
    clock: ClockTime | None = None

    @property
    def guard_value(self) -> Any:
        """The value guards read as params.NAME (durations in minutes, times as time)."""
        if self.duration is not None:
            return self.duration.minutes
        if self.clock is not None and self.clock.clock is not None:
            return self.clock.clock
        return self.value


@dataclass(frozen=True, slots=True)
class TriggerSpec:
    """One event the machine accepts from outside."""

    name: str
    doc: str = ""
    role: str | None = None  # kill | resume | entry | exit
    values: tuple[str, ...] = ()  # event value names it carries (event.NAME)
    path: Path_ = ()


@dataclass(frozen=True, slots=True)
class Invariant:
    """A condition that must hold while the machine is in a state."""

    source: str
    expr: Expr
    path: Path_ = ()


@dataclass(frozen=True, slots=True)
class StateSpec:
    name: str
    description: str = ""
    final: bool = False
    tags: frozenset[str] = frozenset()
    on_enter: tuple[ActionCall, ...] = ()
    on_exit: tuple[ActionCall, ...] = ()
    invariants: tuple[Invariant, ...] = ()
    ignore: frozenset[str] = frozenset()
    path: Path_ = ()


@dataclass(frozen=True, slots=True)
class TransitionSpec:
    """One declared transition. ``index`` is its position in the file's list."""

    index: int
    name: str
    trigger: str
    sources: tuple[str, ...]
    dest: str
    when: Expr | None = None
    after: Duration | None = None
    at: ClockTime | None = None
    then: tuple[ActionCall, ...] = ()
    priority: int | None = None
    description: str = ""
    path: Path_ = ()

    @property
    def where(self) -> str:
        return f"transitions[{self.index}] '{self.name}'"

    @property
    def timed(self) -> bool:
        return self.after is not None or self.at is not None

    @property
    def order_key(self) -> tuple[int, int]:
        """Evaluation order among transitions from one state on one trigger."""
        return (self.priority if self.priority is not None else 1_000_000, self.index)

    def label(self) -> str:
        """A short description of what fires it: ``kill``, ``after 30m``, ``at close - 20m``."""
        if self.after is not None:
            head = f"after {self.after.text}"
        elif self.at is not None:
            head = f"at {self.at.text}"
        else:
            head = self.trigger
        return head


@dataclass
class MachineSpec:
    """A loaded, checked machine file."""

    name: str
    file: str
    initial: str
    states: dict[str, StateSpec]
    transitions: tuple[TransitionSpec, ...]
    triggers: dict[str, TriggerSpec]
    params: dict[str, Param]
    vocabulary: Vocabulary
    description: str = ""
    requires: tuple[str, ...] = ()
    ignore: frozenset[str] = frozenset()
    peers: dict[str, PeerInfo] = field(default_factory=dict)
    warnings: list[Diagnostic] = field(default_factory=list)
    source: SourceMap | None = field(default=None, repr=False)

    def diagnostic(
        self,
        path: Path_,
        code: str,
        message: str,
        *,
        where: str = "",
        hint: str = "",
        on_key: bool = False,
        severity: str = "error",
    ) -> Diagnostic:
        """A diagnostic at path in this machine's file (line 1 when built without a file)."""
        if self.source is None:
            return Diagnostic(self.file, 1, 1, code, message, where, hint, severity=severity)
        return self.source.diagnostic(
            path, code, message, where=where, hint=hint, on_key=on_key, severity=severity
        )

    #: Required machines, fully loaded (for the product-state safety checks and systems).
    required: dict[str, MachineSpec] = field(default_factory=dict, repr=False)

    @cached_property
    def table(self) -> Mapping[str, Mapping[str, tuple[TransitionSpec, ...]]]:
        """state -> trigger -> transitions in evaluation order (priority, then file order)."""
        out: dict[str, dict[str, list[TransitionSpec]]] = {s: {} for s in self.states}
        for t in self.transitions:
            for src in t.sources:
                out[src].setdefault(t.trigger, []).append(t)
        return {
            s: {trig: tuple(sorted(ts, key=lambda t: t.order_key)) for trig, ts in by.items()}
            for s, by in out.items()
        }

    @property
    def triggers_used(self) -> frozenset[str]:
        return frozenset(t.trigger for t in self.transitions)

    def candidates(self, state: str, trigger: str) -> tuple[TransitionSpec, ...]:
        return self.table.get(state, {}).get(trigger, ())

    def ignorable(self, state: str, trigger: str) -> bool:
        """A trigger the state may receive without a transition (recorded, not an error)."""
        return trigger == TICK or trigger in self.ignore or trigger in self.states[state].ignore

    def roles(self, role: str) -> tuple[str, ...]:
        """The declared triggers with this role, in file order."""
        return tuple(t.name for t in self.triggers.values() if t.role == role)

    def tagged(self, tag: str) -> tuple[str, ...]:
        """The states carrying ``tag``, in file order."""
        return tuple(s.name for s in self.states.values() if tag in s.tags)

    @property
    def peer_info(self) -> PeerInfo:
        """This machine as other machines' guards see it."""
        tags: dict[str, set[str]] = {}
        for state in self.states.values():
            for tag in state.tags:
                tags.setdefault(tag, set()).add(state.name)
        return PeerInfo(
            self.name, tuple(self.states), {k: frozenset(v) for k, v in sorted(tags.items())}
        )

    @property
    def guard_params(self) -> dict[str, Any]:
        """``params.NAME`` -> value, as guards read them."""
        return {f"params.{p.name}": p.guard_value for p in self.params.values()}
