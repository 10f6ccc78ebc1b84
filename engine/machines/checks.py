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
from engine.expr.analysis import Lit, conjoin, holds
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
    reported: set[tuple[int, int]] = set()
    for state, by_trigger in spec.table.items():
        for trigger, candidates in by_trigger.items():
            live = [t for t in candidates if graph.can_fire(t, state)]
            for i, a in enumerate(live):
                for b in live[i + 1 :]:
                    key = (a.index, b.index)
                    if key in reported:
                        continue
                    d = _pair(spec, graph, state, trigger, a, b)
                    if d is not None:
                        reported.add(key)
                        yield d


def _pair(
    spec: MachineSpec,
    graph: MachineGraph,
    state: str,
    trigger: str,
    a: TransitionSpec,
    b: TransitionSpec,
) -> Diagnostic | None:
    both = conjoin(graph.dnf_at(a, state), graph.dnf_at(b, state))
    if holds(both, spec.vocabulary) is False:
        return None
    if _distinct_priorities(a, b):
        if graph.always(a, state):
            return spec.diagnostic(
                (*b.path, "name"),
                "shadowed",
                f"never fires from '{state}': {a.where} is always enabled there on "
                f"'{trigger}' and comes first",
                where=b.where,
                severity="warning",
                hint="give it a lower priority than the other, or a guard",
            )
        return None
    what = "can both be enabled" if (a.timed or b.timed) else "can both hold"
    return spec.diagnostic(
        (*b.path, "name"),
        "ambiguous",
        f"{a.where} and this transition both leave '{state}' on '{trigger}' and {what}",
        where=b.where,
        hint="give them different priority: values (the lowest fires first) or make the "
        "guards exclude each other",
    )


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
