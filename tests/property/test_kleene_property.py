"""Missing values follow Kleene's three-valued logic on every evaluator.

A small evaluator written here from the truth table alone (no ``Missing`` class, no
Python truthiness: ``None`` stands for missing) is the oracle. On random boolean
expressions over names that may be missing, the fast path, the trace and the reference
(simpleeval) must all give its value, and a missing value is never turned into true.
"""

from __future__ import annotations

import ast
import operator

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.expr import Missing, ValueType, Vocabulary, compile_expr, is_missing

VOCAB = Vocabulary.of(
    {"a": ValueType.NUMBER, "b": ValueType.NUMBER, "c": ValueType.NUMBER, "p": ValueType.BOOL}
)

# -- the oracle ----------------------------------------------------------------------------

T, F, U = True, False, None  # U: unknown (missing)
NOT = {T: F, F: T, U: U}
AND = {
    (x, y): F if F in (x, y) else (T if (x, y) == (T, T) else U)
    for x in (T, F, U)
    for y in (T, F, U)
}
OR = {
    (x, y): T if T in (x, y) else (F if (x, y) == (F, F) else U)
    for x in (T, F, U)
    for y in (T, F, U)
}
CMP = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
ARITH = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}


def oracle(node: ast.AST, env: dict[str, object]) -> object:  # noqa: C901 - one case per node
    """Kleene semantics, straight from the tables above."""
    if isinstance(node, ast.Expression):
        return oracle(node.body, env)
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp):
        value = oracle(node.operand, env)
        if isinstance(node.op, ast.Not):
            return NOT[value]
        return None if value is None else -value
    if isinstance(node, ast.BinOp):
        left, right = oracle(node.left, env), oracle(node.right, env)
        return None if left is None or right is None else ARITH[type(node.op)](left, right)
    if isinstance(node, ast.BoolOp):
        table = AND if isinstance(node.op, ast.And) else OR
        result = oracle(node.values[0], env)
        for value in node.values[1:]:
            result = table[result, oracle(value, env)]
        return result
    if isinstance(node, ast.Compare):
        operands = [oracle(n, env) for n in (node.left, *node.comparators)]
        result: object = T
        for op, x, y in zip(node.ops, operands, operands[1:], strict=False):
            pair = None if x is None or y is None else CMP[type(op)](x, y)
            result = AND[result, pair]
        return result
    if isinstance(node, ast.IfExp):
        test = oracle(node.test, env)
        if test is None:
            return None
        return oracle(node.body if test else node.orelse, env)
    raise AssertionError(f"the oracle does not know {type(node).__name__}")


# -- random expressions and contexts --------------------------------------------------------

numbers = st.sampled_from(["a", "b", "c", "0", "1", "2", "-1"])
arith = st.one_of(
    numbers, st.tuples(numbers, st.sampled_from(["+", "-", "*"]), numbers).map(" ".join)
)
comparison = st.one_of(
    st.tuples(arith, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), arith).map(" ".join),
    st.tuples(arith, st.sampled_from(["<", "<="]), arith, st.sampled_from(["<", "<="]), arith).map(
        " ".join
    ),
)
leaf = st.one_of(comparison, st.just("p"), st.sampled_from(["True", "False"]))
conditions = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(lambda t: f"({' '.join(t)})"),
        st.lists(inner, min_size=3, max_size=4).map(lambda xs: "(" + " or ".join(xs) + ")"),
        st.lists(inner, min_size=3, max_size=4).map(lambda xs: "(" + " and ".join(xs) + ")"),
        inner.map(lambda x: f"(not {x})"),
        st.tuples(inner, inner, inner).map(lambda t: f"({t[1]} if {t[0]} else {t[2]})"),
    ),
    max_leaves=8,
)
maybe = st.one_of(st.integers(-3, 3), st.none())
contexts = st.fixed_dictionaries(
    {"a": maybe, "b": maybe, "c": maybe, "p": st.one_of(st.booleans(), st.none())}
)


def as_context(env: dict[str, object]) -> dict[str, object]:
    return {k: Missing(f"{k} not ready") if v is None else v for k, v in env.items()}


def as_oracle(value: object) -> object:
    return None if is_missing(value) else value


@settings(max_examples=500, deadline=None)
@given(source=conditions, env=contexts)
def test_every_evaluator_when_values_may_be_missing_then_follows_kleene_logic(
    source: str, env: dict[str, object]
) -> None:
    expr = compile_expr(source, VOCAB)
    expected = oracle(ast.parse(source, mode="eval"), env)
    context = as_context(env)
    fast = expr.evaluate(context)
    assert fast is True or fast is False or is_missing(fast), source
    assert as_oracle(fast) == expected, (source, env)
    assert as_oracle(expr.trace(context).value) == expected, (source, env)
    assert as_oracle(expr.reference(context)) == expected, (source, env)


@settings(max_examples=300, deadline=None)
@given(source=conditions, env=contexts)
def test_negation_when_value_missing_then_never_true(source: str, env: dict[str, object]) -> None:
    """No spelling turns a missing condition into true: `not x` is missing when x is."""
    context = as_context(env)
    value = compile_expr(source, VOCAB).evaluate(context)
    negated = compile_expr(f"not ({source})", VOCAB).evaluate(context)
    if is_missing(value):
        assert is_missing(negated), source
    else:
        assert negated is (not value), source
