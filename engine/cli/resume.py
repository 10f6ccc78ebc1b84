"""``engine resume --confirm-safe --reason TEXT``: ask to trade again after a kill-switch halt.

Writes a RESUME request into the engine's working folder (which must exist), then waits
a short, bounded time (``--wait``) and says whether a running engine picked it up. The
kill switch accepts it only while halted; it then waits for reconciliation to confirm a
flat book and trades at reduced size (half size, one position) for an hour before it is
fully armed again. Both flags are required: the operator states the account is safe, and
why.

Refused, with nothing written (exit 2): while an EMERGENCY_STOP is pending (no engine has
handled it yet), and when no halt awaits a resume (no handled EMERGENCY_STOP newer than
the last handled RESUME; see ``engine.machines.control``).
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--confirm-safe",
        action="store_true",
        help="required: you checked the account is flat and safe to trade",
    )
    parser.add_argument("--reason", default="", help="required: why trading may resume")
    parser.add_argument(
        "--workdir",
        default=".",
        metavar="DIR",
        help="the engine's working folder; it must exist (default: the current folder)",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="how long to wait for a running engine to pick the request up (default: 2)",
    )


def run(args: argparse.Namespace) -> int:
    from engine.errors import UserInputError
    from engine.machines.control import (
        RESUME_FILE,
        STOP_FILE,
        control_state,
        move_aside,
        pending_request,
        wait_for_pickup,
        working_folder,
        write_request,
    )

    missing = [
        flag
        for flag, given in (
            ("--confirm-safe", args.confirm_safe),
            ("--reason TEXT", bool(args.reason.strip())),
        )
        if not given
    ]
    if missing:
        raise UserInputError(
            f"resume needs {' and '.join(missing)}: confirm you checked the account is flat "
            "and safe, and say why trading may resume (nothing was written)"
        )
    if not 0 <= args.wait <= 60:
        raise UserInputError(f"--wait: {args.wait:g} is not between 0 and 60 seconds")
    folder = working_folder(args.workdir)
    stop = pending_request(folder, STOP_FILE)
    if stop is not None:
        who = (
            f"by {stop.request.requested_by} at {stop.request.requested_at}"
            if stop.request is not None
            else f"unreadable: {stop.problem}; an engine still treats it as a stop"
        )
        raise UserInputError(
            f"the kill switch request in {stop.path} ({who}) has not been handled by an "
            "engine yet; start the engine (it halts first), then resume (nothing was written)"
        )
    if not control_state(folder).halted:
        raise UserInputError(
            f"no kill-switch halt awaits a resume in {folder}: there is no handled "
            "EMERGENCY_STOP newer than the last resume (nothing was written)"
        )
    pending = pending_request(folder, RESUME_FILE)
    if pending is not None and pending.request is not None:
        first = pending.request
        print(
            f"resume already requested by {first.requested_by} at {first.requested_at} "
            f"({pending.path}); the request stands"
        )
        return 0
    if pending is not None:
        moved = move_aside(folder, RESUME_FILE, "invalid")
        print(f"{pending.path} was not a readable request ({pending.problem}); moved to {moved}")
    path, request = write_request(folder, RESUME_FILE, args.reason.strip(), confirm_safe=True)
    print(f"resume requested at {request.requested_at} by {request.requested_by}: {path}")
    pickup = wait_for_pickup(folder, RESUME_FILE, request.request_id, args.wait)
    if pickup is not None:
        print(f"picked up by the engine with pid {pickup.pid} ({pickup.path.name})")
    else:
        print(
            f"no running engine picked it up within {args.wait:g} s; the next engine start reads it"
        )
    print(
        "the kill switch resumes only from halted, after reconciliation confirms a flat "
        "book, at half size and one position for the first hour"
    )
    return 0
