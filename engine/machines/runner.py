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

A guard enables its transition, and an invariant holds, only when its value ``is True``:
guards follow three-valued logic, so a guard over a missing value (VIX not received, an
event value not sent) is missing and the transition is not enabled, however the guard is
spelled (``not position.open`` is as missing as ``position.open``); an invariant whose
value is missing does not hold and is reported like a false one.

Guards run on the fast path (``expr.evaluate``) against a context that layers the
runner's own names (params, state.*, calendar.*, event.*) over the runtime's context
(only the names the machine reads are copied). A transition taken records the values
its guard read; ``explain(event)`` rebuilds the full trace from them on request, so a
step stays within its 20-microsecond budget.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from loguru import logger

from engine.clock import Clock
from engine.errors import CalendarError, InvalidTransition, InvariantViolated
from engine.expr import Missing, Trace
from engine.machines._context import EMPTY, GuardContext, action_rows, needs_calendar, runtime_reads
from engine.machines.build import ReferenceBackend
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
_NOT_SENT = Missing("not sent with this trigger")


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
        self._ctx = GuardContext(runtime_reads(spec))
        self._ctx.update(spec.guard_params)
        self._ctx.load(EMPTY)
        self._state_entries = {s: state_names(spec.peer_info, s) for s in spec.states}
        self._publish: Callable[[MachineRunner], None] = self._publish_self
        self._after: Callable[[MachineRunner], None] = _own_invariants
        self._needs_calendar = needs_calendar(spec)
        self._table = self._compile()
        self._ignorable = {
            s: frozenset(n for n in spec.triggers if spec.ignorable(s, n)) for s in spec.states
        }
        self._events = {t.name: t.values for t in spec.triggers.values()}
        # what a transition requests, in order: the source's exit, its own, the dest's entry
        self._effects = {
            (src, t.index): action_rows(spec.states[src].on_exit, f"exit {src}")
            + action_rows(t.then, f"transition {t.name}")
            + action_rows(spec.states[t.dest].on_enter, f"enter {t.dest}")
            for t in spec.transitions
            for src in t.sources
        }
        self._guard_names = {
            t.index: tuple(sorted(t.when.names)) for t in spec.transitions if t.when is not None
        }
        self._by_name = {t.name: t for t in spec.transitions}
        if backend not in ("table", "transitions"):
            raise ValueError(f"backend must be 'table' or 'transitions', not {backend!r}")
        self._backend = ReferenceBackend(self) if backend == "transitions" else None
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
            self._emit(
                TriggerIgnored(
                    self.name, self._state, trigger, "ignored in this state", self._now_ns, values
                )
            )
            return None
        self._begin(self.clock.now_ns())
        self._set_event(trigger, values)
        taken = self._fire(trigger, candidates, values)
        if taken is None:
            self._emit(
                TriggerIgnored(
                    self.name, self._state, trigger, "no guard held", self._now_ns, values
                )
            )
        return taken

    def tick(
        self, now: datetime | int | None = None, *, cascade: bool = True
    ) -> list[TransitionTaken]:
        """Take every enabled tick transition (at most one when ``cascade`` is False)."""
        ns = self.clock.now_ns() if now is None else (now if isinstance(now, int) else to_ns(now))
        if ns < self._now_ns:
            raise ValueError(f"{self.name}: time went backwards ({ns} < {self._now_ns})")
        self._begin(ns)
        out: list[TransitionTaken] = []
        for _ in range(MAX_CASCADE if cascade else 1):
            candidates = self._table[self._state].get(TICK)
            taken = self._fire(TICK, candidates, EMPTY) if candidates else None
            if taken is None:
                return out
            out.append(taken)
        if cascade:
            self._emergency(
                "TICK_CASCADE",
                f"{MAX_CASCADE} transitions in one tick; the "
                f"machine is looping (last: {out[-1].source} -> {out[-1].dest})",
                {},
            )
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
            if inv.expr.evaluate(self._ctx) is True:
                self._violated.discard(key)
                continue
            if key in self._violated:
                continue
            self._violated.add(key)
            reads = dict(inv.expr.trace(self._ctx).reads)
            out.append(
                self._emergency(
                    "INVARIANT_VIOLATED",
                    f"invariant of state '{self._state}' does not hold: {inv.source}",
                    reads,
                )
            )
            if self.strict:
                raise InvariantViolated(self.name, self._state, inv.source, reads)
        return out

    # -- stepping ---------------------------------------------------------------------------
    def _compile(self) -> dict[str, dict[str, tuple[tuple[Any, ...], ...]]]:
        table: dict[str, dict[str, tuple[tuple[Any, ...], ...]]] = {}
        for state, by_trigger in self.spec.table.items():
            table[state] = {
                trig: tuple(
                    (
                        t,
                        t.when.evaluate if t.when is not None else None,
                        t.after.ns if t.after is not None else None,
                        t.at,
                    )
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
                raise ValueError(
                    f"{self.name}: trigger '{trigger}' carries no value '{key}'; "
                    f"it carries: {', '.join(declared) or 'nothing'}"
                )
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
        return guard is None or guard(self._ctx) is True

    def _fire(
        self, trigger: str, candidates: Any, values: Mapping[str, Any]
    ) -> TransitionTaken | None:
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
            if guard is None or guard(ctx) is True:  # a missing guard does not enable it
                return self._take(c, values)
        return None

    def _take(self, c: tuple[Any, ...], values: Mapping[str, Any]) -> TransitionTaken:
        t: TransitionSpec = c[0]
        source, now = self._state, self._now_ns
        guard: dict[str, Any]
        if t.when is not None:  # the values read; explain() rebuilds the full trace from them
            ctx = self._ctx
            guard = {
                "when": t.when.source,
                "value": True,
                "reads": {n: ctx[n] for n in self._guard_names[t.index]},
            }
        else:
            guard = {"when": None, "value": True, "reads": EMPTY}
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
        actions = self._effects[source, t.index]
        if actions:
            self._actions(actions)
        self._after(self)
        return event

    # -- time ----------------------------------------------------------------------------
    def _new_day(self, day: date) -> None:
        self._day = day
        self._at_cache = {}
        self._ctx.update(self._calendar_facts(day))

    def _calendar_facts(self, day: date) -> dict[str, Any]:
        """calendar.* for ``day``; missing (guards false) when the calendar cannot say."""
        calendar = self._get_calendar()
        reason = "no calendar" if calendar is None else f"{day} is outside the calendar"
        if calendar is not None:
            try:
                session = calendar.session(day)
            except CalendarError as e:
                log.warning("{}: no calendar for {}: {}", self.name, day, e)
            else:
                return {
                    "calendar.is_session": session is not None,
                    "calendar.hours_known": session is not None and bool(session.hours_known),
                    "calendar.session_kind": getattr(session, "kind", "none")
                    if session
                    else "none",
                }
        unknown = Missing(reason)
        return {
            "calendar.is_session": unknown,
            "calendar.hours_known": unknown,
            "calendar.session_kind": unknown,
        }

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


def _own_invariants(runner: MachineRunner) -> None:
    if runner.spec.states[runner.state].invariants:
        runner.check_invariants(refresh=False)
