"""Rebuilding a condition's trace from recorded values and reading it clause by clause.

The run recorded only the values each condition read. Here the rule file is compiled
again (from the text in the journal's header, checked against its digest), the values
are decoded back into the types the expressions compare (times, dates, missing values),
and ``Expr.trace`` gives every clause with its value and margin.

**Closeness**, the measure ``--near-misses`` ranks by: for a comparison ``a > b`` that
failed, how far ``a`` was from flipping it relative to the threshold, ``|a - b| / |b|``
(``|a - b|`` when ``b`` is 0); a clause that held is 0; ``x and y`` is as close as its
farthest part, ``x or y`` as its nearest; any other clause that failed (a time window,
a side, a missing value) cannot be measured and is never near.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from engine.explain.journal import ExplainError, RunJournal
from engine.expr import Expr, Missing, TraceNode, ValueType, format_value

__all__ = ["Clause", "RunRules", "closeness", "clauses", "render_clause"]

INF = float("inf")
_OP = re.compile(r"\s*(==|!=|<=|>=|<|>)")


class RunRules:
    """The run's rule file, compiled again, and the decoding of its recorded values."""

    def __init__(self, run: RunJournal) -> None:
        from engine.errors import SpecError
        from engine.spec._yaml import load_yaml
        from engine.spec.rules import load_rule_document

        header = run.header
        text = header.get("rules_text")
        where = str((header.get("inputs") or {}).get("rules", "rules"))
        if not isinstance(text, str):
            raise ExplainError(f"{run.path}: the journal's header does not carry its rule file")
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if digest != header.get("rules_sha256"):
            raise ExplainError(f"{run.path}: the rule file in the header does not match its digest")
        try:
            self.spec = load_rule_document(load_yaml(text, where))
        except SpecError as e:
            raise ExplainError(f"{run.path}: the run's rule file no longer loads:\n{e}") from None
        self.vocabulary = self.spec.vocabulary
        self.filters = {f.name: f for f in self.spec.filters}
        self.triggers = {t.name: t for t in self.spec.triggers}
        self.exits = {e.name: e for e in self.spec.exits}

    def decode(self, name: str, raw: Any) -> Any:
        if isinstance(raw, dict) and "missing" in raw:
            return Missing(str(raw["missing"]))
        info = self.vocabulary.get(name)
        kind = info.type if info is not None else ValueType.ANY
        if kind is ValueType.TIME and isinstance(raw, str):
            return time.fromisoformat(raw)
        if kind is ValueType.DATE and isinstance(raw, str):
            return date.fromisoformat(raw)
        return raw

    def context(self, reads: dict[str, Any]) -> dict[str, Any]:
        return {n: self.decode(n, v) for n, v in reads.items()}

    def trace(self, expr: Expr, reads: dict[str, Any]) -> TraceNode:
        ctx = self.context(reads)
        for name in expr.names:
            ctx.setdefault(name, Missing(f"{name} was not recorded"))
        return expr.trace(ctx).root


@dataclass(frozen=True, slots=True)
class Clause:
    """One top-level clause of a condition, as a trader reads it."""

    text: str  # the clause with its values, e.g. "daily.adx=18.3 >= 25"
    holds: bool | None  # None: missing
    margin: float | None
    closeness: float  # 0 when it holds; INF when not measurable

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"clause": self.text, "holds": self.holds}
        if self.margin is not None:
            out["margin"] = round(self.margin, 6)
        if self.holds is not True and self.closeness != INF:
            out["closeness_pct"] = round(self.closeness * 100, 4)
        return out


def clauses(root: TraceNode) -> list[Clause]:
    """The conjuncts of an ``and`` (else the whole condition), each with its values."""
    parts = root.children if root.kind == "and" else (root,)
    return [
        Clause(
            render_clause(p),
            p.value if isinstance(p.value, bool) else None,
            p.margin,
            closeness(p),
        )
        for p in parts
    ]


def closeness(node: TraceNode) -> float:
    """See the module docstring: 0 when it holds, INF when not measurable."""
    if node.value is True:
        return 0.0
    if node.kind == "compare" and node.margin is not None:
        threshold = node.children[1].value
        gap = abs(node.margin)
        return gap / abs(threshold) if threshold else gap
    if node.kind == "and":
        return max((closeness(c) for c in node.children), default=INF)
    if node.kind == "or":
        return min((closeness(c) for c in node.children), default=INF)
    return INF


def _side(node: TraceNode) -> str:
    if node.kind == "name":
        if node.text.startswith("params."):
            return format_value(node.value)
        return f"{node.text}={format_value(node.value)}"
    if node.kind == "constant":
        value = node.value
        return f"'{format_value(value)}'" if isinstance(value, time | date) else format_value(value)
    return f"{node.text}={format_value(node.value)}"


def render_clause(node: TraceNode) -> str:
    """A clause with the values it read: ``m1.close=22052.1 > h1.prev.high=22047.9``."""
    left, right = (node.children + (node, node))[:2]
    found = _OP.match(node.text[len(left.text) :]) if node.text.startswith(left.text) else None
    if node.kind == "compare" and len(node.children) == 2 and found:
        text = f"{_side(left)} {found.group(1)} {_side(right)}"
    elif node.kind in ("and", "or"):
        joined = f" {node.kind} ".join(render_clause(c) for c in node.children)
        text = f"({joined})"
    else:
        reads: dict[str, Any] = {}
        for n in node.walk():
            reads.update(n.reads)
        values = " ".join(f"{k}={format_value(v)}" for k, v in reads.items())
        text = f"{node.text} [{values}]" if values else node.text
    if type(node.value) is Missing:
        reason = node.note or node.value.reason
        return f"{text} (missing: {reason})"
    return text
