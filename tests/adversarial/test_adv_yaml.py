"""Hostile and careless YAML in rule and machine files: each is a located error, at once.

Every input here once cost tens of seconds and gigabytes, or ended in a RecursionError,
ValueError or AttributeError, or pointed at the wrong line.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engine.errors import SpecError
from engine.machines import load_machine_file
from engine.spec._yaml import MAX_YAML_BYTES, MAX_YAML_DEPTH, load_yaml, load_yaml_file
from engine.spec.rules import load_rule_file

REPO = Path(__file__).resolve().parents[2]

#: The ten-line alias bomb: depth 7 expanded to 9**7 strings (20 s and 1.8 GB before).
ALIAS_BOMB = "\n".join(
    [
        "name: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]",
        *(f"l{i}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]" for i in range(7)),
        "underlyings: [NIFTY]",
        "exits: *h",
    ]
)


def problems(text: str) -> list[tuple[str, int, int]]:
    with pytest.raises(SpecError) as info:
        load_yaml(text, "f.yaml")
    return [(d.code, d.line, d.col) for d in info.value.diagnostics]


def test_yaml_when_alias_bomb_then_refused_at_the_first_anchor_in_well_under_a_second() -> None:
    start = time.perf_counter()
    found = problems(ALIAS_BOMB)
    assert time.perf_counter() - start < 0.5
    assert found[0] == ("yaml-anchor", 1, 7)
    assert ("yaml-alias", 2, 9) in found


def test_rule_file_when_alias_bomb_then_spec_error_not_memory(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB)
    with pytest.raises(SpecError, match="anchor '&a' is not allowed"):
        load_rule_file(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: &x 1\nb: *x\n", [("yaml-anchor", 1, 4), ("yaml-alias", 2, 4)]),
        ("a: &x [*x]\n", [("yaml-anchor", 1, 4), ("yaml-alias", 1, 8)]),  # recursive
        ("a: &x {b: *x}\n", [("yaml-anchor", 1, 4), ("yaml-alias", 1, 11)]),
        ("base: &b {x: 1}\nother:\n  <<: *b\n", [("yaml-anchor", 1, 7), ("yaml-alias", 3, 7)]),
    ],
)
def test_yaml_when_anchor_or_alias_then_located_error(
    text: str, expected: list[tuple[str, int, int]]
) -> None:
    assert problems(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 5000 + "]" * 5000 + "\n",
        "".join("  " * i + f"k{i}:\n" for i in range(600)) + "  " * 600 + "v\n",
        "a: " + "{b: " * 200 + "1" + "}" * 200 + "\n",
    ],
    ids=["brackets", "indented-maps", "flow-maps"],
)
def test_yaml_when_nested_too_deep_then_too_deep_not_recursion_error(text: str) -> None:
    found = problems(text)
    assert [code for code, _, _ in found] == ["too-deep"]


def test_yaml_when_nested_to_the_limit_then_loads() -> None:
    inner = MAX_YAML_DEPTH - 1  # the top mapping is the first level
    text = "a: " + "[" * inner + "]" * inner + "\n"
    assert load_yaml(text, "f.yaml").data["a"] is not None


@pytest.mark.parametrize(
    ("text", "code", "words"),
    [
        ("a: 1\nb: !!float abc\n", "bad-value", "'abc' is not a valid float"),
        ("a: !!int abc\n", "bad-value", "'abc' is not a valid int"),
        ("a: !!timestamp xyz\n", "bad-value", "'xyz' is not a valid timestamp"),
        ("a: 2024-13-45\n", "bad-value", "month must be in 1..12"),
        ("a: " + "9" * 5000 + "\n", "bad-value", "thousands of digits"),
        ("a: 1" + "0" * 400 + "\n", "bad-number", "not a finite number"),
        ("a: .inf\n", "bad-number", "'.inf' is not a finite number"),
        ("a: -.inf\n", "bad-number", "'-.inf' is not a finite number"),
        ("a: .nan\n", "bad-number", "'.nan' is not a finite number"),
        ("a: 1.0e+999\n", "bad-number", "'1.0e+999' is not a finite number"),
        ("a: !!binary aGk=\n", "yaml-tag", "tag '!!binary' is not allowed"),
        ("a: !!python/object:os.system ls\n", "yaml-tag", "is not allowed"),
        ("a: !custom 1\n", "yaml-tag", "tag '!custom' is not allowed"),
        ("a: !!set {x, y}\n", "yaml-tag", "tag '!!set' is not allowed"),
    ],
)
def test_yaml_when_value_cannot_be_read_then_located_error(
    text: str, code: str, words: str
) -> None:
    with pytest.raises(SpecError) as info:
        load_yaml(text, "f.yaml")
    d = info.value.diagnostics[-1]
    assert d.code == code and words in d.message
    assert (d.line, d.col) == (text.count("\n"), 4)  # at the value, on the last line


@pytest.mark.parametrize(
    ("text", "line", "col"),
    [
        ('a: 1\nb: 2\nc: "x\x1b[2Jy"\n', 3, 6),
        ("a: 1\nb: 2\n\nc: x\x07y\n", 4, 5),
        ("# comment\nname: x\x00\n", 2, 8),
    ],
)
def test_yaml_when_control_character_then_error_points_at_its_real_line(
    text: str, line: int, col: int
) -> None:
    with pytest.raises(SpecError) as info:
        load_yaml(text, "f.yaml")
    d = info.value.diagnostics[0]
    assert (d.code, d.line, d.col) == ("yaml-syntax", line, col)
    rendered = info.value.render()
    assert "\x1b" not in rendered and "\x07" not in rendered and "\x00" not in rendered
    assert "is not allowed in YAML" in rendered


def test_yaml_file_when_too_large_then_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text("a: 1\n" + "#" * MAX_YAML_BYTES + "\n")
    with pytest.raises(SpecError, match="rule and machine files are at most"):
        load_yaml_file(path)


def test_machine_file_when_param_not_finite_then_located_error(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "machine: demo\ninitial: a\nparams: {limit: .inf}\nstates: {a: {}, b: {}}\n"
        "transitions:\n  - {name: go, trigger: tick, source: a, dest: b, "
        "when: 'vix > params.limit'}\n"
    )
    with pytest.raises(SpecError) as info:
        load_machine_file(path)
    d = info.value.diagnostics[0]
    assert (d.code, d.line, d.col) == ("bad-number", 3, 17)


def test_rule_file_when_param_nan_or_huge_then_located_errors(tmp_path: Path) -> None:
    text = (REPO / "rules" / "adx.yaml").read_text()
    text = text.replace("adx_min: 25 ", "adx_min: .nan").replace(
        "vix_max: 30 ", "vix_max: 1" + "0" * 320
    )
    path = tmp_path / "r.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        load_rule_file(path)
    lines = text.splitlines()
    found = {(d.code, lines[d.line - 1].split(":")[0].strip()) for d in info.value.diagnostics}
    assert found == {("bad-number", "adx_min"), ("bad-number", "vix_max")}
