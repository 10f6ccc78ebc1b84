"""The operator table and the whitelisted pure functions.

Both evaluators use exactly these: the compiled fast path calls them from generated code,
and the reference evaluator (simpleeval) receives them as its ``operators`` and
``functions``. Every function passes a ``Missing`` argument through, and every arithmetic
error (division by zero, a power past the bound) becomes a ``Missing`` with the reason
instead of an exception in the middle of a session.
"""

from __future__ import annotations

import ast
import math
import operator as op
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.expr._limits import MAX_POWER, MAX_ROUND_DIGITS
from engine.expr._values import Missing, ValueType

__all__ = ["FUNCTIONS", "OPERATORS", "FunctionInfo"]


def _first_missing(args: tuple[Any, ...]) -> Missing | None:
    for a in args:
        if type(a) is Missing:
            return a
    return None


def _zero_guarded(fn: Callable[[Any, Any], Any], reason: str) -> Callable[[Any, Any], Any]:
    """``fn(a, b)`` that passes a missing operand through and gives a missing value,
    not an exception, when ``b`` is zero."""

    def guarded(a: Any, b: Any) -> Any:
        if type(a) is Missing:
            return a
        if type(b) is Missing:
            return b
        if b == 0:
            return Missing(reason)
        return fn(a, b)

    guarded.__name__ = fn.__name__
    return guarded


div = _zero_guarded(op.truediv, "division by zero")
floordiv = _zero_guarded(op.floordiv, "division by zero")
mod = _zero_guarded(op.mod, "modulo by zero")


def power(a: Any, b: Any) -> Any:
    if type(a) is Missing:
        return a
    if type(b) is Missing:
        return b
    if abs(a) > MAX_POWER or abs(b) > MAX_POWER:
        return Missing(f"power too large ({a!r} ** {b!r})")
    if a == 0 and b < 0:
        return Missing("zero to a negative power")
    try:
        result = a**b
    except OverflowError:
        return Missing(f"power too large ({a!r} ** {b!r})")
    if isinstance(result, complex):
        return Missing(f"negative number to a fractional power ({a!r} ** {b!r})")
    return result


def _abs(x: Any) -> Any:
    return x if type(x) is Missing else abs(x)


def _min(*xs: Any) -> Any:
    m = _first_missing(xs)
    return min(xs) if m is None else m


def _max(*xs: Any) -> Any:
    m = _first_missing(xs)
    return max(xs) if m is None else m


def _round(x: Any, ndigits: Any = 0) -> Any:
    m = _first_missing((x, ndigits))
    if m is not None:
        return m
    n = int(ndigits)
    if abs(n) > MAX_ROUND_DIGITS:
        return Missing(f"round() to {n} digits is past the limit of {MAX_ROUND_DIGITS}")
    return round(x, n)


def _floor(x: Any) -> Any:
    return x if type(x) is Missing else math.floor(x)


def _ceil(x: Any) -> Any:
    return x if type(x) is Missing else math.ceil(x)


def _clamp(x: Any, lo: Any, hi: Any) -> Any:
    m = _first_missing((x, lo, hi))
    return min(max(x, lo), hi) if m is None else m


def _pct_change(new: Any, old: Any) -> Any:
    m = _first_missing((new, old))
    if m is not None:
        return m
    if old == 0:
        return Missing("percent change from zero")
    return (new - old) / old * 100.0


@dataclass(frozen=True, slots=True)
class FunctionInfo:
    """A whitelisted function: its implementation, arity and what it returns."""

    name: str
    fn: Callable[..., Any]
    min_args: int
    max_args: int | None  # None: any number (at least min_args)
    returns: ValueType
    doc: str
    signature: str


FUNCTIONS: dict[str, FunctionInfo] = {
    f.name: f
    for f in (
        FunctionInfo("abs", _abs, 1, 1, ValueType.NUMBER, "absolute value", "abs(x)"),
        FunctionInfo("min", _min, 2, None, ValueType.NUMBER, "smallest argument", "min(a, b, ...)"),
        FunctionInfo("max", _max, 2, None, ValueType.NUMBER, "largest argument", "max(a, b, ...)"),
        FunctionInfo(
            "round", _round, 1, 2, ValueType.NUMBER, "round half to even", "round(x, digits=0)"
        ),
        FunctionInfo("floor", _floor, 1, 1, ValueType.NUMBER, "round down", "floor(x)"),
        FunctionInfo("ceil", _ceil, 1, 1, ValueType.NUMBER, "round up", "ceil(x)"),
        FunctionInfo(
            "clamp", _clamp, 3, 3, ValueType.NUMBER, "x limited to [lo, hi]", "clamp(x, lo, hi)"
        ),
        FunctionInfo(
            "pct_change",
            _pct_change,
            2,
            2,
            ValueType.NUMBER,
            "percent change from old to new",
            "pct_change(new, old)",
        ),
    )
}

#: ast operator type -> implementation, shared by the compiled and reference evaluators.
OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: op.add,
    ast.Sub: op.sub,
    ast.Mult: op.mul,
    ast.Div: div,
    ast.FloorDiv: floordiv,
    ast.Mod: mod,
    ast.Pow: power,
    ast.USub: op.neg,
    ast.UAdd: op.pos,
    ast.Not: op.not_,
    ast.Eq: op.eq,
    ast.NotEq: op.ne,
    ast.Lt: op.lt,
    ast.LtE: op.le,
    ast.Gt: op.gt,
    ast.GtE: op.ge,
}
