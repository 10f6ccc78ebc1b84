"""Sandbox escape attempts: every one is rejected at load time with a message.

The corpus follows the known escapes from Python expression sandboxes (attribute walks to
__class__/__globals__/__subclasses__, __import__, getattr, format-string tricks, huge
powers and strings, deep nesting) as simpleeval's own security tests collect them.
"""

from __future__ import annotations

import pytest

from engine.errors import ExprError
from engine.expr import compile_expr

ESCAPES: list[tuple[str, str]] = [
    # attribute walks
    ("().__class__.__bases__[0].__subclasses__()", "not-allowed"),
    ("daily.__class__", "forbidden-name"),
    ("daily.adx.__class__.__mro__", "forbidden-name"),
    ("vix.__class__.__base__.__subclasses__()", "not-allowed"),
    ("(1).__class__", "forbidden-name"),
    ("'abc'.__class__.__mro__[1]", "not-allowed"),
    ("abs.__self__", "forbidden-name"),
    ("min.__globals__", "forbidden-name"),
    ("__builtins__", "forbidden-name"),
    ("__import__('os').system('id')", "not-allowed"),
    ("_private > 1", "forbidden-name"),
    ("daily._adx > 1", "forbidden-name"),
    # calls outside the whitelist
    ("getattr(daily, '__class__')", "unknown-function"),
    ("eval('1+1') == 2", "unknown-function"),
    ("exec('import os')", "unknown-function"),
    ("open('/etc/passwd')", "unknown-function"),
    ("globals()", "unknown-function"),
    ("type(vix) == 1", "unknown-function"),
    ("vix.real > 1", "unknown-name"),
    ("'{0.__class__}'.format(vix)", "not-allowed"),
    ("'%s' % vix == 'x'", "type-mismatch"),
    ("f'{vix.__class__}' == ''", "not-allowed"),
    ("(lambda: 1)() == 1", "not-allowed"),
    ("[c for c in ().__class__.__bases__] == 1", "not-allowed"),
    ("{x: 1 for x in 'ab'} == 1", "not-allowed"),
    ("(x := 5) > 1", "not-allowed"),
    ("max(*[1, 2]) > 1", "not-allowed"),
    ("min(vix, key=abs) > 1", "not-allowed"),
    ("daily['adx'] > 1", "not-allowed"),
    ("vix if True else __import__('os')", "unknown-function"),
    # resource exhaustion
    ("9 ** 9 ** 9 > 1", "power-too-large"),
    ("10 ** 1000000 > 1", "power-too-large"),
    ("2 ** 64 ** 2 > 1", "power-too-large"),
    ("'a' * 10 ** 9 == 'b'", "type-mismatch"),
    ("'" + "a" * 5000 + "' == 'b'", "too-long"),
    ("'" + "a" * 300 + "' == 'b'", "string-too-long"),
    ("(" * 100 + "vix" + ")" * 100 + " > 1", "too-deep"),
    ("-" * 3000 + "vix > 1", "too-complex"),
    ("not " * 900 + "vix > 1", "too-deep"),
    (" + ".join(["vix"] * 500) + " > 1", "too-deep"),
    ("vix > 1 " + "and vix > 1 " * 300, "too-complex"),
    # statements, bytes, other syntax
    ("import os", "syntax"),
    ("vix = 1", "syntax"),
    ("b'abc' == b'abc'", "not-allowed"),
    ("vix > 1 # comment", "syntax"),
    ("vix in (1, 2)", "not-allowed"),
    ("vix is None", "not-allowed"),
    ("~vix > 1", "not-allowed"),
    ("vix << 2 > 1", "not-allowed"),
    ("None == vix", "not-allowed"),
    ("vix > 1)(", "syntax"),
]


def test_escape_table_when_counted_then_has_at_least_thirty_cases() -> None:
    assert len(ESCAPES) >= 30


@pytest.mark.parametrize(("source", "code"), ESCAPES, ids=[s[:40] for s, _ in ESCAPES])
def test_compile_when_escape_attempted_then_rejected_at_load_with_message(
    vocab, source: str, code: str
) -> None:
    with pytest.raises(ExprError) as info:
        compile_expr(source, vocab)
    diagnostics = info.value.diagnostics
    assert diagnostics, "an error must carry at least one diagnostic"
    assert code in {d.code for d in diagnostics}, [d.headline() for d in diagnostics]
    for d in diagnostics:
        assert d.message and d.line >= 1 and d.col >= 1
        assert "Traceback" not in d.render()


def test_compiled_code_when_inspected_then_has_no_builtins(vocab) -> None:
    expr = compile_expr("vix > 1", vocab)
    assert expr.evaluate.__globals__["__builtins__"] == {}
    assert "__" not in expr.python.replace("__builtins__", "")
