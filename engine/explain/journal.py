"""Reading a run's journal for explain: locate it, check its schema, index its records.

``--journal`` may name a run folder or a journal file; without it the most recent run
under ``runs/`` is read. A journal from another schema, a line that is not a JSON record
or a record without ``kind`` is refused with the file and line, never a traceback.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import UserInputError

__all__ = ["EXPLAINABLE_SCHEMA", "ExplainError", "RunJournal", "find_journal", "read_journal"]

#: The journal schema explain reads (bar-close evaluations arrived with schema 2).
EXPLAINABLE_SCHEMA = 2


class ExplainError(UserInputError):
    """Explain cannot answer: a missing or unreadable journal, an unknown id, a bad time."""


@dataclass
class RunJournal:
    """One run's records, indexed the ways the answers look them up."""

    path: Path
    header: dict[str, Any]
    records: list[dict[str, Any]]
    by_kind: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    layouts: dict[int, dict[str, Any]] = field(default_factory=dict)
    trade_ids: list[str] = field(default_factory=list)
    by_key: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # order events

    def kind(self, kind: str) -> list[dict[str, Any]]:
        return self.by_kind.get(kind, [])

    @property
    def bar_records(self) -> bool:
        return bool(self.layouts)


def find_journal(given: str | None, runs: Path = Path("runs")) -> Path:
    """The journal file for ``--journal`` (a folder or file), or the latest run's."""
    if given is not None:
        path = Path(given)
        if path.is_dir():
            path = path / "journal.jsonl"
        if not path.is_file():
            raise ExplainError(f"--journal {given}: no journal there (no such file {path})")
        return path
    found = sorted(
        (p for p in runs.glob("*/journal.jsonl") if p.is_file()),
        key=lambda p: (p.stat().st_mtime_ns, str(p)),
    )
    if not found:
        raise ExplainError(
            f"no run found under {runs}/; run 'engine backtest' first or give --journal PATH"
        )
    return found[-1]


def read_journal(path: Path) -> RunJournal:
    """Read and index a journal; ExplainError names the file and line of any problem."""
    records: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as e:
                raise ExplainError(f"{path}:{number}: not a journal record ({e.msg})") from None
            if not isinstance(record, dict) or not isinstance(record.get("kind"), str):
                raise ExplainError(f"{path}:{number}: not a journal record (no 'kind')")
            records.append(record)
    if not records or records[0]["kind"] != "journal":
        raise ExplainError(f"{path}:1: not a journal (no header line)")
    header = records[0]
    schema = header.get("schema")
    if schema != EXPLAINABLE_SCHEMA:
        raise ExplainError(
            f"{path}: journal schema {schema!r} is not one explain reads (it reads schema "
            f"{EXPLAINABLE_SCHEMA}); run the backtest again with this engine"
        )
    run = RunJournal(path, header, records[1:])
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for number, r in enumerate(run.records, start=2):
        if "ts" not in r or not isinstance(r["ts"], int):
            raise ExplainError(f"{path}:{number}: a '{r['kind']}' record without its time")
        by_kind[r["kind"]].append(r)
    run.by_kind = dict(by_kind)
    by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in run.records:
        key = r.get("key")
        if isinstance(key, str) and (r["kind"] == "intent" or r["kind"].startswith("order_")):
            by_key[key].append(r)
    run.by_key = dict(by_key)
    run.layouts = {r["t"]: r for r in run.kind("layout")}
    _expand_entry_evals(run)
    run.trade_ids = [
        r["trade_id"] for r in run.kind("entry_decision") if r.get("outcome") == "sent"
    ]
    return run


def _expand_entry_evals(run: RunJournal) -> None:
    """Carry the changed values of each ``entry_eval`` forward: ``v`` becomes the values
    its evaluation read (filters up to the failing one, then the triggers' names)."""
    state: dict[int, list[Any]] = {}
    for r in run.kind("entry_eval"):
        layout = run.layouts.get(r.get("t"))  # type: ignore[arg-type]
        changes = r.get("c")
        if layout is None or not isinstance(changes, list) or len(changes) % 2:
            raise ExplainError(f"{run.path}: an entry_eval record at ts {r['ts']} is malformed")
        names = layout["entry_names"]
        values = state.setdefault(r["t"], [None] * len(names))
        for i in range(0, len(changes), 2):
            values[changes[i]] = changes[i + 1]
        at = dict(zip(names, values, strict=True))
        fail = r.get("fail", -1)
        used = layout["filters"] if fail < 0 else layout["filters"][: fail + 1]
        read = [n for _, reads in used for n in reads] + layout["trigger_names"]
        r["v"] = [at[n] for n in read]
