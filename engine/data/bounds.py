"""The ranges a bar's values and a store's names must fall in, kept in one place.

The CSV and JSON readers refuse a value outside these ranges with the file, line and
field; the store refuses to write a record it would refuse to read back, and treats a
stored record outside them as damaged. One definition, so what the importer accepts the
store keeps, and what the store writes it can read.

The ranges are sanity bounds, not market facts: NSE has traded since 1994, and no
instrument the engine trades is priced anywhere near a billion rupees.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from engine.errors import UserInputError
from engine.model.market import NANOS, to_ns

__all__ = [
    "EARLIEST_NS",
    "FIRST_YEAR",
    "LAST_YEAR",
    "LATEST_NS",
    "MAX_LINE_CHARS",
    "MAX_PRICE",
    "MAX_SYMBOL_CHARS",
    "MAX_VOLUME",
    "PRICE_LIMIT",
    "VOLUME_LIMIT",
    "SymbolError",
    "check_symbol",
    "shown",
    "symbol_problem",
]

FIRST_YEAR = 1990
LAST_YEAR = 2099
EARLIEST_NS = to_ns(datetime(FIRST_YEAR, 1, 1, tzinfo=UTC))
LATEST_NS = to_ns(datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC))  # exclusive
EARLIEST_S = EARLIEST_NS // NANOS
LATEST_S = LATEST_NS // NANOS
MAX_PRICE = 1e9  # absolute value of open, high, low or close
MAX_VOLUME = 10**15  # absolute value of volume or open interest
PRICE_LIMIT = "1e9"  # how messages write them
VOLUME_LIMIT = "1e15"
MAX_LINE_CHARS = 65_536  # one line of a CSV or store file; real lines are under 200
MAX_SYMBOL_CHARS = 64
MAX_SHOWN_CHARS = 60  # of a user's value quoted in a message

_SYMBOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.&-]*", re.ASCII)


class SymbolError(UserInputError):
    """A symbol that cannot name a store file (``NIFTY\\n``, ``../../etc``, empty, quoted)."""


def symbol_problem(symbol: object) -> str | None:
    """Why ``symbol`` cannot name a store file, or None when it can."""
    if not isinstance(symbol, str) or not symbol:
        return "a symbol is empty"
    if len(symbol) > MAX_SYMBOL_CHARS:
        return f"a symbol is longer than {MAX_SYMBOL_CHARS} characters"
    if not _SYMBOL.fullmatch(symbol):
        return "a symbol is letters, digits and _ . & - only, starting with a letter or digit"
    return None


def check_symbol(symbol: str) -> str:
    """``symbol`` itself when it can name a store file; ``SymbolError`` otherwise."""
    problem = symbol_problem(symbol)
    if problem is not None:
        shown = symbol[:70] if isinstance(symbol, str) else symbol
        raise SymbolError(f"symbol {shown!r} cannot name a store file: {problem}")
    return symbol


def shown(text: str | bytes, limit: int = MAX_SHOWN_CHARS) -> str:
    """A value from a user's file as a message quotes it: escaped (control characters and
    all), and cut to ``limit`` characters, so a 100 MB line makes a one-line message."""
    if isinstance(text, bytes):
        text = text[: limit * 4].decode("utf-8", errors="replace")
    cut = text if len(text) <= limit else text[: limit - 3] + "..."
    return repr(cut)
