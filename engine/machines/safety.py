"""Safety properties of the shipped machines, checked at load for every edit.

The properties are stated over *roles* (trigger ``role:``) and *tags* (state ``tags:``),
so they hold whatever the states are called; the shipped machine names make the roles
mandatory (a ``killswitch`` without a ``kill`` trigger is an error, not a vacuous pass).

Per machine:

- ``kill-not-handled``: every kill-role trigger has an unconditional transition out of
  every state tagged ``risk`` of the machine that declares it (the kill switch);
- ``halted-escape``: a state tagged ``halted`` is left only by a resume-role trigger
  (the operator's ``engine resume``), never by a timer, a tick or another event;
- ``stopping-escape``: once stopping, the kill switch only moves towards ``halted``.
- ``close-not-flat``: a transition timed at a trading part's close (``at: close`` or
  ``at: break``, or later) asks for ``exit_all`` on its way, or leaves a state entered with
  it: no position is held over a break or the night because a stage skipped its exit.

Over the product of the machines a file ``requires`` (explored exhaustively; it is
small), with guards evaluated three-valued (other machines' states exact, everything
else unknown):

- ``kill-not-handled``: in every reachable configuration where some machine holds risk,
  the kill switch handles its kill triggers or is already stopping or halted;
- ``exit-blocked``: while the position machine is in a ``risk`` state that is not
  ``exiting``, an exit-role transition is certainly enabled, whatever the session,
  breaker and kill-switch states;
- ``entry-while-tripped``: no entry-role transition can be enabled while any machine is
  in a state tagged ``tripped``, ``stopping`` or ``halted``;
- ``entry-outside-window``: no entry-role transition can be enabled while a machine that
  gates entries (one with states tagged ``entries_allowed``: the session, the breakers,
  the kill switch) is in a state without that tag, such as the session's ``in_break``
  between the parts of a split session or its ``final_exit``.

What cannot be decided statically (a guard over live values) is left to the
hypothesis tests in tests/property/test_machines_property.py.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from engine.diagnostics import Diagnostic
from engine.expr.analysis import analyse, holds
from engine.machines.checks import diag_at_guard
from engine.machines.graph import MachineGraph
from engine.machines.spec import MachineSpec, TransitionSpec
from engine.machines.vocabulary import state_names

__all__ = ["BLOCKING_TAGS", "REQUIRED_ROLES", "machine_properties", "system_properties"]

#: Tags under which no entry may be enabled anywhere in the system.
BLOCKING_TAGS = frozenset({"tripped", "stopping", "halted"})

#: What each shipped machine must declare for the properties to mean anything:
#: name -> (trigger roles, state tags, required machines).
REQUIRED_ROLES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "killswitch": (("kill", "resume"), ("risk", "stopping", "halted"), ()),
    "position": (("entry", "exit"), ("risk",), ("breakers", "killswitch")),
    "breakers": ((), ("tripped",), ()),
}


def _diag_at_name(
    spec: MachineSpec, t: TransitionSpec, code: str, message: str, *, hint: str = ""
) -> Diagnostic:
    return spec.diagnostic((*t.path, "name"), code, message, where=t.where, hint=hint)


# -- per machine -----------------------------------------------------------------------


def machine_properties(spec: MachineSpec) -> list[Diagnostic]:
    graph = MachineGraph(spec)
    out = list(_check_roles(spec))
    out += _check_kill_handled(spec, graph)
    out += _check_halted_escape(spec)
    out += _check_stopping(spec, graph)
    out += _check_close_flat(spec)
    return out


def _check_close_flat(spec: MachineSpec) -> Iterable[Diagnostic]:
    exits_on_entry = {s for s, st in spec.states.items() if _asks_exit(st.on_enter)}
    for t in spec.transitions:
        at = t.at
        if at is None or at.anchor not in ("close", "break") or at.offset_s < 0:
            continue
        bare = [
            src
            for src in t.sources
            if src not in exits_on_entry
            and not _asks_exit((*spec.states[src].on_exit, *t.then, *spec.states[t.dest].on_enter))
        ]
        if bare:
            yield spec.diagnostic(
                (*t.path, "name"),
                "close-not-flat",
                f"'{t.name}' leaves {', '.join(repr(x) for x in bare)} at a part's close "
                f"({at.text}) without exit_all, and they were not entered with one",
                where=t.where,
                hint="add exit_all to its then: (or exit before the close, as final_exit does)",
            )


def _asks_exit(actions: Iterable[Any]) -> bool:
    return any(a.name == "exit_all" for a in actions)


def _check_roles(spec: MachineSpec) -> Iterable[Diagnostic]:
    roles, tags, needs = REQUIRED_ROLES.get(spec.name, ((), (), ()))
    for role in roles:
        if not spec.roles(role):
            yield spec.diagnostic(
                ("triggers",),
                "missing-role",
                f"the {spec.name} machine declares no trigger with role: {role}",
                on_key=True,
                hint="the safety checks need it; see docs/machines.md",
            )
    for tag in tags:
        if not spec.tagged(tag):
            yield spec.diagnostic(
                ("states",),
                "missing-role",
                f"the {spec.name} machine has no state tagged {tag}",
                on_key=True,
                hint="the safety checks need it; see docs/machines.md",
            )
    for other in needs:
        if other not in spec.requires:
            yield spec.diagnostic(
                ("machine",),
                "missing-requires",
                f"the {spec.name} machine must require '{other}'",
                hint=f"add requires: [{', '.join(needs)}] and read their state in guards",
            )


def _check_kill_handled(spec: MachineSpec, graph: MachineGraph) -> Iterable[Diagnostic]:
    for trigger in spec.roles("kill"):
        for state in spec.tagged("risk"):
            candidates = spec.candidates(state, trigger)
            if any(graph.always(t, state) for t in candidates):
                continue
            yield spec.diagnostic(
                ("states", state),
                "kill-not-handled",
                f"state '{state}' may hold risk but kill trigger '{trigger}' does not "
                "certainly leave it",
                where=f"states.{state}",
                on_key=True,
                hint=f"add a transition from '{state}' on '{trigger}' with no guard",
            )


def _check_halted_escape(spec: MachineSpec) -> Iterable[Diagnostic]:
    resume = set(spec.roles("resume"))
    for state in spec.tagged("halted"):
        for t in spec.transitions:
            if state not in t.sources or t.dest == state or t.trigger in resume:
                continue
            yield spec.diagnostic(
                (*t.path, "name"),
                "halted-escape",
                f"leaves halted state '{state}' on '{t.label()}'; only the operator's "
                f"resume ({', '.join(sorted(resume)) or 'no resume trigger'}) may",
                where=t.where,
                hint="remove it: halted ends only with engine resume",
            )


def _check_stopping(spec: MachineSpec, graph: MachineGraph) -> Iterable[Diagnostic]:
    halted = frozenset(spec.tagged("halted"))
    allowed = halted | frozenset(spec.tagged("stopping"))
    resume = frozenset(spec.roles("resume"))
    for state in spec.tagged("stopping"):
        for t in spec.transitions:
            if state in t.sources and t.dest not in allowed:
                yield spec.diagnostic(
                    (*t.path, "dest"),
                    "stopping-escape",
                    f"goes from stopping state '{state}' to '{t.dest}', which is "
                    "neither stopping nor halted",
                    where=t.where,
                    hint="once triggered, the kill switch must end in halted",
                )
        if halted and not graph.reaches(state, halted, avoid_triggers=resume):
            yield spec.diagnostic(
                ("states", state),
                "stopping-escape",
                f"halted cannot be reached from stopping state '{state}'",
                where=f"states.{state}",
                on_key=True,
            )


# -- over the product of the machines ----------------------------------------------------


@dataclass
class _Member:
    spec: MachineSpec
    graph: MachineGraph
    reads: dict[int, tuple[int, ...]] = field(default_factory=dict)  # t.index -> members read
    #: state -> [(transition, members its guard reads, truth when it reads none)]
    moves: dict[str, list[tuple[TransitionSpec, tuple[int, ...], bool | None]]] = field(
        default_factory=dict
    )


class _Product:
    """Exhaustive exploration of the configurations of several machines."""

    def __init__(self, specs: list[MachineSpec]) -> None:
        self.members = [_Member(s, MachineGraph(s)) for s in specs]
        self.index = {m.spec.name: i for i, m in enumerate(self.members)}
        self._cache: dict[tuple[int, int, tuple[str, ...]], bool | None] = {}
        for m in self.members:
            for t in m.spec.transitions:
                heads = _heads(t.when.names if t.when is not None else frozenset())
                m.reads[t.index] = tuple(
                    sorted(i for n, i in self.index.items() if f"state.{n}" in heads)
                )
            vocab = m.spec.vocabulary
            for state, by_trigger in m.spec.table.items():
                m.moves[state] = [
                    (t, m.reads[t.index], holds(m.graph.dnf[t.index], vocab))
                    for ts in by_trigger.values()
                    for t in ts
                ]

    def truth(self, mi: int, t: TransitionSpec, config: tuple[str, ...]) -> bool | None:
        member = self.members[mi]
        read = member.reads[t.index]
        key = (mi, t.index, tuple(config[i] for i in read) if read else ())
        if key not in self._cache:
            known: dict[str, Any] = dict(member.graph.known)
            for i in read:
                known.update(state_names(self.members[i].spec.peer_info, config[i]))
            dnf = analyse(t.when, member.spec.vocabulary, known)
            self._cache[key] = holds(dnf, member.spec.vocabulary)
        return self._cache[key]

    def explore(self) -> Iterator[tuple[str, ...]]:
        start = tuple(m.spec.initial for m in self.members)
        seen = {start}
        queue = deque([start])
        while queue:
            config = queue.popleft()
            yield config
            for mi, member in enumerate(self.members):
                for t, read, static in member.moves[config[mi]]:
                    truth = self.truth(mi, t, config) if read else static
                    if truth is False:
                        continue
                    nxt = (*config[:mi], t.dest, *config[mi + 1 :])
                    if nxt not in seen:
                        seen.add(nxt)
                        queue.append(nxt)

    def describe(self, config: tuple[str, ...]) -> str:
        return ", ".join(f"{m.spec.name}={s}" for m, s in zip(self.members, config, strict=True))


def _heads(names: frozenset[str]) -> set[str]:
    out = set()
    for n in names:
        parts = n.split(".")
        if parts[0] == "state" and len(parts) >= 2:
            out.add(f"state.{parts[1]}")
    return out


def _closure(spec: MachineSpec) -> list[MachineSpec]:
    out: dict[str, MachineSpec] = {}
    stack = [spec]
    while stack:
        s = stack.pop()
        if s.name in out:
            continue
        out[s.name] = s
        stack.extend(s.required.values())
    return [out[n] for n in sorted(out)]


def system_properties(spec: MachineSpec) -> list[Diagnostic]:
    """The product properties over the machine and everything it requires."""
    specs = _closure(spec)
    kill = [s for s in specs if s.roles("kill")]
    position = [s for s in specs if s.roles("entry") or s.roles("exit")]
    if not position and not kill:
        return []
    product = _Product(specs)
    found: dict[tuple[str, str, str], Diagnostic] = {}
    for config in product.explore():
        for d in _config_checks(product, config, kill, position):
            found.setdefault((d.file, d.line, d.col, d.code), d)
    return list(found.values())


def _config_checks(
    product: _Product, config: tuple[str, ...], kill: list[MachineSpec], position: list[MachineSpec]
) -> Iterable[Diagnostic]:
    states = {m.spec.name: s for m, s in zip(product.members, config, strict=True)}
    tags = {m.spec.name: m.spec.states[states[m.spec.name]].tags for m in product.members}
    if any("risk" in t for t in tags.values()):
        for ks in kill:
            yield from _kill_in_config(product, config, ks, states[ks.name])
    for pos in position:
        yield from _exit_in_config(product, config, pos, states[pos.name])
        blocked = [n for n, t in tags.items() if n != pos.name and t & BLOCKING_TAGS]
        if blocked:
            yield from _entry_in_config(product, config, pos, states[pos.name], blocked)
        closed = [
            m.spec.name
            for m in product.members
            if m.spec.name != pos.name
            and m.spec.name not in blocked
            and m.spec.tagged("entries_allowed")
            and "entries_allowed" not in tags[m.spec.name]
        ]
        if closed:
            yield from _entry_in_config(
                product, config, pos, states[pos.name], closed, code="entry-outside-window"
            )


def _kill_in_config(
    product: _Product, config: tuple[str, ...], ks: MachineSpec, state: str
) -> Iterable[Diagnostic]:
    if ks.states[state].tags & {"stopping", "halted"}:
        return
    mi = product.index[ks.name]
    for trigger in ks.roles("kill"):
        ok = any(
            not t.timed and product.truth(mi, t, config) is True
            for t in ks.candidates(state, trigger)
        )
        if not ok:
            yield ks.diagnostic(
                ("states", state),
                "kill-not-handled",
                f"kill trigger '{trigger}' is not certainly handled in '{state}' while "
                f"risk may be held ({product.describe(config)})",
                where=f"states.{state}",
                on_key=True,
                hint=f"add a transition from '{state}' on '{trigger}' with no guard",
            )


def _exit_in_config(
    product: _Product, config: tuple[str, ...], pos: MachineSpec, state: str
) -> Iterable[Diagnostic]:
    tags = pos.states[state].tags
    if "risk" not in tags or "exiting" in tags:
        return
    mi = product.index[pos.name]
    for trigger in pos.roles("exit"):
        if any(
            not t.timed and product.truth(mi, t, config) is True
            for t in pos.candidates(state, trigger)
        ):
            return
    yield pos.diagnostic(
        ("states", state),
        "exit-blocked",
        f"no exit is certainly enabled in '{state}' when {product.describe(config)}",
        where=f"states.{state}",
        on_key=True,
        hint="an exit-role transition out of every risk state must not depend on the "
        "session, breaker or kill-switch state",
    )


def _entry_in_config(
    product: _Product,
    config: tuple[str, ...],
    pos: MachineSpec,
    state: str,
    blocked: list[str],
    code: str = "entry-while-tripped",
) -> Iterable[Diagnostic]:
    mi = product.index[pos.name]
    for trigger in pos.roles("entry"):
        for t in pos.candidates(state, trigger):
            if product.truth(mi, t, config) is False:
                continue
            make = diag_at_guard if t.when is not None else _diag_at_name
            yield make(
                pos,
                t,
                code,
                f"an entry may be enabled while {', '.join(blocked)} blocks entries "
                f"({product.describe(config)})",
                hint="the guard must be false whenever a machine that gates entries is not "
                "in an entries_allowed state (the session outside its entry window, a "
                "breaker tripped, the kill switch stopping or halted), e.g. "
                "'state.session.entries_allowed and state.breakers.entries_allowed and ...'",
            )
