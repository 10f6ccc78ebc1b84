"""Name rules and "did you mean" suggestions shared by the machine file checks."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

__all__ = ["NAME", "near"]

#: States, triggers, parameters and event values: lowercase, digits, '_', a letter first.
NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def near(word: str, pool: Iterable[str]) -> str:
    """A hint naming the closest word of ``pool``, or "" when none is close."""
    match = difflib.get_close_matches(word, sorted(pool), n=1, cutoff=0.6)
    return f"did you mean '{match[0]}'?" if match else ""
