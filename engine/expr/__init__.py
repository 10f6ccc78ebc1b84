"""The sandboxed expression language every rule condition and machine guard is written in.

Parse and check once, at load time; evaluate many times. ``compile_expr`` rejects anything
outside the language (unknown names with a suggestion, attribute walks, calls outside the
whitelist, comprehensions, huge powers...) with located diagnostics, and returns an ``Expr``
with two evaluators built from the same checked tree:

- ``expr.evaluate(context)``: the fast path, generated Python with no builtins;
- ``expr.trace(context)``: the explain path, every clause with its value and margin.

simpleeval defines the semantics (``expr.reference(context)`` runs it); the fast path must
agree with it. The context is a flat mapping of dotted name -> value (``"daily.adx"``);
a value not available yet is a ``Missing``. Missing values follow three-valued (Kleene)
logic: a comparison with one is missing, ``not`` of one is missing, ``a or b`` is true when
either side is true. A boolean expression evaluates to ``True``, ``False`` or a
``Missing``, and a condition holds only when its value ``is True`` (``holds(value)``).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.diagnostics import Diagnostic
from engine.errors import ExprError
from engine.expr._check import check_tree
from engine.expr._compile import compile_tree
from engine.expr._functions import FUNCTIONS, OPERATORS, FunctionInfo
from engine.expr._parse import Problem, SourceText, parse_source
from engine.expr._trace import Trace, TraceNode, TracePlan, build_plan, format_value
from engine.expr._values import MISSING, Missing, ValueType, holds, is_missing
from engine.expr._vocab import NameInfo, Vocabulary

__all__ = [
    "Expr",
    "ExprError",
    "FUNCTIONS",
    "FunctionInfo",
    "Locator",
    "MISSING",
    "Missing",
    "NameInfo",
    "OPERATORS",
    "Origin",
    "Trace",
    "TraceNode",
    "ValueType",
    "Vocabulary",
    "compile_expr",
    "format_value",
    "holds",
    "is_missing",
]

#: Maps (line, column) inside the expression, both 0-based, to (line, column) in the file,
#: both 1-based, and the file's text of that line.
Locator = Callable[[int, int], tuple[int, int, str]]


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an expression came from, so its problems point into the user's file."""

    file: str = "<expr>"
    where: str = ""  # e.g. "exits[2] 'stop_loss'"
    locate: Locator | None = None


class _LazyPlan:
    """The explain path's plan, built on first use: most expressions are never explained,
    and the fast path needs the eager evaluator only when a missing clause leaves its
    short-circuit undecided."""

    __slots__ = ("_plan", "source", "tree")

    def __init__(self, tree: ast.expr, source: str) -> None:
        self.tree = tree
        self.source = source
        self._plan: TracePlan | None = None

    def get(self) -> TracePlan:
        if self._plan is None:
            self._plan = build_plan(self.tree, self.source)
        return self._plan

    def value(self, context: Mapping[str, Any]) -> Any:
        plan = self.get()
        return plan.evaluate(context)[plan.root]


@dataclass(frozen=True, eq=False)
class Expr:
    """A checked, compiled expression. ``evaluate`` is the plain compiled function.

    For a boolean expression ``evaluate(context)`` returns ``True``, ``False`` or a
    ``Missing``; test ``value is True`` to decide whether the condition holds.
    """

    source: str
    type: ValueType
    names: frozenset[str]
    tree: Any = field(repr=False)
    python: str = field(repr=False)  # the generated source, for debugging and docs
    evaluate: Callable[[Mapping[str, Any]], Any] = field(repr=False)
    _plan: _LazyPlan | None = field(default=None, repr=False)

    def __call__(self, context: Mapping[str, Any]) -> Any:
        return self.evaluate(context)

    def trace(self, context: Mapping[str, Any]) -> Trace:
        """Evaluate with the explanation; the value equals ``evaluate(context)``."""
        plan = self._plan
        if plan is None:
            plan = _LazyPlan(self.tree, self.source)
            object.__setattr__(self, "_plan", plan)
        return plan.get().trace(context)

    def reference(self, context: Mapping[str, Any]) -> Any:
        """Evaluate with simpleeval, the reference semantics (slow; for tests and benchmarks)."""
        from engine.expr._reference import reference_eval

        return reference_eval(self.tree, self.source, context)


def _diagnostic(problem: Problem, src: SourceText, origin: Origin) -> Diagnostic:
    line0, col0 = src.line_col(problem.offset)
    if origin.locate is not None:
        line, col, text = origin.locate(line0, col0)
    else:
        line, col = line0 + 1, col0 + 1
        text = src.text.splitlines()[line0] if src.text else ""
    return Diagnostic(
        file=origin.file,
        line=line,
        col=col,
        code=problem.code,
        message=problem.message,
        where=origin.where,
        hint=problem.hint,
        source_line=text,
        length=problem.length,
    )


def compile_expr(
    source: str,
    vocabulary: Vocabulary,
    *,
    expect: ValueType | None = ValueType.BOOL,
    origin: Origin | None = None,
) -> Expr:
    """Parse, check and compile; raise ExprError listing every problem found."""
    origin = origin or Origin()
    src = SourceText(source)
    tree, problem = parse_source(src)
    if problem is not None or tree is None:
        assert problem is not None
        raise ExprError([_diagnostic(problem, src, origin)])
    checked, typ, names, problems = check_tree(tree, vocabulary, src, expect)
    if problems:
        raise ExprError([_diagnostic(p, src, origin) for p in problems])
    plan = _LazyPlan(checked, source)
    fn, python = compile_tree(checked, plan.value)
    return Expr(source, typ, names, checked, python, fn, plan)
