"""Fuzzers for the rule and machine loaders, fed the hostile input of the corpus.

Random documents built from YAML's dangerous parts (anchors, aliases, merge keys, tags,
deep nesting, huge and non-finite numbers, control characters, hostile expressions) are
loaded as rule and machine files. Each must load or raise ``SpecError`` whose every
diagnostic is located in the file and printable; nothing else, and quickly. The example
counts are bounded so the whole file runs in seconds, in every test run and in CI.
"""

from __future__ import annotations

import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import SpecError
from engine.machines import load_machine_file
from engine.spec._yaml import load_yaml
from engine.spec.rules import load_rule_document

REPO = Path(__file__).resolve().parents[2]
ADX = (REPO / "rules" / "adx.yaml").read_text()
SESSION = (REPO / "machines" / "session.yaml").read_text()
BOUNDED = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Pieces a hostile or careless file is made of.
SCALARS = st.sampled_from(
    [
        "1",
        "-0.5",
        ".inf",
        "-.inf",
        ".nan",
        "1.0e+999",
        "9" * 400,
        "9" * 5000,
        "!!float abc",
        "!!int x",
        "!!binary aGk=",
        "!!python/object:os.system ls",
        "!custom 1",
        "2024-13-45",
        "'\x1b[2J'",
        '"\\e[2J\\e[H"',
        "x\x07y",
        "*a",
        "&a 1",
        "&a [*a]",
        "'vix < 1e999'",
        "'params.a ** params.b > vix'",
        "'not position.open'",
        "'weekday == \"\\x1b[2J\"'",
        "'" + "(" * 60 + "vix" + ")" * 60 + " > 1'",
        "''",
        "~",
    ]
)


def nested(depth: int, leaf: str) -> str:
    return "[" * depth + leaf + "]" * depth


values = st.one_of(
    SCALARS,
    st.tuples(st.integers(1, 120), SCALARS).map(lambda t: nested(*t)),
    st.lists(SCALARS, min_size=1, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
    st.tuples(SCALARS, SCALARS).map(lambda t: "{k: " + t[0] + ", <<: " + t[1] + "}"),
)
keys = st.sampled_from(
    ["name", "params", "exits", "when", "states", "transitions", "a", "<<", "&k key", "x\x1by"]
)
documents = st.lists(st.tuples(keys, values), min_size=1, max_size=8).map(
    lambda items: "\n".join(f"{k}: {v}" for k, v in items) + "\n"
)


def splice(base: str) -> st.SearchStrategy[str]:
    """The real file with one hostile value put in at a line."""
    lines = base.splitlines()
    return st.tuples(st.integers(0, len(lines) - 1), values).map(
        lambda t: (
            "\n".join([*lines[: t[0]], _replace_value(lines[t[0]], t[1]), *lines[t[0] + 1 :]])
            + "\n"
        )
    )


def _replace_value(line: str, value: str) -> str:
    head, sep, _ = line.partition(": ")
    return f"{head}: {value}" if sep and not line.lstrip().startswith("#") else line


def check(error: SpecError, file: str, text: str) -> None:
    lines = len(text.splitlines()) + 1
    assert error.diagnostics
    for d in error.diagnostics:
        assert d.message and d.col >= 1
        if d.file == file:
            assert 1 <= d.line <= lines, d.headline()
        rendered = d.render()
        assert all(c.isprintable() for c in rendered.replace("\n", "")), repr(rendered)


def load_rule(text: str) -> None:
    start = time.perf_counter()
    try:
        load_rule_document(load_yaml(text, "rules/fuzz.yaml"))
    except SpecError as e:
        check(e, "rules/fuzz.yaml", text)
    assert time.perf_counter() - start < 5.0  # bombs are refused, not expanded


@BOUNDED
@given(documents)
def test_rule_loader_when_hostile_document_then_spec_or_located_spec_error(text: str) -> None:
    load_rule(text)


@BOUNDED
@given(splice(ADX))
def test_rule_loader_when_real_file_gets_a_hostile_value_then_spec_or_spec_error(
    text: str,
) -> None:
    load_rule(text)


@BOUNDED
@given(st.one_of(documents, splice(SESSION)))
def test_machine_loader_when_hostile_input_then_spec_or_located_spec_error(
    tmp_path_factory, text: str
) -> None:
    path = tmp_path_factory.mktemp("m") / "session.yaml"
    path.write_text(text, encoding="utf-8")
    start = time.perf_counter()
    try:
        load_machine_file(path, "machines/session.yaml")
    except SpecError as e:
        check(e, "machines/session.yaml", text)
    assert time.perf_counter() - start < 5.0
