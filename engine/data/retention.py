"""How long stored data is kept, and the cleanup that applies it.

**Nothing a user imported is removed unless the policy says so.** Bars are kept for ever
by default: ``intraday_days`` and ``daily_days`` are None, and a bar file is trimmed only
when its limit is given (``engine data cleanup --intraday-days 90``). Raw tick files,
which only the engine's recorder writes, are kept ``tick_days`` (2) days by default. Age
is measured back from ``now``: a tick file goes once its whole IST date is older than the
limit; a trimmed bar file keeps its header and every bar whose start is within it.

**Two steps.** ``plan_retention`` lists what would go and changes nothing;
``apply_plan`` carries the plan out, each file re-read under the lock appends take: a
file that changed since it was listed (other bars before the cutoff, another header) is
left alone and reported, so the command removes exactly what it showed. A trimmed file
is written to a temporary file in the same folder, synced, and renamed over the original
(``engine.safe_files``): a crash leaves the old file or the new one, never a mix.

**Only files the store wrote.** Cleanup walks ``timeframes/SYMBOL/<tf>.jsonl`` and
``raw/SYMBOL_YYYYMMDD.jsonl`` without following links (a linked folder or file is
reported and left alone), and touches a file only when its first line is the store's
header for it. A bar file with a line that cannot be dated is left alone and reported.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from engine.data.bounds import symbol_problem
from engine.data.storage import BAR_SCHEMA, TICK_SCHEMA, _timeframe_of
from engine.logs import category_logger
from engine.model.enums import Timeframe
from engine.model.market import NANOS, to_ns
from engine.safe_files import Folder, open_folder
from engine.timeutil import IST

__all__ = [
    "RetentionAction",
    "RetentionPolicy",
    "apply_plan",
    "apply_retention",
    "plan_retention",
]

log = category_logger("data")

_TICK_FILE = re.compile(r"(?P<symbol>.+)_(?P<day>[0-9]{8})\.jsonl", re.ASCII)


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Days to keep each kind of data; None keeps it for ever (the default for bars)."""

    tick_days: int | None = 2
    intraday_days: int | None = None
    daily_days: int | None = None

    def __post_init__(self) -> None:
        for name in ("tick_days", "intraday_days", "daily_days"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1; it was {value}")

    def describe(self) -> str:
        def days(value: int | None) -> str:
            return "kept" if value is None else f"{value} d"

        return (
            f"raw ticks {days(self.tick_days)}, intraday bars {days(self.intraday_days)}, "
            f"daily bars {days(self.daily_days)}"
        )


@dataclass(frozen=True, slots=True)
class RetentionAction:
    """One file cleanup touches (or would touch): what, how many lines go and stay, why."""

    path: Path
    action: str  # "delete" | "trim" | "skip"
    removed: int  # lines (bars) removed; for a deleted tick file, its tick count
    kept: int
    reason: str
    cutoff_ns: int | None = None  # a trim removes the bars that start before this


def apply_retention(
    root: Path, now: datetime, policy: RetentionPolicy | None = None, *, dry_run: bool = False
) -> list[RetentionAction]:
    """Plan ``policy`` for everything under ``root`` and, unless ``dry_run``, apply it."""
    plan = plan_retention(root, now, policy)
    return plan if dry_run else apply_plan(root, plan)


def plan_retention(
    root: Path, now: datetime, policy: RetentionPolicy | None = None
) -> list[RetentionAction]:
    """What ``policy`` would remove under ``root``; nothing is changed."""
    policy = policy or RetentionPolicy()
    with open_folder(root) as top:
        return _plan_ticks(top, now, policy) + _plan_bars(top, now, policy)


def apply_plan(root: Path, plan: list[RetentionAction]) -> list[RetentionAction]:
    """Carry out ``plan`` (from ``plan_retention``); returns what was done to each file."""
    done = []
    with open_folder(root) as top:
        for action in plan:
            if action.action == "delete":
                done.append(_located(top, Path(root), action, _delete_ticks))
            elif action.action == "trim":
                done.append(_located(top, Path(root), action, _trim))
            else:
                done.append(action)
    return done


# ---------------------------------------------------------------------- planning
def _skip(path: Path, reason: str) -> RetentionAction:
    log.warning("{}: {}", path, reason)
    return RetentionAction(path, "skip", 0, 0, reason)


def _not_followed(folder: Folder, name: str, kind: str | None, want: str) -> RetentionAction | None:
    if kind is None or kind == want:
        return None
    return _skip(folder.path / name, f"is a {kind}, not a {want}; cleanup leaves it alone")


def _plan_ticks(top: Folder, now: datetime, policy: RetentionPolicy) -> list[RetentionAction]:
    if policy.tick_days is None:
        return []
    kind = top.kind("raw")
    if kind != "folder":
        skipped = _not_followed(top, "raw", kind, "folder")
        return [skipped] if skipped else []
    oldest_kept = now.astimezone(IST).date() - timedelta(days=policy.tick_days - 1)
    actions: list[RetentionAction | None] = []
    with top.child("raw") as raw:
        for name in raw.names():
            day = _tick_file_day(name)
            if day is None or day >= oldest_kept:
                continue
            kind = raw.kind(name)
            if kind != "file":
                actions.append(_not_followed(raw, name, kind, "file"))
                continue
            lines = raw.read_bytes(name).split(b"\n")
            if _header_of(lines[0]).get("schema") != TICK_SCHEMA:
                actions.append(
                    _skip(raw.path / name, "does not start with the store's tick header")
                )
                continue
            ticks = sum(1 for line in lines[1:] if line.strip())
            reason = f"ticks of {day} are older than {policy.tick_days} days"
            actions.append(RetentionAction(raw.path / name, "delete", ticks, 0, reason))
    return [a for a in actions if a is not None]


def _tick_file_day(name: str) -> date | None:
    m = _TICK_FILE.fullmatch(name)
    if m is None or symbol_problem(m["symbol"]) is not None:
        return None
    text = m["day"]
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _plan_bars(top: Folder, now: datetime, policy: RetentionPolicy) -> list[RetentionAction]:
    if policy.intraday_days is None and policy.daily_days is None:
        return []
    kind = top.kind("timeframes")
    if kind != "folder":
        skipped = _not_followed(top, "timeframes", kind, "folder")
        return [skipped] if skipped else []
    actions: list[RetentionAction] = []
    with top.child("timeframes") as frames:
        for symbol in frames.names():
            kind = frames.kind(symbol)
            if kind != "folder" or symbol_problem(symbol) is not None:
                skipped = _not_followed(frames, symbol, kind, "folder")
                actions += [skipped] if skipped else []
                continue
            with frames.child(symbol) as folder:
                actions += _plan_symbol(folder, symbol, now, policy)
    return actions


def _plan_symbol(
    folder: Folder, symbol: str, now: datetime, policy: RetentionPolicy
) -> list[RetentionAction]:
    actions = []
    for name in folder.names():
        tf = _timeframe_of(name)
        if tf is None:
            continue
        days = policy.intraday_days if tf.is_intraday else policy.daily_days
        kind = folder.kind(name)
        if days is None or kind != "file":
            skipped = _not_followed(folder, name, kind, "file") if days is not None else None
            actions += [skipped] if skipped else []
            continue
        cutoff = to_ns(now - timedelta(days=days))
        data = folder.read_bytes(name)
        action = _trim_action(folder.path / name, data, symbol, tf, cutoff, days)
        if action is not None:
            actions.append(action)
    return actions


def _trim_action(
    path: Path, data: bytes, symbol: str, tf: Timeframe, cutoff: int, days: int
) -> RetentionAction | None:
    header, body, _ = _split(data)
    if not _is_store_header(header, symbol, tf):
        return _skip(path, "does not start with the store's header for this series; left alone")
    first_kept = _first_kept(body, cutoff)
    if first_kept is None:
        return _skip(path, "a line before the cutoff cannot be dated; file left as it is")
    if first_kept == 0:
        return None
    kept = len(body) - first_kept
    return RetentionAction(path, "trim", first_kept, kept, f"bars older than {days} days", cutoff)


def _split(data: bytes) -> tuple[bytes, list[bytes], bytes]:
    """Header line, body lines, and a last line without its newline (b"" if none)."""
    lines = data.split(b"\n")
    tail = lines.pop()
    return (lines[0] if lines else b""), lines[1:], tail


def _header_of(line: bytes) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return {}
    return record if isinstance(record, dict) else {}


def _is_store_header(line: bytes, symbol: str, tf: Timeframe) -> bool:
    header = _header_of(line)
    return (header.get("schema"), header.get("symbol"), header.get("timeframe")) == (
        BAR_SCHEMA,
        symbol,
        tf.value,
    )


def _first_kept(body: list[bytes], cutoff: int) -> int | None:
    """Index of the first line dated at or after ``cutoff`` (len(body) if none is)."""
    for i, line in enumerate(body):
        if not line.strip():
            continue
        try:
            t = json.loads(line)["t"]
            if t.__class__ is not int:
                return None
        except (ValueError, KeyError, TypeError, IndexError, RecursionError):
            return None
        if t * NANOS >= cutoff:
            return i
    return len(body)


# ---------------------------------------------------------------------- applying
def _located(top: Folder, root: Path, action: RetentionAction, do: Any) -> RetentionAction:
    """Run ``do(folder, name, action)`` in the planned file's folder, links not followed."""
    *parts, name = action.path.relative_to(root).parts
    folder = top.child(parts[0])
    try:
        for part in parts[1:]:
            inner = folder.child(part)
            folder.close()
            folder = inner
        if folder.kind(name) != "file":
            return _skip(action.path, "is gone or no longer a file since it was listed")
        result: RetentionAction = do(folder, name, action)
        return result
    finally:
        folder.close()


def _changed(action: RetentionAction) -> RetentionAction:
    return _skip(action.path, "changed since it was listed; nothing removed: run cleanup again")


def _delete_ticks(folder: Folder, name: str, action: RetentionAction) -> RetentionAction:
    with folder.open_locked(name, create=False) as f:
        lines = f.read().split(b"\n")
        ticks = sum(1 for line in lines[1:] if line.strip())
        if _header_of(lines[0]).get("schema") != TICK_SCHEMA or ticks != action.removed:
            return _changed(action)
        folder.unlink(name)
    log.info("deleted {} ({})", action.path, action.reason)
    return action


def _trim(folder: Folder, name: str, action: RetentionAction) -> RetentionAction:
    symbol = folder.path.name
    tf = _timeframe_of(name)
    assert tf is not None and action.cutoff_ns is not None
    with folder.open_locked(name, create=False) as f:
        header, body, tail = _split(f.read())
        first_kept = _first_kept(body, action.cutoff_ns)
        planned = (action.removed, action.kept)
        if (
            not _is_store_header(header, symbol, tf)
            or (
                first_kept,
                len(body) - (first_kept or 0),
            )
            != planned
        ):
            return _changed(action)
        kept = body[first_kept:]
        folder.write_atomic(name, b"".join(line + b"\n" for line in [header, *kept]) + tail)
    log.info(
        "trimmed {}: removed {} {}, kept {}", action.path, action.removed, action.reason, len(kept)
    )
    return action
