"""Reading the dated charges table (``charges.yaml``) into rows, with located errors.

A charges table is money the user will be told they paid, so a malformed one is refused
whole: every problem is collected and reported as ``file:line:col`` with the key that is
wrong (a misspelt key, a rate that is not a number, two rows that overlap, a gap between
rows), through the same marked YAML loader and ``SpecError`` as rule files. Rates are read
from the scalar's text in the file, not from the float YAML made of it, so ``0.03503``
stays exactly 0.03503.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from engine.diagnostics import Diagnostic
from engine.errors import SpecError
from engine.spec._yaml import Path_, SourceMap, load_yaml_file

__all__ = ["COMPONENTS", "GST_BASES", "Brokerage", "Gst", "Rate", "SegmentTable", "load_table"]

#: Proportional components, in the order a breakdown lists them.
RATE_COMPONENTS = ("stt", "exchange", "ipft", "sebi", "stamp")
COMPONENTS = ("brokerage", *RATE_COMPONENTS, "gst")
GST_BASES = ("brokerage", "exchange", "ipft", "sebi")
_SIDES = ("buy", "sell", "both")
_CRORE = Decimal(10_000_000)
_DATES = ("effective_from", "effective_to")
_KEYS = {
    "brokerage": {*_DATES, "per_order", "pct"},
    "gst": {*_DATES, "pct", "applies_to"},
    **{c: {*_DATES, "side", "pct", "per_crore"} for c in RATE_COMPONENTS},
}


@dataclass(frozen=True, slots=True)
class Rate:
    """A proportional charge: ``fraction`` of the turnover of the side(s) that pay it."""

    start: date
    end: date | None
    side: str
    fraction: Decimal


@dataclass(frozen=True, slots=True)
class Brokerage:
    start: date
    end: date | None
    per_order: Decimal
    cap_fraction: Decimal | None  # "or this fraction of the turnover, whichever is lower"


@dataclass(frozen=True, slots=True)
class Gst:
    start: date
    end: date | None
    fraction: Decimal
    on: frozenset[str]


Row = Rate | Brokerage | Gst


@dataclass(frozen=True, slots=True)
class SegmentTable:
    """Every component's rows for one segment, in date order."""

    name: str
    rows: dict[str, tuple[Row, ...]]


class _Reader:
    def __init__(self, source: SourceMap) -> None:
        self.source = source
        self.problems: list[Diagnostic] = []

    def error(
        self,
        path: Path_,
        code: str,
        message: str,
        *,
        hint: str = "",
        key: bool = False,
        where: Path_ | None = None,
    ) -> None:
        """Record a problem at ``path`` (its key's span when ``key``), named by ``where``."""
        where_text = _where(path if where is None else where)
        self.problems.append(
            self.source.diagnostic(path, code, message, where=where_text, hint=hint, on_key=key)
        )

    def mapping(self, value: Any, path: Path_, what: str) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.error(path, "not-a-mapping", f"{what} must be a mapping of names to values")
        return None

    def keys(self, data: dict[str, Any], allowed: set[str] | tuple[str, ...], path: Path_) -> None:
        for key in data:
            if key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                hint = (
                    f"did you mean '{close[0]}'?"
                    if close
                    else f"known: {', '.join(sorted(allowed))}"
                )
                self.error(
                    (*path, key),
                    "unknown-key",
                    f"unknown key '{key}'",
                    hint=hint,
                    key=True,
                    where=path,
                )

    def number(
        self, data: dict[str, Any], key: str, path: Path_, *, maximum: Decimal | None = None
    ) -> Decimal | None:
        """The number under ``key``, read exactly from the file's text."""
        if key not in data:
            self.error(path, "missing-key", f"the row has no '{key}'")
            return None
        value, path = data[key], (*path, key)
        node = self.source.scalars.get(tuple(path))
        text = node.value if node is not None and not isinstance(value, bool) else None
        try:
            d = Decimal(text.strip()) if text is not None else None
        except InvalidOperation:
            d = None
        if d is None or not d.is_finite() or not isinstance(value, int | float | str):
            self.error(path, "bad-rate", f"'{value}' is not a number")
            return None
        if d < 0 or (maximum is not None and d > maximum):
            limit = f" and at most {maximum}" if maximum is not None else ""
            self.error(path, "bad-rate", f"{d} is out of range: it must be 0 or more{limit}")
            return None
        return d

    def day(self, data: dict[str, Any], key: str, path: Path_, *, optional: bool) -> date | None:
        if key not in data:
            empty = " (empty for a row still in force)" if optional else ""
            self.error(path, "missing-key", f"the row has no '{key}'{empty}")
            return None
        value, path = data[key], (*path, key)
        if value is None and optional:
            return None
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        want = "a date (YYYY-MM-DD)" + (" or empty" if optional else "")
        self.error(path, "bad-date", f"'{value}' is not {want}")
        return None


def _where(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_table(path: str | Path) -> dict[str, SegmentTable]:
    """Every segment of the table at ``path``; SpecError listing every problem."""
    try:
        doc = load_yaml_file(path)
    except ValueError:  # PyYAML turns 2024-13-01 into datetime.date() and lets it raise
        raise SpecError(_impossible_dates(Path(path))) from None
    reader = _Reader(doc.source)
    reader.problems.extend(doc.diagnostics)
    root = reader.mapping(doc.data, (), "the charges table")
    segments: dict[str, SegmentTable] = {}
    if root is not None:
        reader.keys(root, ("version", "segments"), ())
        if root.get("version") != 1:
            reader.error(("version",), "bad-version", "version must be 1")
        seg_map = reader.mapping(root.get("segments"), ("segments",), "segments")
        for name, body in (seg_map or {}).items():
            table = _segment(reader, str(name), body, ("segments", name))
            if table is not None:
                segments[table.name] = table
    if reader.problems:
        raise SpecError(reader.problems)
    return segments


_DATE_LIKE = re.compile(r"(?<![\w-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\w-])")


def _impossible_dates(path: Path) -> list[Diagnostic]:
    """Located errors for date-shaped values that are no date (2024-02-30)."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for m in _DATE_LIKE.finditer(line.split("#", 1)[0]):
            try:
                date(*map(int, m.groups()))
            except ValueError as e:
                message = f"'{m.group(0)}' is not a date: {e}"
                out.append(
                    Diagnostic(str(path), n, m.start() + 1, "bad-date", message, source_line=line)
                )
    return out or [
        Diagnostic(str(path), 1, 1, "bad-date", "the file holds a date that is not valid")
    ]


def _segment(reader: _Reader, name: str, body: Any, path: Path_) -> SegmentTable | None:
    data = reader.mapping(body, path, f"segment '{name}'")
    if data is None:
        return None
    reader.keys(data, COMPONENTS, path)
    rows: dict[str, tuple[Row, ...]] = {}
    for component in COMPONENTS:
        if component not in data:
            reader.error(
                path, "missing-key", f"segment '{name}' has no '{component}' rows", key=True
            )
            continue
        items = data[component]
        cpath = (*path, component)
        if not isinstance(items, list) or not items:
            reader.error(cpath, "no-rows", f"'{component}' must be a list of one or more rows")
            continue
        parsed = [_row(reader, component, item, (*cpath, i)) for i, item in enumerate(items)]
        if all(r is not None for r in parsed):
            _check_sequence(reader, component, parsed, cpath)  # type: ignore[arg-type]
            rows[component] = tuple(parsed)  # type: ignore[arg-type]
    return SegmentTable(name, rows)


def _row(reader: _Reader, component: str, item: Any, path: Path_) -> Row | None:
    data = reader.mapping(item, path, f"a '{component}' row")
    if data is None:
        return None
    before = len(reader.problems)
    reader.keys(data, _KEYS[component], path)
    start = reader.day(data, "effective_from", path, optional=False)
    end = reader.day(data, "effective_to", path, optional=True)
    if start is not None and end is not None and end < start:
        reader.error((*path, "effective_to"), "bad-dates", f"effective_to {end} is before {start}")
    row = _build(reader, component, data, path, start or date.min, end)
    if len(reader.problems) > before or start is None:
        return None
    return row


def _build(
    reader: _Reader,
    component: str,
    data: dict[str, Any],
    path: Path_,
    start: date,
    end: date | None,
) -> Row | None:
    hundred = Decimal(100)
    if component == "brokerage":
        per_order = reader.number(data, "per_order", path)
        cap = reader.number(data, "pct", path, maximum=hundred) if "pct" in data else None
        return None if per_order is None else Brokerage(start, end, per_order, _pct(cap))
    if component == "gst":
        pct = reader.number(data, "pct", path, maximum=hundred)
        on = data.get("applies_to")
        if not isinstance(on, list) or not on or any(x not in GST_BASES for x in on):
            reader.error(
                (*path, "applies_to"),
                "bad-gst-base",
                f"'applies_to' must list components from {', '.join(GST_BASES)}; it was {on!r}",
            )
            return None
        return None if pct is None else Gst(start, end, pct / hundred, frozenset(on))
    side = data.get("side")
    if side not in _SIDES:
        reader.error(
            (*path, "side"), "bad-side", f"side '{side}' is not one of {', '.join(_SIDES)}"
        )
    given = [k for k in ("pct", "per_crore") if k in data]
    if len(given) != 1:
        reader.error(path, "bad-rate", "a row needs exactly one of 'pct' or 'per_crore'")
        return None
    key = given[0]
    value = reader.number(data, key, path, maximum=hundred if key == "pct" else None)
    if value is None or side not in _SIDES:
        return None
    fraction = value / hundred if key == "pct" else value / _CRORE
    return Rate(start, end, str(side), fraction)


def _pct(value: Decimal | None) -> Decimal | None:
    return None if value is None else value / Decimal(100)


def _check_sequence(reader: _Reader, component: str, rows: list[Row], path: Path_) -> None:
    for i in range(1, len(rows)):
        prev, row = rows[i - 1], rows[i]
        here = (*path, i, "effective_from")
        if prev.end is None:
            reader.error(
                here, "overlap", f"row {i - 1} of '{component}' has no end, so no row can follow it"
            )
        elif row.start <= prev.end:
            reader.error(
                here, "overlap", f"'{component}' rows overlap: {row.start} is not after {prev.end}"
            )
        elif row.start != prev.end + timedelta(days=1):
            reader.error(
                here,
                "gap",
                f"'{component}' has no rate from {prev.end + timedelta(days=1)} to "
                f"{row.start - timedelta(days=1)}",
                hint="rows must follow each other day after day",
            )
