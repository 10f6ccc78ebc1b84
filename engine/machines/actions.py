"""The fixed registry of actions a machine may request, and their arguments.

A machine never acts by itself: taking a transition *requests* actions (``exit_all``,
``cancel_orders`` ...) as ``ActionRequested`` commands to an action sink, which the
runtime maps to orders and settings. The registry is closed on purpose: an action that is
not listed here is a load error with its file, line and column, so a typo in a safety
machine can never turn into a silently skipped exit.

In YAML an action is written as its name (``exit_all``), as ``NAME: VALUE`` for its main
argument (``set_size_factor: 0.25``, ``notify: "VIX above 30"``), or as ``NAME: {ARG:
VALUE}``. Any argument may be ``params.NAME``, resolved when the file loads.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ACTIONS", "ActionCall", "ActionInfo", "ArgSpec", "parse_action"]


@dataclass(frozen=True, slots=True)
class ArgSpec:
    """One argument of an action: its kind, limits and default."""

    name: str
    kind: str  # "number" | "integer" | "string" | "choice"
    doc: str
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    nullable: bool = False

    def check(self, value: Any) -> str | None:
        """The reason ``value`` is not acceptable, or None."""
        if value is None:
            return None if self.nullable else f"'{self.name}' needs a value"
        if self.kind == "choice":
            if value not in self.choices:
                return f"'{self.name}' must be one of {', '.join(self.choices)}; it was {value!r}"
            return None
        if self.kind == "string":
            return None if isinstance(value, str) else f"'{self.name}' must be text"
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or (self.kind == "integer" and not isinstance(value, int)):
            word = "a whole number" if self.kind == "integer" else "a number"
            return f"'{self.name}' must be {word}; it was {value!r}"
        return self._check_range(value)

    def _check_range(self, value: float) -> str | None:
        low, high = self.minimum, self.maximum
        if low is not None and (value <= low if self.exclusive_minimum else value < low):
            word = "above" if self.exclusive_minimum else "at least"
            return f"'{self.name}' must be {word} {low:g}; it was {value!r}"
        if high is not None and value > high:
            return f"'{self.name}' must be at most {high:g}; it was {value!r}"
        return None


@dataclass(frozen=True, slots=True)
class ActionInfo:
    """One registered action: what it asks the runtime to do, and its arguments."""

    name: str
    doc: str
    args: tuple[ArgSpec, ...] = ()
    primary: str | None = None  # the argument `NAME: VALUE` sets

    def arg(self, name: str) -> ArgSpec | None:
        return next((a for a in self.args if a.name == name), None)


_REASON = ArgSpec("reason", "string", "why, for the journal and the notification")

ACTIONS: dict[str, ActionInfo] = {
    a.name: a
    for a in (
        ActionInfo(
            "exit_all",
            "Close every open position (protected limit orders) and cancel working entry orders.",
            (
                ArgSpec(
                    "urgency",
                    "choice",
                    "normal: usual exit orders; immediate: cross the spread now",
                    default="normal",
                    choices=("normal", "immediate"),
                ),
                _REASON,
            ),
            primary="urgency",
        ),
        ActionInfo(
            "cancel_orders",
            "Cancel working orders.",
            (
                ArgSpec(
                    "scope",
                    "choice",
                    "which orders",
                    default="all",
                    choices=("all", "entries", "exits"),
                ),
            ),
            primary="scope",
        ),
        ActionInfo(
            "pause_entries",
            "Stop evaluating entries (this machine's pause).",
            (_REASON,),
            primary="reason",
        ),
        ActionInfo("resume_entries", "Lift this machine's pause on entries."),
        ActionInfo(
            "halt_day",
            "No new entries for the rest of the trading day.",
            (_REASON,),
            primary="reason",
        ),
        ActionInfo(
            "set_size_factor",
            "Scale position sizes; the runtime sizes with the smallest factor any machine set.",
            (
                ArgSpec(
                    "factor",
                    "number",
                    "fraction of the normal size",
                    required=True,
                    minimum=0,
                    maximum=1,
                    exclusive_minimum=True,
                ),
            ),
            primary="factor",
        ),
        ActionInfo(
            "set_max_positions",
            "Cap the number of open positions (null: back to the strategy's own limit).",
            (
                ArgSpec(
                    "count",
                    "integer",
                    "most positions open at once",
                    required=True,
                    minimum=0,
                    maximum=100,
                    nullable=True,
                ),
            ),
            primary="count",
        ),
        ActionInfo("close_weakest", "Close the open position with the worst unrealised P&L."),
        ActionInfo(
            "notify",
            "Tell the operator (log, journal and any configured notifier).",
            (
                ArgSpec("message", "string", "what to say", required=True),
                ArgSpec(
                    "level",
                    "choice",
                    "how loud",
                    default="warning",
                    choices=("info", "warning", "critical"),
                ),
            ),
            primary="message",
        ),
        ActionInfo("reconcile", "Compare positions and orders with the broker's books."),
    )
}


@dataclass(frozen=True, slots=True)
class ActionCall:
    """One action as the file requests it, with every argument resolved and defaulted."""

    name: str
    args: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """``set_size_factor(0.25)`` style text for diagrams: arguments that differ from
        their defaults, the main one without its name."""
        info = ACTIONS.get(self.name)
        parts = []
        for key, value in self.args.items():
            spec = info.arg(key) if info is not None else None
            if spec is not None and value == spec.default and not spec.required:
                continue
            parts.append(
                repr(value) if info is not None and key == info.primary else f"{key}={value!r}"
            )
        return f"{self.name}({', '.join(parts)})" if parts else self.name


def _resolve(value: Any, params: Mapping[str, Any]) -> tuple[Any, str | None]:
    if isinstance(value, str) and value.startswith("params."):
        key = value[len("params.") :]
        if key not in params:
            near = difflib.get_close_matches(key, list(params), n=1, cutoff=0.6)
            hint = f"; did you mean 'params.{near[0]}'?" if near else ""
            return None, f"unknown parameter '{value}'{hint}"
        return params[key], None
    return value, None


def parse_action(raw: Any, params: Mapping[str, Any]) -> tuple[ActionCall | None, str, str]:
    """Parse one YAML action; returns (call, problem, hint): call is None when problem is set."""
    if isinstance(raw, str):
        name, given = raw, {}
    elif isinstance(raw, dict) and len(raw) == 1:
        name, value = next(iter(raw.items()))
        info = ACTIONS.get(name)
        if isinstance(value, dict):
            given = dict(value)
        elif info is not None and info.primary is None:
            return None, f"action '{name}' takes no arguments", f"write just '{name}'"
        else:
            given = {info.primary if info is not None else "value": value}
    else:
        return (
            None,
            "an action is a name or a mapping with one action name",
            ("write 'exit_all' or 'set_size_factor: 0.25'"),
        )
    info = ACTIONS.get(name)
    if info is None:
        near = difflib.get_close_matches(str(name), list(ACTIONS), n=1, cutoff=0.6)
        hint = f"did you mean '{near[0]}'?" if near else f"known actions: {', '.join(ACTIONS)}"
        return None, f"unknown action '{name}'", hint
    return _bind(info, given, params)


def _bind(
    info: ActionInfo, given: Mapping[str, Any], params: Mapping[str, Any]
) -> tuple[ActionCall | None, str, str]:
    args: dict[str, Any] = {}
    for key, raw_value in given.items():
        spec = info.arg(key)
        if spec is None:
            known = ", ".join(a.name for a in info.args) or "none"
            return None, f"action '{info.name}' has no argument '{key}'", f"its arguments: {known}"
        value, problem = _resolve(raw_value, params)
        if problem is None:
            problem = spec.check(value)
        if problem is not None:
            return None, f"action '{info.name}': {problem}", ""
        args[key] = value
    for spec in info.args:
        if spec.name not in args:
            if spec.required:
                return (
                    None,
                    f"action '{info.name}' needs its '{spec.name}'",
                    (f"write '{info.name}: VALUE'"),
                )
            args[spec.name] = spec.default
    return ActionCall(info.name, args), "", ""
