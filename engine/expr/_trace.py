"""The explain path: evaluate every clause and record what each one read and returned.

A second evaluator over the same checked tree, so the fast path pays nothing for it. It
does not short-circuit: a trace shows every clause of ``a and b and c`` even after ``a``
was false, yet the value it returns is the one the fast path returns. Comparisons record
their margin (``vix < 30`` missed by 1.4), and a comparison with a missing value records the
missing value's reason.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from engine.expr._functions import FUNCTIONS, OPERATORS
from engine.expr._values import Missing

__all__ = ["Trace", "TraceNode", "format_value", "trace_tree"]

_CMP_TEXT = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


@dataclass(frozen=True, slots=True)
class TraceNode:
    """One sub-expression: its text and span in the source, its value, and its parts."""

    text: str
    span: tuple[int, int]  # character offsets [start, end) in the expression source
    value: Any
    kind: str  # "name", "constant", "and", "or", "not", "compare", "arith", "if", "call"
    reads: Mapping[str, Any] = field(default_factory=dict)  # names read by this node itself
    children: tuple[TraceNode, ...] = ()
    margin: float | None = None  # comparisons: how far the left side was from flipping it
    note: str = ""  # why a value is missing, or other explanation

    def walk(self):  # type: ignore[no-untyped-def]
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True, slots=True)
class Trace:
    """An evaluation with its explanation: the value, the tree, and every name read."""

    source: str
    value: Any
    root: TraceNode
    reads: Mapping[str, Any]

    def render(self, width: int = 100) -> str:
        """An indented text tree, one sub-expression per line (leaves folded into parents)."""
        lines: list[str] = []
        _render(self.root, 0, lines, width)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "value": _jsonable(self.value),
            "reads": {k: _jsonable(v) for k, v in self.reads.items()},
            "tree": _node_dict(self.root),
        }


def format_value(value: Any) -> str:
    if type(value) is Missing:
        return "missing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = f"{value:.4f}".rstrip("0").rstrip(".")
        return text if text not in ("-0", "") else "0"
    if isinstance(value, time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _jsonable(value: Any) -> Any:
    if type(value) is Missing:
        return {"missing": value.reason}
    if isinstance(value, time | date):
        return format_value(value)
    return value


def _node_dict(node: TraceNode) -> dict[str, Any]:
    out: dict[str, Any] = {"expr": node.text, "kind": node.kind, "value": _jsonable(node.value)}
    if node.reads:
        out["reads"] = {k: _jsonable(v) for k, v in node.reads.items()}
    if node.margin is not None:
        out["margin"] = round(node.margin, 6)
    if node.note:
        out["note"] = node.note
    if node.children and node.kind not in ("name", "constant"):
        out["children"] = [_node_dict(c) for c in node.children]
    return out


def _describe(node: TraceNode) -> str:
    mark = "✓" if node.value is True else ("✗" if node.value is False else "=")
    if mark == "=":
        head = f"{node.text} = {format_value(node.value)}"
    else:
        head = f"{mark} {node.text}"
    if node.kind == "compare":
        values = " ".join(
            f"{k}={format_value(v)}" for k, v in _leaf_reads(node).items()
        )
        if values:
            head += f"   [{values}]"
        if node.margin is not None:
            amount = format_value(abs(node.margin))
            head += f" ({'by' if node.value else 'missed by'} {amount})"
    if node.note:
        head += f"   ({node.note})"
    return head


def _leaf_reads(node: TraceNode) -> dict[str, Any]:
    reads: dict[str, Any] = {}
    for n in node.walk():
        reads.update(n.reads)
    return reads


def _render(node: TraceNode, depth: int, lines: list[str], width: int) -> None:
    text = "  " * depth + _describe(node)
    lines.append(text if len(text) <= width else text[: width - 1] + "…")
    if node.kind in ("and", "or", "not", "if"):
        for child in node.children:
            _render(child, depth + 1, lines, width)


class _Tracer:
    def __init__(self, source: str, context: Mapping[str, Any]) -> None:
        self.source = source
        self.flat = source.replace("\r", " ").replace("\n", " ")
        self.context = context
        self.reads: dict[str, Any] = {}

    def node(self, n: ast.expr, value: Any, kind: str, **kw: Any) -> TraceNode:
        start, end = getattr(n, "_start", 0), getattr(n, "_end", len(self.source))
        return TraceNode(self.flat[start:end].strip(), (start, end), value, kind, **kw)

    def visit(self, n: ast.expr) -> TraceNode:  # noqa: C901 - one branch per node kind
        if isinstance(n, ast.Name):
            value = self.context[n.id]
            self.reads[n.id] = value
            note = value.reason if type(value) is Missing else ""
            return self.node(n, value, "name", reads={n.id: value}, note=note)
        if isinstance(n, ast.Constant):
            return self.node(n, n.value, "constant")
        if isinstance(n, ast.BoolOp):
            parts = tuple(self.visit(v) for v in n.values)
            is_and = isinstance(n.op, ast.And)
            value = parts[-1].value
            for p in parts:
                if (not p.value) if is_and else bool(p.value):
                    value = p.value
                    break
            return self.node(n, value, "and" if is_and else "or", children=parts)
        if isinstance(n, ast.UnaryOp):
            inner = self.visit(n.operand)
            value = OPERATORS[type(n.op)](inner.value)
            kind = "not" if isinstance(n.op, ast.Not) else "arith"
            return self.node(n, value, kind, children=(inner,))
        if isinstance(n, ast.BinOp):
            left, right = self.visit(n.left), self.visit(n.right)
            value = OPERATORS[type(n.op)](left.value, right.value)
            note = value.reason if type(value) is Missing and not _has_missing(left, right) else ""
            return self.node(n, value, "arith", children=(left, right), note=note)
        if isinstance(n, ast.Compare):
            return self._compare(n)
        if isinstance(n, ast.IfExp):
            test, body, orelse = self.visit(n.test), self.visit(n.body), self.visit(n.orelse)
            value = body.value if test.value else orelse.value
            return self.node(n, value, "if", children=(test, body, orelse))
        if isinstance(n, ast.Call):
            assert isinstance(n.func, ast.Name)
            args = tuple(self.visit(a) for a in n.args)
            value = FUNCTIONS[n.func.id].fn(*(a.value for a in args))
            return self.node(n, value, "call", children=args)
        raise TypeError(f"unchecked node {type(n).__name__} reached the tracer")

    def _compare(self, n: ast.Compare) -> TraceNode:
        parts = [self.visit(n.left), *(self.visit(c) for c in n.comparators)]
        value: Any = True
        margin: float | None = None
        notes: list[str] = []
        for i, op in enumerate(n.ops):
            left, right = parts[i].value, parts[i + 1].value
            result = OPERATORS[type(op)](left, right)
            for side in (parts[i], parts[i + 1]):
                if type(side.value) is Missing:
                    notes.append(f"{side.text} is missing: {side.value.reason}")
            if len(n.ops) == 1:
                margin = _margin(op, left, right)
            if not result:
                value = result
                break
            value = result
        note = "; ".join(dict.fromkeys(notes))
        return self.node(n, value, "compare", children=tuple(parts), margin=margin, note=note)


def _has_missing(*nodes: TraceNode) -> bool:
    return any(type(n.value) is Missing for n in nodes)


def _margin(op: ast.cmpop, left: Any, right: Any) -> float | None:
    numbers = (int, float)
    if type(left) not in numbers or type(right) not in numbers:
        return None
    if isinstance(op, ast.Gt | ast.GtE):
        return float(left - right)
    if isinstance(op, ast.Lt | ast.LtE):
        return float(right - left)
    return None


def trace_tree(tree: ast.expr, source: str, context: Mapping[str, Any]) -> Trace:
    tracer = _Tracer(source, context)
    root = tracer.visit(tree)
    return Trace(source, root.value, root, dict(tracer.reads))
