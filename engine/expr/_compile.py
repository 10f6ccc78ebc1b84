"""The fast path: Python code generated from the checked tree, compiled once.

The generated function takes the context (a flat mapping of dotted name -> value) and has
no builtins; every name is a constant-key read of the context, and every operator that can
fail (``/``, ``//``, ``%``, ``**``) calls the same function the reference evaluator uses.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import Any

from engine.expr._functions import FUNCTIONS, OPERATORS

__all__ = ["compile_tree"]

_NATIVE_BIN = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*"}
_CALLED_BIN = {ast.Div: "_div", ast.FloorDiv: "_floordiv", ast.Mod: "_mod", ast.Pow: "_pow"}
_UNARY = {ast.USub: "-", ast.UAdd: "+", ast.Not: "not "}
_CMP = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


class _Generator:
    def __init__(self) -> None:
        self.consts: dict[str, Any] = {}

    def const(self, value: Any) -> str:
        if type(value) in (int, float, bool, str):
            return repr(value)
        key = f"_k{len(self.consts)}"
        self.consts[key] = value
        return key

    def gen(self, node: ast.expr) -> str:  # noqa: C901 - one branch per node kind
        if isinstance(node, ast.Name):
            return f"c[{node.id!r}]"
        if isinstance(node, ast.Constant):
            return self.const(node.value)
        if isinstance(node, ast.BoolOp):
            word = " and " if isinstance(node.op, ast.And) else " or "
            return "(" + word.join(self.gen(v) for v in node.values) + ")"
        if isinstance(node, ast.UnaryOp):
            return f"({_UNARY[type(node.op)]}{self.gen(node.operand)})"
        if isinstance(node, ast.BinOp):
            left, right = self.gen(node.left), self.gen(node.right)
            if type(node.op) in _NATIVE_BIN:
                return f"({left} {_NATIVE_BIN[type(node.op)]} {right})"
            return f"{_CALLED_BIN[type(node.op)]}({left}, {right})"
        if isinstance(node, ast.Compare):
            parts = [self.gen(node.left)]
            for op, comp in zip(node.ops, node.comparators, strict=True):
                parts += [_CMP[type(op)], self.gen(comp)]
            return "(" + " ".join(parts) + ")"
        if isinstance(node, ast.IfExp):
            return f"({self.gen(node.body)} if {self.gen(node.test)} else {self.gen(node.orelse)})"
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)
            args = ", ".join(self.gen(a) for a in node.args)
            return f"_f_{node.func.id}({args})"
        raise TypeError(f"unchecked node {type(node).__name__} reached the compiler")


def compile_tree(tree: ast.expr, label: str) -> tuple[Callable[[Mapping[str, Any]], Any], str]:
    """The evaluator function for a checked tree, and the Python source it was built from."""
    generator = _Generator()
    body = generator.gen(tree)
    source = f"def _expr(c):\n    return {body}\n"
    namespace: dict[str, Any] = {
        "__builtins__": {},
        "_div": OPERATORS[ast.Div],
        "_floordiv": OPERATORS[ast.FloorDiv],
        "_mod": OPERATORS[ast.Mod],
        "_pow": OPERATORS[ast.Pow],
        **{f"_f_{name}": info.fn for name, info in FUNCTIONS.items()},
        **generator.consts,
    }
    code = compile(source, f"<expr {label}>", "exec")
    exec(code, namespace)  # noqa: S102 - generated from a checked tree, no builtins
    return namespace["_expr"], source
