"""How long stored data is kept, and the cleanup that applies it.

Defaults: raw ticks 2 days, intraday bars (1m to 1h) 90 days (about three months),
daily bars 365 days. Age is measured from ``now``: a tick file goes once its whole IST
date is older than the limit; bar files keep the header and every bar whose start is
within the limit. Retention never touches a file it cannot read: a tick file whose name
is not ``SYMBOL_YYYYMMDD.jsonl`` is left alone, and so is a bar file whose lines cannot
be dated (it is reported instead).

A bar file is trimmed by writing the lines it keeps to a temporary file in the same
folder, syncing it, and renaming it over the original, under the same lock appends take:
a crash leaves either the old file or the new one, never a mix.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from loguru import logger

from engine.data._jsonl import locked
from engine.model.enums import Timeframe
from engine.model.market import NANOS, to_ns
from engine.timeutil import IST

__all__ = ["RetentionAction", "RetentionPolicy", "apply_retention"]

log = logger.bind(category="data")

_TICK_FILE = re.compile(r"^(?P<symbol>.+)_(?P<day>\d{8})\.jsonl$")


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    tick_days: int = 2
    intraday_days: int = 90
    daily_days: int = 365

    def __post_init__(self) -> None:
        for name in ("tick_days", "intraday_days", "daily_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1; it was {getattr(self, name)}")


@dataclass(frozen=True, slots=True)
class RetentionAction:
    """One file cleanup touched (or would touch, in a dry run)."""

    path: Path
    action: str  # "delete" | "trim" | "skip"
    removed: int  # lines (bars) removed; for a deleted tick file, its line count
    kept: int
    reason: str


def apply_retention(
    root: Path, now: datetime, policy: RetentionPolicy | None = None, *, dry_run: bool = False
) -> list[RetentionAction]:
    """Apply ``policy`` to everything under ``root``; with ``dry_run`` only report."""
    policy = policy or RetentionPolicy()
    actions = _tick_actions(root, now, policy, dry_run)
    for path in sorted((root / "timeframes").glob("*/*.jsonl")):
        try:
            tf = Timeframe(path.stem)
        except ValueError:
            continue
        days = policy.intraday_days if tf.is_intraday else policy.daily_days
        cutoff = to_ns(now - timedelta(days=days))
        action = _trim(path, cutoff, days, dry_run)
        if action is not None:
            actions.append(action)
    return actions


def _tick_actions(
    root: Path, now: datetime, policy: RetentionPolicy, dry_run: bool
) -> list[RetentionAction]:
    today = now.astimezone(IST).date()
    oldest_kept = today - timedelta(days=policy.tick_days - 1)
    actions = []
    for path in sorted((root / "raw").glob("*.jsonl")):
        m = _TICK_FILE.match(path.name)
        if m is None:
            continue
        text = m["day"]
        try:
            day = date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            continue
        if day >= oldest_kept:
            continue
        lines = _count_lines(path)
        reason = f"ticks of {day} are older than {policy.tick_days} days"
        actions.append(RetentionAction(path, "delete", lines, 0, reason))
        if not dry_run:
            path.unlink()
            log.info("deleted {} ({})", path, reason)
    return actions


def _trim(path: Path, cutoff: int, days: int, dry_run: bool) -> RetentionAction | None:
    with locked(path) as f:
        f.seek(0)
        lines = f.read().split(b"\n")
        tail = lines.pop()  # b"" when the file ends with a newline
        header = lines[:1] if lines and b'"schema"' in lines[0] else []
        body = lines[len(header) :]
        first_kept = _first_kept(body, cutoff)
        if first_kept is None:
            reason = "a line before the cutoff cannot be dated; file left as it is"
            log.warning("{}: {}", path, reason)
            return RetentionAction(path, "skip", 0, len(body), reason)
        if first_kept == 0:
            return None
        kept = body[first_kept:]
        reason = f"bars older than {days} days"
        action = RetentionAction(path, "trim", first_kept, len(kept), reason)
        if dry_run:
            return action
        tmp = path.with_name(path.name + ".tmp")
        data = b"".join(line + b"\n" for line in header + kept) + tail
        with tmp.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
        log.info("trimmed {}: removed {} {}, kept {}", path, first_kept, reason, len(kept))
        return action


def _first_kept(body: list[bytes], cutoff: int) -> int | None:
    """Index of the first line dated at or after ``cutoff`` (len(body) if none is)."""
    for i, line in enumerate(body):
        if not line.strip():
            continue
        try:
            t = int(json.loads(line)["t"]) * NANOS
        except (ValueError, KeyError, TypeError):
            return None
        if t >= cutoff:
            return i
    return len(body)


def _count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return max(sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b"")) - 1, 0)
