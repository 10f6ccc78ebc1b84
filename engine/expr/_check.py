"""Load-time checks: an allowlist of syntax, names against the vocabulary, and types.

The checker walks the parsed tree once and returns a *checked* tree that is what both
evaluators run: attribute paths become single names (``daily.adx``), and string literals
compared with a time or date become ``datetime.time`` / ``datetime.date`` constants. Each
node keeps its character span (``_start``, ``_end``) for error carets and traces. Every
problem found is collected, not only the first.
"""

from __future__ import annotations

import ast
import math
from datetime import date
from typing import Any

from engine.expr._functions import FUNCTIONS
from engine.expr._limits import (
    MAX_CONSTANT_POWER_RESULT,
    MAX_MAGNITUDE,
    MAX_POWER,
    MAX_STRING_LITERAL,
)
from engine.expr._parse import Problem, SourceText
from engine.expr._values import ValueType
from engine.expr._vocab import Vocabulary
from engine.timeutil import parse_clock_time

__all__ = ["check_tree"]

N, B, T, D, S, A = (
    ValueType.NUMBER,
    ValueType.BOOL,
    ValueType.TIME,
    ValueType.DATE,
    ValueType.STRING,
    ValueType.ANY,
)

_ARITH = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//"}
_ARITH |= {ast.Mod: "%", ast.Pow: "**"}
_COMPARE = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)

# Friendly names for the syntax the language leaves out on purpose.
_NOT_ALLOWED: dict[type, str] = {
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "generator expressions are not allowed",
    ast.Lambda: "lambda functions are not allowed",
    ast.NamedExpr: "assignment expressions (:=) are not allowed",
    ast.Subscript: "subscripts ([...]) are not allowed; use .prev to read the previous bar",
    ast.Slice: "slices are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.Starred: "starred expressions (*x) are not allowed",
    ast.List: "lists are not allowed",
    ast.Tuple: "tuples are not allowed (is there a stray comma?)",
    ast.Dict: "dicts are not allowed",
    ast.Set: "sets are not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
}
_KNOWN_DANGEROUS = {
    "getattr", "setattr", "delattr", "eval", "exec", "compile", "open", "globals", "locals",
    "vars", "dir", "type", "object", "input", "help", "breakpoint", "__import__", "format",
    "print", "id", "hasattr", "memoryview", "super", "classmethod", "staticmethod", "property",
}  # fmt: skip


def _span(node: ast.AST, src: SourceText) -> tuple[int, int]:
    start = src.char_offset(getattr(node, "col_offset", 1))
    end_col = getattr(node, "end_col_offset", None)
    end = src.char_offset(end_col) if end_col is not None else start + 1
    return start, max(end, start + 1)


def _mark(new: ast.AST, old: ast.AST, src: SourceText) -> Any:
    ast.copy_location(new, old)
    new._start, new._end = _span(old, src)  # type: ignore[attr-defined]
    return new


class _Checker:
    def __init__(self, vocab: Vocabulary, src: SourceText) -> None:
        self.vocab = vocab
        self.src = src
        self.problems: list[Problem] = []
        self.names: set[str] = set()

    # -- reporting -------------------------------------------------------------------
    def problem(self, node: ast.AST, code: str, message: str, hint: str = "") -> None:
        start, end = _span(node, self.src)
        self.problems.append(Problem(code, message, start, end - start, hint))

    def text(self, node: ast.AST) -> str:
        start, end = _span(node, self.src)
        return self.src.segment(start, end)

    # -- dispatch --------------------------------------------------------------------
    def visit(self, node: ast.expr) -> tuple[ast.expr, ValueType]:
        handler = getattr(self, f"visit_{type(node).__name__}", None)
        if handler is not None:
            new, typ = handler(node)
            return _mark(new, node, self.src), typ
        what = _NOT_ALLOWED.get(type(node), f"{type(node).__name__} is not allowed")
        self.problem(node, "not-allowed", f"{what} in rule expressions")
        return _mark(ast.Constant(value=0), node, self.src), A

    # -- leaves ----------------------------------------------------------------------
    def visit_Constant(self, node: ast.Constant) -> tuple[ast.expr, ValueType]:
        v = node.value
        if isinstance(v, bool):
            return ast.Constant(value=v), B
        if isinstance(v, int | float):
            if not -MAX_MAGNITUDE <= v <= MAX_MAGNITUDE:  # 1e999 parses as inf
                self.problem(
                    node,
                    "bad-number",
                    f"{self.text(node)} is beyond the range of numbers "
                    f"(at most {MAX_MAGNITUDE:.4g} in size)",
                    "write a finite number",
                )
                return ast.Constant(value=0), N
            return ast.Constant(value=v), N
        if isinstance(v, str):
            if len(v) > MAX_STRING_LITERAL:
                self.problem(
                    node,
                    "string-too-long",
                    f"string literal of {len(v)} characters; the limit is {MAX_STRING_LITERAL}",
                )
            return ast.Constant(value=v), S
        kind = "None" if v is None else type(v).__name__
        self.problem(node, "not-allowed", f"{kind} literals are not allowed in rule expressions")
        return ast.Constant(value=0), A

    def _forbidden_part(self, node: ast.AST, part: str) -> bool:
        if part.startswith("_"):
            kind = "dunder" if part.startswith("__") else "private"
            self.problem(
                node,
                "forbidden-name",
                f"'{part}' is a {kind} name; names starting with '_' are never readable",
            )
            return True
        return False

    def _resolve(self, node: ast.AST, path: str) -> tuple[ast.expr, ValueType]:
        info = self.vocab.get(path)
        if info is not None:
            self.names.add(path)
            return ast.Name(id=path, ctx=ast.Load()), info.type
        if self.vocab.is_namespace(path):
            fields = self.vocab.members(path)
            shown = ", ".join(fields[:4]) + (", ..." if len(fields) > 4 else "")
            self.problem(
                node,
                "namespace-as-value",
                f"'{path}' is a namespace, not a value",
                f"read one of its fields: {shown}",
            )
        elif path in FUNCTIONS:
            self.problem(node, "not-allowed", f"function '{path}' is used without calling it")
        else:
            parts = path.split(".")
            notes = self.vocab.notes
            prefixes = (".".join(parts[:i]) for i in range(len(parts) - 1, 0, -1))
            note = next((notes[p] for p in prefixes if p in notes), None)
            suggestion = None if note else self.vocab.suggest(path)
            hint = (
                note
                or (f"did you mean '{suggestion}'?" if suggestion else "")
                or "run 'engine context FILE' to list the names a rule can read"
            )
            self.problem(node, "unknown-name", f"unknown name '{path}'", hint)
        return ast.Name(id=path, ctx=ast.Load()), A

    def visit_Name(self, node: ast.Name) -> tuple[ast.expr, ValueType]:
        if self._forbidden_part(node, node.id):
            return ast.Constant(value=0), A
        return self._resolve(node, node.id)

    def visit_Attribute(self, node: ast.Attribute) -> tuple[ast.expr, ValueType]:
        parts: list[str] = []
        base: ast.expr = node
        while isinstance(base, ast.Attribute):
            parts.append(base.attr)
            base = base.value
        parts.reverse()
        for part in parts:
            if self._forbidden_part(node, part):
                return ast.Constant(value=0), A
        if not isinstance(base, ast.Name):
            self.problem(
                node,
                "forbidden-attribute",
                f"attribute '.{parts[0]}' of {self.text(base)!r}: attributes can only be read "
                "from context names such as daily.adx",
            )
            return ast.Constant(value=0), A
        if self._forbidden_part(base, base.id):
            return ast.Constant(value=0), A
        return self._resolve(node, ".".join([base.id, *parts]))

    # -- operators -------------------------------------------------------------------
    def _need(self, node: ast.AST, typ: ValueType, want: ValueType, role: str) -> None:
        if typ is not want and typ is not A:
            self.problem(
                node,
                "type-mismatch",
                f"{role} needs a {want}; {self.text(node)} is a {typ}",
                _type_hint(want, typ),
            )

    def visit_BoolOp(self, node: ast.BoolOp) -> tuple[ast.expr, ValueType]:
        word = "and" if isinstance(node.op, ast.And) else "or"
        values = []
        for value in node.values:
            new, typ = self.visit(value)
            self._need(value, typ, B, f"'{word}'")
            values.append(new)
        return ast.BoolOp(op=node.op, values=values), B

    def visit_UnaryOp(self, node: ast.UnaryOp) -> tuple[ast.expr, ValueType]:
        operand, typ = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            self._need(node.operand, typ, B, "'not'")
            return ast.UnaryOp(op=node.op, operand=operand), B
        if isinstance(node.op, ast.USub | ast.UAdd):
            self._need(node.operand, typ, N, "a sign")
            return ast.UnaryOp(op=node.op, operand=operand), N
        self.problem(node, "not-allowed", "bitwise operators are not allowed")
        return operand, A

    def visit_BinOp(self, node: ast.BinOp) -> tuple[ast.expr, ValueType]:
        symbol = _ARITH.get(type(node.op))
        if symbol is None:
            self.problem(node, "not-allowed", "bitwise and matrix operators are not allowed")
            return ast.Constant(value=0), A
        left, lt = self.visit(node.left)
        right, rt = self.visit(node.right)
        self._need(node.left, lt, N, f"'{symbol}'")
        self._need(node.right, rt, N, f"'{symbol}'")
        if isinstance(node.op, ast.Pow):
            self._check_power(node, left, right)
        return ast.BinOp(left=left, op=node.op, right=right), N

    def _check_power(self, node: ast.AST, left: ast.expr, right: ast.expr) -> None:
        """A power of numbers and parameters, bounded like the literals it stands for."""
        a, b = _constant_number(left, self.vocab), _constant_number(right, self.vocab)
        if a is None or b is None:
            return
        too_big = abs(a) > MAX_POWER or abs(b) > MAX_POWER
        if not too_big and a not in (0, 1, -1) and b > 0:
            too_big = b * math.log10(abs(a)) > math.log10(MAX_CONSTANT_POWER_RESULT)
        if too_big:
            self.problem(
                node,
                "power-too-large",
                f"{self.text(node)!r} would be a number too large to use",
                f"powers are bounded (result under {MAX_CONSTANT_POWER_RESULT:g})",
            )

    def visit_Compare(self, node: ast.Compare) -> tuple[ast.expr, ValueType]:
        operands = [node.left, *node.comparators]
        checked = [self.visit(o) for o in operands]
        for i, op in enumerate(node.ops):
            if type(op) not in _COMPARE:
                word = {ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not"}
                self.problem(
                    node,
                    "not-allowed",
                    f"'{word.get(type(op), type(op).__name__)}' is not allowed; "
                    "compare with ==, !=, <, <=, >, >=",
                )
                continue
            checked[i], checked[i + 1] = self._compare_pair(
                op, (operands[i], *checked[i]), (operands[i + 1], *checked[i + 1])
            )
        return ast.Compare(
            left=checked[0][0], ops=node.ops, comparators=[c[0] for c in checked[1:]]
        ), B

    def _compare_pair(
        self,
        op: ast.cmpop,
        left: tuple[ast.expr, ast.expr, ValueType],
        right: tuple[ast.expr, ast.expr, ValueType],
    ) -> tuple[tuple[ast.expr, ValueType], tuple[ast.expr, ValueType]]:
        (lo, ln, lt), (ro, rn, rt) = left, right
        # A string literal beside a time, a date or a name with fixed choices takes its type.
        for (o, n, t), (_, on, ot) in ((left, right), (right, left)):
            if t is S and isinstance(n, ast.Constant) and ot in (T, D, S):
                n2 = self._literal_for(o, n.value, ot, on)
                if (o, n, t) == left:
                    ln, lt = n2, ot
                else:
                    rn, rt = n2, ot
                break
        sym = _COMPARE[type(op)]
        if lt is not A and rt is not A and lt is not rt:
            self.problem(
                lo if lt is not N else ro,
                "type-mismatch",
                f"cannot compare a {lt} with a {rt} ({self.text(lo)} {sym} {self.text(ro)})",
                _type_hint(lt, rt),
            )
        elif isinstance(op, _ORDERING) and (lt in (B, S) or rt in (B, S)):
            kind = lt if lt in (B, S) else rt
            self.problem(
                lo,
                "type-mismatch",
                f"'{sym}' orders numbers, times and dates; a {kind} can only be tested "
                "with == or !=",
            )
        return (ln, lt), (rn, rt)

    def _literal_for(self, node: ast.expr, text: str, typ: ValueType, other: ast.expr) -> ast.expr:
        if typ is T:
            try:
                value: Any = parse_clock_time(text)
            except ValueError as e:
                self.problem(node, "bad-time", str(e), "write times as 'HH:MM' or 'HH:MM:SS'")
                return ast.Constant(value=text)
            return _mark(ast.Constant(value=value), node, self.src)
        if typ is D:
            try:
                value = date.fromisoformat(text)
            except ValueError:
                self.problem(node, "bad-date", f"'{text}' is not a date; expected 'YYYY-MM-DD'")
                return ast.Constant(value=text)
            return _mark(ast.Constant(value=value), node, self.src)
        if isinstance(other, ast.Name) and other.id in self.vocab:
            choices = self.vocab[other.id].choices
            if choices and text not in choices:
                near = self.vocab.suggest(text, candidates=choices)
                self.problem(
                    node,
                    "bad-choice",
                    f"'{other.id}' is never '{text}'; it is one of {', '.join(choices)}",
                    f"did you mean '{near}'?" if near else "",
                )
        return node

    def visit_IfExp(self, node: ast.IfExp) -> tuple[ast.expr, ValueType]:
        test, tt = self.visit(node.test)
        self._need(node.test, tt, B, "the condition of 'if'")
        body, bt = self.visit(node.body)
        orelse, ot = self.visit(node.orelse)
        typ = bt if bt is ot else A
        if bt is not ot and A not in (bt, ot):
            self.problem(
                node,
                "type-mismatch",
                f"both branches of 'x if c else y' must have one type; they are {bt} and {ot}",
            )
        return ast.IfExp(test=test, body=body, orelse=orelse), typ

    def visit_Call(self, node: ast.Call) -> tuple[ast.expr, ValueType]:
        func = node.func
        if not isinstance(func, ast.Name):
            self.problem(
                node,
                "not-allowed",
                f"only the listed functions can be called; {self.text(func)!r} is not one",
                f"allowed: {_ALLOWED_CALLS()}",
            )
            return ast.Constant(value=0), A
        if func.id in CROSSINGS:
            return self._crossing(node, func.id)
        info = FUNCTIONS.get(func.id)
        if info is None:
            danger = func.id in _KNOWN_DANGEROUS or func.id.startswith("_")
            near = (
                None if danger else self.vocab.suggest(func.id, candidates=[*FUNCTIONS, *CROSSINGS])
            )
            self.problem(
                func,
                "unknown-function",
                f"'{func.id}' is not an allowed function",
                f"did you mean '{near}'?" if near else f"allowed: {_ALLOWED_CALLS()}",
            )
            return ast.Constant(value=0), A
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            self.problem(node, "not-allowed", f"{info.name}() takes positional arguments only")
            return ast.Constant(value=0), A
        n = len(node.args)
        if n < info.min_args or (info.max_args is not None and n > info.max_args):
            self.problem(node, "bad-call", f"{info.signature} was called with {n} argument(s)")
        args = []
        for arg in node.args:
            new, typ = self.visit(arg)
            self._need(arg, typ, N, f"{info.name}()")
            args.append(new)
        return ast.Call(func=ast.Name(id=info.name, ctx=ast.Load()), args=args, keywords=[]), (
            info.returns
        )

    def _crossing(self, node: ast.Call, name: str) -> tuple[ast.expr, ValueType]:
        """crosses_above(a, b) = a.prev <= b.prev and a > b (below: >= and <), where a
        and b are context values with a previous bar, or numbers."""
        if len(node.args) != 2 or node.keywords:
            self.problem(node, "bad-call", f"{CROSSINGS[name][0]} takes exactly two values")
            return ast.Constant(value=False), B
        now: list[ast.expr] = []
        before: list[ast.expr] = []
        for arg in node.args:
            checked, typ = self.visit(arg)
            self._need(arg, typ, N, f"{name}()")
            if _constant_number(checked, self.vocab) is not None:  # the same one bar back
                now.append(checked)
                before.append(checked)
                continue
            path = checked.id if isinstance(checked, ast.Name) else ""
            head, _, rest = path.partition(".")
            prev = f"{head}.prev.{rest}"
            if not rest or rest.startswith("prev.") or prev not in self.vocab:
                if typ is not A:
                    self.problem(
                        arg,
                        "bad-call",
                        f"{name}() compares this bar with the previous one; "
                        f"{self.text(arg)} has no previous bar",
                        "use a bar field or indicator such as m5.ema9, or a number",
                    )
                return ast.Constant(value=False), B
            self.names.add(prev)
            now.append(checked)
            prev_node = _mark(ast.Name(id=prev, ctx=ast.Load()), arg, self.src)
            prev_node._text = prev  # shown in traces instead of the argument's own text
            before.append(prev_node)
        then_op, now_op = CROSSINGS[name][1]
        was = ast.Compare(left=before[0], ops=[then_op()], comparators=[before[1]])
        is_ = ast.Compare(left=now[0], ops=[now_op()], comparators=[now[1]])
        for part, sources in ((was, before), (is_, now)):
            _mark(part, node, self.src)
            part._text = (  # type: ignore[attr-defined]
                f"{_name_text(sources[0])} {_SYMBOL[type(part.ops[0])]} {_name_text(sources[1])}"
            )
        return ast.BoolOp(op=ast.And(), values=[was, is_]), B


#: crossing operator -> (signature, (comparison one bar back, comparison now))
CROSSINGS: dict[str, tuple[str, tuple[type, type]]] = {
    "crosses_above": ("crosses_above(a, b)", (ast.LtE, ast.Gt)),
    "crosses_below": ("crosses_below(a, b)", (ast.GtE, ast.Lt)),
}
_SYMBOL = {ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Lt: "<"}


def _ALLOWED_CALLS() -> str:  # noqa: N802 - reads as the constant it stands for
    return ", ".join(sorted([*FUNCTIONS, *CROSSINGS]))


def _name_text(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    return repr(_constant_number(node))


def _constant_number(node: ast.expr, vocab: Vocabulary | None = None) -> float | None:
    """The value of a number literal, a parameter, or a sign or power of them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        if not isinstance(node.value, bool):
            return node.value
    if isinstance(node, ast.Name) and vocab is not None and node.id in vocab:
        value = vocab[node.id].constant
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _constant_number(node.operand, vocab)
        return None if inner is None else -inner
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        a, b = _constant_number(node.left, vocab), _constant_number(node.right, vocab)
        if a is None or b is None or abs(a) > MAX_POWER or abs(b) > MAX_POWER:
            return float(MAX_POWER) * 2 if a is not None and b is not None else None
        try:
            return float(a) ** float(b) if abs(b * math.log10(max(abs(a), 1e-9))) < 300 else 1e300
        except (OverflowError, ZeroDivisionError):
            return 1e300
    return None


def _type_hint(want: ValueType, have: ValueType) -> str:
    if want is B and have is N:
        return "compare the number, e.g. 'daily.adx > 25'"
    if T in (want, have):
        return "write times as quoted 'HH:MM' literals compared with 'time'"
    return ""


def check_tree(
    tree: ast.expr, vocab: Vocabulary, src: SourceText, expect: ValueType | None
) -> tuple[ast.expr, ValueType, frozenset[str], list[Problem]]:
    """Check a parsed expression; the checked tree, its type, names read and problems."""
    checker = _Checker(vocab, src)
    checked, typ = checker.visit(tree)
    if expect is not None and not checker.problems and typ is not expect and typ is not A:
        checker.problem(
            tree,
            "type-mismatch",
            f"this expression must be {'true or false' if expect is B else f'a {expect}'}; "
            f"it is a {typ}",
            _type_hint(expect, typ),
        )
    return checked, typ, frozenset(checker.names), checker.problems
