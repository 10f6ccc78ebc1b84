"""Stepping one machine: the API the runtime drives.

``MachineRunner(spec, clock=..., facts=... | context=..., actions=..., listener=...)``:

- ``send(trigger, **values)``: an event. The first transition (priority, then file
  order) out of the current state on that trigger whose timing and guard hold is taken
  and returned as a ``TransitionTaken``. None enabled: ``None`` and a ``TriggerIgnored``
  event. A trigger the state has no transition for raises ``InvalidTransition``
  (``"open -> fill_entry"``) unless the state or machine lists it under ``ignore:``.
- ``tick(now=None)``: the clock's trigger. Takes ``tick`` transitions, including
  ``after:`` (time in state) and ``at:`` (time of the trading day), repeatedly until none
  is enabled, so an engine started at 11:00 catches up through the morning's stages.
- ``wake(now)``: the runtime's way in. A machine is not polled: the runtime calls
  ``touch(name)`` when a name some tick guard of the machine reads has changed and
  ``wake(now)`` when ``next_deadline()`` has passed; only the transitions whose inputs
  changed or whose time came are evaluated (the others were false and still are).

Taking a transition is one step with a fixed order, whoever drives it: the new state is
set and published (``state.NAME`` for the other machines), the invariants are checked,
then the ``TransitionTaken`` event goes to the listener, and only then are the actions
handed to the action sink, which queues them. Nobody observes a state whose invariants
were not checked, and no action runs inside the transition that requested it. A
``RunnerHost`` (``MachineSystem``) takes over publication, invariants and emission for a
set of machines; a runner alone does them for itself.

A guard enables its transition, and an invariant holds, only when its value ``is True``:
guards follow three-valued logic, so a guard over a missing value (VIX not received, an
event value not sent) is missing and the transition is not enabled, however the guard is
spelled (``not position.open`` is as missing as ``position.open``); an invariant whose
value is missing does not hold and is reported like a false one.

Guards run on the fast path (``expr.evaluate``) against a context holding the runner's
own names (params, state.*, calendar.*, event.*) that falls back to the runtime's facts
(a live mapping, never copied). A guard holds only when its value is ``True``: a missing
value never enables a transition. A transition taken records the values its guard read;
``explain(event)`` rebuilds the full trace from them on request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, Protocol

from engine.clock import Clock
from engine.errors import CalendarError, InvalidTransition, InvariantViolated
from engine.expr import Missing, Trace
from engine.logs import category_logger
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

__all__ = ["MAX_CASCADE", "ContextProvider", "MachineRunner", "RunnerHost"]

log = category_logger("machines")

#: Most transitions one tick may take before it is treated as a loop (an emergency).
MAX_CASCADE = 32
_DAY_NS = 86_400 * NANOS
ContextProvider = Callable[[], Mapping[str, Any]]
_NOT_SENT = Missing("not sent with this trigger")
_ALL = -1  # every bit set: every tick candidate must be evaluated


class RunnerHost(Protocol):
    """Who publishes a runner's state and carries out what a transition produced."""

    def published(self, runner: MachineRunner) -> None:
        """The runner entered a new state: tell whoever reads ``state.NAME``."""
        ...

    def transition_done(
        self, runner: MachineRunner, event: TransitionTaken, actions: list[ActionRequested]
    ) -> None:
        """Check invariants, then emit the event, then hand the actions to the sink."""
        ...

    def emit(self, event: MachineEvent) -> None:
        """An event that is not a transition (trigger ignored, emergency)."""
        ...

    def escalate(self, emergency: EmergencyRaised) -> None: ...


class _Alone:
    """The host of a runner that is not part of a system: it does everything for itself."""

    def __init__(self, runner: MachineRunner) -> None:
        self.runner = runner

    def published(self, runner: MachineRunner) -> None:
        runner._ctx.update(runner._state_entries[runner.state])

    def transition_done(
        self, runner: MachineRunner, event: TransitionTaken, actions: list[ActionRequested]
    ) -> None:
        if runner.spec.states[runner.state].invariants:
            runner.check_invariants(refresh=False)
        self.emit(event)
        for action in actions:
            self.emit(action)
            if runner._sink is not None:
                runner._sink.request(action)

    def emit(self, event: MachineEvent) -> None:
        if self.runner._listener is not None:
            self.runner._listener(event)

    def escalate(self, emergency: EmergencyRaised) -> None:
        if self.runner._sink is not None:
            self.runner._sink.escalate(emergency)


class MachineRunner:
    """Steps one machine on the engine clock; see the module docstring."""

    def __init__(
        self,
        spec: MachineSpec,
        *,
        clock: Clock,
        context: ContextProvider | None = None,
        facts: Mapping[str, Any] | None = None,
        actions: ActionSink | None = None,
        listener: Listener | None = None,
        calendar: SessionSource | None = None,
        state: str | None = None,
        entered_ns: int | None = None,
        name: str | None = None,
        strict: bool = False,
        backend: str = "table",
        host: RunnerHost | None = None,
    ) -> None:
        if state is not None and state not in spec.states:
            raise ValueError(f"{spec.name} has no state '{state}'")
        if context is not None and facts is not None:
            raise ValueError("give either a context provider or a facts mapping, not both")
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
        self._at_via = -1  # the at: transition that entered the state at _entered_at_ns
        # A restored machine keeps its absolute deadlines: ``after:`` counts from when the
        # state was entered, not from the restart.
        self._entered_ns = now if entered_ns is None else entered_ns
        self._day: date | None = None
        self._day_start_ns = -_DAY_NS  # start of self._day (epoch ns); forces a first load
        self._at_cache: dict[ClockTime, tuple[int, ...]] = {}
        self._violated: set[tuple[str, str]] = set()
        # With a provider, the names guards read are copied in at each step (tests, tools);
        # with facts, guards read the live mapping through the context's fallback.
        self._ctx = GuardContext(runtime_reads(spec) if context is not None else ())
        self._ctx.update(spec.guard_params)
        self._ctx.load(facts if facts is not None else EMPTY)
        self._state_entries = {s: state_names(spec.peer_info, s) for s in spec.states}
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
        # Wake bookkeeping: for each state, which tick candidates read which name (a bit
        # mask over the state's tick candidates, in evaluation order).
        self._watch = self._watch_masks()
        self._timed = {
            state: [
                (i, after_ns, at, t.index)
                for i, (t, _, after_ns, at) in enumerate(by_trigger.get(TICK, ()))
                if after_ns is not None or at is not None
            ]
            for state, by_trigger in self._table.items()
        }
        self._dirty = _ALL
        self._watch_now = self._watch[self._state]
        if backend not in ("table", "transitions"):
            raise ValueError(f"backend must be 'table' or 'transitions', not {backend!r}")
        self._backend = ReferenceBackend(self) if backend == "transitions" else None
        self._host: RunnerHost = host if host is not None else _Alone(self)
        self._host.published(self)

    # -- public API -----------------------------------------------------------------------
    @property
    def state(self) -> str:
        return self._state

    @property
    def entered_ns(self) -> int:
        """When the current state was entered (epoch ns, engine clock)."""
        return self._entered_ns

    @property
    def watched_names(self) -> frozenset[str]:
        """Every name some tick guard of this machine reads, in any state."""
        return frozenset(n for masks in self._watch.values() for n in masks)

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
            self._host.emit(
                TriggerIgnored(
                    self.name, self._state, trigger, "ignored in this state", self._now_ns, values
                )
            )
            return None
        self._begin(self.clock.now_ns())
        self._set_event(trigger, values)
        taken = self._fire(trigger, candidates, values)
        if taken is None:
            self._host.emit(
                TriggerIgnored(
                    self.name, self._state, trigger, "no guard held", self._now_ns, values
                )
            )
        return taken

    def tick(
        self, now: datetime | int | None = None, *, cascade: bool = True
    ) -> list[TransitionTaken]:
        """Take every enabled tick transition (at most one when ``cascade`` is False)."""
        self._dirty = _ALL
        return self.wake(now, cascade=cascade)

    def touch(self, name: str) -> bool:
        """A name changed; True when some tick candidate of the current state reads it."""
        bits = self._watch_now.get(name)
        if bits:
            self._dirty |= bits
            return True
        return False

    @property
    def pending(self) -> bool:
        """Some tick candidate must be evaluated at the next wake."""
        return self._dirty != 0

    def wake(
        self, now: datetime | int | None = None, *, cascade: bool = True
    ) -> list[TransitionTaken]:
        """Evaluate the tick candidates whose inputs changed or whose time came."""
        ns = self.clock.now_ns() if now is None else (now if isinstance(now, int) else to_ns(now))
        if ns < self._now_ns:
            raise ValueError(f"{self.name}: time went backwards ({ns} < {self._now_ns})")
        self._begin(ns)
        if self._timed[self._state]:
            self._mark_due()
        if not self._dirty:
            return []
        out: list[TransitionTaken] = []
        for _ in range(MAX_CASCADE if cascade else 1):
            if not self._dirty:
                return out
            taken = self._fire_tick()
            if taken is None:
                return out
            out.append(taken)
        if cascade and self._dirty:
            self._emergency(
                "TICK_CASCADE",
                f"{MAX_CASCADE} transitions in one tick; the "
                f"machine is looping (last: {out[-1].source} -> {out[-1].dest})",
                {},
            )
        return out

    def next_deadline(self) -> int | None:
        """The earliest instant a timed tick transition of the current state becomes due.

        ``at:`` times are resolved for the current trading day only; the runtime wakes
        every machine at the start of each day, when the new day's times are resolved.
        """
        best: int | None = None
        now = self._now_ns
        for c in self._table[self._state].get(TICK, ()):
            t, _, after_ns, at = c
            due: int | None = None
            if after_ns is not None:
                due = self._entered_ns + after_ns
            if at is not None:
                at_ns = self._at_ns(at, t.index)
                if at_ns is None:
                    continue  # not today (or already passed in this state)
                due = at_ns if due is None else max(due, at_ns)
            if due is not None and due > now and (best is None or due < best):
                best = due
        return best

    def accepts(self, trigger: str) -> bool:
        """Whether the current state has a transition on ``trigger`` (ignored ones do not count)."""
        return trigger in self._table[self._state]

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

        ``refresh`` reads a context provider again first (only runners built with one).
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

    def _watch_masks(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for state, by_trigger in self._table.items():
            masks: dict[str, int] = {}
            for i, (t, _, _, _) in enumerate(by_trigger.get(TICK, ())):
                for name in t.when.names if t.when is not None else ():
                    masks[name] = masks.get(name, 0) | (1 << i)
            out[state] = masks
        return out

    def _begin(self, now_ns: int) -> None:
        self._now_ns = now_ns
        if not self._day_start_ns <= now_ns < self._day_start_ns + _DAY_NS:
            self._new_day(ist_date_of(now_ns))
            self._day_start_ns = now_ns - (now_ns + IST_OFFSET_NS) % _DAY_NS
            self._dirty = _ALL  # calendar.* and today's at: times changed
        if self._provider is not None:
            self._ctx.load(self._provider())

    def _mark_due(self) -> None:
        """Timed candidates whose time has come are evaluated again."""
        now = self._now_ns
        for i, after_ns, at, index in self._timed[self._state]:
            if after_ns is not None and now - self._entered_ns < after_ns:
                continue
            if at is not None:
                at_ns = self._at_ns(at, index)
                if at_ns is None or at_ns > now:
                    continue
            self._dirty |= 1 << i

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
        t, guard, after_ns, at = c
        if after_ns is not None and self._now_ns - self._entered_ns < after_ns:
            return False
        if at is not None:
            at_ns = self._at_ns(at, t.index)
            if at_ns is None or at_ns > self._now_ns:
                return False
        return guard is None or guard(self._ctx) is True

    def _fire_tick(self) -> TransitionTaken | None:
        candidates = self._table[self._state].get(TICK)
        if not candidates:
            self._dirty = 0
            return None
        if self._backend is not None:
            self._dirty = 0
            return self._fire(TICK, candidates, EMPTY)
        # Only the candidates whose bit is set: the others were false at their last
        # evaluation and nothing they read has changed since.
        dirty = self._dirty & ((1 << len(candidates)) - 1)
        ctx = self._ctx
        while dirty:
            low = dirty & -dirty
            c = candidates[low.bit_length() - 1]
            if c[2] is None and c[3] is None:
                guard = c[1]
                if guard is None or guard(ctx) is True:
                    return self._take(c, EMPTY)
            elif self._enabled(c):
                return self._take(c, EMPTY)
            dirty ^= low
        self._dirty = 0  # every candidate that had to be looked at was false
        return None

    def _fire(
        self, trigger: str, candidates: Any, values: Mapping[str, Any]
    ) -> TransitionTaken | None:
        if self._backend is not None:
            chosen = self._backend.fire(trigger)
            return None if chosen is None else self._take(chosen, values)
        for c in candidates:
            if self._enabled(c):
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
        via = -1
        if t.after is not None:
            guard["after"] = t.after.text
            guard["in_state_s"] = (now - self._entered_ns) / NANOS
        elif t.at is not None:
            entered_at = self._at_ns(t.at, t.index) or now  # as scheduled: later stages catch up
            via = t.index
            guard["at"] = t.at.text
            guard["at_time"] = datetime.fromtimestamp(entered_at / NANOS, IST).strftime("%H:%M:%S")
        # 1. the new state, published before anyone else runs
        self._state = t.dest
        self._watch_now = self._watch[t.dest]
        self._entered_ns = now
        self._entered_at_ns = entered_at
        self._at_via = via
        self._dirty = _ALL
        if self._violated:
            self._violated = {k for k in self._violated if k[0] == t.dest}
        self._host.published(self)
        # 2. invariants, 3. the event, 4. the actions (queued by the sink, run afterwards)
        event = TransitionTaken(self.name, t.name, source, t.dest, t.trigger, now, guard, values)
        actions = [
            ActionRequested(self.name, name, args, cause, now)
            for name, args, cause in self._effects[source, t.index]
        ]
        self._host.transition_done(self, event, actions)
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

    def _at_ns(self, at: ClockTime, index: int) -> int | None:
        """The instant transition ``index``'s ``at:`` fires in the current state, or None.

        That is the first of today's instants after the state was entered, or the very
        instant it was entered when another ``at:`` stage scheduled for that instant led
        here (stages due at one instant run through, a timed loop never fires twice)."""
        instants = self._at_cache.get(at)
        if instants is None:
            if self._day is None:
                self._begin(self._now_ns)
            assert self._day is not None
            try:
                instants = at.resolve_all_ns(self._day, self._get_calendar())
            except CalendarError as e:
                log.warning("{}: cannot resolve at: {} on {}: {}", self.name, at.text, self._day, e)
                instants = ()
            self._at_cache[at] = instants
        floor = self._entered_at_ns
        for x in instants:
            if x > floor or (x == floor and self._at_via >= 0 and self._at_via != index):
                return x
        return None

    # -- output --------------------------------------------------------------------------
    def _emergency(self, code: str, message: str, reads: Mapping[str, Any]) -> EmergencyRaised:
        event = EmergencyRaised(self.name, self._state, code, message, self._now_ns, dict(reads))
        log.error("{}: {}: {}", self.name, code, message)
        self._host.emit(event)
        self._host.escalate(event)
        return event
