"""The operator's control files: EMERGENCY_STOP and RESUME in the engine's working folder.

``engine kill-switch --confirm`` writes ``EMERGENCY_STOP``; ``engine resume --confirm-safe
--reason TEXT`` writes ``RESUME``. Each is one JSON object (who, when, why, and a random
``request_id``) written through ``engine.safe_files``: a temporary file with a random name
renamed into place, no link followed, so a running engine never reads half a request and
a planted link never redirects one. The working folder must exist: a mistyped folder is
an error, never a new folder no engine watches.

**Pickup protocol**, between these commands and a running engine:

1. The command writes ``NAME`` (``EMERGENCY_STOP`` or ``RESUME``).
2. A running engine watches its working folder and claims a request with
   ``claim_request``: one atomic rename to ``NAME.handled-<UTC time>-pid<PID>``, so
   exactly one process takes it, the request stays on record, and its name says who took
   it and when. The engine then sends ``kill`` (source ``file``) or ``resume`` to the
   kill switch. *Any* entry named ``EMERGENCY_STOP`` means stop, even one that cannot be
   read (the claim carries the reason): a damaged stop request still stops.
3. The command waits a short, bounded time (``wait_for_pickup``) for a handled file
   carrying its ``request_id`` and reports "picked up by pid N", or that no running engine
   has picked it up yet; an unclaimed request is read first thing by the next start.

Every halt, whatever caused it (this file, Ctrl-C, a breaker), leaves an
``EMERGENCY_STOP.handled-...`` record (for a halt of its own the engine writes and claims
one), and every resume a ``RESUME.handled-...`` record. So the folder alone says whether
a halt awaits a resume (``control_state``).

**What the commands guarantee.** A readable pending EMERGENCY_STOP stands (a second
request keeps the first); anything else by that name (not JSON, not UTF-8, ``"pid":
1e400``, a folder, a FIFO, a link) is moved aside to ``EMERGENCY_STOP.invalid-<time>``,
reported, and replaced; reading never follows a link and never waits on a FIFO. Writing
a stop moves a pending RESUME aside to ``RESUME.superseded-<time>``, so a stale resume
never sits next to a new stop. ``resume`` is refused (and writes nothing) while a stop is
pending, and when no halt awaits a resume.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.errors import DataError, FileAccessError, UserInputError
from engine.safe_files import open_folder

__all__ = [
    "RESUME_FILE",
    "STOP_FILE",
    "Claim",
    "ControlRequest",
    "ControlState",
    "Pending",
    "Pickup",
    "claim_request",
    "control_state",
    "move_aside",
    "pending_request",
    "read_request",
    "wait_for_pickup",
    "working_folder",
    "write_request",
]

STOP_FILE = "EMERGENCY_STOP"
RESUME_FILE = "RESUME"
_KINDS = {STOP_FILE: "emergency_stop", RESUME_FILE: "resume"}
_MAX_BYTES = 65_536  # a request is a few hundred bytes
_MAX_PID = 2**31 - 1
_HANDLED = re.compile(
    r"(?P<name>EMERGENCY_STOP|RESUME)\.handled-(?P<at>[0-9]{8}T[0-9]{6}\.[0-9]{6}Z)"
    r"-pid(?P<pid>[0-9]{1,10})",
    re.ASCII,
)


@dataclass(frozen=True, slots=True)
class ControlRequest:
    """One operator request as written to its control file."""

    kind: str  # "emergency_stop" | "resume"
    requested_at: str  # ISO 8601, UTC
    requested_by: str  # user@host
    reason: str
    pid: int
    confirm_safe: bool = False
    request_id: str = ""  # random; the handled file keeps it, so a pickup can be matched

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
                    "request_id": self.request_id,
                },
                indent=2,
            )
            + "\n"
        )


@dataclass(frozen=True, slots=True)
class Pending:
    """What sits under a control file's name: a request, or why it is not one."""

    path: Path
    request: ControlRequest | None
    problem: str | None  # set when ``request`` is None


@dataclass(frozen=True, slots=True)
class Claim:
    """A request a running engine took: the handled file, and the request if readable."""

    path: Path
    request: ControlRequest | None
    problem: str | None
    pid: int
    handled_at: str  # UTC, YYYYMMDDTHHMMSS.ffffffZ


@dataclass(frozen=True, slots=True)
class Pickup:
    """A request found handled: which process took it and when."""

    path: Path
    pid: int
    handled_at: str


@dataclass(frozen=True, slots=True)
class ControlState:
    """The working folder's control files, as the commands see them."""

    stop_pending: bool
    resume_pending: bool
    last_stop_handled: str | None
    last_resume_handled: str | None

    @property
    def halted(self) -> bool:
        """A handled stop newer than every handled resume: a halt awaits a resume."""
        stop, resume = self.last_stop_handled, self.last_resume_handled
        return stop is not None and (resume is None or resume < stop)


def _who() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def _stamp(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")


def working_folder(text: str, flag: str = "--workdir") -> Path:
    """The engine's working folder named on the command line; it must exist."""
    path = Path(text)
    if not path.is_dir():
        what = "is not a folder" if path.exists() else "does not exist"
        raise UserInputError(
            f"{flag}: '{text}' {what}; nothing was written (give the folder the engine "
            "runs in; a mistyped name would make a folder no engine watches)"
        )
    return path


def write_request(
    folder: Path, name: str, reason: str, *, confirm_safe: bool = False, now: datetime | None = None
) -> tuple[Path, ControlRequest]:
    """Write ``folder/name`` atomically (the folder must exist); returns its path and the
    request written."""
    if name not in _KINDS:
        raise ValueError(f"unknown control file {name!r}")
    request = ControlRequest(
        kind=_KINDS[name],
        requested_at=(now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds"),
        requested_by=_who(),
        reason=reason,
        pid=os.getpid(),
        confirm_safe=confirm_safe,
        request_id=secrets.token_hex(8),
    )
    with open_folder(folder) as f:
        return f.write_atomic(name, request.to_json()), request


def read_request(path: Path) -> ControlRequest:
    """A control file's request; DataError naming the file when it is not one (a link, a
    folder, a FIFO, too large, not UTF-8, not JSON, a field of the wrong type)."""
    try:
        with open_folder(path.parent) as f:
            data = f.read_bytes(path.name, limit=_MAX_BYTES)
    except FileAccessError as e:
        error = DataError(str(e))  # the message names the path already
        error.file = str(path)
        raise error from None
    try:
        doc: Any = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise DataError(
            "not a control request: the file is not UTF-8 text", file=str(path)
        ) from None
    except json.JSONDecodeError as e:
        raise DataError(
            f"not a JSON control request: {e.msg}", file=str(path), line=e.lineno
        ) from None
    except (ValueError, RecursionError):
        raise DataError(
            "not a JSON control request: a value is out of range", file=str(path)
        ) from None
    if not isinstance(doc, dict) or doc.get("kind") not in _KINDS.values():
        raise DataError("not a control request (no kind emergency_stop or resume)", file=str(path))
    pid = doc.get("pid", 0)
    if pid.__class__ is not int or not 0 <= pid <= _MAX_PID:
        raise DataError("not a control request: 'pid' is not a process id", file=str(path))
    text = {}
    for key in ("requested_at", "requested_by", "reason", "request_id"):
        value = doc.get(key, "")
        if not isinstance(value, str):
            raise DataError(f"not a control request: '{key}' is not text", file=str(path))
        text[key] = value
    return ControlRequest(
        kind=doc["kind"],
        requested_at=text["requested_at"],
        requested_by=text["requested_by"],
        reason=text["reason"],
        pid=pid,
        confirm_safe=doc.get("confirm_safe") is True,
        request_id=text["request_id"],
    )


def pending_request(folder: Path, name: str) -> Pending | None:
    """What is under ``folder/name`` now, without following it; None when nothing is."""
    with open_folder(folder) as f:
        kind = f.kind(name)
    if kind is None:
        return None
    path = folder / name
    try:
        return Pending(path, read_request(path), None)
    except DataError as e:
        problem = re.sub(rf"^{re.escape(str(path))}(:[0-9]+)?: ", "", str(e))
        problem = problem.replace(f"{path} is a", "it is a")
        return Pending(path, None, problem)


def move_aside(folder: Path, name: str, label: str, now: datetime | None = None) -> Path | None:
    """Rename whatever is at ``folder/name`` to ``name.<label>-<UTC time>``; None if nothing."""
    with open_folder(folder) as f:
        if f.kind(name) is None:
            return None
        return f.rename(name, f"{name}.{label}-{_stamp(now)}")


def claim_request(
    folder: Path, name: str, *, pid: int | None = None, now: datetime | None = None
) -> Claim | None:
    """The running engine's side: take the request at ``folder/name`` (one atomic rename to
    ``name.handled-<time>-pid<PID>``); None when there is none or another process took it."""
    pid = os.getpid() if pid is None else pid
    at = _stamp(now)
    with open_folder(folder) as f:
        if f.kind(name) is None:
            return None
        try:
            path = f.rename(name, f"{name}.handled-{at}-pid{pid}")
        except FileAccessError:
            if f.kind(name) is None:
                return None  # another process won the rename
            raise
    try:
        return Claim(path, read_request(path), None, pid, at)
    except DataError as e:
        return Claim(path, None, str(e), pid, at)


def _handled(folder: Path) -> list[tuple[str, str, int, str]]:
    """(name, handled_at, pid, file name) of every handled request in the folder."""
    found = []
    with open_folder(folder) as f:
        for entry in f.names():
            m = _HANDLED.fullmatch(entry)
            if m is not None:
                found.append((m["name"], m["at"], int(m["pid"]), entry))
    return found


def control_state(folder: Path) -> ControlState:
    """Pending requests and the latest handled stop and resume in ``folder``."""
    handled = _handled(folder)
    stops = [at for name, at, _, _ in handled if name == STOP_FILE]
    resumes = [at for name, at, _, _ in handled if name == RESUME_FILE]
    with open_folder(folder) as f:
        stop, resume = f.kind(STOP_FILE), f.kind(RESUME_FILE)
    return ControlState(
        stop is not None, resume is not None, max(stops, default=None), max(resumes, default=None)
    )


def find_pickup(folder: Path, name: str, request_id: str) -> Pickup | None:
    """The handled file of ``name`` that carries ``request_id``, if a process took it."""
    for kind, at, pid, entry in sorted(_handled(folder), key=lambda h: h[1], reverse=True):
        if kind != name:
            continue
        try:
            request = read_request(folder / entry)
        except DataError:
            continue
        if request.request_id == request_id:
            return Pickup(folder / entry, pid, at)
    return None


def wait_for_pickup(
    folder: Path, name: str, request_id: str, timeout: float, *, poll: float = 0.05
) -> Pickup | None:
    """Wait at most ``timeout`` seconds for a running engine to claim the request."""
    deadline = time.monotonic() + timeout
    while True:
        pending = pending_request(folder, name)
        if pending is None or pending.request is None or pending.request.request_id != request_id:
            found = find_pickup(folder, name, request_id)
            if found is not None:
                return found
        if time.monotonic() >= deadline:
            return None
        time.sleep(min(poll, max(deadline - time.monotonic(), 0.0)))
