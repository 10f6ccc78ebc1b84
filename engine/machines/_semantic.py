"""Semantic checks of a schema-valid machine file, building its MachineSpec on the way.

Each ``_check_*`` / ``_build_*`` step reads one part of the file and collects located
``Diagnostic``s instead of stopping at the first problem: names, parameters, triggers,
states (actions, invariants), transitions (sources, destinations, timing, guards,
actions). Guard errors point at the line and column inside the YAML string.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from engine.diagnostics import Diagnostic
from engine.errors import ExprError
from engine.expr import Expr, NameInfo, Origin, ValueType, Vocabulary, compile_expr
from engine.machines._names import NAME, near
from engine.machines._transition import TransitionBuilder
from engine.machines.actions import ActionCall, parse_action
from engine.machines.spec import TICK, Invariant, Param, StateSpec, TransitionSpec, TriggerSpec
from engine.machines.timing import parse_clock_spec, parse_duration
from engine.machines.vocabulary import PeerInfo, machine_vocabulary
from engine.spec._yaml import Path_, SourceMap

__all__ = ["SemanticBuild"]

_VALUE_TYPES = {"number": ValueType.NUMBER, "string": ValueType.STRING, "bool": ValueType.BOOL}

PeerLoader = Callable[[str], "PeerInfo | str"]


class SemanticBuild:
    """Builds the parts of a MachineSpec from schema-valid data, collecting diagnostics."""

    def __init__(self, data: dict[str, Any], source: SourceMap, load_peer: PeerLoader) -> None:
        self.data = data
        self.source = source
        self.load_peer = load_peer
        self.diagnostics: list[Diagnostic] = []
        self.name: str = data["machine"]
        self.params: dict[str, Param] = {}
        self.triggers: dict[str, TriggerSpec] = {}
        self.events: dict[str, NameInfo] = {}
        self.peers: dict[str, PeerInfo] = {}
        self.states: dict[str, StateSpec] = {}
        self.transitions: list[TransitionSpec] = []
        self.vocabulary = Vocabulary({})

    # -- reporting -------------------------------------------------------------------
    def error(
        self,
        path: Path_,
        code: str,
        message: str,
        *,
        where: str = "",
        hint: str = "",
        on_key: bool = False,
        severity: str = "error",
    ) -> None:
        self.diagnostics.append(
            self.source.diagnostic(
                path, code, message, where=where, hint=hint, on_key=on_key, severity=severity
            )
        )

    def _at_text(
        self, path: Path_, needle: str, code: str, message: str, where: str, hint: str = ""
    ) -> None:
        """A diagnostic pointing at ``needle`` inside the string at ``path``."""
        text = self.source.scalars[path].value if path in self.source.scalars else ""
        offset = text.find(needle)
        if offset < 0:
            self.error(path, code, message, where=where, hint=hint)
            return
        line0 = text.count("\n", 0, offset)
        col0 = offset - (text.rfind("\n", 0, offset) + 1)
        line, col, line_text = self.source.locator(path)(line0, col0)
        self.diagnostics.append(
            Diagnostic(
                self.source.file, line, col, code, message, where, hint, line_text, len(needle)
            )
        )

    def compile(self, text: str, path: Path_, where: str) -> Expr | None:
        origin = Origin(self.source.file, where, self.source.locator(path))
        try:
            return compile_expr(text, self.vocabulary, expect=ValueType.BOOL, origin=origin)
        except ExprError as e:
            self.diagnostics.extend(e.diagnostics)
            return None

    # -- the steps -------------------------------------------------------------------
    def run(self) -> None:
        self._check_names()
        self._build_params()
        self._build_triggers()
        self._build_peers()
        self.vocabulary = machine_vocabulary(
            {p.name: (_guard_kind(p), p.value) for p in self.params.values()},
            self.events,
            self.peers.values(),
        )
        self._build_states()
        self._check_initial()
        self._check_ignore(self.data.get("ignore", []), ("ignore",), "ignore")
        self._build_transitions()
        self._check_unused_params()

    def _check_names(self) -> None:
        sections = {"states": "state", "triggers": "trigger", "params": "parameter"}
        for key, word in sections.items():
            for name in self.data.get(key) or {}:
                if not NAME.match(name):
                    self.error(
                        (key, name),
                        "bad-name",
                        f"{word} name '{name}' is not allowed",
                        hint="use lowercase letters, digits and '_', starting with a "
                        "letter (at most 40 characters)",
                        on_key=True,
                    )
        if TICK in (self.data.get("triggers") or {}):
            self.error(
                ("triggers", TICK),
                "reserved-trigger",
                "'tick' is the engine clock's trigger and cannot be declared",
                where="triggers.tick",
                hint="remove it; transitions may use trigger: tick without declaring it",
                on_key=True,
            )

    def _build_params(self) -> None:
        for name, value in (self.data.get("params") or {}).items():
            self.params[name] = _param(name, value)

    def _build_triggers(self) -> None:
        for name, body in (self.data.get("triggers") or {}).items():
            body = body or {}
            values = body.get("values") or {}
            for value_name, decl in values.items():
                self._add_event_value(name, value_name, decl)
            self.triggers[name] = TriggerSpec(
                name, body.get("doc", ""), body.get("role"), tuple(values), ("triggers", name)
            )

    def _add_event_value(self, trigger: str, name: str, decl: dict[str, Any]) -> None:
        path: Path_ = ("triggers", trigger, "values", name)
        if not NAME.match(name):
            self.error(
                path,
                "bad-name",
                f"event value name '{name}' is not allowed",
                where=f"triggers.{trigger}",
                on_key=True,
                hint="use lowercase letters, digits and '_', starting with a letter",
            )
            return
        choices = tuple(decl.get("choices") or ())
        if choices and decl["type"] != "string":
            self.error(
                (*path, "choices"),
                "bad-value",
                "only string values can have choices",
                where=f"triggers.{trigger}",
            )
        info = NameInfo(_VALUE_TYPES[decl["type"]], decl.get("doc", ""), choices)
        known = self.events.get(name)
        if known is not None and (known.type, known.choices) != (info.type, info.choices):
            self.error(
                path,
                "conflicting-event-value",
                f"event value '{name}' is declared differently by two triggers",
                where=f"triggers.{trigger}",
                on_key=True,
                hint="event.NAME has one type and one set of choices in a machine",
            )
            return
        self.events[name] = info

    def _build_peers(self) -> None:
        states = self.data.get("states") or {}
        tags: dict[str, set[str]] = {}
        for state, body in states.items():
            for tag in (body or {}).get("tags") or ():
                tags.setdefault(tag, set()).add(state)
        self.peers[self.name] = PeerInfo(
            self.name, tuple(states), {k: frozenset(v) for k, v in sorted(tags.items())}
        )
        for i, other in enumerate(self.data.get("requires") or ()):
            if other == self.name:
                self.error(
                    ("requires", i),
                    "bad-requires",
                    "a machine cannot require itself",
                    where="requires",
                )
                continue
            found = self.load_peer(other)
            if isinstance(found, str):
                self.error(("requires", i), "missing-machine", found, where="requires")
            else:
                self.peers[other] = found

    def _build_states(self) -> None:
        for name, body in (self.data.get("states") or {}).items():
            body = body or {}
            path: Path_ = ("states", name)
            where = f"states.{name}"
            self._check_ignore(body.get("ignore", []), (*path, "ignore"), where)
            self.states[name] = StateSpec(
                name=name,
                description=body.get("description", ""),
                final=bool(body.get("final", False)),
                tags=frozenset(body.get("tags") or ()),
                on_enter=self._actions(body.get("on_enter"), (*path, "on_enter"), where),
                on_exit=self._actions(body.get("on_exit"), (*path, "on_exit"), where),
                invariants=self._invariants(body.get("invariant"), (*path, "invariant"), where),
                ignore=frozenset(body.get("ignore") or ()),
                path=path,
            )

    def _invariants(self, raw: Any, path: Path_, where: str) -> tuple[Invariant, ...]:
        if raw is None:
            return ()
        items = (
            [(raw, path)]
            if isinstance(raw, str)
            else [(text, (*path, i)) for i, text in enumerate(raw)]
        )
        out = []
        for text, p in items:
            expr = self.compile(text, p, where)
            if expr is None:
                continue
            events = sorted(n for n in expr.names if n.startswith("event."))
            if events:
                self._at_text(
                    p,
                    events[0],
                    "event-in-invariant",
                    f"an invariant cannot read {events[0]}: it is checked between "
                    "events, not for one",
                    where,
                )
                continue
            out.append(Invariant(text, expr, p))
        return tuple(out)

    def _actions(self, raw: Any, path: Path_, where: str) -> tuple[ActionCall, ...]:
        out = []
        values = {p.name: p.value for p in self.params.values()}
        for i, item in enumerate(raw or ()):
            call, problem, hint = parse_action(item, values)
            if call is None:
                code = "unknown-action" if problem.startswith("unknown action") else "bad-action"
                on_key = isinstance(item, dict)
                self.error(
                    (*path, i, next(iter(item))) if on_key and item else (*path, i),
                    code,
                    problem,
                    where=where,
                    hint=hint,
                    on_key=on_key,
                )
            else:
                out.append(call)
        return tuple(out)

    def _check_ignore(self, names: list[str], path: Path_, where: str) -> None:
        for i, trigger in enumerate(names or ()):
            if trigger != TICK and trigger not in (self.data.get("triggers") or {}):
                self.error(
                    (*path, i),
                    "unknown-trigger",
                    f"'{trigger}' is not a declared trigger",
                    where=where,
                    hint=near(trigger, self.data.get("triggers") or {})
                    or "declare it under triggers:",
                )

    def _check_initial(self) -> None:
        initial = self.data["initial"]
        if initial not in self.states:
            self.error(
                ("initial",),
                "unknown-state",
                f"initial state '{initial}' is not declared",
                hint=near(initial, self.states) or "declare it under states:",
            )

    def _check_unused_params(self) -> None:
        used = set(re.findall(r"params\.(\w+)", self.source.text))  # one pass over the file
        for name in self.params:
            if name not in used:
                self.error(
                    ("params", name),
                    "unused-param",
                    f"parameter '{name}' is never used",
                    where=f"params.{name}",
                    on_key=True,
                    severity="warning",
                    hint="use it as params." + name + " or remove it",
                )

    # -- transitions -----------------------------------------------------------------
    def _build_transitions(self) -> None:
        seen: dict[str, int] = {}
        for i, raw in enumerate(self.data.get("transitions") or ()):
            where = f"transitions[{i}] '{raw['name']}'"
            if raw["name"] in seen:
                self.error(
                    ("transitions", i, "name"),
                    "duplicate-name",
                    f"transition name '{raw['name']}' is already used by "
                    f"transitions[{seen[raw['name']]}]",
                    where=where,
                    hint="transition names are unique: the journal refers to them",
                )
            seen.setdefault(raw["name"], i)
            built = TransitionBuilder(self, i, raw, where).build()
            if built is not None:
                self.transitions.append(built)


def _param(name: str, value: Any) -> Param:
    if isinstance(value, bool):
        return Param(name, value, "bool")
    if isinstance(value, int | float):
        return Param(name, value, "number")
    text = str(value)
    try:
        return Param(name, text, "duration", duration=parse_duration(text))
    except ValueError:
        pass
    try:
        return Param(name, text, "time", clock=parse_clock_spec(text))
    except ValueError:
        return Param(name, text, "string")


def _guard_kind(param: Param) -> str:
    """How guards see a parameter: a session-relative time is only text to them."""
    if param.kind == "time" and (param.clock is None or param.clock.clock is None):
        return "string"
    return param.kind
