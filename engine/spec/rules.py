"""Loading a strategy rule file: schema, semantic checks, compiled expressions.

``load_rule_file`` returns a ``RuleSpec`` whose every condition is a compiled ``Expr``,
or raises ``SpecError`` listing every problem in the file at once: YAML syntax, tabs,
duplicate keys, the schema, duplicate rule names, bad indicator definitions, and each
expression's unknown names, types and forbidden constructs.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.diagnostics import Diagnostic
from engine.errors import ExprError, SpecError
from engine.expr import Expr, Origin, ValueType, Vocabulary, compile_expr
from engine.spec._checked import checked_before, remember_checked
from engine.spec._schema import schema_diagnostics
from engine.spec._yaml import Path_, SourceMap, YamlDocument, load_yaml_file
from engine.vocabulary import BAR_FIELDS, MAX_HISTORY, TIMEFRAMES, rule_vocabulary

__all__ = ["Condition", "ExitRule", "RuleSpec", "Trigger", "load_rule_document", "load_rule_file"]

SCHEMA = "rules.schema.json"


@dataclass(frozen=True, slots=True)
class Condition:
    """A named condition (a filter, or a direction side)."""

    name: str
    when: Expr
    description: str = ""


@dataclass(frozen=True, slots=True)
class Trigger:
    name: str
    side: str  # "CE", "PE" or "direction"
    when: Expr
    description: str = ""


@dataclass(frozen=True, slots=True)
class ExitRule:
    name: str
    priority: int
    when: Expr
    action: str = "exit"
    description: str = ""
    stop_out: bool = False
    fraction: float | None = None  # a scale-out: this share of the lots held
    repeatable: bool = False  # a scale-out that may fire again on the same position


@dataclass(frozen=True)
class Multiplier:
    """One row of a sizing table: ``factor`` scales the size while ``when`` holds."""

    name: str
    when: Expr
    factor: float
    description: str = ""


@dataclass(frozen=True)
class RuleSpec:
    """A loaded, checked strategy. Exits are in evaluation order (priority, then file order)."""

    file: str
    name: str
    underlyings: tuple[str, ...]
    indicators: dict[str, dict[str, str]]
    direction: dict[str, Condition]
    filters: tuple[Condition, ...]
    triggers: tuple[Trigger, ...]
    exits: tuple[ExitRule, ...]
    sizing: dict[str, Any] = field(default_factory=dict)
    strikes: dict[str, Any] = field(default_factory=dict)
    risk: dict[str, Any] = field(default_factory=dict)
    params: dict[str, float] = field(default_factory=dict)
    description: str = ""
    vocabulary: Vocabulary = field(default_factory=lambda: Vocabulary({}), repr=False)
    warnings: tuple[Diagnostic, ...] = ()
    multipliers: tuple[Multiplier, ...] = ()


_SECTIONS = ("filters", "triggers", "exits")

#: NSE and BSE index underlyings: their bars carry no traded volume.
INDEX_UNDERLYINGS = frozenset(
    {"NIFTY", "BANKNIFTY", "FINNIFTY", "MIDCPNIFTY", "NIFTYNXT50", "SENSEX", "BANKEX"}
)


def _where(data: Any) -> Callable[[Path_], str]:
    """'exits[2] 'stop_loss'' for any path inside a list item that has a name."""

    def where(path: Path_) -> str:
        if len(path) >= 2 and path[0] in _SECTIONS and isinstance(path[1], int):
            items = data.get(path[0]) if isinstance(data, dict) else None
            name = ""
            if (
                isinstance(items, list)
                and path[1] < len(items)
                and isinstance(items[path[1]], dict)
            ):
                raw = items[path[1]].get("name")
                name = f" '{raw}'" if isinstance(raw, str) else ""
            return f"{path[0]}[{path[1]}]{name}"
        if len(path) >= 2 and path[0] == "direction":
            return f"direction {path[1]}"
        if len(path) >= 3 and path[:2] == ("sizing", "multipliers") and isinstance(path[2], int):
            rows = dict(_multipliers(data)) if isinstance(data, dict) else {}
            name = rows.get(path[2], {}).get("name")
            return f"sizing.multipliers[{path[2]}]" + (
                f" '{name}'" if isinstance(name, str) else ""
            )
        if len(path) >= 2 and path[0] == "indicators":
            return ".".join(str(p) for p in path[:3])
        return ""

    return where


class _RuleChecker:
    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc
        self.data: dict[str, Any] = doc.data
        self.source: SourceMap = doc.source
        self.where = _where(doc.data)
        self.problems: list[Diagnostic] = list(doc.diagnostics)
        self.vocabulary = Vocabulary({})

    def report(self, path: Path_, code: str, message: str, hint: str = "", **kw: Any) -> None:
        self.problems.append(
            self.source.diagnostic(path, code, message, where=self.where(path), hint=hint, **kw)
        )

    def check_names_unique(self) -> None:
        seen: dict[str, str] = {}
        for section in _SECTIONS:
            for i, item in _items(self.data, section):
                name = item.get("name")
                if not isinstance(name, str):
                    continue
                if name in seen:
                    self.report(
                        (section, i, "name"),
                        "duplicate-name",
                        f"rule name '{name}' is already used by {seen[name]}",
                        "rule names must be unique within a file (the journal refers to them)",
                    )
                else:
                    seen[name] = f"{section}[{i}]"

    def check_indicators(self) -> None:
        from engine.indicators import parse_indicator_spec

        for tf, declared in _mapping(self.data, "indicators").items():
            if not isinstance(declared, dict):
                continue  # the schema reports a timeframe that is not a mapping
            for name, definition in declared.items():
                path: Path_ = ("indicators", tf, name)
                if not isinstance(definition, str):
                    continue  # the schema reports a definition that is not text
                if (
                    name == "prev"
                    or re.fullmatch(r"ago\d+", name)
                    or name in BAR_FIELDS
                    and definition != name
                ):
                    self.report(
                        path,
                        "reserved-name",
                        f"'{name}' is a built-in field of every {tf} bar; pick another name",
                        on_key=True,
                    )
                    continue
                if definition in BAR_FIELDS:
                    continue  # an alias of a bar field, e.g. `high: high`
                try:
                    parse_indicator_spec(definition)
                except ValueError as e:
                    col = getattr(e, "col", None) or getattr(e, "column", None)
                    offset = int(col) - 1 if isinstance(col, int) and col >= 1 else 0
                    line, column, text = self.source.locator(path)(0, offset)
                    self.problems.append(
                        Diagnostic(
                            self.source.file,
                            line,
                            column,
                            "bad-indicator",
                            f"{definition!r}: " + (getattr(e, "reason", None) or str(e)),
                            where=self.where(path),
                            hint=getattr(e, "hint", "") or "",
                            source_line=text,
                        )
                    )

    def check_triggers_sides(self) -> None:
        sides = set(_mapping(self.data, "direction"))
        for i, trig in _items(self.data, "triggers"):
            side = trig.get("side")
            if side in ("CE", "PE") and sides and side not in sides:
                self.report(
                    ("triggers", i, "side"),
                    "side-never-allowed",
                    f"trigger buys {side}, but 'direction' never allows {side}",
                    f"add a direction for {side} or change the trigger's side",
                )

    def check_partial_exits(self) -> None:
        for i, it in _items(self.data, "exits"):
            if "fraction" in it and it.get("action") == "exit_all":
                self.report(
                    ("exits", i, "fraction"),
                    "fraction-with-exit-all",
                    "a partial exit sells part of this position; exit_all closes every position",
                    "drop 'fraction' or use action: exit",
                )
            if it.get("repeatable") and "fraction" not in it:
                self.report(
                    ("exits", i, "repeatable"),
                    "repeatable-without-fraction",
                    "only a partial exit (one with 'fraction') can repeat; a full exit closes "
                    "the position",
                    "add 'fraction' or drop 'repeatable'",
                )

    def lint(self, compiled: dict[Path_, Expr]) -> list[Diagnostic]:
        from engine.spec._lints import lint_conditions

        exits = [
            (("exits", i, "when"), item["name"], item["priority"])
            for i, item in _items(self.data, "exits")
        ]

        def report(path: Path_, code: str, message: str, **kw: Any) -> Diagnostic:
            return self.source.diagnostic(path, code, message, where=self.where(path), **kw)

        params = dict(_mapping(self.data, "params"))
        return [
            *lint_conditions(compiled, exits, self.vocabulary, params, report),
            *self._index_volume(compiled, report),
        ]

    def _index_volume(
        self, compiled: dict[Path_, Expr], report: Callable[..., Diagnostic]
    ) -> list[Diagnostic]:
        """A condition reading volume on an index: its bars carry none (0), so it is
        always false (a filter that needs it silently blocks every entry)."""
        indices = [u for u in self.data.get("underlyings") or [] if u in INDEX_UNDERLYINGS]
        if not indices:
            return []
        volume_names = set()
        for tf, declared in _mapping(self.data, "indicators").items():
            for name, definition in (declared or {}).items() if isinstance(declared, dict) else ():
                if isinstance(definition, str) and "volume" in definition:
                    volume_names.add(f"{tf}.{name}")
        out = []
        for path, expr in compiled.items():
            read = sorted(
                n
                for n in expr.names
                if n.rsplit(".", 1)[-1] == "volume"
                or f"{n.split('.', 1)[0]}.{n.rsplit('.', 1)[-1]}" in volume_names
            )
            if read:
                out.append(
                    report(
                        path,
                        "index-volume",
                        f"reads {', '.join(read)}, but {', '.join(indices)} "
                        f"{'is an index' if len(indices) == 1 else 'are indices'} with no "
                        "volume: it reads 0 on every bar, so a volume threshold never passes",
                        hint="read volume from a futures or option series, or drop the condition",
                        severity="warning",
                    )
                )
        return out

    def compile(self, path: Path_, text: str, vocab: Vocabulary) -> Expr | None:
        origin = Origin(self.source.file, self.where(path), self.source.locator(path))
        try:
            return compile_expr(text, vocab, expect=ValueType.BOOL, origin=origin)
        except ExprError as e:
            self.problems.extend(e.diagnostics)
            return None


def _vocabulary_of(data: dict[str, Any]) -> Vocabulary:
    indicators = {
        tf: {n: d for n, d in (v or {}).items() if isinstance(d, str)}
        for tf, v in _mapping(data, "indicators").items()
        if tf in TIMEFRAMES and isinstance(v, dict | type(None))
    }
    params = {k: v for k, v in _mapping(data, "params").items() if isinstance(v, int | float)}
    history = {
        tf: v
        for tf, v in _mapping(data, "history").items()
        if tf in TIMEFRAMES
        and isinstance(v, int)
        and not isinstance(v, bool)
        and 1 <= v <= MAX_HISTORY
    }
    return rule_vocabulary(indicators, params, history)


def load_rule_document(doc: YamlDocument, *, cache_parts: list[bytes] | None = None) -> RuleSpec:
    """Check an already loaded YAML document as a rule file.

    With ``cache_parts`` (the file's bytes and name), a file that passed every check
    before is not schema-checked or linted again (``engine.spec._checked``)."""
    source = doc.source
    if not isinstance(doc.data, dict):
        raise SpecError(
            [source.diagnostic((), "wrong-type", "a rule file must be a YAML mapping of keys")]
        )
    checker = _RuleChecker(doc)
    remembered = checked_before("rule", cache_parts) if cache_parts is not None else None
    if remembered is None:
        checker.problems.extend(schema_diagnostics(doc.data, SCHEMA, source, checker.where))
    checker.check_names_unique()
    checker.check_indicators()
    checker.check_triggers_sides()
    checker.check_partial_exits()
    # Expressions are checked even when the schema failed, so every error shows at once.
    compiled = _compile_all(checker, _vocabulary_of(doc.data))
    warnings: list[Diagnostic] = list(remembered or ())
    if not checker.problems and remembered is None:
        for d in checker.lint(compiled):
            (warnings if d.severity == "warning" else checker.problems).append(d)
    if checker.problems:
        raise SpecError([*checker.problems, *warnings])
    if cache_parts is not None and remembered is None:
        remember_checked("rule", cache_parts, warnings)
    return dataclasses.replace(_build(checker, compiled), warnings=tuple(warnings))


def _mapping(data: dict[str, Any], key: str) -> dict[str, Any]:
    """data[key] when it is a mapping, else {} (the schema reports the wrong shape)."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _items(data: dict[str, Any], section: str) -> list[tuple[int, dict[str, Any]]]:
    raw = data.get(section)
    if not isinstance(raw, list):
        return []
    return [(i, item) for i, item in enumerate(raw) if isinstance(item, dict)]


def _multipliers(data: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """The sizing table's rows that are mappings (the schema reports the others)."""
    raw = _mapping(data, "sizing").get("multipliers")
    if not isinstance(raw, list):
        return []
    return [(i, item) for i, item in enumerate(raw) if isinstance(item, dict)]


def _compile_all(checker: _RuleChecker, vocab: Vocabulary) -> dict[Path_, Expr]:
    """Every condition string in the file, compiled; problems go to the checker."""
    out: dict[Path_, Expr] = {}
    data = checker.data
    paths: list[Path_] = []
    paths += [("direction", side) for side in _mapping(data, "direction")]
    paths += [("sizing", "multipliers", i, "when") for i, _ in _multipliers(data)]
    for section in _SECTIONS:
        paths += [(section, i, "when") for i, _ in _items(data, section)]
    for path in paths:
        node: Any = data
        for part in path:
            node = node.get(part) if isinstance(node, dict) else node[part]
        if isinstance(node, str) and node.strip():
            expr = checker.compile(path, node, vocab)
            if expr is not None:
                out[path] = expr
    checker.vocabulary = vocab
    return out


def _build(checker: _RuleChecker, compiled: dict[Path_, Expr]) -> RuleSpec:
    data = checker.data
    items = {section: _items(data, section) for section in _SECTIONS}
    return RuleSpec(
        file=checker.source.file,
        name=data["name"],
        underlyings=tuple(data["underlyings"]),
        indicators={tf: dict(v or {}) for tf, v in (data.get("indicators") or {}).items()},
        direction={
            side: Condition(side, compiled[("direction", side)]) for side in data["direction"]
        },
        filters=tuple(
            Condition(it["name"], compiled[("filters", i, "when")], it.get("description", ""))
            for i, it in items["filters"]
        ),
        triggers=tuple(
            Trigger(
                it["name"], it["side"], compiled[("triggers", i, "when")], it.get("description", "")
            )
            for i, it in items["triggers"]
        ),
        exits=tuple(
            sorted(
                (
                    ExitRule(
                        it["name"],
                        it["priority"],
                        compiled[("exits", i, "when")],
                        it.get("action", "exit"),
                        it.get("description", ""),
                        bool(it.get("stop_out", False)),
                        it.get("fraction"),
                        bool(it.get("repeatable", False)),
                    )
                    for i, it in items["exits"]
                ),
                key=lambda e: e.priority,
            )
        ),
        sizing={k: v for k, v in (data.get("sizing") or {}).items() if k != "multipliers"},
        multipliers=tuple(
            Multiplier(
                it["name"],
                compiled[("sizing", "multipliers", i, "when")],
                float(it["factor"]),
                it.get("description", ""),
            )
            for i, it in _multipliers(data)
        ),
        strikes=dict(data.get("strikes") or {}),
        risk=dict(data.get("risk") or {}),
        params=dict(data.get("params") or {}),
        description=data.get("description", ""),
        vocabulary=checker.vocabulary,
    )


def load_rule_file(path: str | Path, display: str | None = None) -> RuleSpec:
    """Load and check a rule file; SpecError lists every problem with file:line:col."""
    doc = load_yaml_file(path, display)
    try:
        parts = [Path(path).read_bytes(), (display or str(path)).encode()]
    except OSError:
        parts = None
    return load_rule_document(doc, cache_parts=parts)
