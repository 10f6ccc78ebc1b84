"""Remembering that a file passed every check, so an unchanged file is not checked again.

The schema, the lints and the machines' safety properties are the slow part of loading
(a third of a second for a strategy and its machines). ``engine.cache`` keeps, for the
exact bytes of a file and of the files it depends on (and this engine's code), the
warnings a full check produced; a loader that finds an entry builds the spec and skips
those checks. A file with errors is never remembered, so its errors always show.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

from engine.cache import cache_key, read_entry, write_entry
from engine.diagnostics import Diagnostic

__all__ = ["checked_before", "remember_checked"]

_KIND = "checked"


def _key(kind: str, parts: Sequence[bytes]) -> str:
    return cache_key(f"{_KIND}-{kind}", parts)


def checked_before(kind: str, parts: Sequence[bytes]) -> list[Diagnostic] | None:
    """The warnings of an earlier full check of exactly these bytes, or None."""
    raw = read_entry(_KIND, _key(kind, parts))
    if raw is None:
        return None
    try:
        return [Diagnostic(**item) for item in json.loads(raw)]
    except (ValueError, TypeError):
        return None  # unreadable: check again (and the entry is rewritten)


def remember_checked(kind: str, parts: Sequence[bytes], warnings: Sequence[Diagnostic]) -> None:
    data = json.dumps([dataclasses.asdict(d) for d in warnings]).encode()
    write_entry(_KIND, _key(kind, parts), data)
