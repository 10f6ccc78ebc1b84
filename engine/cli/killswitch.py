"""``engine kill-switch --confirm``: stop all trading now.

Writes an EMERGENCY_STOP request (who, when, why) into the engine's working folder, which
must exist, then waits a short, bounded time (``--wait``, 2 s) and says whether a running
engine picked the request up ("picked up by pid N") or not yet: an engine that is not
running reads it first thing when it starts. A picked-up request makes the kill switch
cancel every working order, flatten every position and halt until ``engine resume``.

A readable pending request stands (a second one keeps the first). Anything else named
EMERGENCY_STOP (garbage, not UTF-8, a folder, a FIFO, a link) is moved aside, reported
and replaced; a pending RESUME is withdrawn (moved aside) so a stale resume never sits
next to the new stop. Without ``--confirm`` nothing is written. The protocol is described
in ``engine.machines.control``.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--confirm",
        action="store_true",
        help="required: you mean it (cancel all orders, flatten, halt)",
    )
    parser.add_argument("--reason", default="", help="why, for the journal and the operator")
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
        move_aside,
        pending_request,
        wait_for_pickup,
        working_folder,
        write_request,
    )

    if not args.confirm:
        raise UserInputError(
            "the kill switch cancels every working order, closes every position and halts "
            "trading until 'engine resume'; run it again with --confirm to do that "
            "(nothing was written)"
        )
    if not 0 <= args.wait <= 60:
        raise UserInputError(f"--wait: {args.wait:g} is not between 0 and 60 seconds")
    folder = working_folder(args.workdir)
    withdrawn = move_aside(folder, RESUME_FILE, "superseded")
    if withdrawn is not None:
        print(f"a pending resume request was withdrawn (moved to {withdrawn})")
    pending = pending_request(folder, STOP_FILE)
    if pending is not None and pending.request is not None:
        first = pending.request
        print(
            f"kill switch already requested by {first.requested_by} at {first.requested_at} "
            f"({pending.path}); the request stands: no running engine has picked it up yet, "
            "and the next engine start reads it first"
        )
        return 0
    if pending is not None:
        moved = move_aside(folder, STOP_FILE, "invalid")
        print(f"{pending.path} was not a readable request ({pending.problem}); moved to {moved}")
    path, request = write_request(folder, STOP_FILE, args.reason)
    print(f"kill switch requested at {request.requested_at} by {request.requested_by}: {path}")
    pickup = wait_for_pickup(folder, STOP_FILE, request.request_id, args.wait)
    if pickup is not None:
        print(
            f"picked up by the engine with pid {pickup.pid} ({pickup.path.name}): it cancels "
            "all orders, flattens and halts"
        )
    else:
        print(
            f"no running engine picked it up within {args.wait:g} s; the request stays in "
            f"{path} and the next engine start reads it first"
        )
    print("to trade again later: engine resume --confirm-safe --reason TEXT")
    return 0
