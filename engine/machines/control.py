"""The operator's control files: EMERGENCY_STOP and RESUME in the engine's working folder.

``engine kill-switch --confirm`` writes ``EMERGENCY_STOP``; ``engine resume --confirm-safe
--reason TEXT`` writes ``RESUME``. Each is one JSON object (who, when, why), written
atomically (a temporary file renamed into place), so a running engine never reads half a
request. The runtime watches the folder: it sends ``kill`` (source ``file``) to the kill
switch for EMERGENCY_STOP and ``resume`` for RESUME, then renames the file to
``NAME.handled-<UTC time>`` so the request stays on record. A file works even when no
engine is running: the next start reads it first.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.errors import DataError

__all__ = ["RESUME_FILE", "STOP_FILE", "ControlRequest", "read_request", "write_request"]

STOP_FILE = "EMERGENCY_STOP"
RESUME_FILE = "RESUME"
_KINDS = {STOP_FILE: "emergency_stop", RESUME_FILE: "resume"}


@dataclass(frozen=True, slots=True)
class ControlRequest:
    """One operator request as written to its control file."""

    kind: str  # "emergency_stop" | "resume"
    requested_at: str  # ISO 8601, UTC
    requested_by: str  # user@host
    reason: str
    pid: int
    confirm_safe: bool = False

    def to_json(self) -> str:
        return (
            json.dumps(
                {
                    "kind": self.kind,
                    "requested_at": self.requested_at,
                    "requested_by": self.requested_by,
                    "reason": self.reason,
                    "pid": self.pid,
                    "confirm_safe": self.confirm_safe,
                },
                indent=2,
            )
            + "\n"
        )


def _who() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def write_request(
    folder: Path, name: str, reason: str, *, confirm_safe: bool = False, now: datetime | None = None
) -> tuple[Path, ControlRequest]:
    """Write ``folder/name`` atomically; returns its path and the request written."""
    if name not in _KINDS:
        raise ValueError(f"unknown control file {name!r}")
    request = ControlRequest(
        kind=_KINDS[name],
        requested_at=(now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds"),
        requested_by=_who(),
        reason=reason,
        pid=os.getpid(),
        confirm_safe=confirm_safe,
    )
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    tmp = folder / f".{name}.{os.getpid()}.tmp"
    with tmp.open("w", encoding="utf-8") as f:
        f.write(request.to_json())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)
    return target, request


def read_request(path: Path) -> ControlRequest:
    """A control file's request; DataError naming the file when it is not one."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise DataError(f"cannot read the control file: {e.strerror}", file=str(path)) from None
    except json.JSONDecodeError as e:
        raise DataError(
            f"not a JSON control request: {e.msg}", file=str(path), line=e.lineno
        ) from None
    if not isinstance(data, dict) or data.get("kind") not in _KINDS.values():
        raise DataError("not a control request (no kind emergency_stop or resume)", file=str(path))
    return ControlRequest(
        kind=data["kind"],
        requested_at=str(data.get("requested_at", "")),
        requested_by=str(data.get("requested_by", "")),
        reason=str(data.get("reason", "")),
        pid=int(data.get("pid", 0)),
        confirm_safe=bool(data.get("confirm_safe", False)),
    )
