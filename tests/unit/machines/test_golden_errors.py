"""Broken machine files: each gives exactly the expected file:line:col messages.

The files are tests/golden/machines/*.yaml; the expected output lives beside each as
NAME.expected. UPDATE_GOLDEN=1 rewrites them (review the diff before committing).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from machines_testkit import REPO

from engine.errors import SpecError
from engine.machines import load_machine_file

BAD = REPO / "tests" / "golden" / "machines"
FILES = sorted(BAD.glob("*.yaml"))


def test_golden_corpus_when_counted_then_covers_twenty_files() -> None:
    assert len(FILES) >= 20


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_load_when_machine_file_is_broken_then_messages_match_golden(path: Path, golden) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SpecError) as info:
        load_machine_file(path, f"machines/{path.name}")
    rendered = info.value.render() + "\n"
    assert "Traceback" not in rendered
    assert all(d.file == f"machines/{path.name}" for d in info.value.diagnostics)
    golden(f"machines/{path.stem}.expected", rendered)
