from __future__ import annotations

import pytest

from engine.errors import SpecError
from engine.spec._yaml import load_yaml, load_yaml_file


def test_locator_when_plain_scalar_then_maps_each_character() -> None:
    doc = load_yaml("a:\n  when: vix < 30\n", "f.yaml")
    locate = doc.source.locator(("a", "when"))
    assert locate(0, 0)[:2] == (2, 9)
    assert locate(0, 6)[:2] == (2, 15)


def test_locator_when_double_quoted_then_skips_quote() -> None:
    doc = load_yaml('a: {when: "vix < 30"}\n', "f.yaml")
    assert doc.source.locator(("a", "when"))(0, 0)[:2] == (1, 12)


def test_locator_when_folded_block_then_maps_second_line() -> None:
    doc = load_yaml("when: >\n  vix < 30 and\n  daily.adx > 2\n", "f.yaml")
    # folded: "vix < 30 and daily.adx > 2\n"; offset 13 is 'd' on file line 3
    assert doc.source.locator(("when",))(0, 13)[:2] == (3, 3)


def test_load_when_duplicate_keys_nested_then_each_reported_with_first_line() -> None:
    doc = load_yaml("a:\n  b: 1\n  b: 2\nc: 1\nc: 2\n", "f.yaml")
    assert [(d.line, d.code) for d in doc.diagnostics] == [
        (3, "duplicate-key"),
        (5, "duplicate-key"),
    ]
    assert doc.data == {"a": {"b": 2}, "c": 2}


def test_load_when_not_utf8_then_spec_error_names_line(tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"name: x\nwhen: \xff\n")
    with pytest.raises(SpecError) as info:
        load_yaml_file(path, "bad.yaml")
    assert info.value.diagnostics[0].headline() == (
        "bad.yaml:2:1: error[encoding]: the file is not valid UTF-8 text"
    )


def test_load_when_file_missing_then_spec_error(tmp_path) -> None:
    with pytest.raises(SpecError) as info:
        load_yaml_file(tmp_path / "none.yaml", "none.yaml")
    assert info.value.diagnostics[0].code == "unreadable"


def test_load_when_yaml_tag_unknown_then_spec_error() -> None:
    with pytest.raises(SpecError) as info:
        load_yaml("a: !!python/object:os.system 1\n", "f.yaml")
    d = info.value.diagnostics[-1]
    assert (d.code, d.line, d.col) == ("yaml-tag", 1, 4)
    assert "'!!python/object:os.system' is not allowed" in d.message
