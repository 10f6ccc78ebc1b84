"""Stepping one machine: the API the runtime drives.

``MachineRunner(spec, clock=..., context=..., actions=..., listener=...)``:

- ``send(trigger, **values)``: an event. The first transition (priority, then file
  order) out of the current state on that trigger whose timing and guard hold is taken
  and returned as a ``TransitionTaken``. None enabled: ``None`` and a ``TriggerIgnored``
  event. A trigger the state has no transition for raises ``InvalidTransition``
  (``"open -> fill_entry"``) unless the state or machine lists it under ``ignore:``.
- ``tick(now=None)``: the clock's trigger. Takes ``tick`` transitions, including
  ``after:`` (time in state) and ``at:`` (time of the trading day), repeatedly until none
  is enabled, so an engine started at 11:00 catches up through the morning's stages.
- ``state``; events go to the listener; actions go to the action sink as commands.

After every transition the invariants of the state are checked; a violation is an
``EmergencyRaised`` event and the sink is told to escalate (``strict=True``, or no sink,
also raises ``InvariantViolated``).

Guards run on the fast path (``expr.evaluate``) against a context that layers the
runner's own names (params, state.*, calendar.*, event.*) over the runtime's context
without copying it; the trace is computed only for the transition actually taken.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from loguru import logger

from engine.clock import Clock
from engine.errors import CalendarError, InvalidTransition, InvariantViolated
from engine.expr import Missing, Trace
from engine.machines.actions import ActionCall
from engine.machines.events import (
    ActionRequested,
    ActionSink,
    EmergencyRaised,
    Listener,
    MachineEvent,
    TransitionTaken,
    TriggerIgnored,
)
from engine.machines.spec import TICK, MachineSpec, TransitionSpec
from engine.machines.timing import ClockTime, SessionSource
from engine.machines.vocabulary import state_names
from engine.model.market import IST_OFFSET_NS, NANOS, ist_date_of, to_ns
from engine.timeutil import IST

__all__ = ["MAX_CASCADE", "ContextProvider", "MachineRunner"]

log = logger.bind(category="machines")

#: Most transitions one tick may take before it is treated as a loop (an emergency).
MAX_CASCADE = 32
_DAY_NS = 86_400 * NANOS
ContextProvider = Callable[[], Mapping[str, Any]]
_NOT_PROVIDED = Missing("not provided by the runtime's context")
_NOT_SENT = Missing("not sent with this trigger")
_EMPTY: Mapping[str, Any] = {}


class _Context(dict):  # type: ignore[type-arg]
    """What guards read: the runner's own names plus the runtime's names they use.

    Only the runtime names some guard or invariant of the machine reads are copied in at
    each step (``reads``); a name the runtime does not provide reads as missing.
    """

    __slots__ = ("provided", "reads")

    def __init__(self, reads: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.provided: Mapping[str, Any] = _EMPTY
        self.reads = reads

    def load(self, provided: Mapping[str, Any]) -> None:
        self.provided = provided
        get = provided.get
        for key in self.reads:
            self[key] = get(key, _NOT_PROVIDED)

    def __missing__(self, key: str) -> Any:
        return self.provided.get(key, _NOT_PROVIDED)


class MachineRunner:
    """Steps one machine on the engine clock; see the module docstring."""

    def __init__(
        self,
        spec: MachineSpec,
        *,
        clock: Clock,
        context: ContextProvider | None = None,
        actions: ActionSink | None = None,
        listener: Listener | None = None,
        calendar: SessionSource | None = None,
        state: str | None = None,
        name: str | None = None,
        strict: bool = False,
        backend: str = "table",
    ) -> None:
        if state is not None and state not in spec.states:
            raise ValueError(f"{spec.name} has no state '{state}'")
        self.spec = spec
        self.name = name or spec.name
        self.clock = clock
        self.strict = strict or actions is None
        self._provider = context
        self._sink = actions
        self._listener = listener
        self._calendar = calendar
        self._state = state or spec.initial
        now = clock.now_ns()
        self._now_ns = now
        # at: counts from the start of the day for the first state, so a late start catches up
        self._entered_at_ns = now - (now + IST_OFFSET_NS) % _DAY_NS
        self._entered_ns = now
        self._day: date | None = None
        self._day_start_ns = -_DAY_NS  # start of self._day (epoch ns); forces a first load
        self._at_cache: dict[ClockTime, int | None] = {}
        self._violated: set[tuple[str, str]] = set()
        self._ctx = _Context(_runtime_reads(spec))
        self._ctx.update(spec.guard_params)
        self._ctx.load(_EMPTY)
        self._state_entries = {s: state_names(spec.peer_info, s) for s in spec.states}
        self._publish: Callable[[MachineRunner], None] = self._publish_self
        self._after: Callable[[MachineRunner], None] = _own_invariants
        self._needs_calendar = _needs_calendar(spec)
        self._table = self._compile()
        self._ignorable = {s: frozenset(n for n in spec.triggers if spec.ignorable(s, n))
                           for s in spec.states}
        self._events = {t.name: t.values for t in spec.triggers.values()}
        self._on_exit = {n: _calls(s.on_exit, f"exit {n}") for n, s in spec.states.items()}
        self._on_enter = {n: _calls(s.on_enter, f"enter {n}") for n, s in spec.states.items()}
        self._then = {t.index: _calls(t.then, f"transition {t.name}") for t in spec.transitions}
        self._guard_names = {t.index: tuple(sorted(t.when.names)) for t in spec.transitions
                             if t.when is not None}
        self._by_name = {t.name: t for t in spec.transitions}
        self._backend = _TransitionsBackend(self) if backend == "transitions" else None
        if backend not in ("table", "transitions"):
            raise ValueError(f"backend must be 'table' or 'transitions', not {backend!r}")
        self._publish(self)

    # -- public API -----------------------------------------------------------------------
    @property
    def state(self) -> str:
        return self._state

    @property
    def entered_ns(self) -> int:
        """When the current state was entered (epoch ns, engine clock)."""
        return self._entered_ns

    def send(self, trigger: str, **values: Any) -> TransitionTaken | None:
        """Process one event; the transition taken, or None (see the module docstring)."""
        if trigger == TICK:
            taken = self.tick(cascade=False)
            return taken[0] if taken else None
        candidates = self._table[self._state].get(trigger)
        if candidates is None:
            if trigger not in self._ignorable[self._state]:
                raise InvalidTransition(self.name, self._state, trigger)
            self._begin(self.clock.now_ns())
            self._emit(TriggerIgnored(self.name, self._state, trigger, "ignored in this state",
                                      self._now_ns, values))
            return None
        self._begin(self.clock.now_ns())
        self._set_event(trigger, values)
        taken = self._fire(trigger, candidates, values)
        if taken is None:
            self._emit(TriggerIgnored(self.name, self._state, trigger, "no guard held",
                                      self._now_ns, values))
        return taken

    def tick(self, now: datetime | int | None = None, *, cascade: bool = True) -> list[TransitionTaken]:
        """Take every enabled tick transition (at most one when ``cascade`` is False)."""
        ns = self.clock.now_ns() if now is None else (now if isinstance(now, int) else to_ns(now))
        if ns < self._now_ns:
            raise ValueError(f"{self.name}: time went backwards ({ns} < {self._now_ns})")
        self._begin(ns)
        out: list[TransitionTaken] = []
        for _ in range(MAX_CASCADE if cascade else 1):
            candidates = self._table[self._state].get(TICK)
            taken = self._fire(TICK, candidates, _EMPTY) if candidates else None
            if taken is None:
                return out
            out.append(taken)
        if cascade:
            self._emergency("TICK_CASCADE", f"{MAX_CASCADE} transitions in one tick; the "
                            f"machine is looping (last: {out[-1].source} -> {out[-1].dest})", {})
        return out

    def enabled(self, trigger: str) -> list[TransitionSpec]:
        """The transitions that would be taken for ``trigger`` now, first one first."""
        self._begin(self.clock.now_ns())
        return [c[0] for c in self._table[self._state].get(trigger, ()) if self._enabled(c)]

    def explain(self, event: TransitionTaken) -> Trace | None:
        """The full trace of the guard of a transition this machine took (None: no guard)."""
        t = self._by_name[event.transition]
        return None if t.when is None else t.when.trace(dict(event.guard["reads"]))

    def refresh_calendar(self) -> None:
        """Read today's session again at the next step (the calendar was updated)."""
        self._day = None
        self._day_start_ns = -_DAY_NS

    def check_invariants(self, *, refresh: bool = True) -> list[EmergencyRaised]:
        """Check the current state's invariants; emit an emergency for each violated one.

        ``refresh`` reads the runtime's context again first (the default: call this after
        any change the runner did not step on, such as another machine's transition).
        """
        if refresh and self._provider is not None:
            self._ctx.load(self._provider())
        out = []
        for inv in self.spec.states[self._state].invariants:
            key = (self._state, inv.source)
            if inv.expr.evaluate(self._ctx):
                self._violated.discard(key)
                continue
            if key in self._violated:
                continue
            self._violated.add(key)
            reads = dict(inv.expr.trace(self._ctx).reads)
            out.append(self._emergency("INVARIANT_VIOLATED", f"invariant of state "
                                       f"'{self._state}' does not hold: {inv.source}", reads))
            if self.strict:
                raise InvariantViolated(self.name, self._state, inv.source, reads)
        return out

    # -- stepping ---------------------------------------------------------------------------
    def _compile(self) -> dict[str, dict[str, tuple[tuple[Any, ...], ...]]]:
        table: dict[str, dict[str, tuple[tuple[Any, ...], ...]]] = {}
        for state, by_trigger in self.spec.table.items():
            table[state] = {
                trig: tuple(
                    (t, t.when.evaluate if t.when is not None else None,
                     t.after.ns if t.after is not None else None, t.at)
                    for t in ts
                )
                for trig, ts in by_trigger.items()
            }
        return table

    def _begin(self, now_ns: int) -> None:
        self._now_ns = now_ns
        if not self._day_start_ns <= now_ns < self._day_start_ns + _DAY_NS:
            self._new_day(ist_date_of(now_ns))
            self._day_start_ns = now_ns - (now_ns + IST_OFFSET_NS) % _DAY_NS
        if self._provider is not None:
            self._ctx.load(self._provider())

    def _set_event(self, trigger: str, values: Mapping[str, Any]) -> None:
        declared = self._events.get(trigger, ())
        for key in values:
            if key not in declared:
                raise ValueError(f"{self.name}: trigger '{trigger}' carries no value '{key}'; "
                                 f"it carries: {', '.join(declared) or 'nothing'}")
        ctx = self._ctx
        for key in declared:
            ctx["event." + key] = values.get(key, _NOT_SENT)

    def _enabled(self, c: tuple[Any, ...]) -> bool:
        _, guard, after_ns, at = c
        if after_ns is not None and self._now_ns - self._entered_ns < after_ns:
            return False
        if at is not None:
            at_ns = self._at_ns(at)
            if at_ns is None or not (self._entered_at_ns < at_ns <= self._now_ns):
                return False
        return guard is None or bool(guard(self._ctx))

    def _fire(self, trigger: str, candidates: Any, values: Mapping[str, Any]) -> TransitionTaken | None:
        if self._backend is not None:
            chosen = self._backend.fire(trigger)
            return None if chosen is None else self._take(chosen, values)
        ctx, now = self._ctx, self._now_ns
        for c in candidates:  # _enabled, inlined: this loop is the hot path
            _, guard, after_ns, at = c
            if after_ns is not None and now - self._entered_ns < after_ns:
                continue
            if at is not None:
                at_ns = self._at_ns(at)
                if at_ns is None or not self._entered_at_ns < at_ns <= now:
                    continue
            if guard is None or guard(ctx):
                return self._take(c, values)
        return None

    def _take(self, c: tuple[Any, ...], values: Mapping[str, Any]) -> TransitionTaken:
        t: TransitionSpec = c[0]
        source, now = self._state, self._now_ns
        guard: dict[str, Any]
        if t.when is not None:  # the values read; explain() rebuilds the full trace from them
            ctx = self._ctx
            guard = {"when": t.when.source, "value": True,
                     "reads": {n: ctx[n] for n in self._guard_names[t.index]}}
        else:
            guard = {"when": None, "value": True, "reads": _EMPTY}
        entered_at = now
        if t.after is not None:
            guard["after"] = t.after.text
            guard["in_state_s"] = (now - self._entered_ns) / NANOS
        elif t.at is not None:
            entered_at = self._at_ns(t.at) or now  # as scheduled: later at: stages catch up
            guard["at"] = t.at.text
            guard["at_time"] = datetime.fromtimestamp(entered_at / NANOS, IST).strftime("%H:%M:%S")
        self._state = t.dest
        self._entered_ns = now
        self._entered_at_ns = entered_at
        if self._violated:
            self._violated = {k for k in self._violated if k[0] == t.dest}
        self._publish(self)
        event = TransitionTaken(self.name, t.name, source, t.dest, t.trigger, now, guard, values)
        if self._listener is not None:
            self._listener(event)
        for actions in (self._on_exit[source], self._then[t.index], self._on_enter[t.dest]):
            if actions:
                self._actions(actions)
        self._after(self)
        return event

    # -- time ----------------------------------------------------------------------------
    def _new_day(self, day: date) -> None:
        self._day = day
        self._at_cache = {}
        facts: dict[str, Any] = {"calendar.is_session": Missing("date outside the calendar"),
                                 "calendar.hours_known": Missing("date outside the calendar"),
                                 "calendar.session_kind": "none"}
        calendar = self._get_calendar()
        if calendar is not None:
            try:
                session = calendar.session(day)
            except CalendarError as e:
                log.warning("{}: no calendar for {}: {}", self.name, day, e)
            else:
                facts = {"calendar.is_session": session is not None,
                         "calendar.hours_known": bool(session is not None and session.hours_known),
                         "calendar.session_kind": getattr(session, "kind", "none") if session else "none"}
        self._ctx.update(facts)

    def _get_calendar(self) -> SessionSource | None:
        if self._calendar is None and self._needs_calendar:
            from engine.data.calendar import Calendar

            self._calendar = Calendar.default()
        return self._calendar

    def _at_ns(self, at: ClockTime) -> int | None:
        if at not in self._at_cache:
            assert self._day is not None
            try:
                self._at_cache[at] = at.resolve_ns(self._day, self._get_calendar())
            except CalendarError as e:
                log.warning("{}: cannot resolve at: {} on {}: {}", self.name, at.text, self._day, e)
                self._at_cache[at] = None
        return self._at_cache[at]

    # -- output --------------------------------------------------------------------------
    def _emit(self, event: MachineEvent) -> None:
        if self._listener is not None:
            self._listener(event)

    def _actions(self, calls: tuple[tuple[str, Mapping[str, Any], str], ...]) -> None:
        for name, args, cause in calls:
            action = ActionRequested(self.name, name, args, cause, self._now_ns)
            if self._listener is not None:
                self._listener(action)
            if self._sink is not None:
                self._sink.request(action)

    def _emergency(self, code: str, message: str, reads: Mapping[str, Any]) -> EmergencyRaised:
        event = EmergencyRaised(self.name, self._state, code, message, self._now_ns, dict(reads))
        log.error("{}: {}: {}", self.name, code, message)
        self._emit(event)
        if self._sink is not None:
            self._sink.escalate(event)
        return event

    def _publish_self(self, runner: MachineRunner) -> None:
        self._ctx.update(self._state_entries[self._state])


def _calls(calls: tuple[ActionCall, ...], cause: str) -> tuple[tuple[str, Mapping[str, Any], str], ...]:
    """Actions ready to emit: name, read-only arguments, cause."""
    return tuple((c.name, MappingProxyType(dict(c.args)), cause) for c in calls)


def _runtime_reads(spec: MachineSpec) -> tuple[str, ...]:
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


def _own_invariants(runner: MachineRunner) -> None:
    runner.check_invariants(refresh=False)


def _needs_calendar(spec: MachineSpec) -> bool:
    """Whether the machine reads calendar.* or has session-relative at: times."""
    for t in spec.transitions:
        if t.at is not None and t.at.relative:
            return True
        if t.when is not None and any(n.startswith("calendar.") for n in t.when.names):
            return True
    return any(n.startswith("calendar.") for s in spec.states.values() for i in s.invariants
               for n in i.expr.names)


class _TransitionsBackend:
    """Steps through the ``transitions`` library's machine (the reference semantics)."""

    def __init__(self, runner: MachineRunner) -> None:
        from engine.machines.build import build_machine

        self.runner = runner
        self.chosen: tuple[Any, ...] | None = None
        rows = {row[0].index: row for by in runner._table.values() for ts in by.values()
                for row in ts}

        def condition_for(t: TransitionSpec) -> Callable[[], bool]:
            return lambda: runner._enabled(rows[t.index])

        def on_taken(t: TransitionSpec) -> Callable[[], None]:
            def record() -> None:
                self.chosen = rows[t.index]
            return record

        self.machine, self.model = build_machine(runner.spec, condition_for=condition_for,
                                                 on_taken=on_taken, initial=runner.state)

    def fire(self, trigger: str) -> tuple[Any, ...] | None:
        self.chosen = None
        self.model.trigger(trigger)
        assert self.chosen is None or self.model.state == self.chosen[0].dest
        return self.chosen
