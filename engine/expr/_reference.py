"""The reference evaluator: simpleeval running the checked tree.

simpleeval defines the language's sandbox and, with the language's operator and function
tables, its arithmetic; the compiled fast path must give the same value for every checked
expression and context. Python's ``and``, ``or``, ``x if c else y`` and chained
comparisons decide by truth, which would treat a missing value as false, so this
evaluator replaces those four with the three-valued logic of ``_values``. Tests compare
the two, and the benchmark measures the compiled path against this one.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from simpleeval import SimpleEval

from engine.expr._functions import FUNCTIONS, OPERATORS
from engine.expr._values import kleene_and, kleene_if, kleene_or

__all__ = ["KleeneEval", "reference_eval", "reference_evaluator"]


class KleeneEval(SimpleEval):  # type: ignore[misc]
    """simpleeval with three-valued ``and``, ``or``, conditional and comparison chains.

    Every operand is evaluated (no short-circuit): evaluation has no side effects, and
    three-valued ``and`` must see a false clause after a missing one.
    """

    def _eval_boolop(self, node: ast.BoolOp) -> Any:
        values = [self._eval(v) for v in node.values]
        return (kleene_and if isinstance(node.op, ast.And) else kleene_or)(*values)

    def _eval_ifexp(self, node: ast.IfExp) -> Any:
        return kleene_if(self._eval(node.test), self._eval(node.body), self._eval(node.orelse))

    def _eval_compare(self, node: ast.Compare) -> Any:
        operands = [self._eval(n) for n in (node.left, *node.comparators)]
        results = [
            self.operators[type(op)](a, b)
            for op, a, b in zip(node.ops, operands, operands[1:], strict=False)
        ]
        return results[0] if len(results) == 1 else kleene_and(*results)


def reference_evaluator(context: Mapping[str, Any]) -> SimpleEval:
    """A simpleeval evaluator with the language's operators, functions and this context."""
    return KleeneEval(
        operators=dict(OPERATORS),
        functions={name: info.fn for name, info in FUNCTIONS.items()},
        names=dict(context),
    )


def reference_eval(tree: ast.expr, source: str, context: Mapping[str, Any]) -> Any:
    return reference_evaluator(context).eval(source, previously_parsed=tree)
