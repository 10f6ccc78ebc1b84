"""Interval reasoning over guards: can one hold, can two hold together, what makes one true.

A guard is rewritten into disjunctive normal form over *literals* ``name OP constant``
(parameters and, for the product-state checks, other machines' states are folded in as
constants). Each term (a conjunction) is satisfiable when every name it constrains keeps
a non-empty set of values: intervals for numbers, times and dates; sets for strings and
booleans. Anything else (``a > b`` between two names, arithmetic over names, calls) is an
*opaque* literal that may be true or false, so the answers are three-valued and honest:

- ``holds(dnf)`` is ``False`` only when the guard can never be true, ``True`` only when
  it is true whatever the unknown names are, ``None`` when that cannot be decided here;
- ``witness(dnf)`` gives values that make it true, for generated tests.

The language's *missing* value follows three-valued logic: ``vix > 30`` and
``not (vix > 30)`` are both missing, not true, for a missing VIX, so a guard holds only for
values that are there. A literal is therefore satisfied only by a real value, and its
negation is simply the opposite comparison (``not (vix > 30)`` holds exactly when
``vix <= 30``); a missing value satisfies neither.
"""

from __future__ import annotations

import ast
import itertools
import math
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from engine.expr import FUNCTIONS, MISSING, OPERATORS, Expr, Missing, ValueType, Vocabulary

__all__ = [
    "MAX_TERMS",
    "Bounds",
    "Dnf",
    "Lit",
    "Opaque",
    "OverlapIndex",
    "analyse",
    "bounds",
    "conjoin",
    "disjoint",
    "holds",
    "negate",
    "witness",
]

#: A guard whose normal form would grow past this many terms is left undecided.
MAX_TERMS = 256

_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_OPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_ORDERED = (ValueType.NUMBER, ValueType.TIME, ValueType.DATE)
_INF = math.inf


@dataclass(frozen=True, slots=True)
class Lit:
    """``name op value``, or the opposite comparison when ``neg``; either holds only for a
    real value. With ``or_missing`` a missing value satisfies it too: ``negate`` (this
    condition does not hold) needs that, since a missing comparison does not hold."""

    name: str
    op: str
    value: Any
    neg: bool = False
    or_missing: bool = False


@dataclass(frozen=True, slots=True)
class Opaque:
    """A part of a guard the interval reasoning cannot see into: true (false when ``neg``),
    or also missing when ``or_missing``."""

    text: str
    neg: bool = False
    or_missing: bool = False


Term = tuple[Lit | Opaque, ...]
#: A disjunction of terms; None when it grew too large to analyse.
Dnf = list[Term] | None

_TRUE: list[Term] = [()]
_FALSE: list[Term] = []


def _or(a: Dnf, b: Dnf) -> Dnf:
    if a is None or b is None:
        return None
    out = a + b
    return out if len(out) <= MAX_TERMS else None


def _and(a: Dnf, b: Dnf) -> Dnf:
    if a is None or b is None:
        return None
    if len(a) * len(b) > MAX_TERMS:
        return None
    return [x + y for x, y in itertools.product(a, b)]


class _Normalizer:
    def __init__(self, vocab: Mapping[str, Any], known: Mapping[str, Any]) -> None:
        self.vocab = vocab
        self.known = known

    def fold(self, node: ast.expr) -> tuple[bool, Any]:
        """(True, value) when the node's value is known at analysis time."""
        if isinstance(node, ast.Constant):
            return True, node.value
        if isinstance(node, ast.Name):
            return (True, self.known[node.id]) if node.id in self.known else (False, None)
        if isinstance(node, ast.UnaryOp) and not isinstance(node.op, ast.Not):
            ok, v = self.fold(node.operand)
            return (True, OPERATORS[type(node.op)](v)) if ok else (False, None)
        if isinstance(node, ast.BinOp):
            (lok, lv), (rok, rv) = self.fold(node.left), self.fold(node.right)
            return (True, OPERATORS[type(node.op)](lv, rv)) if lok and rok else (False, None)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            folded = [self.fold(a) for a in node.args]
            if all(ok for ok, _ in folded):
                return True, FUNCTIONS[node.func.id].fn(*(v for _, v in folded))
        return False, None

    def dnf(self, node: ast.expr, neg: bool = False) -> Dnf:  # noqa: C901 - one branch per kind
        ok, value = self.fold(node) if not isinstance(node, ast.Compare) else (False, None)
        if ok:
            return _known(value, neg)
        if isinstance(node, ast.BoolOp):
            is_and = isinstance(node.op, ast.And) != neg
            out: Dnf = _TRUE if is_and else _FALSE
            for child in node.values:
                out = (_and if is_and else _or)(out, self.dnf(child, neg))
            return out
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return self.dnf(node.operand, not neg)
        if isinstance(node, ast.Compare):
            return self._compare(node, neg)
        if isinstance(node, ast.Name):
            if self._type(node.id) is ValueType.BOOL:
                return [(Lit(node.id, "==", True, neg),)]
        if isinstance(node, ast.IfExp):
            then = _and(self.dnf(node.test), self.dnf(node.body, neg))
            other = _and(self.dnf(node.test, True), self.dnf(node.orelse, neg))
            return _or(then, other)
        return [(Opaque(ast.unparse(node), neg),)]

    def _type(self, name: str) -> ValueType | None:
        info = self.vocab.get(name)
        return getattr(info, "type", None)

    def _compare(self, node: ast.Compare, neg: bool) -> Dnf:
        operands = [node.left, *node.comparators]
        out: Dnf = _FALSE if neg else _TRUE
        for i, op in enumerate(node.ops):
            part = self._pair(operands[i], _OPS[type(op)], operands[i + 1], neg)
            out = _or(out, part) if neg else _and(out, part)
        return out

    def _pair(self, left: ast.expr, op: str, right: ast.expr, neg: bool) -> Dnf:
        (lok, lv), (rok, rv) = self.fold(left), self.fold(right)
        if lok and rok:
            return _known(OPERATORS[_AST_OPS[op]](lv, rv), neg)
        if (lok and type(lv) is Missing) or (rok and type(rv) is Missing):
            return _FALSE  # a comparison with a missing value is missing, and so is its negation
        if isinstance(left, ast.Name) and rok:
            return [(Lit(left.id, op, rv, neg),)]
        if isinstance(right, ast.Name) and lok:
            return [(Lit(right.id, _FLIP[op], lv, neg),)]
        if rok and _is_abs_of_name(left):
            return self._abs(left.args[0].id, op, rv, neg)  # type: ignore[attr-defined]
        if lok and _is_abs_of_name(right):
            return self._abs(right.args[0].id, _FLIP[op], lv, neg)  # type: ignore[attr-defined]
        text = f"{ast.unparse(left)} {op} {ast.unparse(right)}"
        return [(Opaque(text, neg),)]

    def _abs(self, name: str, op: str, c: Any, neg: bool) -> Dnf:
        """abs(x) op c as literals on x: abs(x) >= 2 is x >= 2 or x <= -2. Negated, it is
        the opposite comparison (missing x satisfies neither)."""
        if neg:
            op = _OPPOSITE[op]
        if op in (">", ">="):
            low = "<" if op == ">" else "<="
            return [(Lit(name, op, c),), (Lit(name, low, -c),)]
        if op in ("<", "<="):
            high = ">" if op == "<" else ">="
            return [(Lit(name, op, c), Lit(name, high, -c))]
        if op == "==":
            return [(Lit(name, "==", c),), (Lit(name, "==", -c),)] if c >= 0 else []
        if c >= 0:
            return [(Lit(name, "!=", c), Lit(name, "!=", -c))]
        return [(Lit(name, ">", -_INF),)]  # true for every value that is there


_AST_OPS = {v: k for k, v in _OPS.items()}
_OPPOSITE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


def _known(value: Any, neg: bool) -> Dnf:
    """A condition whose value is known: true, false, or missing (never holds, negated or not)."""
    if type(value) is Missing:
        return _FALSE
    return _TRUE if bool(value) != neg else _FALSE


def _is_abs_of_name(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "abs"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Name)
    )


def analyse(expr: Expr | None, vocab: Vocabulary, known: Mapping[str, Any]) -> Dnf:
    """The guard's normal form with ``known`` names folded in; no guard is always true."""
    if expr is None:
        return list(_TRUE)
    return _Normalizer(vocab, known).dnf(expr.tree)


def negate(dnf: Dnf) -> Dnf:
    """The guard does *not hold* (it is false or missing), in normal form.

    not (t1 or t2 ...) = (not t1) and (not t2) ...; each literal's opposite also admits a
    missing value, because a comparison with a missing value does not hold either.
    """
    if dnf is None:
        return None
    out: Dnf = list(_TRUE)
    for term in dnf:
        flipped = [
            (
                Lit(x.name, x.op, x.value, not x.neg, not x.or_missing)
                if isinstance(x, Lit)
                else Opaque(x.text, not x.neg, not x.or_missing),
            )
            for x in term
        ]
        out = _and(out, flipped if flipped else _FALSE)
    return out


def conjoin(*parts: Dnf) -> Dnf:
    out: Dnf = list(_TRUE)
    for part in parts:
        out = _and(out, part)
    return out


# -- satisfiability ------------------------------------------------------------------

Interval = tuple[float, bool, float, bool]  # lo, lo_closed, hi, hi_closed
_ANY_TRUTH = frozenset({True, False, None})


def _num(value: Any) -> float:
    if isinstance(value, time):
        return value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
    if isinstance(value, date):
        return float(value.toordinal())
    return float(value)


def _allowed(op: str, c: float, neg: bool) -> list[Interval]:
    sets = {
        "<": [(-_INF, False, c, False)],
        "<=": [(-_INF, False, c, True)],
        ">": [(c, False, _INF, False)],
        ">=": [(c, True, _INF, False)],
        "==": [(c, True, c, True)],
        "!=": [(-_INF, False, c, False), (c, False, _INF, False)],
    }
    opposite = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
    return sets[opposite[op] if neg else op]


def _meet(a: Interval, b: Interval) -> Interval | None:
    lo, lo_c = max((a[0], a[1]), (b[0], b[1]), key=lambda x: (x[0], not x[1]))
    hi, hi_c = min((a[2], a[3]), (b[2], b[3]), key=lambda x: (x[0], x[1]))
    if lo > hi or (lo == hi and not (lo_c and hi_c)):
        return None
    return (lo, lo_c, hi, hi_c)


def _intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    return [m for x in a for y in b if (m := _meet(x, y)) is not None]


@dataclass
class _Domain:
    """The values one name may still take within a term."""

    ordered: bool
    intervals: list[Interval]
    include: set[Any] | None  # discrete: allowed values (None: all but `exclude`)
    exclude: set[Any]
    missing_ok: bool = True  # a missing value satisfies every literal so far

    def empty_values(self) -> bool:
        if self.ordered:
            return not self.intervals
        return self.include is not None and not (self.include - self.exclude)


def _domain_for(name: str, vocab: Mapping[str, Any]) -> _Domain | None:
    info = vocab.get(name)
    typ = getattr(info, "type", None)
    if typ in _ORDERED:
        return _Domain(True, [(-_INF, False, _INF, False)], None, set())
    if typ is ValueType.BOOL:
        return _Domain(False, [], {True, False}, set())
    if typ is ValueType.STRING:
        choices = getattr(info, "choices", ())
        return _Domain(False, [], set(choices) if choices else None, set())
    return None


def _apply(domain: _Domain, lit: Lit) -> None:
    domain.missing_ok = domain.missing_ok and lit.or_missing
    if domain.ordered:
        domain.intervals = _intersect(domain.intervals, _allowed(lit.op, _num(lit.value), lit.neg))
        return
    positive = (lit.op == "==") != lit.neg
    if positive:
        allowed = {lit.value}
        domain.include = allowed if domain.include is None else domain.include & allowed
    else:
        domain.exclude.add(lit.value)


def _domains(term: Term, vocab: Mapping[str, Any]) -> tuple[dict[str, _Domain], bool, bool]:
    """Per-name domains of a term, whether it is satisfiable, whether it has opaque parts."""
    domains: dict[str, _Domain] = {}
    opaque: dict[str, frozenset[Any]] = {}  # text -> values still possible (None: missing)
    has_opaque = False
    for lit in term:
        if isinstance(lit, Opaque):
            allowed = {not lit.neg, None} if lit.or_missing else {not lit.neg}
            left = opaque.get(lit.text, _ANY_TRUTH) & allowed
            if not left:
                return domains, False, True
            opaque[lit.text] = left
            has_opaque = True
            continue
        if lit.name not in domains:
            dom = _domain_for(lit.name, vocab)
            if dom is None:
                has_opaque = True
                continue
            domains[lit.name] = dom
        _apply(domains[lit.name], lit)
    sat = all(not d.empty_values() or d.missing_ok for d in domains.values())
    return domains, sat, has_opaque


def holds(dnf: Dnf, vocab: Mapping[str, Any]) -> bool | None:
    """False: can never be true; True: true whatever the unknown names are; None: undecided."""
    if dnf is None:
        return None
    if any(not term for term in dnf):
        return True
    for term in dnf:
        _, sat, _ = _domains(term, vocab)
        if sat:
            return None
    return False


#: name -> (lowest, highest) value a guard allows, for the ordered names it always constrains.
Bounds = dict[str, tuple[float, float]]


def bounds(dnf: Dnf, vocab: Mapping[str, Any]) -> Bounds:
    """The hull of the values a guard allows, per ordered name every satisfiable term
    constrains (times and dates as numbers). Two guards whose bounds are ``disjoint`` can
    never hold together, which lets the pairwise checks skip most pairs after a sort;
    an undecided guard has no bounds (it may overlap anything)."""
    if dnf is None:
        return {}
    hull: Bounds | None = None
    for term in dnf:
        domains, sat, _ = _domains(term, vocab)
        if not sat:
            continue
        mine = {
            name: (min(i[0] for i in d.intervals), max(i[2] for i in d.intervals))
            for name, d in domains.items()
            if d.ordered and d.intervals and not d.missing_ok
        }
        hull = (
            mine
            if hull is None
            else {
                n: (min(hull[n][0], mine[n][0]), max(hull[n][1], mine[n][1]))
                for n in hull.keys() & mine.keys()
            }
        )
        if not hull:
            return {}
    return hull or {}


def disjoint(a: Bounds, b: Bounds) -> bool:
    """Whether two guards' bounds exclude each other on some name (closed hulls: a shared
    end point is not disjoint, which errs on the side of checking the pair)."""
    for name, (lo, hi) in a.items():
        other = b.get(name)
        if other is not None and (hi < other[0] or other[1] < lo):
            return True
    return False


class OverlapIndex:
    """Guards indexed by their bounds on one name, so the guards that may hold together with
    a given one are found after a sort instead of by comparing every pair.

    The name is the one most guards bound. Guards bounded on it are sorted by lower bound
    with the running maximum of the upper bounds, so a backward scan from the query's upper
    bound stops as soon as no earlier guard reaches the query's lower bound; the few guards
    not bounded on it are candidates for every query.
    """

    def __init__(self, items: Sequence[Bounds]) -> None:
        self.items = items
        counts: dict[str, int] = {}
        for b in items:
            for name in b:
                counts[name] = counts.get(name, 0) + 1
        self.key = max(counts, key=lambda n: (counts[n], n)) if counts else None
        key = self.key
        self.free = [i for i, b in enumerate(items) if key not in b]
        ranked = sorted((b[key][0], b[key][1], i) for i, b in enumerate(items) if key in b)
        self.los = [r[0] for r in ranked]
        self.his = [r[1] for r in ranked]
        self.ids = [r[2] for r in ranked]
        self.reach: list[float] = list(itertools.accumulate(self.his, max))

    def overlapping(self, i: int) -> Iterator[int]:
        """Indexes of the other items whose bounds are not disjoint from item ``i``'s."""
        mine = self.items[i]
        for j in self.free:
            if j != i and not disjoint(mine, self.items[j]):
                yield j
        if self.key not in mine:
            candidates: Iterable[int] = range(len(self.ids) - 1, -1, -1)
            lo = -_INF
        else:
            lo, hi = mine[self.key]
            candidates = range(bisect_right(self.los, hi) - 1, -1, -1)
        for k in candidates:
            if self.reach[k] < lo:
                return  # nothing at or before k reaches the query
            j = self.ids[k]
            if self.his[k] >= lo and j != i and not disjoint(mine, self.items[j]):
                yield j


def can_hold(dnf: Dnf, vocab: Mapping[str, Any]) -> bool:
    """Whether the guard may be true (an undecided guard may)."""
    return holds(dnf, vocab) is not False


# -- witnesses -----------------------------------------------------------------------


def _pick_number(intervals: Sequence[Interval]) -> float:
    lo, lo_c, hi, hi_c = intervals[0]
    if lo_c:
        return lo
    if hi_c and lo == -_INF:
        return hi
    if lo == -_INF and hi == _INF:
        return 0.0
    if lo == -_INF:
        return hi - 1.0
    if hi == _INF:
        return lo + 1.0
    return (lo + hi) / 2


def _from_number(x: float, typ: ValueType) -> Any:
    if typ is ValueType.TIME:
        x = min(max(x, 0.0), 86399.0)
        s = int(x)
        return time(s // 3600, s % 3600 // 60, s % 60)
    if typ is ValueType.DATE:
        return date.fromordinal(int(x))
    return int(x) if float(x).is_integer() else x


def _pick(domain: _Domain, info: Any) -> Any:
    if domain.empty_values():
        return MISSING
    if domain.ordered:
        return _from_number(_pick_number(domain.intervals), info.type)
    if domain.include is not None:
        return sorted(domain.include - domain.exclude, key=repr)[0]
    choice = next((c for c in getattr(info, "choices", ()) if c not in domain.exclude), None)
    if choice is not None:
        return choice
    return next(f"value_{i}" for i in itertools.count() if f"value_{i}" not in domain.exclude)


def witness(dnf: Dnf, vocab: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
    """Assignments of the constrained names that make the guard true, best first.

    Terms without opaque parts come first; a caller must still check the assignment by
    evaluating the guard, because opaque parts were not taken into account.
    """
    if dnf is None:
        return
    ranked = sorted(dnf, key=lambda t: any(isinstance(x, Opaque) for x in t))
    for term in ranked:
        domains, sat, _ = _domains(term, vocab)
        if sat:
            yield {name: _pick(dom, vocab.get(name)) for name, dom in domains.items()}
