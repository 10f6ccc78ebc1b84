"""Backtests on real data windows, in process: the rule file, the window, the journal (a
uniquely named helper module, imported by the scenario tests)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
MARKET = REPO.parent / "shared" / "data" / "market"
#: The short ADX strategy most scenarios edit one thing of (rules/adx.yaml is the full one).
BASIC = REPO / "examples" / "rules" / "adx_basic.yaml"


@dataclass
class Run:
    engine: Any
    records: list[dict[str, Any]]

    def kinds(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["kind"] == kind]

    @property
    def trades(self) -> list[Any]:
        return [t for t in self.engine.ledger.trades if t.closed]


def rule_copy(tmp_path: Path, edits: dict[str, str], source: Path = BASIC) -> Path:
    """A copy of a rule file with text replaced (each ``old -> new`` must occur once)."""
    text = source.read_text(encoding="utf-8")
    for old, new in edits.items():
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
        text = text.replace(old, new)
    path = tmp_path / source.name
    path.write_text(text, encoding="utf-8")
    return path
