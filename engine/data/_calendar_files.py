"""Reading a calendar folder: five small CSV files a user can edit after an NSE circular.

Every value is checked here, once, and a mistake is reported as a ``DataError`` naming
the file, the line and the field, so the calendar itself can trust what it is given.

``coverage.csv``          first_date,last_date,source         the dates the lists are complete for
``holidays.csv``          date,name,segments,source           weekdays without a normal session
``special_sessions.csv``  date,kind,open,close,segments,source one row per trading part
``regular_hours.csv``     segment,open,close,effective_from,effective_to,source
``contract_facts.csv``    underlying,field,value,effective_from,effective_to,source

Rows whose first cell starts with ``#`` are comments. Extra columns are ignored.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal, InvalidOperation
from pathlib import Path

from engine.errors import DataError
from engine.timeutil import parse_clock_time

__all__ = [
    "FILE_NAMES",
    "MARKET_SEGMENTS",
    "WEEKDAYS",
    "CalendarFiles",
    "Fact",
    "Holiday",
    "HoursRule",
    "SpecialPart",
    "load_calendar_files",
]

MARKET_SEGMENTS = ("FO", "CM")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
FILE_NAMES = (
    "coverage.csv",
    "holidays.csv",
    "special_sessions.csv",
    "regular_hours.csv",
    "contract_facts.csv",
)


@dataclass(frozen=True, slots=True)
class Holiday:
    date: date
    name: str
    segments: frozenset[str]
    source: str


@dataclass(frozen=True, slots=True)
class SpecialPart:
    """One row of special_sessions.csv. Kinds starting with ``preopen`` are order-entry
    windows kept for reference; every other kind is a trading part."""

    date: date
    kind: str
    open: time | None
    close: time | None
    segments: tuple[str, ...]
    source: str
    line: int

    @property
    def trading(self) -> bool:
        return not self.kind.startswith("preopen")


@dataclass(frozen=True, slots=True)
class HoursRule:
    segment: str
    open: time
    close: time
    start: date | None  # None: in force before anything the files know
    end: date | None  # None: still in force
    source: str

    def covers(self, d: date) -> bool:
        return (self.start is None or self.start <= d) and (self.end is None or d <= self.end)


@dataclass(frozen=True, slots=True)
class Fact:
    """One row of contract_facts.csv; an empty ``value`` means "not known"."""

    underlying: str
    field: str
    value: str
    start: date | None
    end: date | None
    source: str
    line: int

    def covers(self, d: date) -> bool:
        return (self.start is None or self.start <= d) and (self.end is None or d <= self.end)


@dataclass(frozen=True, slots=True)
class CalendarFiles:
    directory: Path
    first_date: date
    last_date: date
    holidays: dict[date, Holiday]
    specials: tuple[SpecialPart, ...]
    hours: tuple[HoursRule, ...]
    facts: tuple[Fact, ...]


def _check_int(v: str) -> None:
    if not v.isdigit() or int(v) <= 0:
        raise ValueError(f"'{v}' is not a positive whole number")


def _check_decimal(v: str) -> None:
    try:
        if Decimal(v) <= 0:
            raise ValueError
    except (InvalidOperation, ValueError):
        raise ValueError(f"'{v}' is not a positive number") from None


def _check_weekday(v: str) -> None:
    if v not in WEEKDAYS:
        raise ValueError(f"'{v}' is not a weekday; expected one of {', '.join(WEEKDAYS)}")


def _check_monthly_rule(v: str) -> None:
    word, _, day = v.partition(" ")
    if word != "last" or day not in WEEKDAYS:
        raise ValueError(f"'{v}' is not a monthly rule; expected 'last <Weekday>'")


def _check_bool(v: str) -> None:
    if v not in ("true", "false"):
        raise ValueError(f"'{v}' is not 'true' or 'false'")


def _check_holiday_rule(v: str) -> None:
    if v != "previous trading day":
        raise ValueError(f"'{v}' is not a rule the engine knows; expected 'previous trading day'")


# The fields the engine reads. Their values are checked on load, and two rows of one field
# and underlying must not overlap in dates. Other fields are kept for reference.
FACT_CHECKS: dict[str, Callable[[str], None]] = {
    "lot_size": _check_int,
    "freeze_qty": _check_int,
    "strike_interval": _check_int,
    "strike_interval_long_dated": _check_int,
    "tick_size_options": _check_decimal,
    "weekly_expiry_weekday": _check_weekday,
    "weekly_expiry_available": _check_bool,
    "monthly_expiry_rule": _check_monthly_rule,
    "expiry_holiday_rule": _check_holiday_rule,
}


def load_calendar_files(directory: Path) -> CalendarFiles:
    """Read and check every file of a calendar folder."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(
            f"calendar folder {directory} does not exist; it must hold {', '.join(FILE_NAMES)}"
        )
    first, last = _load_coverage(directory / "coverage.csv")
    holidays = _load_holidays(directory / "holidays.csv", first, last)
    specials = _load_specials(directory / "special_sessions.csv", first, last)
    hours = _load_hours(directory / "regular_hours.csv")
    facts = _load_facts(directory / "contract_facts.csv")
    return CalendarFiles(directory, first, last, holidays, specials, hours, facts)


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    if not path.is_file():
        raise DataError(f"calendar file is missing (columns: {','.join(columns)})", file=str(path))
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        try:
            yield from _checked_rows(reader, path, columns)
        except (UnicodeDecodeError, csv.Error) as e:
            raise DataError(
                f"not a readable UTF-8 CSV file ({e})", file=str(path), line=reader.line_num or None
            ) from None


def _checked_rows(
    reader: csv.DictReader[str], path: Path, columns: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, str]]]:
    header = reader.fieldnames or []
    missing = [c for c in columns if c not in header]
    if missing:
        raise DataError(
            f"header lacks column(s) {', '.join(missing)}; expected {','.join(columns)}",
            file=str(path),
            line=1,
        )
    for row in reader:
        line = reader.line_num  # last physical line of the row: exact for one-line rows
        if (row.get(header[0]) or "").lstrip().startswith("#"):
            continue  # a comment row
        if None in row or any(v is None for v in row.values()):
            raise DataError(
                "row has a different number of cells than the header", file=str(path), line=line
            )
        yield line, {k: v.strip() for k, v in row.items()}


def _opt_date(text: str, column: str, path: Path, line: int) -> date | None:
    return None if text == "" else _date(text, column, path, line)


def _date(text: str, column: str, path: Path, line: int) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DataError(
            f"{column} '{text}' is not a date; expected YYYY-MM-DD", file=str(path), line=line
        ) from None


def _time(text: str, column: str, path: Path, line: int) -> time:
    try:
        return parse_clock_time(text)
    except ValueError as e:
        raise DataError(f"{column}: {e}", file=str(path), line=line) from None


def _segments(text: str, path: Path, line: int) -> tuple[str, ...]:
    parts = tuple(p.strip() for p in text.split(";") if p.strip())
    bad = [p for p in parts if p not in MARKET_SEGMENTS]
    if not parts or bad:
        raise DataError(f"segments '{text}' must be CM, FO or CM;FO", file=str(path), line=line)
    return parts


def _inside(d: date, first: date, last: date, path: Path, line: int) -> None:
    if not first <= d <= last:
        raise DataError(
            f"{d.isoformat()} is outside the coverage {first.isoformat()} .. {last.isoformat()} "
            "of coverage.csv; extend coverage.csv once the year's list is complete",
            file=str(path),
            line=line,
        )


def _load_coverage(path: Path) -> tuple[date, date]:
    rows = list(_rows(path, ("first_date", "last_date")))
    if len(rows) != 1:
        raise DataError(f"expected exactly one row, found {len(rows)}", file=str(path))
    line, row = rows[0]
    first = _date(row["first_date"], "first_date", path, line)
    last = _date(row["last_date"], "last_date", path, line)
    if last < first:
        raise DataError("last_date is before first_date", file=str(path), line=line)
    return first, last


def _load_holidays(path: Path, first: date, last: date) -> dict[date, Holiday]:
    out: dict[date, Holiday] = {}
    for line, row in _rows(path, ("date", "name", "segments")):
        d = _date(row["date"], "date", path, line)
        _inside(d, first, last, path, line)
        if d in out:
            raise DataError(f"{d.isoformat()} is listed twice", file=str(path), line=line)
        segs = frozenset(_segments(row["segments"], path, line))
        out[d] = Holiday(d, row["name"], segs, row.get("source", ""))
    return out


def _load_specials(path: Path, first: date, last: date) -> tuple[SpecialPart, ...]:
    out: list[SpecialPart] = []
    for line, row in _rows(path, ("date", "kind", "open", "close", "segments")):
        d = _date(row["date"], "date", path, line)
        _inside(d, first, last, path, line)
        kind = row["kind"]
        if not kind:
            raise DataError("kind is empty", file=str(path), line=line)
        trading = not kind.startswith("preopen")
        if trading:
            segs = _segments(row["segments"], path, line)
        else:  # reference rows may qualify a segment, e.g. "FO(futures only)"
            segs = tuple(p.strip() for p in row["segments"].split(";") if p.strip())
        o, c = row["open"], row["close"]
        if (o == "") != (c == ""):
            raise DataError(
                "give both open and close, or leave both empty when NSE has not "
                "published the times yet",
                file=str(path),
                line=line,
            )
        t_open = _time(o, "open", path, line) if o else None
        t_close = _time(c, "close", path, line) if c else None
        if t_open is not None and t_close is not None and t_close <= t_open:
            raise DataError(f"close {c} is not after open {o}", file=str(path), line=line)
        out.append(SpecialPart(d, kind, t_open, t_close, segs, row.get("source", ""), line))
    _check_parts(out, path)
    return tuple(out)


def _check_parts(parts: list[SpecialPart], path: Path) -> None:
    by_day: dict[tuple[date, str], list[SpecialPart]] = {}
    for p in parts:
        if p.trading:
            for seg in p.segments:
                by_day.setdefault((p.date, seg), []).append(p)
    for (d, seg), group in by_day.items():
        known = [p for p in group if p.open is not None]
        if known and len(known) != len(group):
            raise DataError(
                f"{d.isoformat()} {seg}: some trading parts have times and some "
                "do not; give all of them or none",
                file=str(path),
                line=max(p.line for p in group),
            )
        known.sort(key=lambda p: p.open or time())
        for a, b in zip(known, known[1:], strict=False):
            assert a.close is not None and b.open is not None
            if b.open < a.close:
                raise DataError(
                    f"{d.isoformat()} {seg}: trading part {b.open:%H:%M} starts "
                    f"before the part ending {a.close:%H:%M}",
                    file=str(path),
                    line=b.line,
                )


def _load_hours(path: Path) -> tuple[HoursRule, ...]:
    out: list[HoursRule] = []
    cols = ("segment", "open", "close", "effective_from", "effective_to")
    for line, row in _rows(path, cols):
        seg = row["segment"]
        if seg not in MARKET_SEGMENTS:
            raise DataError(f"segment '{seg}' must be CM or FO", file=str(path), line=line)
        o = _time(row["open"], "open", path, line)
        c = _time(row["close"], "close", path, line)
        if c <= o:
            raise DataError(
                f"close {c:%H:%M} is not after open {o:%H:%M}", file=str(path), line=line
            )
        start = _opt_date(row["effective_from"], "effective_from", path, line)
        end = _opt_date(row["effective_to"], "effective_to", path, line)
        if start and end and end < start:
            raise DataError("effective_to is before effective_from", file=str(path), line=line)
        rule = HoursRule(seg, o, c, start, end, row.get("source", ""))
        for other in out:
            if other.segment == seg and _overlap(other.start, other.end, start, end):
                raise DataError(
                    f"{seg} hours overlap another {seg} row's dates", file=str(path), line=line
                )
        out.append(rule)
    return tuple(out)


def _load_facts(path: Path) -> tuple[Fact, ...]:
    out: list[Fact] = []
    cols = ("underlying", "field", "value", "effective_from", "effective_to")
    for line, row in _rows(path, cols):
        under, field, value = row["underlying"].upper(), row["field"], row["value"]
        if not under or not field:
            raise DataError("underlying and field must not be empty", file=str(path), line=line)
        start = _opt_date(row["effective_from"], "effective_from", path, line)
        end = _opt_date(row["effective_to"], "effective_to", path, line)
        if start and end and end < start:
            raise DataError("effective_to is before effective_from", file=str(path), line=line)
        check = FACT_CHECKS.get(field)
        if check is not None and value != "":
            try:
                check(value)
            except ValueError as e:
                raise DataError(f"{field}: {e}", file=str(path), line=line) from None
        fact = Fact(under, field, value, start, end, row.get("source", ""), line)
        if check is not None:
            for other in out:
                if (other.underlying, other.field) == (under, field) and _overlap(
                    other.start, other.end, start, end
                ):
                    raise DataError(
                        f"{under} {field}: dates overlap line {other.line}",
                        file=str(path),
                        line=line,
                    )
        out.append(fact)
    return tuple(out)


def _overlap(a0: date | None, a1: date | None, b0: date | None, b1: date | None) -> bool:
    lo_a, hi_a = a0 or date.min, a1 or date.max
    lo_b, hi_b = b0 or date.min, b1 or date.max
    return lo_a <= hi_b and lo_b <= hi_a
