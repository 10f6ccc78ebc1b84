from __future__ import annotations

from datetime import time

import pytest

import engine.expr as expr_pkg
from engine.errors import ExprError
from engine.expr import Missing, Origin, ValueType, compile_expr, is_missing


def test_public_api_when_listed_then_all_is_sorted_and_exported() -> None:
    assert expr_pkg.__all__ == sorted(expr_pkg.__all__)
    for name in expr_pkg.__all__:
        assert hasattr(expr_pkg, name), name


def test_evaluate_when_five_clause_rule_then_matches_python(vocab, context) -> None:
    e = compile_expr(
        "daily.adx >= 25 and daily.plus_di > daily.minus_di and h1.adx >= 25 "
        "and h1.plus_di > h1.minus_di and vix < 30",
        vocab,
    )
    assert e.evaluate(context) is False  # vix 31.4
    context["vix"] = 20
    assert e.evaluate(context) is True
    assert e.names == {
        "daily.adx",
        "daily.plus_di",
        "daily.minus_di",
        "h1.adx",
        "h1.plus_di",
        "h1.minus_di",
        "vix",
    }


def test_evaluate_when_int_and_float_mixed_then_compares_numerically(vocab, context) -> None:
    context["h1.adx"] = 25
    assert compile_expr("h1.adx >= 25.0 and 24.5 < h1.adx", vocab).evaluate(context) is True


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("time >= '10:00' and time <= '14:30'", True),
        ("time < '11:05'", False),
        ("time == '11:05:00'", True),
        ("'09:15' <= time < '11:06'", True),
        ("date == '2025-01-07'", True),
        ("date < '2025-01-01'", False),
    ],
)
def test_evaluate_when_time_or_date_literal_then_compares_as_time(
    vocab, context, source: str, expected: bool
) -> None:
    assert compile_expr(source, vocab).evaluate(context) is expected


@pytest.mark.parametrize(
    "source",
    [
        "h1.prev.plus_di > 5",
        "h1.prev.plus_di < 5",
        "h1.prev.plus_di == 5",
        "h1.prev.plus_di != 5",
        "5 < h1.prev.plus_di",
        "h1.prev.plus_di * 2 > 1",
        "abs(h1.prev.plus_di) >= 0",
        "max(h1.prev.plus_di, 3) > 0",
        "min(3, h1.prev.plus_di) > 0",
        "round(h1.prev.plus_di, 1) > 0",
        "-h1.prev.plus_di < 0",
    ],
)
def test_evaluate_when_value_missing_then_comparison_is_missing_without_exception(
    vocab, context, source: str
) -> None:
    e = compile_expr(source, vocab)
    reason = "h1.plus_di not ready (9 of 15 bars)"
    for value in (e.evaluate(context), e.trace(context).value, e.reference(context)):
        assert is_missing(value) and value.reason == reason


def test_trace_when_value_missing_then_says_why(vocab, context) -> None:
    trace = compile_expr("h1.prev.plus_di > 5", vocab).trace(context)
    assert trace.root.note == "h1.prev.plus_di is missing: h1.plus_di not ready (9 of 15 bars)"
    assert is_missing(trace.reads["h1.prev.plus_di"])


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("vix / (h1.adx - 28) > 1", "division by zero"),
        ("vix // 0 > 1", "division by zero"),
        ("vix % 0 > 1", "modulo by zero"),
        ("(vix - 31.4) ** -1 > 1", "zero to a negative power"),
    ],
)
def test_evaluate_when_arithmetic_fails_then_missing_not_exception(
    vocab, context, source: str, reason: str
) -> None:
    e = compile_expr(source, vocab)
    value = e.evaluate(context)
    assert is_missing(value) and value.reason == reason
    arith = e.trace(context).root.children[0]
    assert is_missing(arith.value) and arith.value.reason == reason


def test_trace_when_and_short_circuits_then_still_shows_every_clause(vocab, context) -> None:
    e = compile_expr("vix < 30 and daily.adx >= 25 and h1.adx > 100", vocab)
    trace = e.trace(context)
    assert trace.value is False and e.evaluate(context) is False
    assert [c.value for c in trace.root.children] == [False, True, False]
    assert [round(c.margin, 6) for c in trace.root.children] == [-1.4, 6.2, -72.0]
    assert set(trace.reads) == {"vix", "daily.adx", "h1.adx"}


def test_trace_when_rendered_then_matches_golden(vocab, context, golden) -> None:
    e = compile_expr(
        "daily.adx >= 25 and daily.plus_di > daily.minus_di and "
        "(time >= '10:00' and vix < 30 or position.side == 'PE') and h1.prev.plus_di > 20",
        vocab,
    )
    trace = e.trace(context)
    golden("expr/trace_render.txt", trace.render() + "\n")
    import json

    golden("expr/trace.json", json.dumps(trace.to_dict(), indent=2, sort_keys=True) + "\n")


@pytest.mark.parametrize(
    ("source", "code", "col", "hint"),
    [
        ("positon.pnl_pct <= -1", "unknown-name", 1, "did you mean 'position.pnl_pct'?"),
        ("vix < 30 and dialy.adx > 25", "unknown-name", 14, "did you mean 'daily.adx'?"),
        ("time > 10", "type-mismatch", 1, ""),
        ("time >= '10:61'", "bad-time", 9, "write times as 'HH:MM' or 'HH:MM:SS'"),
        ("position.side == 'CALL'", "bad-choice", 18, ""),
        ("daily.adx", "type-mismatch", 1, "compare the number, e.g. 'daily.adx > 25'"),
        ("daily.adx and vix > 1", "type-mismatch", 1, "compare the number, e.g. 'daily.adx > 25'"),
        ("position.side < 'CE'", "type-mismatch", 1, ""),
        ("sqrt(vix) > 1", "unknown-function", 1, ""),
        ("abs(vix, 2) > 1", "bad-call", 1, ""),
    ],
)
def test_compile_when_mistake_then_diagnostic_has_code_column_and_hint(
    vocab, source: str, code: str, col: int, hint: str
) -> None:
    with pytest.raises(ExprError) as info:
        compile_expr(source, vocab)
    d = info.value.diagnostics[0]
    assert (d.code, d.col) == (code, col), d.render()
    if hint:
        assert d.hint == hint


def test_compile_when_two_unknown_names_then_reports_both(vocab) -> None:
    with pytest.raises(ExprError) as info:
        compile_expr("vixx > 1 and daily.adxx > 2", vocab)
    assert [(d.code, d.col) for d in info.value.diagnostics] == [
        ("unknown-name", 1),
        ("unknown-name", 14),
    ]


def test_compile_when_origin_given_then_diagnostic_points_into_file(vocab) -> None:
    def locate(line0: int, col0: int) -> tuple[int, int, str]:
        return 14 + line0, 10 + col0, '  when: "positon.pnl_pct <= -1.0"'

    origin = Origin("rules/adx.yaml", "exits[2] 'stop_loss'", locate)
    with pytest.raises(ExprError) as info:
        compile_expr("positon.pnl_pct <= -1.0", vocab, origin=origin)
    assert info.value.diagnostics[0].headline() == (
        "rules/adx.yaml:14:10: error[unknown-name]: exits[2] 'stop_loss': "
        "unknown name 'positon.pnl_pct'"
    )


def test_compile_when_multiline_expression_then_column_on_right_line(vocab) -> None:
    with pytest.raises(ExprError) as info:
        compile_expr("vix < 30 and\n  dialy.adx > 25", vocab)
    d = info.value.diagnostics[0]
    assert (d.line, d.col) == (2, 3)


def test_evaluate_when_number_expected_then_returns_number(vocab, context) -> None:
    e = compile_expr("clamp(vix, 10, 30) + 1", vocab, expect=ValueType.NUMBER)
    assert e.type is ValueType.NUMBER and e.evaluate(context) == 31


def test_missing_when_compared_or_computed_then_stays_missing() -> None:
    m = Missing("x")
    assert (m == m) is m and (m != 1) is m and (1 < m) is m and (m + 1) is m
    assert bool(m) is False  # a missing condition does not hold
    assert repr(m) == "<missing: x>"


def test_evaluate_when_time_of_day_has_seconds_then_exact(vocab, context) -> None:
    context["time"] = time(15, 19, 59)
    assert compile_expr("time >= '15:20'", vocab).evaluate(context) is False
    context["time"] = time(15, 20)
    assert compile_expr("time >= '15:20'", vocab).evaluate(context) is True


CROSS_VOCAB_NAMES = ["m5.ema9", "m5.ema21", "m5.prev.ema9", "m5.prev.ema21"]


@pytest.mark.parametrize(
    ("prev9", "prev21", "now9", "now21", "above", "below"),
    [
        (99, 100, 101, 100, True, False),  # crossed up
        (100, 100, 101, 100, True, False),  # touched, then up: a cross
        (101, 100, 102, 100, False, False),  # stayed above: a level, not an edge
        (101, 100, 99, 100, False, True),  # crossed down
        (99, 100, 100, 100, False, False),  # reached, did not cross
    ],
)
def test_crossing_when_values_move_then_edge_not_level(
    prev9: float, prev21: float, now9: float, now21: float, above: bool, below: bool
) -> None:
    from engine.expr import Vocabulary

    vocab = Vocabulary.of({n: ValueType.NUMBER for n in CROSS_VOCAB_NAMES})
    ctx = {"m5.prev.ema9": prev9, "m5.prev.ema21": prev21, "m5.ema9": now9, "m5.ema21": now21}
    up = compile_expr("crosses_above(m5.ema9, m5.ema21)", vocab)
    down = compile_expr("crosses_below(m5.ema9, m5.ema21)", vocab)
    assert (up.evaluate(ctx), down.evaluate(ctx)) == (above, below)
    assert up.reference(ctx) is above and up.trace(ctx).value is above


def test_crossing_when_previous_bar_missing_then_missing_and_trace_says_why() -> None:
    from engine.expr import Vocabulary

    vocab = Vocabulary.of({n: ValueType.NUMBER for n in CROSS_VOCAB_NAMES})
    ctx = {
        "m5.prev.ema9": Missing("m5.ema9 not ready (9 of 9 bars)"),
        "m5.prev.ema21": 100,
        "m5.ema9": 101,
        "m5.ema21": 100,
    }
    expr = compile_expr("crosses_above(m5.ema9, m5.ema21)", vocab)
    trace = expr.trace(ctx)
    assert is_missing(trace.value) and is_missing(expr.evaluate(ctx))
    ctx["m5.ema9"] = 99  # now below: the crossing is false whatever the previous bar was
    assert expr.evaluate(ctx) is False and expr.trace(ctx).value is False
    assert [c.text for c in trace.root.children] == [
        "m5.prev.ema9 <= m5.prev.ema21",
        "m5.ema9 > m5.ema21",
    ]
    assert "m5.prev.ema9 is missing" in trace.root.children[0].note
