"""JSON Lines files that survive a crash in the middle of a write, and damage from outside.

Each record is one line written with a single ``write`` call, so a crash can only leave
the *last* line incomplete (no newline). Reading therefore treats the tail specially:

- a last line without its newline that still reads as a record is kept (a warning says
  the newline was missing; the next append adds it);
- a last line without its newline that does not read is a torn write: it is dropped with
  a warning naming the file and line, and every earlier line is returned;
- any other line that does not read was damaged from outside (every line we write is
  whole): ``DataError`` names the file and line and how to repair it, unless the caller
  asked to skip such lines, in which case each is reported as a warning and skipped.

"Does not read" covers everything a damaged line can hold: not JSON, not UTF-8, a
missing or mistyped field, a value outside its range (``1e400``, ``NaN``, a
5,000-digit number, a year 9999 time), nesting too deep for the parser. The caller's
``convert`` raises on a bad record; every error it or the parser can raise on data is
caught (``RECORD_ERRORS``), never let through as a traceback.

Appending (``append_lines``) repairs a torn tail first (truncating the partial line, with
a warning) so a new record never lands glued to the end of a broken one, and runs under
the file's exclusive lock (``Folder.open_locked``), through ``engine.safe_files``.

The fast path parses the whole file with one ``json.loads`` call; only when something is
wrong does it go line by line to say exactly where.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

from engine.data.bounds import shown
from engine.errors import DataError, FileAccessError
from engine.logs import category_logger
from engine.safe_files import Folder

__all__ = [
    "RECORD_ERRORS",
    "JsonlRead",
    "append_lines",
    "parse_jsonl",
    "read_jsonl",
    "repair_tail",
]

log = category_logger("data")

T = TypeVar("T")
# Everything parsing or converting a damaged record can raise: JSONDecodeError and the
# "too many digits" error are ValueErrors, 1e400 as an int is an OverflowError
# (ArithmeticError), deep nesting a RecursionError, a list where a mapping belongs a
# TypeError or LookupError.
RECORD_ERRORS = (
    LookupError,
    TypeError,
    ValueError,
    AttributeError,
    ArithmeticError,
    RecursionError,
)
_SKIP_HINT = "fix or remove the line, or load with skip_corrupt=True to skip such lines"


@dataclass(slots=True)
class JsonlRead:
    """Items read from a file, its header record, and what was wrong with it."""

    items: list[Any]
    header: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    torn_line: int | None = None
    corrupt_lines: list[int] = field(default_factory=list)


def read_jsonl(
    path: str | Path,
    convert: Callable[[Any], T],
    *,
    header_key: str = "schema",
    skip_corrupt: bool = False,
    hint: str = _SKIP_HINT,
) -> JsonlRead:
    """Every record of the file at ``path``; see ``parse_jsonl``."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise DataError(f"cannot read the file: {e.strerror}", file=str(p)) from None
    return parse_jsonl(
        data, p, convert, header_key=header_key, skip_corrupt=skip_corrupt, hint=hint
    )


def parse_jsonl(
    data: bytes,
    path: Path,
    convert: Callable[[Any], T],
    *,
    header_key: str = "schema",
    skip_corrupt: bool = False,
    hint: str = _SKIP_HINT,
) -> JsonlRead:
    """Every record of ``data`` (read from ``path``) passed through ``convert``.

    A first line holding ``header_key`` is the file's header, returned apart. ``hint``
    says, in a DataError about a damaged line, what the user can do about it.
    """
    lines = data.decode("utf-8", errors="replace").split("\n")
    tail = lines.pop()  # "" when the file ends with a newline
    result = JsonlRead([])
    first = 0
    if lines or tail:
        header = _header(lines[0] if lines else tail, header_key)
        if header is not None:
            result.header = header
            first = 1
    body = lines[first:]
    if tail and not (first == 1 and not lines):
        kept = _check_tail(path, tail, len(lines) + 1, convert, result)
        if kept is not None:
            body = [*body, tail]
    try:
        result.items = _bulk(body, convert)
    except RECORD_ERRORS:
        result.items = _line_by_line(path, body, first + 1, convert, skip_corrupt, hint, result)
    return result


def _header(line: str, key: str) -> dict[str, Any] | None:
    if key not in line:
        return None
    try:
        record = json.loads(line)
    except RECORD_ERRORS:
        return None
    return record if isinstance(record, dict) and key in record else None


def _check_tail(
    path: Path, tail: str, line_no: int, convert: Callable[[Any], T], result: JsonlRead
) -> str | None:
    try:
        convert(json.loads(tail))
    except RECORD_ERRORS:
        message = (
            f"{path}:{line_no}: torn last line dropped (an interrupted write): {shown(tail)}; "
            f"the {line_no - 1} lines before it are intact"
        )
        log.warning(message)
        result.warnings.append(message)
        result.torn_line = line_no
        return None
    message = f"{path}:{line_no}: last line has no newline; kept (the next append adds it)"
    log.warning(message)
    result.warnings.append(message)
    return tail


def _bulk(body: Sequence[str], convert: Callable[[Any], T]) -> list[T]:
    lines = [line for line in body if line]
    records = json.loads("[" + ",".join(lines) + "]")
    if len(records) != len(lines):  # a damaged line held a comma-separated fragment
        raise ValueError("record count differs from line count")
    return [convert(r) for r in records]


def _line_by_line(
    path: Path,
    body: Sequence[str],
    first_no: int,
    convert: Callable[[Any], T],
    skip_corrupt: bool,
    hint: str,
    result: JsonlRead,
) -> list[T]:
    items: list[T] = []
    last_no = first_no + len(body) - 1
    for no, line in enumerate(body, start=first_no):
        if not line:
            continue
        try:
            items.append(convert(json.loads(line)))
        except RECORD_ERRORS as e:
            reason = record_problem(e)
            if not skip_corrupt:
                where = "in the middle of the file" if no < last_no else "on the last line"
                raise DataError(
                    f"corrupt record {where} ({reason}): {shown(line)}; every line is "
                    f"written whole, so this is damage from outside: {hint}",
                    file=str(path),
                    line=no,
                ) from None
            message = f"{path}:{no}: corrupt record skipped ({reason})"
            log.warning(message)
            result.warnings.append(message)
            result.corrupt_lines.append(no)
    return items


def record_problem(e: BaseException) -> str:
    """What was wrong with a record, from the error reading it raised."""
    if isinstance(e, json.JSONDecodeError):
        return f"not JSON: {e.msg} at column {e.colno}"
    if isinstance(e, RecursionError):
        return "nested too deeply"
    if isinstance(e, KeyError):
        return f"field {shown(str(e.args[0]), 30)} is missing"
    if isinstance(e, ArithmeticError):
        return "a number is out of range"
    text = str(e)
    if "digits" in text and "integer" in text:
        return "a number has too many digits"
    return f"a field has the wrong type or value: {text[:120]}"


# ---------------------------------------------------------------------- appending
def last_line(f: IO[bytes], size: int) -> tuple[int, bytes]:
    """Offset and bytes of the file's last line (without its newline, if it has one)."""
    end = size - 1 if size and _byte_at(f, size - 1) == b"\n" else size
    chunk = 4096
    while True:
        start = max(0, end - chunk)
        f.seek(start)
        data = f.read(end - start)
        cut = data.rfind(b"\n")
        if cut >= 0:
            return start + cut + 1, data[cut + 1 :]
        if start == 0:
            return 0, data
        chunk *= 4


def _byte_at(f: IO[bytes], offset: int) -> bytes:
    f.seek(offset)
    return f.read(1)


def repair_tail(f: IO[bytes], path: Path, size: int, readable: Callable[[bytes], bool]) -> int:
    """Make the file end with a newline before appending; returns the new size.

    A last line without a newline that is ``readable`` gets its newline; one that is not
    is a torn write and is cut off (the lines before it stay).
    """
    if size == 0 or _byte_at(f, size - 1) == b"\n":
        return size
    start, line = last_line(f, size)
    line_no = _count_newlines(f, start) + 1
    if readable(line):
        f.seek(size)
        f.write(b"\n")
        log.warning("{}:{}: last line had no newline; added before appending", path, line_no)
        return size + 1
    f.truncate(start)
    log.warning(
        "{}:{}: torn last line removed before appending ({} bytes of an interrupted write)",
        path,
        line_no,
        size - start,
    )
    return start


def _count_newlines(f: IO[bytes], end: int) -> int:
    f.seek(0)
    count = 0
    left = end
    while left > 0:
        block = f.read(min(left, 1 << 20))
        if not block:
            break
        count += block.count(b"\n")
        left -= len(block)
    return count


def append_lines(
    folder: Folder, name: str, lines: Sequence[str], *, header: str, fsync: bool = False
) -> None:
    """Append ``lines`` (no newlines inside) to ``folder/name`` in one write, under its lock;
    ``header`` starts a new file."""
    path = folder.path / name
    with folder.open_locked(name) as f:
        size = repair_tail(f, path, f.seek(0, os.SEEK_END), _parses)
        payload = "".join(line + "\n" for line in lines).encode("utf-8")
        if size == 0:  # new, or only a torn header was there
            payload = header.encode("utf-8") + b"\n" + payload
        try:
            f.seek(size)
            f.write(payload)
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        except OSError as e:  # a full disk, say
            raise FileAccessError(f"cannot write {path}: {e.strerror}", path=str(path)) from None


def _parses(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except RECORD_ERRORS:
        return False
