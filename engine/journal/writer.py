"""Writing the journal: JSON Lines, one record per line, deterministic, durable where it matters.

The first line is a header (``kind: journal``) with the schema version; every other line
is one record with a ``kind``, the engine time ``ts`` (epoch ns, UTC) and its fields.
Values are encoded one way only: ``Decimal`` as a string, dates and times as ISO text, a
missing value as ``{"missing": reason}``, enums as their value. There is no wall-clock
time anywhere in a backtest's journal, so the same inputs give a byte-identical file.

The file is opened through ``engine.safe_files`` (never through a link, one writer at a
time, refused when it exists already). Durability follows the mode: a backtest buffers
(no fsync per bar); paper and live call
``write(..., sync=True)`` for order events and intents, which flushes and fsyncs before
the call returns, so an intent is on disk before the broker sees it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from engine.errors import FileAccessError
from engine.expr import Missing
from engine.safe_files import AppendFile, open_folder

__all__ = ["SCHEMA_VERSION", "Journal", "encode_record"]

#: Version of the record layout; readers refuse a journal from a newer engine.
SCHEMA_VERSION = 2  # 2: bar-close evaluations (layout, entry_eval, exit_eval, entries)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if type(value) is Missing:
        return {"missing": value.reason}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot put a {type(value).__name__} in the journal: {value!r}")


_ENCODER = json.JSONEncoder(
    separators=(",", ":"), default=_default, ensure_ascii=False, allow_nan=False
)


def encode_record(record: Mapping[str, Any]) -> str:
    """One record as its journal line (without the newline)."""
    return _ENCODER.encode(record)


class Journal:
    """An append-only journal file (or an in-memory list when ``path`` is None)."""

    def __init__(
        self,
        path: str | Path | None,
        *,
        header: Mapping[str, Any] | None = None,
        buffer_records: int = 4096,
        on_record: Callable[[Mapping[str, Any]], None] | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.records: list[dict[str, Any]] | None = [] if path is None else None
        self._pending: list[str] = []
        self._limit = buffer_records
        self._file: AppendFile | None = None
        self._on_record = on_record
        self.count = 0
        if self.path is not None:
            with open_folder(self.path.parent, create=True) as folder:
                if folder.kind(self.path.name) is not None:
                    raise FileAccessError(
                        f"{self.path} already exists; a run writes a new journal",
                        path=str(self.path),
                    )
                self._file = folder.open_append(self.path.name, exclusive=True)
        self.write({"kind": "journal", "schema": SCHEMA_VERSION, **dict(header or {})}, sync=True)

    def write(self, record: dict[str, Any], *, sync: bool = False) -> None:
        """Append one record; with ``sync`` it is on disk when this returns."""
        line = encode_record(record)  # first: a record that cannot be written is not counted
        self.count += 1
        if self._on_record is not None:
            self._on_record(record)
        if self.records is not None:
            self.records.append(json.loads(line))
            return
        self._pending.append(line)
        if sync or len(self._pending) >= self._limit:
            self._flush(sync)

    def _flush(self, sync: bool) -> None:
        if self._file is None or not self._pending:
            return
        self._file.write(("\n".join(self._pending) + "\n").encode("utf-8"))
        self._pending.clear()
        if sync:
            self._file.sync()

    def flush(self, *, sync: bool = True) -> None:
        self._flush(sync)

    def close(self) -> None:
        if self._file is not None:
            self._flush(True)
            self._file.close()
            self._file = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
