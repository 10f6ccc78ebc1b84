"""Malformed rule files: each gives the exact expected file:line:col messages.

The expected output lives beside each file as NAME.expected; UPDATE_GOLDEN=1 rewrites them
(review the diff before committing).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli.validate import check_file

BAD = Path(__file__).resolve().parents[1] / "golden" / "rules_bad"
FILES = sorted(BAD.glob("*.yaml"))


def test_golden_corpus_when_counted_then_has_at_least_twenty_files() -> None:
    assert len(FILES) >= 20


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_validate_when_file_malformed_then_output_matches_golden(path: Path, golden) -> None:
    display = f"rules/{path.name}"
    errors, warnings = check_file(path, display)
    assert errors, f"{path.name} must fail validation"
    rendered = "\n".join(d.render() for d in [*errors, *warnings]) + "\n"
    assert "Traceback" not in rendered
    golden(f"rules_bad/{path.stem}.expected", rendered)
