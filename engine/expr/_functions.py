"""The operator table and the whitelisted pure functions.

Both evaluators use exactly these: the compiled fast path calls them from generated code,
and the reference evaluator (simpleeval) receives them as its ``operators`` and
``functions``. Every operation passes a ``Missing`` operand through, and every failure
becomes a ``Missing`` with the reason instead of an exception in the middle of a session:
division by zero, a power past the bound, a domain error (``floor`` of an overflowed
value), and any result beyond ``MAX_MAGNITUDE`` (overflow, infinities, NaN, huge integers).
"""

from __future__ import annotations

import ast
import math
import operator as op
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.expr._limits import MAX_MAGNITUDE, MAX_POWER, MAX_ROUND_DIGITS
from engine.expr._values import Missing, ValueType, kleene_not

__all__ = ["FUNCTIONS", "OPERATORS", "FunctionInfo", "out_of_range", "short_number"]

_LOG10_MAX = math.log10(MAX_MAGNITUDE)


class _Reason(ArithmeticError):
    """Raised inside an operation with the whole reason a missing result carries."""


def short_number(x: Any) -> str:
    """A number for a message: never thousands of digits."""
    if isinstance(x, int) and not isinstance(x, bool):
        return str(x) if abs(x) < 10**15 else f"a number of {len(str(abs(x)))} digits"
    if isinstance(x, float):
        return f"{x:.6g}"
    return repr(x)


def out_of_range(value: Any, what: str) -> Any:
    """``value`` itself when it is missing, else a Missing saying ``what`` overflowed."""
    if type(value) is Missing:
        return value
    return Missing(f"{what} gave {short_number(value)}, outside the number range")


def _checked(fn: Callable[..., Any], what: str) -> Callable[..., Any]:
    """``fn`` that passes the first missing argument through, turns an arithmetic or domain
    error into a missing value, and bounds the result by ``MAX_MAGNITUDE``."""

    def call(*args: Any) -> Any:
        for a in args:
            if type(a) is Missing:
                return a
        try:
            result = fn(*args)
        except _Reason as e:
            return Missing(str(e))
        except (ArithmeticError, ValueError) as e:
            return Missing(f"{what}: {e}")
        if -MAX_MAGNITUDE <= result <= MAX_MAGNITUDE:
            return result
        return out_of_range(result, what)

    call.__name__ = what.strip("'()")
    return call


def _nonzero(fn: Callable[[Any, Any], Any], reason: str) -> Callable[[Any, Any], Any]:
    def guarded(a: Any, b: Any) -> Any:
        if b == 0:
            raise _Reason(reason)
        return fn(a, b)

    return guarded


def _power(a: Any, b: Any) -> Any:
    shown = f"({short_number(a)} ** {short_number(b)})"
    if abs(a) > MAX_POWER or abs(b) > MAX_POWER:
        raise _Reason(f"power too large {shown}")
    if a == 0 and b < 0:
        raise _Reason("zero to a negative power")
    if a != 0 and b * math.log10(abs(a)) > _LOG10_MAX:  # decided before computing it
        raise _Reason(f"power too large {shown}")
    try:
        result = a**b
    except OverflowError:
        raise _Reason(f"power too large {shown}") from None
    if isinstance(result, complex):
        raise _Reason(f"negative number to a fractional power {shown}")
    return result


def _round(x: Any, ndigits: Any = 0) -> Any:
    n = int(ndigits)
    if abs(n) > MAX_ROUND_DIGITS:
        raise _Reason(f"round() to {n} digits is past the limit of {MAX_ROUND_DIGITS}")
    return round(x, n)


def _pct_change(new: Any, old: Any) -> Any:
    if old == 0:
        raise _Reason("percent change from zero")
    return (new - old) / old * 100.0


def _clamp(x: Any, lo: Any, hi: Any) -> Any:
    return min(max(x, lo), hi)


add = _checked(op.add, "'+'")
sub = _checked(op.sub, "'-'")
mul = _checked(op.mul, "'*'")
div = _checked(_nonzero(op.truediv, "division by zero"), "'/'")
floordiv = _checked(_nonzero(op.floordiv, "division by zero"), "'//'")
mod = _checked(_nonzero(op.mod, "modulo by zero"), "'%'")
power = _checked(_power, "'**'")


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


def _function(
    name: str, fn: Callable[..., Any], min_args: int, max_args: int | None, doc: str, sig: str
) -> FunctionInfo:
    return FunctionInfo(
        name, _checked(fn, f"{name}()"), min_args, max_args, ValueType.NUMBER, doc, sig
    )


FUNCTIONS: dict[str, FunctionInfo] = {
    f.name: f
    for f in (
        _function("abs", abs, 1, 1, "absolute value", "abs(x)"),
        _function("min", min, 2, None, "smallest argument", "min(a, b, ...)"),
        _function("max", max, 2, None, "largest argument", "max(a, b, ...)"),
        _function("round", _round, 1, 2, "round half to even", "round(x, digits=0)"),
        _function("floor", math.floor, 1, 1, "round down", "floor(x)"),
        _function("ceil", math.ceil, 1, 1, "round up", "ceil(x)"),
        _function("clamp", _clamp, 3, 3, "x limited to [lo, hi]", "clamp(x, lo, hi)"),
        _function(
            "pct_change",
            _pct_change,
            2,
            2,
            "percent change from old to new",
            "pct_change(new, old)",
        ),
    )
}

#: ast operator type -> implementation, shared by the compiled and reference evaluators.
OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: add,
    ast.Sub: sub,
    ast.Mult: mul,
    ast.Div: div,
    ast.FloorDiv: floordiv,
    ast.Mod: mod,
    ast.Pow: power,
    ast.USub: op.neg,
    ast.UAdd: op.pos,
    ast.Not: kleene_not,
    ast.Eq: op.eq,
    ast.NotEq: op.ne,
    ast.Lt: op.lt,
    ast.LtE: op.le,
    ast.Gt: op.gt,
    ast.GtE: op.ge,
}
