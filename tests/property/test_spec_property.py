"""The rule loader never crashes: random text and random edits of a real rule file give a
loaded spec or a SpecError whose every diagnostic points at a real line."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import SpecError
from engine.spec._yaml import load_yaml
from engine.spec.rules import load_rule_document

ADX = (Path(__file__).resolve().parents[2] / "rules" / "adx.yaml").read_text()
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def load(text: str) -> None:
    lines = text.splitlines() or [""]
    try:
        load_rule_document(load_yaml(text, "rules/fuzz.yaml"))
    except SpecError as e:
        assert e.diagnostics
        for d in e.diagnostics:
            assert d.file == "rules/fuzz.yaml" and d.message
            assert 1 <= d.line <= len(lines) + 1, d.headline()
            assert d.col >= 1


@SETTINGS
@given(
    st.text(alphabet=st.sampled_from(list("ab:-[]{}\"' \n\t#|>&*!%@`,?0123456789")), max_size=200)
)
def test_loader_when_random_yaml_like_text_then_spec_or_spec_error(text: str) -> None:
    load(text)


@SETTINGS
@given(
    position=st.integers(0, len(ADX) - 1),
    cut=st.integers(0, 8),
    insert=st.text(alphabet=st.sampled_from(list("az_.:'\" \n\t-[]{}()<>=0123456789")), max_size=6),
)
def test_loader_when_real_rule_file_edited_then_spec_or_spec_error(
    position: int, cut: int, insert: str
) -> None:
    load(ADX[:position] + insert + ADX[position + cut :])
