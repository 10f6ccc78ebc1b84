"""Hostile numbers and missing values in expressions: refused at load, or missing at run time.

Numbers: a literal or parameter beyond the float range is a located load error; a power of
parameters is bounded like one of literals; at evaluation, overflow, domain errors and huge
integers are missing with the reason on every evaluator, never an exception.
Missing values: one three-valued logic whatever the spelling of a condition.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engine.errors import ExprError, SpecError
from engine.expr import Missing, NameInfo, ValueType, Vocabulary, compile_expr, holds, is_missing
from engine.spec.rules import load_rule_file

REPO = Path(__file__).resolve().parents[2]
N, B, S = ValueType.NUMBER, ValueType.BOOL, ValueType.STRING
VOCAB = Vocabulary.of(
    {
        "vix": N,
        "vix_change_10m": N,
        "m1.volume": N,
        "position.open": B,
        "position.pnl_pct": N,
        "weekday": S,
    }
)


def every_value(source: str, context: dict[str, object], expect: ValueType | None = None) -> list:
    """The value from the fast path, the trace and the reference, in that order."""
    e = compile_expr(source, VOCAB, expect=expect)
    return [e.evaluate(context), e.trace(context).value, e.reference(context)]


def rule_with(tmp_path: Path, params: str, condition: str) -> Path:
    text = (REPO / "rules" / "adx.yaml").read_text()
    text = text.replace("params:\n", f"params:\n{params}", 1)
    text = text.replace(
        '  - {name: vix_ok,       when: "vix < params.vix_max"}',
        f'  - {{name: vix_ok,       when: "{condition}"}}',
    )
    path = tmp_path / "rule.yaml"
    path.write_text(text)
    return path


# -- numbers refused at load ------------------------------------------------------------


@pytest.mark.parametrize("literal", ["1e999", "-1e999", "1" + "0" * 400, "1e308 * 1e999"])
def test_compile_when_literal_beyond_float_range_then_bad_number_at_its_column(
    literal: str,
) -> None:
    source = f"vix < {literal}"
    with pytest.raises(ExprError) as info:
        compile_expr(source, VOCAB)
    d = info.value.diagnostics[0]
    assert d.code == "bad-number"
    assert source[d.col - 1 :].lstrip("-").startswith(("1e999", "1000"))


def test_rule_when_power_of_huge_params_then_refused_at_load_quickly(tmp_path: Path) -> None:
    path = rule_with(tmp_path, "  a: 3999999\n  b: 3999999\n", "params.a ** params.b > vix")
    start = time.perf_counter()
    with pytest.raises(SpecError) as info:
        load_rule_file(path)
    assert time.perf_counter() - start < 2.0  # 31 s, then "ok", before
    d = next(d for d in info.value.diagnostics if d.code == "power-too-large")
    assert "params.a ** params.b" in d.message and d.where == "filters[1] 'vix_ok'"


def test_rule_when_small_power_of_params_then_loads(tmp_path: Path) -> None:
    path = rule_with(tmp_path, "  a: 2\n  b: 3\n", "params.a ** params.b < vix")
    assert load_rule_file(path).filters[1].when.source == "params.a ** params.b < vix"


# -- numbers at run time: missing with the reason, on every evaluator ----------------------


@pytest.mark.parametrize(
    ("source", "context", "reason"),
    [
        ("floor(vix * 1e308 * 10)", {"vix": 14.2}, "'*' gave inf"),
        ("(m1.volume ** 700) ** 2", {"m1.volume": 3}, "power too large (3 ** 700)"),
        ("(m1.volume ** 700) ** 2", {"m1.volume": 3.0}, "power too large (3 ** 700)"),
        ("vix * vix", {"vix": 1e200}, "'*' gave inf"),
        ("vix - vix * 2", {"vix": float("inf")}, "'*' gave inf"),
        ("vix + 0.5", {"vix": 10**400}, "'+'"),
        ("round(vix, 2)", {"vix": float("nan")}, "round()"),
        ("ceil(vix)", {"vix": float("inf")}, "ceil()"),
        ("pct_change(vix, 1e-300)", {"vix": 1e300}, "pct_change()"),
        ("vix / 1e-300", {"vix": 1e300}, "'/' gave inf"),
        ("vix // 1e-300", {"vix": 1e300}, "'//' gave inf"),
        ("vix % 0", {"vix": 1.0}, "modulo by zero"),
    ],
)
def test_evaluate_when_arithmetic_overflows_then_missing_with_reason_everywhere(
    source: str, context: dict[str, object], reason: str
) -> None:
    for value in every_value(source, context, ValueType.NUMBER):
        assert is_missing(value) and reason in value.reason, (source, value)


def test_evaluate_when_overflow_inside_a_condition_then_condition_missing_not_true() -> None:
    for value in every_value("vix * 1e308 * 10 > 5", {"vix": 14.2}):
        assert is_missing(value)


def test_evaluate_when_huge_integer_in_context_then_missing_not_overflow_error() -> None:
    for value in every_value("m1.volume * 1.5 > 10", {"m1.volume": 10**400}):
        assert is_missing(value)


# -- missing values: one logic whatever the spelling ---------------------------------------


@pytest.mark.parametrize(
    "guard",
    [
        "not position.open",
        "position.open == False",
        "position.open != True",
        "position.open",
        "not (not position.open)",
        "position.open or False",
        "True and not position.open",
        "(vix > 1) if position.open else (vix < 1)",
    ],
)
def test_guard_when_value_missing_then_no_spelling_holds(guard: str) -> None:
    context = {"position.open": Missing("no position yet"), "vix": 10.0}
    for value in every_value(guard, context):
        assert is_missing(value) and not holds(value), guard


def test_stop_loss_when_vix_missing_then_still_fires_on_the_loss() -> None:
    guard = "position.pnl_pct <= -30 or vix_change_10m >= 5"
    context = {"position.pnl_pct": -35.0, "vix_change_10m": Missing("no VIX for 10 minutes")}
    assert every_value(guard, context) == [True, True, True]
    context["position.pnl_pct"] = -10.0
    assert all(is_missing(v) for v in every_value(guard, context))
    context["vix_change_10m"] = 1.0
    assert every_value(guard, context) == [False, False, False]


def test_and_when_a_false_clause_follows_a_missing_one_then_false() -> None:
    context = {"vix": Missing("no VIX"), "position.pnl_pct": 3.0}
    assert every_value("vix < 30 and position.pnl_pct < 0", context) == [False, False, False]


def test_literal_beyond_range_when_fast_path_used_to_fail_then_refused_not_name_error() -> None:
    """`vix < 1e999` raised NameError: name 'inf' on the fast path while simpleeval said True."""
    with pytest.raises(ExprError, match="beyond the range of numbers"):
        compile_expr("vix < 1e999", VOCAB)


# -- terminal escapes in messages -----------------------------------------------------------


def test_error_when_expression_has_terminal_escape_then_message_escaped() -> None:
    source = "weekday == '\x1b[2J\x1b[H' and vix < 30"
    vocab = Vocabulary.of({"vix": N, "weekday": NameInfo(S, "", ("Mon", "Tue"))})
    with pytest.raises(ExprError) as info:
        compile_expr(source, vocab)
    text = info.value.render() + str(info.value)
    assert "\x1b" not in text and "\\x1b[2J\\x1b[H" in text
