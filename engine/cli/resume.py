"""``engine resume --confirm-safe --reason TEXT``: ask to trade again after a kill-switch halt.

Writes a RESUME request into the engine's working folder. The kill switch accepts it
only while halted; it then waits for reconciliation to confirm a flat book and trades at
reduced size (half size, one position) for an hour before it is fully armed again. Both
flags are required: the operator states the account is safe, and why.
"""

from __future__ import annotations

import argparse
from pathlib import Path


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
        help="the engine's working folder (default: the current folder)",
    )


def run(args: argparse.Namespace) -> int:
    from engine.errors import UserInputError
    from engine.machines.control import RESUME_FILE, STOP_FILE, read_request, write_request

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
    folder = Path(args.workdir)
    stop = folder / STOP_FILE
    if stop.exists():
        pending = read_request(stop)
        raise UserInputError(
            f"the kill switch request in {stop} (by {pending.requested_by} at "
            f"{pending.requested_at}) has not been handled by an engine yet; start the "
            "engine (it halts first), then resume"
        )
    path, request = write_request(folder, RESUME_FILE, args.reason.strip(), confirm_safe=True)
    print(f"resume requested at {request.requested_at} by {request.requested_by}: {path}")
    print(
        "the kill switch resumes only from halted, after reconciliation confirms a flat "
        "book, at half size and one position for the first hour"
    )
    return 0
