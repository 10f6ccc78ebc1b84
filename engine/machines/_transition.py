"""Checking one transition entry of a machine file and building its TransitionSpec.

Sources and destination must be declared states (a final state cannot be left), timing is
``after:`` or ``at:`` (a duration, a time of the trading day, or ``params.NAME``), a
timed transition runs on the clock's tick, an untimed one needs a trigger, and the guard
may read only the event values its own trigger carries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.expr import Expr
from engine.machines._names import near
from engine.machines.spec import TICK, TransitionSpec
from engine.machines.timing import ClockTime, Duration, parse_clock_spec, parse_duration
from engine.spec._yaml import Path_

if TYPE_CHECKING:
    from engine.machines._semantic import SemanticBuild

__all__ = ["TransitionBuilder"]


class TransitionBuilder:
    """Checks and builds one transition entry."""

    def __init__(self, owner: SemanticBuild, index: int, raw: dict[str, Any], where: str) -> None:
        self.o = owner
        self.i = index
        self.raw = raw
        self.where = where
        self.path: Path_ = ("transitions", index)
        self.ok = True

    def err(self, key: str | tuple[Any, ...], code: str, message: str, hint: str = "") -> None:
        sub = key if isinstance(key, tuple) else (key,)
        self.o.error((*self.path, *sub), code, message, where=self.where, hint=hint)
        self.ok = False

    def build(self) -> TransitionSpec | None:
        sources = self._sources()
        dest = self._state(self.raw["dest"], "dest", "destination")
        after, at = self._timing()
        trigger = self._trigger("after" in self.raw or "at" in self.raw)
        when = self._guard(trigger)
        then = self.o._actions(self.raw.get("then"), (*self.path, "then"), self.where)
        if not self.ok or dest is None or trigger is None:
            return None
        return TransitionSpec(
            index=self.i,
            name=self.raw["name"],
            trigger=trigger,
            sources=sources,
            dest=dest,
            when=when,
            after=after,
            at=at,
            then=then,
            priority=self.raw.get("priority"),
            description=self.raw.get("description", ""),
            path=self.path,
        )

    def _state(self, name: str, key: str | tuple[Any, ...], word: str) -> str | None:
        if name in self.o.states:
            return name
        self.err(
            key,
            "unknown-state",
            f"{word} state '{name}' is not declared",
            near(name, self.o.states) or "declare it under states:",
        )
        return None

    def _sources(self) -> tuple[str, ...]:
        raw = self.raw["source"]
        items = (
            [(raw, "source")]
            if isinstance(raw, str)
            else [(s, ("source", k)) for k, s in enumerate(raw)]
        )
        out = []
        for name, key in items:
            if self._state(name, key, "source") is None:
                continue
            if self.o.states[name].final:
                self.err(
                    key,
                    "leaves-final",
                    f"'{name}' is a final state; nothing can leave it",
                    "remove the transition or make the state non-final",
                )
            out.append(name)
        return tuple(out)

    def _trigger(self, timed: bool) -> str | None:
        trigger = self.raw.get("trigger")
        if timed:
            if trigger not in (None, TICK):
                kind = "after" if "after" in self.raw else "at"
                self.err(
                    "trigger",
                    "timed-trigger",
                    f"a transition with {kind}: runs on the clock's tick, not on '{trigger}'",
                    "remove the trigger: line",
                )
            return TICK
        if trigger is None:
            self.err(
                "name",
                "missing-trigger",
                "the transition has no trigger:, after: or at:; nothing would fire it",
                "add trigger: NAME (a declared trigger or tick), after: 30m or at: '15:20'",
            )
            return None
        return trigger

    def _timing(self) -> tuple[Duration | None, ClockTime | None]:
        if "after" in self.raw and "at" in self.raw:
            self.err("at", "after-and-at", "a transition has either after: or at:, not both")
            return None, None
        after = self._param_or("after", parse_duration, "duration")
        at = self._param_or("at", parse_clock_spec, "time")
        return after, at  # type: ignore[return-value]

    def _param_or(self, key: str, parse: Callable[[str], Any], kind: str) -> Any:
        text = self.raw.get(key)
        if text is None:
            return None
        if text.startswith("params."):
            param = self.o.params.get(text[len("params.") :])
            if param is None:
                self.err(
                    key,
                    "unknown-param",
                    f"unknown parameter '{text}'",
                    near(text[len("params.") :], self.o.params),
                )
                return None
            found = param.duration if kind == "duration" else param.clock
            if found is None:
                self.err(
                    key, "bad-value", f"parameter '{param.name}' is {param.value!r}, not a {kind}"
                )
            return found
        try:
            return parse(text)
        except ValueError as e:
            self.err(key, "bad-duration" if kind == "duration" else "bad-time", str(e))
            return None

    def _guard(self, trigger: str | None) -> Expr | None:
        text = self.raw.get("when")
        if text is None:
            return None
        path = (*self.path, "when")
        expr = self.o.compile(text, path, self.where)
        if expr is None:
            self.ok = False
            return None
        allowed = self.o.triggers[trigger].values if trigger in self.o.triggers else ()
        for name in sorted(n for n in expr.names if n.startswith("event.")):
            if name[len("event.") :] not in allowed:
                sent = ", ".join(f"event.{v}" for v in allowed) or "no values"
                self.o._at_text(
                    path,
                    name,
                    "event-not-sent",
                    f"{name} is not sent with trigger '{trigger}'",
                    self.where,
                    f"'{trigger}' carries {sent}",
                )
                self.ok = False
        return expr
