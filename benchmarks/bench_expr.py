"""The compiled evaluator against simpleeval with a pre-parsed tree, on one 5-clause rule.

Run: python -m pytest benchmarks/bench_expr.py --benchmark-only
The ratio of the means (simpleeval / compiled) is the figure to report.
"""

from __future__ import annotations

from simpleeval import SimpleEval

from engine.expr import FUNCTIONS, OPERATORS, ValueType, Vocabulary, compile_expr

RULE = (
    "daily.adx >= 25 and daily.plus_di > daily.minus_di and h1.adx >= 25 and "
    "h1.plus_di > h1.minus_di and vix < 30"
)
CONTEXT = {
    "daily.adx": 31.2,
    "daily.plus_di": 24.1,
    "daily.minus_di": 17.9,
    "h1.adx": 27.5,
    "h1.plus_di": 22.0,
    "h1.minus_di": 18.4,
    "vix": 14.2,  # every clause true: the whole rule is evaluated
}
NESTED = {
    "daily": {"adx": 31.2, "plus_di": 24.1, "minus_di": 17.9},
    "h1": {"adx": 27.5, "plus_di": 22.0, "minus_di": 18.4},
    "vix": 14.2,
}
VOCAB = Vocabulary.of({name: ValueType.NUMBER for name in CONTEXT})
EXPR = compile_expr(RULE, VOCAB)


def test_compiled(benchmark) -> None:  # type: ignore[no-untyped-def]
    fn = EXPR.evaluate
    assert benchmark(fn, CONTEXT) is True


def test_trace(benchmark) -> None:  # type: ignore[no-untyped-def]
    assert benchmark(EXPR.trace, CONTEXT).value is True


def test_simpleeval_preparsed(benchmark) -> None:  # type: ignore[no-untyped-def]
    evaluator = SimpleEval(
        operators=dict(OPERATORS),
        functions={n: f.fn for n, f in FUNCTIONS.items()},
        names=NESTED,
    )
    tree = evaluator.parse(RULE)
    assert benchmark(evaluator.eval, RULE, tree) is True


def test_simpleeval_checked_tree(benchmark) -> None:  # type: ignore[no-untyped-def]
    evaluator = SimpleEval(
        operators=dict(OPERATORS),
        functions={n: f.fn for n, f in FUNCTIONS.items()},
        names=CONTEXT,
    )
    assert benchmark(evaluator.eval, RULE, EXPR.tree) is True


def test_handwritten_lambda(benchmark) -> None:  # type: ignore[no-untyped-def]
    def fn(c):  # type: ignore[no-untyped-def]
        return (
            c["daily.adx"] >= 25
            and c["daily.plus_di"] > c["daily.minus_di"]
            and c["h1.adx"] >= 25
            and c["h1.plus_di"] > c["h1.minus_di"]
            and c["vix"] < 30
        )

    assert benchmark(fn, CONTEXT) is True


def test_compile_time(benchmark) -> None:  # type: ignore[no-untyped-def]
    benchmark(compile_expr, RULE, VOCAB)
