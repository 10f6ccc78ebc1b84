"""What running machines report: events (past tense) and the commands they request.

- ``TransitionTaken``: machine, transition, from, to, trigger, every name the guard read
  with its value, the time. The journal persists these; ``engine diagram --journal``
  draws them; ``MachineRunner.explain(event)`` rebuilds the guard's full trace from the
  values read (a guard reads nothing else), so the step itself never pays for tracing.
- ``TriggerIgnored``: a trigger a state received and did not act on (no guard held, or
  the state ignores it), so "why did the kill switch not move?" has an answer.
- ``ActionRequested``: a command for the runtime (``exit_all``, ``notify`` ...). Machines
  never act; the action sink does.
- ``EmergencyRaised``: a state invariant failed (or the machine could not step safely);
  the sink is told to escalate, and it is never silently dropped.

Times are ``ts_event``: epoch nanoseconds (UTC) on the engine clock. Events are named
tuples: immutable like frozen dataclasses, and five times cheaper to create, which
matters on a path with a 20-microsecond budget per step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, time
from typing import Any, NamedTuple, Protocol

from engine.expr import Missing
from engine.model.market import ns_to_datetime

__all__ = [
    "ActionRequested",
    "ActionSink",
    "EmergencyRaised",
    "Listener",
    "MachineEvent",
    "RecordingSink",
    "TransitionTaken",
    "TriggerIgnored",
    "jsonable",
]


def jsonable(value: Any) -> Any:
    """A value as JSON can hold it: times as 'HH:MM[:SS]', missing as {'missing': reason}."""
    if type(value) is Missing:
        return {"missing": value.reason}
    if isinstance(value, time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def _record(kind: str, ts_event: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": kind,
        "ts_event": ts_event,
        "time": ns_to_datetime(ts_event).isoformat(),
        **jsonable(body),
    }


_NONE: Mapping[str, Any] = {}


class TransitionTaken(NamedTuple):
    """A machine moved from ``source`` to ``dest`` (the same state for a re-entry)."""

    machine: str
    transition: str
    source: str
    dest: str
    trigger: str
    ts_event: int
    guard: Mapping[str, Any] = _NONE  # when, value, reads (every name it read), timing
    values: Mapping[str, Any] = _NONE  # sent with the trigger
    kind = "transition"

    def to_record(self) -> dict[str, Any]:
        return _record(
            self.kind,
            self.ts_event,
            {
                "machine": self.machine,
                "transition": self.transition,
                "source": self.source,
                "dest": self.dest,
                "trigger": self.trigger,
                "guard": dict(self.guard),
                "values": dict(self.values),
            },
        )


class TriggerIgnored(NamedTuple):
    """A trigger reached a state and nothing happened, with the reason."""

    machine: str
    state: str
    trigger: str
    reason: str  # "no guard held" | "ignored in this state"
    ts_event: int
    values: Mapping[str, Any] = _NONE
    kind = "trigger_ignored"

    def to_record(self) -> dict[str, Any]:
        return _record(
            self.kind,
            self.ts_event,
            {
                "machine": self.machine,
                "state": self.state,
                "trigger": self.trigger,
                "reason": self.reason,
                "values": dict(self.values),
            },
        )


class ActionRequested(NamedTuple):
    """A command for the runtime: do ``action`` with ``args``, because of ``cause``."""

    machine: str
    action: str
    args: Mapping[str, Any]
    cause: str  # "transition stop_out" | "enter open" | "exit flat"
    ts_event: int
    kind = "action"

    def to_record(self) -> dict[str, Any]:
        return _record(
            self.kind,
            self.ts_event,
            {
                "machine": self.machine,
                "action": self.action,
                "args": dict(self.args),
                "cause": self.cause,
            },
        )


class EmergencyRaised(NamedTuple):
    """Something that must never happen did: stop taking risk and tell the operator."""

    machine: str
    state: str
    code: str  # INVARIANT_VIOLATED | TICK_CASCADE
    message: str
    ts_event: int
    reads: Mapping[str, Any] = _NONE
    kind = "emergency"

    def to_record(self) -> dict[str, Any]:
        return _record(
            self.kind,
            self.ts_event,
            {
                "machine": self.machine,
                "state": self.state,
                "code": self.code,
                "message": self.message,
                "reads": dict(self.reads),
            },
        )


MachineEvent = TransitionTaken | TriggerIgnored | ActionRequested | EmergencyRaised
Listener = Callable[[MachineEvent], None]


class ActionSink(Protocol):
    """Where machines send commands: the runtime maps them to orders and settings."""

    def request(self, action: ActionRequested) -> None:
        """Carry out (or queue) an action a transition requested."""
        ...

    def escalate(self, emergency: EmergencyRaised) -> None:
        """An emergency: stop taking risk now and alert the operator."""
        ...


class RecordingSink:
    """An action sink that only records (tests, dry runs, ``engine explain``)."""

    def __init__(self) -> None:
        self.actions: list[ActionRequested] = []
        self.emergencies: list[EmergencyRaised] = []

    def request(self, action: ActionRequested) -> None:
        self.actions.append(action)

    def escalate(self, emergency: EmergencyRaised) -> None:
        self.emergencies.append(emergency)

    def names(self) -> list[str]:
        return [a.action for a in self.actions]
