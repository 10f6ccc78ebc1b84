"""The compiled fast path equals simpleeval on random valid expressions and contexts.

simpleeval defines the language's semantics. For every generated expression and context:
compiled == simpleeval on the checked tree == the trace's value, and (when the expression
has no time literal) == simpleeval parsing the original text with nested names.
"""

from __future__ import annotations

import math
from datetime import time

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine.expr import FUNCTIONS, OPERATORS, Missing, NameInfo, ValueType, Vocabulary, compile_expr
from engine.expr._reference import KleeneEval

NUMBER_NAMES = [
    "daily.adx",
    "daily.prev.adx",
    "daily.plus_di",
    "h1.prev.plus_di",
    "vix",
    "m5.rsi",
    "m5.prev.rsi",
    "account.capital",
]
VOCAB = Vocabulary.of(
    {
        **{n: ValueType.NUMBER for n in NUMBER_NAMES},
        "time": ValueType.TIME,
        "position.open": ValueType.BOOL,
        "position.side": NameInfo(ValueType.STRING, "", ("CE", "PE", "none")),
    }
)

numbers = st.one_of(
    st.integers(-1000, 1000),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 0.0, 1, -1, 0.5]),
)
number_literal = numbers.map(lambda v: repr(v) if v >= 0 else f"({v!r})")


def _number_expr() -> st.SearchStrategy[str]:
    leaves = st.one_of(st.sampled_from(NUMBER_NAMES), number_literal)

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "//", "%"]), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            st.tuples(inner, st.integers(0, 3)).map(lambda t: f"({t[0]} ** {t[1]})"),
            inner.map(lambda x: f"(-{x})"),
            st.tuples(st.sampled_from(["abs", "floor", "ceil"]), inner).map(
                lambda t: f"{t[0]}({t[1]})"
            ),
            st.tuples(st.sampled_from(["min", "max"]), inner, inner).map(
                lambda t: f"{t[0]}({t[1]}, {t[2]})"
            ),
            st.tuples(inner, st.integers(0, 3)).map(lambda t: f"round({t[0]}, {t[1]})"),
            st.tuples(inner, inner, inner).map(lambda t: f"clamp({t[0]}, {t[1]}, {t[2]})"),
        )

    return st.recursive(leaves, extend, max_leaves=6)


def _bool_expr(with_time: bool) -> st.SearchStrategy[str]:
    num = _number_expr()
    cmp = st.sampled_from(["<", "<=", ">", ">=", "==", "!="])
    leaves = [
        st.tuples(num, cmp, num).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(num, cmp, num, cmp, num).map(lambda t: f"({' '.join(t)})"),
        st.just("position.open"),
        st.sampled_from(["CE", "PE", "none"]).map(lambda s: f"(position.side == '{s}')"),
        st.sampled_from(["True", "False"]),
    ]
    if with_time:  # (crossings are rewritten at load time, so only the checked tree has them)
        crossable = st.one_of(st.sampled_from(["daily.adx", "m5.rsi"]), number_literal)
        leaves.append(
            st.tuples(
                st.sampled_from(["crosses_above", "crosses_below"]), crossable, crossable
            ).map(lambda t: f"{t[0]}({t[1]}, {t[2]})")
        )
        clock = st.tuples(st.integers(9, 15), st.integers(0, 59)).map(
            lambda t: f"'{t[0]:02d}:{t[1]:02d}'"
        )
        leaves.append(st.tuples(cmp, clock).map(lambda t: f"(time {t[0]} {t[1]})"))

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            inner.map(lambda x: f"(not {x})"),
            st.tuples(inner, inner, inner).map(lambda t: f"({t[1]} if {t[0]} else {t[2]})"),
        )

    return st.recursive(st.one_of(*leaves), extend, max_leaves=5)


number_values = st.one_of(numbers, st.just(Missing("warming up")), st.just(Missing("no position")))
contexts = st.fixed_dictionaries(
    {
        **{n: number_values for n in NUMBER_NAMES},
        "time": st.tuples(st.integers(9, 15), st.integers(0, 59)).map(lambda t: time(*t)),
        "position.open": st.booleans(),
        "position.side": st.sampled_from(["CE", "PE", "none"]),
    }
)


def checked(source: str, expect: ValueType = ValueType.BOOL):  # type: ignore[no-untyped-def]
    """Compile, discarding examples rejected only for constant powers past the bound."""
    from engine.errors import ExprError

    try:
        return compile_expr(source, VOCAB, expect=expect)
    except ExprError as e:
        assume({d.code for d in e.diagnostics} != {"power-too-large"})
        raise


def same(a: object, b: object) -> bool:
    if type(a) is Missing or type(b) is Missing:
        return type(a) is type(b) and a.reason == b.reason  # type: ignore[union-attr]
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def nested(context: dict[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in context.items():
        node = out
        *heads, leaf = key.split(".")
        for h in heads:
            node = node.setdefault(h, {})  # type: ignore[assignment]
        node[leaf] = value
    return out


SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(source=_bool_expr(with_time=True), context=contexts)
def test_compiled_when_random_expression_then_equals_simpleeval_and_trace(
    source: str, context: dict[str, object]
) -> None:
    expr = checked(source)
    fast = expr.evaluate(context)
    assert same(fast, expr.reference(context)), source
    assert same(fast, expr.trace(context).value), source


@SETTINGS
@given(source=_bool_expr(with_time=False), context=contexts)
def test_compiled_when_no_time_literal_then_equals_simpleeval_on_original_text(
    source: str, context: dict[str, object]
) -> None:
    expr = checked(source)
    evaluator = KleeneEval(
        operators=dict(OPERATORS),
        functions={name: info.fn for name, info in FUNCTIONS.items()},
        names=nested(context),
    )
    assert same(expr.evaluate(context), evaluator.eval(source)), source


@SETTINGS
@given(source=_number_expr(), context=contexts)
def test_compiled_when_number_expression_then_equals_simpleeval(
    source: str, context: dict[str, object]
) -> None:
    expr = checked(source, ValueType.NUMBER)
    assert same(expr.evaluate(context), expr.reference(context)), source


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=80))
def test_compile_when_arbitrary_text_then_only_expr_error_or_success(text: str) -> None:
    from engine.errors import ExprError

    try:
        compile_expr(text, VOCAB)
    except ExprError as e:
        assert e.diagnostics and all(d.message for d in e.diagnostics)
