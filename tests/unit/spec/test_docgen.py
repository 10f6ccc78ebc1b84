"""docs/rules.md's generated parts equal a fresh rendering (run the generator to fix)."""

from __future__ import annotations

from pathlib import Path

from engine.spec.docgen import ERROR_CODES, SECTIONS, regenerate

DOC = Path(__file__).resolve().parents[3] / "docs" / "rules.md"


def test_rules_doc_when_regenerated_then_unchanged() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert regenerate(text) == text, "run: python -m engine.spec.docgen"


def test_rules_doc_when_read_then_has_every_generated_section() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name in SECTIONS:
        assert f"<!-- BEGIN GENERATED: {name} -->" in text


def test_error_code_examples_when_rendered_then_each_shows_its_own_code() -> None:
    from engine.spec.docgen import _example_output

    for code, (_, example) in ERROR_CODES.items():
        assert f"[{code}]: " in _example_output(example), code
