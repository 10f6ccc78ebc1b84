"""The reference evaluator: simpleeval running the checked tree.

simpleeval defines the language's semantics and sandbox; the compiled fast path must give
the same value for every checked expression and context. Tests compare the two, and the
benchmark measures the compiled path against this one.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from simpleeval import SimpleEval

from engine.expr._functions import FUNCTIONS, OPERATORS

__all__ = ["reference_evaluator"]


def reference_evaluator(context: Mapping[str, Any]) -> SimpleEval:
    """A simpleeval evaluator with the language's operators, functions and this context."""
    return SimpleEval(
        operators=dict(OPERATORS),
        functions={name: info.fn for name, info in FUNCTIONS.items()},
        names=dict(context),
    )


def reference_eval(tree: ast.expr, source: str, context: Mapping[str, Any]) -> Any:
    return reference_evaluator(context).eval(source, previously_parsed=tree)
