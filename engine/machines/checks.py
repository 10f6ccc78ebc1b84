"""Static checks of one machine: the mistakes no machine library catches at load time.

- ``unreachable-state``: no path of possible transitions leads there from the initial state;
- ``trap-state``: a state that is not final but has no way out;
- ``unsent-trigger``: a transition on a trigger nothing can send (not declared, not tick);
- ``unused-trigger`` (warning): a declared trigger no transition or ignore list uses;
- ``never-true``: a guard that interval reasoning shows can never hold
  (``vix > 30 and vix < 20``);
- ``ambiguous``: two transitions from one state on one trigger whose guards can hold
  together, without different ``priority`` values to say which fires first;
- ``shadowed`` (warning): a transition that never fires from a state because one before
  it there is always enabled.

Transitions from or to undeclared states are caught while the file is read (``unknown-state``).
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable

from engine.diagnostics import Diagnostic
from engine.expr.analysis import Lit, OverlapIndex, bounds, conjoin, holds
from engine.machines.graph import MachineGraph
from engine.machines.spec import TICK, MachineSpec, TransitionSpec

__all__ = ["static_checks"]


def diag_at_guard(
    spec: MachineSpec,
    t: TransitionSpec,
    code: str,
    message: str,
    *,
    hint: str = "",
    severity: str = "error",
) -> Diagnostic:
    """A diagnostic under the first character of the guard's text (not at a '>-' marker)."""
    path = (*t.path, "when")
    d = spec.diagnostic(path, code, message, where=t.where, hint=hint, severity=severity)
    if spec.source is None or t.when is None:
        return d
    line, col, text = spec.source.locator(path)(0, 0)
    first = t.when.source.split("\n", 1)[0].rstrip()
    return dataclasses.replace(d, line=line, col=col, source_line=text, length=max(1, len(first)))


def static_checks(spec: MachineSpec, *, complete: bool = True) -> list[Diagnostic]:
    """All static checks; graph checks only when every transition of the file was built."""
    graph = MachineGraph(spec)
    out = list(_check_unsent_triggers(spec))
    out += _check_never_true(spec, graph)
    out += _check_ambiguity(spec, graph)
    if complete:
        out += _check_unused_triggers(spec)
        out += _check_unreachable(spec, graph)
        out += _check_traps(spec, graph)
    return out


def _check_unsent_triggers(spec: MachineSpec) -> Iterable[Diagnostic]:
    for t in spec.transitions:
        if t.trigger == TICK or t.trigger in spec.triggers:
            continue
        near = difflib.get_close_matches(t.trigger, list(spec.triggers), n=1, cutoff=0.6)
        yield spec.diagnostic(
            (*t.path, "trigger"),
            "unsent-trigger",
            f"nothing can send trigger '{t.trigger}': it is not declared under triggers:",
            where=t.where,
            hint=f"did you mean '{near[0]}'?"
            if near
            else f"declare it: triggers: {{{t.trigger}: {{doc: who sends it}}}}, or use tick",
        )


def _check_unused_triggers(spec: MachineSpec) -> Iterable[Diagnostic]:
    ignored = set(spec.ignore).union(*(s.ignore for s in spec.states.values()))
    for name, trigger in spec.triggers.items():
        if name not in spec.triggers_used and name not in ignored and name != TICK:
            yield spec.diagnostic(
                trigger.path,
                "unused-trigger",
                f"trigger '{name}' is declared but no transition uses it",
                where=f"triggers.{name}",
                on_key=True,
                severity="warning",
                hint="add a transition for it, list it under ignore:, or remove it",
            )


def _contradiction(term: tuple[object, ...]) -> str:
    lits = [x for x in term if isinstance(x, Lit)]
    names = sorted({x.name for x in lits})
    for name in names:
        own = [x for x in lits if x.name == name]
        if len(own) > 1:
            shown = ", ".join(
                ("not " if x.neg else "") + f"{x.name} {x.op} {x.value!r}" for x in own
            )
            return f"no value of '{name}' satisfies all of: {shown}"
    return "its conditions exclude each other"


def _check_never_true(spec: MachineSpec, graph: MachineGraph) -> Iterable[Diagnostic]:
    for t in spec.transitions:
        forms = [graph.dnf_at(t, s) for s in t.sources]
        if t.when is None or any(holds(f, spec.vocabulary) is not False for f in forms):
            continue
        dnf = forms[0]
        hint = _contradiction(dnf[0]) if dnf else "it is false in every state it leaves from"
        yield spec.diagnostic(
            (*t.path, "when"),
            "never-true",
            f"the guard can never be true: {t.when.source}",
            where=t.where,
            hint=hint,
        )


def _distinct_priorities(a: TransitionSpec, b: TransitionSpec) -> bool:
    return a.priority is not None and b.priority is not None and a.priority != b.priority


def _check_ambiguity(spec: MachineSpec, graph: MachineGraph) -> Iterable[Diagnostic]:
    """Shadowed and ambiguous transitions, per state and trigger.

    Pairs are not compared blindly (2,000 transitions from one state are 2 million pairs):
    only the first always-enabled transition can shadow, only transitions without distinct
    priorities can be ambiguous, and of those only pairs whose guards' bounds overlap are
    checked exactly, found through a sorted index. Each transition is reported once.
    """
    reported: set[tuple[str, int]] = set()
    for state, by_trigger in spec.table.items():
        for trigger, candidates in by_trigger.items():
            live = [t for t in candidates if graph.can_fire(t, state)]
            if len(live) < 2:
                continue
            for d, key in _shadowed(spec, graph, state, trigger, live):
                if key not in reported:
                    reported.add(key)
                    yield d
            for group in _contested(live):
                for d, key in _ambiguous(spec, graph, state, trigger, group):
                    if key not in reported:
                        reported.add(key)
                        yield d


def _shadowed(
    spec: MachineSpec,
    graph: MachineGraph,
    state: str,
    trigger: str,
    live: list[TransitionSpec],
) -> Iterable[tuple[Diagnostic, tuple[str, int]]]:
    first = next((i for i, a in enumerate(live) if graph.always(a, state)), None)
    if first is None:
        return
    a = live[first]
    for b in live[first + 1 :]:
        if _distinct_priorities(a, b):
            d = spec.diagnostic(
                (*b.path, "name"),
                "shadowed",
                f"never fires from '{state}': {a.where} is always enabled there on "
                f"'{trigger}' and comes first",
                where=b.where,
                severity="warning",
                hint="give it a lower priority than the other, or a guard",
            )
            yield d, ("shadowed", b.index)


def _contested(live: list[TransitionSpec]) -> list[list[TransitionSpec]]:
    """Groups within which two transitions may lack distinct priorities: all of them when
    one has no priority, else each set sharing one priority value."""
    if any(t.priority is None for t in live):
        return [live]
    by: dict[int, list[TransitionSpec]] = {}
    for t in live:
        by.setdefault(t.priority, []).append(t)  # type: ignore[arg-type]
    return [g for g in by.values() if len(g) > 1]


def _ambiguous(
    spec: MachineSpec,
    graph: MachineGraph,
    state: str,
    trigger: str,
    live: list[TransitionSpec],
) -> Iterable[tuple[Diagnostic, tuple[str, int]]]:
    vocab = spec.vocabulary
    forms = [graph.dnf_at(t, state) for t in live]
    index = OverlapIndex([bounds(f, vocab) for f in forms])
    resolved: set[int] = set()  # positions already reported (the later one of a pair)
    for j in range(len(live)):
        if j in resolved:
            continue
        for i in index.overlapping(j):
            first, later = min(i, j), max(i, j)
            a, b = live[first], live[later]
            if later in resolved or _distinct_priorities(a, b):
                continue
            if holds(conjoin(forms[first], forms[later]), vocab) is False:
                continue
            resolved.add(later)
            what = "can both be enabled" if (a.timed or b.timed) else "can both hold"
            d = spec.diagnostic(
                (*b.path, "name"),
                "ambiguous",
                f"{a.where} and this transition both leave '{state}' on '{trigger}' and {what}",
                where=b.where,
                hint="give them different priority: values (the lowest fires first) or make "
                "the guards exclude each other",
            )
            yield d, ("ambiguous", b.index)
            if later == j:
                break


def _check_unreachable(spec: MachineSpec, graph: MachineGraph) -> Iterable[Diagnostic]:
    for name, state in spec.states.items():
        if name not in graph.reachable:
            yield spec.diagnostic(
                state.path,
                "unreachable-state",
                f"state '{name}' cannot be reached from the initial state '{spec.initial}'",
                where=f"states.{name}",
                on_key=True,
                hint="add a transition into it, or remove it",
            )


def _check_traps(spec: MachineSpec, graph: MachineGraph) -> Iterable[Diagnostic]:
    for name, state in spec.states.items():
        if state.final or graph.ways_out(name):
            continue
        yield spec.diagnostic(
            state.path,
            "trap-state",
            f"state '{name}' is not final but has no way out",
            where=f"states.{name}",
            on_key=True,
            hint="add a transition out of it, or mark it final: true",
        )
