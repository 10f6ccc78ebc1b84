"""The fast path: Python code generated from the checked tree, compiled once.

The generated function takes the context (a flat mapping of dotted name -> value) and has
no builtins; every name is a constant-key read of the context. It follows the language's
three-valued logic (see ``_values``) while keeping Python's short-circuit on the common
path, where every clause is a plain ``True`` or ``False``:

- ``a and b and c`` runs as Python's ``and``; its result is right when it is a bool, and a
  missing result (some clause missing, a later one maybe false) sends the evaluation to
  the eager evaluator;
- in ``a or b or c`` a clause that is neither true nor false sends it there as soon as it
  is seen (a later clause may still be true); the last clause's value is the answer;
- ``not x`` and ``x if c else y`` test ``is True`` / ``is False`` and give a missing
  operand back;
- ``+ - *`` are native operators whose result is checked against ``MAX_MAGNITUDE`` inline;
  ``/ // % **`` and the functions call the checked implementations the reference uses.

The eager evaluator is the explain path's (``_trace``): it computes every node without
short-circuit, with the same operations, so the value is the same by construction. Any
arithmetic error Python raises (a huge integer from the context) also falls back to it,
where the checked operations turn it into a missing value.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from types import CodeType, FunctionType
from typing import Any

from engine.expr._functions import FUNCTIONS, OPERATORS, out_of_range
from engine.expr._limits import MAX_MAGNITUDE
from engine.expr._values import Missing, kleene_not

__all__ = ["compile_tree"]

_NATIVE_BIN = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*"}
_CALLED_BIN = {ast.Div: "_div", ast.FloorDiv: "_floordiv", ast.Mod: "_mod", ast.Pow: "_pow"}
_SIGN = {ast.USub: "-", ast.UAdd: "+"}
_CMP = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_BOUND = repr(MAX_MAGNITUDE)


class _Bail(Exception):
    """The fast path met a missing clause it cannot decide alone: evaluate eagerly."""


def _bail() -> Any:
    raise _Bail


def _missing_or_bail(value: Any) -> Any:
    if type(value) is Missing:
        return value
    raise _Bail


class _Generator:
    def __init__(self) -> None:
        self.consts: dict[str, Any] = {}
        self.temps = 0

    def const(self, value: Any) -> str:
        """A literal becomes a parameter of the function (with its value as the default),
        so expressions of one shape share one compiled code object."""
        if type(value) is bool:
            return repr(value)
        key = f"_k{len(self.consts)}"
        self.consts[key] = value
        return key

    def temp(self) -> str:
        self.temps += 1
        return f"_t{self.temps}"

    def gen(self, node: ast.expr) -> str:  # noqa: C901 - one branch per node kind
        if isinstance(node, ast.Name):
            return f"c[{node.id!r}]"
        if isinstance(node, ast.Constant):
            return self.const(node.value)
        if isinstance(node, ast.BoolOp):
            parts = [self.gen(v) for v in node.values]
            t = self.temp()
            if isinstance(node.op, ast.And):
                chain = " and ".join(parts)
                return f"({t} if ({t} := ({chain})) is True or {t} is False else _bail())"
            checked = [f"(({t} := {p}) is True or ({t} is not False and _bail()))" for p in parts]
            return "(" + " or ".join([*checked[:-1], parts[-1]]) + ")"
        if isinstance(node, ast.UnaryOp):
            operand = self.gen(node.operand)
            if isinstance(node.op, ast.Not):
                t = self.temp()
                return (
                    f"(False if ({t} := {operand}) is True else True if {t} is False "
                    f"else _not({t}))"
                )
            return f"({_SIGN[type(node.op)]}{operand})"
        if isinstance(node, ast.BinOp):
            left, right = self.gen(node.left), self.gen(node.right)
            if type(node.op) in _NATIVE_BIN:
                sym = _NATIVE_BIN[type(node.op)]
                what = f"'{sym}'"
                t = self.temp()
                return (
                    f"({t} if -{_BOUND} <= ({t} := {left} {sym} {right}) <= {_BOUND} "
                    f"else _range({t}, {what!r}))"
                )
            return f"{_CALLED_BIN[type(node.op)]}({left}, {right})"
        if isinstance(node, ast.Compare):
            parts = [self.gen(node.left)]
            for op, comp in zip(node.ops, node.comparators, strict=True):
                parts += [_CMP[type(op)], self.gen(comp)]
            text = "(" + " ".join(parts) + ")"
            if len(node.ops) == 1:
                return text
            t = self.temp()
            return f"({t} if ({t} := {text}) is True or {t} is False else _bail())"
        if isinstance(node, ast.IfExp):
            t = self.temp()
            test, body, orelse = self.gen(node.test), self.gen(node.body), self.gen(node.orelse)
            return (
                f"({body} if ({t} := {test}) is True else {orelse} if {t} is False "
                f"else _missing_or_bail({t}))"
            )
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)
            args = ", ".join(self.gen(a) for a in node.args)
            return f"_f_{node.func.id}({args})"
        raise TypeError(f"unchecked node {type(node).__name__} reached the compiler")


#: Compiled code per generated shape (literals are parameters): a file of 2,000 guards
#: that differ only in their numbers compiles one function.
_CODE: dict[str, CodeType] = {}
_MAX_CACHED = 4096


def _code(source: str) -> CodeType:
    code = _CODE.get(source)
    if code is None:
        module = compile(source, "<expr>", "exec")
        code = next(c for c in module.co_consts if isinstance(c, CodeType))
        if len(_CODE) >= _MAX_CACHED:
            _CODE.clear()
        _CODE[source] = code
    return code


def compile_tree(
    tree: ast.expr, eager: Callable[[Mapping[str, Any]], Any]
) -> tuple[Callable[[Mapping[str, Any]], Any], str]:
    """The evaluator function for a checked tree, and the Python source it was built from.

    ``eager(context)`` is the no-short-circuit evaluator the function falls back to.
    """
    generator = _Generator()
    body = generator.gen(tree)
    params = "".join(f", {k}=None" for k in generator.consts)
    template = (
        f"def _expr(c{params}):\n"
        "    try:\n"
        f"        return {body}\n"
        "    except (_Bail, ArithmeticError):\n"
        "        return _eager(c)\n"
    )
    namespace: dict[str, Any] = {
        "__builtins__": {},
        "_Bail": _Bail,
        "ArithmeticError": ArithmeticError,
        "_bail": _bail,
        "_missing_or_bail": _missing_or_bail,
        "_not": kleene_not,
        "_range": out_of_range,
        "_eager": eager,
        "_div": OPERATORS[ast.Div],
        "_floordiv": OPERATORS[ast.FloorDiv],
        "_mod": OPERATORS[ast.Mod],
        "_pow": OPERATORS[ast.Pow],
        **{f"_f_{name}": info.fn for name, info in FUNCTIONS.items()},
    }
    fn = FunctionType(_code(template), namespace, "_expr", tuple(generator.consts.values()))
    shown = "".join(f", {k}={v!r}" for k, v in generator.consts.items())
    return fn, template.replace(f"def _expr(c{params})", f"def _expr(c{shown})", 1)
