"""Append-only JSON Lines files that survive a crash in the middle of a write.

Each record is one line written with a single ``write`` call, so a crash can only leave
the *last* line incomplete. Reading therefore treats the tail specially:

- a last line without its newline that still parses is kept (a warning says the newline
  was missing; the next append adds it);
- a last line that does not parse is a torn write: it is dropped with a warning naming
  the file and line, and every earlier line is returned;
- a line in the middle that does not parse was damaged from outside (we never write one):
  ``DataError`` names the file and line, unless the caller asked to skip such lines, in
  which case each is reported as a warning and skipped.

Appending repairs a torn tail first (truncating the partial line, with a warning) so a
new record never lands glued to the end of a broken one. Appends take an advisory lock
(``fcntl.flock``, where the platform has it) so retention can rewrite a file safely.

The fast path parses the whole file with one ``json.loads`` call; only when something is
wrong does it go line by line to say exactly where.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

from loguru import logger

from engine.errors import DataError

try:  # POSIX advisory locks; elsewhere appends simply run unlocked.
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

__all__ = ["JsonlRead", "append_lines", "locked", "read_jsonl", "tail_record"]

log = logger.bind(category="data")

T = TypeVar("T")
_CONVERT_ERRORS = (KeyError, TypeError, ValueError, AttributeError)


@dataclass(slots=True)
class JsonlRead:
    """Items read from a file, its header record, and what was wrong with it."""

    items: list[Any]
    header: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    torn_line: int | None = None
    corrupt_lines: list[int] = field(default_factory=list)


def read_jsonl(
    path: Path,
    convert: Callable[[Any], T],
    *,
    header_key: str = "schema",
    skip_corrupt: bool = False,
) -> JsonlRead:
    """Every record of ``path`` passed through ``convert`` (which raises on a bad record).

    A first line holding ``header_key`` is the file's header, returned apart.
    """
    raw = path.read_bytes().decode("utf-8", errors="replace")
    lines = raw.split("\n")
    tail = lines.pop()  # "" when the file ends with a newline
    result = JsonlRead([])
    first = 0
    if lines or tail:
        first_line = lines[0] if lines else tail
        header = _header(first_line, header_key)
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
    except (json.JSONDecodeError, *_CONVERT_ERRORS):
        result.items = _line_by_line(path, body, first + 1, convert, skip_corrupt, result)
    return result


def _header(line: str, key: str) -> dict[str, Any] | None:
    if key not in line:
        return None
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return None
    return record if isinstance(record, dict) and key in record else None


def _check_tail(
    path: Path, tail: str, line_no: int, convert: Callable[[Any], T], result: JsonlRead
) -> str | None:
    try:
        convert(json.loads(tail))
    except (json.JSONDecodeError, *_CONVERT_ERRORS):
        shown = tail if len(tail) <= 60 else tail[:57] + "..."
        message = (
            f"{path}:{line_no}: torn last line dropped (an interrupted write): {shown!r}; "
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
    result: JsonlRead,
) -> list[T]:
    items: list[T] = []
    for no, line in enumerate(body, start=first_no):
        if not line:
            continue
        try:
            items.append(convert(json.loads(line)))
        except (json.JSONDecodeError, *_CONVERT_ERRORS) as e:
            reason = _reason(e)
            if not skip_corrupt:
                raise DataError(
                    f"corrupt record in the middle of the file ({reason}); fix or remove the "
                    "line, or load with skip_corrupt (engine data ... --skip-corrupt)",
                    file=str(path),
                    line=no,
                ) from None
            message = f"{path}:{no}: corrupt record skipped ({reason})"
            log.warning(message)
            result.warnings.append(message)
            result.corrupt_lines.append(no)
    return items


def _reason(e: Exception) -> str:
    if isinstance(e, json.JSONDecodeError):
        return f"not JSON: {e.msg} at column {e.colno}"
    if isinstance(e, KeyError):
        return f"field {e.args[0]!r} is missing"
    return f"a field has the wrong type or value: {e}"


def tail_record(path: Path, header_key: str = "schema") -> dict[str, Any] | None:
    """The last complete record of the file (not the header), or None; reads only the end."""
    try:
        with path.open("rb") as f:
            size = f.seek(0, os.SEEK_END)
            chunk = 4096
            while True:
                start = max(0, size - chunk)
                f.seek(start)
                data = f.read(size - start)
                lines = data.split(b"\n")
                if start > 0:
                    lines = lines[1:]  # the first piece may be a partial line
                for line in reversed(lines):
                    record = _parse(line)
                    if record is not None and header_key not in record:
                        return record
                if start == 0:
                    return None
                chunk *= 4
    except FileNotFoundError:
        return None


def _parse(line: bytes) -> dict[str, Any] | None:
    if not line.strip():
        return None
    try:
        record = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return record if isinstance(record, dict) else None


@contextmanager
def locked(path: Path) -> Iterator[IO[bytes]]:
    """The file opened for append (created with its folders) under an exclusive lock.

    After locking, the handle is checked to still be the file at ``path`` (retention may
    have replaced it meanwhile) and reopened if not.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        f = path.open("ab+")
        try:
            if fcntl is not None:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            if os.fstat(f.fileno()).st_ino == os.stat(path).st_ino:
                break
        except FileNotFoundError:
            pass
        f.close()
    try:
        yield f
    finally:
        f.close()  # closing releases the lock


def append_lines(path: Path, lines: Sequence[str], *, header: str, fsync: bool = False) -> None:
    """Append ``lines`` (no newlines inside) with one write; ``header`` starts a new file."""
    with locked(path) as f:
        size = f.seek(0, os.SEEK_END)
        if size:
            _repair_tail(path, f, size)
        if f.seek(0, os.SEEK_END) == 0:  # new, or only a torn header was there
            f.write(header.encode("utf-8") + b"\n")
        f.write("".join(line + "\n" for line in lines).encode("utf-8"))
        f.flush()
        if fsync:
            os.fsync(f.fileno())


def _repair_tail(path: Path, f: IO[bytes], size: int) -> None:
    f.seek(size - 1)
    if f.read(1) == b"\n":
        return
    f.seek(0)
    data = f.read()
    cut = data.rfind(b"\n") + 1
    line_no = data.count(b"\n", 0, cut) + 1
    if _parse(data[cut:]) is not None:
        f.write(b"\n")
        log.warning("{}:{}: last line had no newline; added before appending", path, line_no)
        return
    f.truncate(cut)
    log.warning(
        "{}:{}: torn last line removed before appending ({} bytes of an interrupted write)",
        path,
        line_no,
        size - cut,
    )
