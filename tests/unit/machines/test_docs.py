"""docs/machines.md covers what the code has: every action, tag and check code."""

from __future__ import annotations

import json
import re

from machines_testkit import REPO

import engine.machines as machines
from engine.machines.actions import ACTIONS

DOC = (REPO / "docs" / "machines.md").read_text(encoding="utf-8")
SCHEMA = json.loads((REPO / "schema" / "machine.schema.json").read_text(encoding="utf-8"))
CODE_FILES = ["_semantic.py", "_transition.py", "checks.py", "safety.py"]


def test_docs_when_read_then_every_action_is_described() -> None:
    for name in ACTIONS:
        assert f"`{name}`" in DOC, name


def test_docs_when_read_then_every_tag_is_described() -> None:
    tags = SCHEMA["$defs"]["state"]["properties"]["tags"]["items"]["enum"]
    for tag in tags:
        assert f"| `{tag}` |" in DOC, tag


def test_docs_when_read_then_every_check_and_safety_code_is_listed() -> None:
    source = "".join(
        (REPO / "engine" / "machines" / f).read_text(encoding="utf-8") for f in CODE_FILES
    )
    emitted = set(re.findall(r'"((?:[a-z]+-)+[a-z]+)"', source)) - {"entries-allowed"}
    listed = set(re.findall(r"`((?:[a-z]+-)+[a-z]+)`", DOC))
    missing = emitted - listed
    assert not missing, f"codes emitted but not documented: {sorted(missing)}"


def test_public_api_when_listed_then_all_is_sorted_and_importable() -> None:
    def isort_key(name: str) -> tuple[int, str]:  # CONSTANTS, then Classes, then functions
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert machines.__all__ == sorted(machines.__all__, key=isort_key)
    for name in machines.__all__:
        assert getattr(machines, name) is not None
