"""The explain path: evaluate every clause and record what each one read and returned.

A second evaluator over the same checked tree, so the fast path pays nothing for it. It
does not short-circuit: a trace shows every clause of ``a and b and c`` even after ``a``
was false, yet the value it returns is the one the fast path returns (both follow the
three-valued logic of ``_values``; the fast path falls back to this evaluator whenever a
missing clause leaves its short-circuit undecided). Comparisons record
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
from engine.expr._values import Missing, kleene_and, kleene_if, kleene_or

__all__ = ["Trace", "TraceNode", "TracePlan", "build_plan", "format_value"]

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


_LOGICAL = ("and", "or", "not", "compare")


def _describe(node: TraceNode) -> str:
    mark = "✓" if node.value is True else ("✗" if node.value is False else "=")
    if mark == "=" and type(node.value) is Missing and node.kind in _LOGICAL:
        mark = "?"  # a clause that is neither true nor false: it does not hold
    if mark == "=":
        head = f"{node.text} = {format_value(node.value)}"
    else:
        head = f"{mark} {node.text}"
    if node.kind == "compare":
        values = " ".join(f"{k}={format_value(v)}" for k, v in _leaf_reads(node).items())
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


@dataclass(frozen=True, slots=True)
class _PlanNode:
    """What is known of a sub-expression before any evaluation: text, span, parts."""

    index: int
    text: str
    span: tuple[int, int]
    kind: str
    children: tuple[int, ...]
    name: str = ""  # for kind "name"
    ops: tuple[type, ...] = ()  # for kind "compare"


class TracePlan:
    """A checked tree flattened in evaluation order, plus a generated function that
    computes every node's value (no short-circuit) into one tuple."""

    def __init__(self, tree: ast.expr, source: str) -> None:
        self.source = source
        self.flat = source.replace("\r", " ").replace("\n", " ")
        self.nodes: list[_PlanNode] = []
        self.consts: dict[str, Any] = {}
        self.lines: list[str] = []
        self.root = self._add(tree)
        body = "\n".join(f"    {line}" for line in self.lines)
        values = ", ".join(f"v{i}" for i in range(len(self.nodes)))
        code = f"def _trace(c):\n{body}\n    return ({values},)\n"
        namespace: dict[str, Any] = {
            "__builtins__": {},
            "_and": kleene_and,
            "_or": kleene_or,
            "_if": kleene_if,
            **{f"_op_{t.__name__}": fn for t, fn in OPERATORS.items()},
            **{f"_f_{name}": info.fn for name, info in FUNCTIONS.items()},
            **self.consts,
        }
        exec(compile(code, "<expr trace>", "exec"), namespace)  # noqa: S102 - checked tree
        self.evaluate = namespace["_trace"]
        self.names = {n.name: n.index for n in self.nodes if n.kind == "name"}

    def _add(self, n: ast.expr) -> int:  # noqa: C901 - one branch per node kind
        kind, children, name, ops = "constant", (), "", ()
        if isinstance(n, ast.Name):
            kind, name, expr = "name", n.id, f"c[{n.id!r}]"
        elif isinstance(n, ast.Constant):
            key = f"_k{len(self.consts)}"
            self.consts[key] = n.value
            expr = key
        elif isinstance(n, ast.BoolOp):
            children = tuple(self._add(v) for v in n.values)
            kind = "and" if isinstance(n.op, ast.And) else "or"
            expr = f"_{kind}({', '.join(f'v{c}' for c in children)})"
        elif isinstance(n, ast.UnaryOp):
            children = (self._add(n.operand),)
            kind = "not" if isinstance(n.op, ast.Not) else "arith"
            expr = f"_op_{type(n.op).__name__}(v{children[0]})"
        elif isinstance(n, ast.BinOp):
            children = (self._add(n.left), self._add(n.right))
            kind = "arith"
            expr = f"_op_{type(n.op).__name__}(v{children[0]}, v{children[1]})"
        elif isinstance(n, ast.Compare):
            children = tuple(self._add(x) for x in (n.left, *n.comparators))
            kind, ops = "compare", tuple(type(op) for op in n.ops)
            pairs = [
                f"v{a} {_CMP_TEXT[type(op)]} v{b}"
                for op, a, b in zip(n.ops, children, children[1:], strict=False)
            ]
            expr = pairs[0] if len(pairs) == 1 else f"_and({', '.join(pairs)})"
        elif isinstance(n, ast.IfExp):
            children = (self._add(n.test), self._add(n.body), self._add(n.orelse))
            kind = "if"
            expr = f"_if(v{children[0]}, v{children[1]}, v{children[2]})"
        elif isinstance(n, ast.Call):
            assert isinstance(n.func, ast.Name)
            children = tuple(self._add(a) for a in n.args)
            kind = "call"
            expr = f"_f_{n.func.id}({', '.join(f'v{c}' for c in children)})"
        else:
            raise TypeError(f"unchecked node {type(n).__name__} reached the tracer")
        index = len(self.nodes)
        start, end = getattr(n, "_start", 0), getattr(n, "_end", len(self.source))
        text = getattr(n, "_text", None) or self.flat[start:end].strip()
        self.nodes.append(_PlanNode(index, text, (start, end), kind, children, name, ops))
        self.lines.append(f"v{index} = {expr}")
        return index

    def trace(self, context: Mapping[str, Any]) -> Trace:
        values = self.evaluate(context)
        reads = {name: values[i] for name, i in self.names.items()}
        return Trace(self, values, reads)


class Trace:
    """An evaluation with its explanation: the value, every name read, and the tree
    of sub-expressions (built on first use)."""

    __slots__ = ("_plan", "_root", "_values", "reads", "value")

    def __init__(self, plan: TracePlan, values: tuple[Any, ...], reads: dict[str, Any]) -> None:
        self._plan = plan
        self._values = values
        self._root: TraceNode | None = None
        self.value = values[plan.root]
        self.reads = reads

    @property
    def source(self) -> str:
        return self._plan.source

    @property
    def root(self) -> TraceNode:
        if self._root is None:
            self._root = self._build(self._plan.root)
        return self._root

    def _build(self, index: int) -> TraceNode:
        p = self._plan.nodes[index]
        value = self._values[index]
        children = tuple(self._build(c) for c in p.children)
        reads = {p.name: value} if p.kind == "name" else {}
        note, margin = "", None
        if p.kind == "name" and type(value) is Missing:
            note = value.reason
        elif p.kind == "arith" and type(value) is Missing and not _has_missing(*children):
            note = value.reason
        elif p.kind == "compare":
            note = "; ".join(
                dict.fromkeys(
                    f"{c.text} is missing: {c.value.reason}"
                    for c in children
                    if type(c.value) is Missing
                )
            )
            if len(p.ops) == 1:
                margin = _margin(p.ops[0], children[0].value, children[1].value)
        return TraceNode(p.text, p.span, value, p.kind, reads, children, margin, note)

    def render(self, width: int = 100) -> str:
        """An indented text tree, one clause per line (comparisons show their values)."""
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


def _has_missing(*nodes: TraceNode) -> bool:
    return any(type(n.value) is Missing for n in nodes)


def _margin(op: type, left: Any, right: Any) -> float | None:
    numbers = (int, float)
    if type(left) not in numbers or type(right) not in numbers:
        return None
    if op in (ast.Gt, ast.GtE):
        return float(left - right)
    if op in (ast.Lt, ast.LtE):
        return float(right - left)
    return None


def build_plan(tree: ast.expr, source: str) -> TracePlan:
    return TracePlan(tree, source)
