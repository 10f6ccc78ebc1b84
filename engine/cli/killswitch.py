"""``engine kill-switch --confirm``: stop all trading now.

Writes an EMERGENCY_STOP request (who, when, why) into the engine's working folder. A
running engine picks it up within a tick and its kill switch cancels every working
order, flattens every position and halts until ``engine resume``; an engine that is not
running reads it first thing when it starts. Without ``--confirm`` nothing is written.
"""

from __future__ import annotations

import argparse
from pathlib import Path


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
        help="the engine's working folder (default: the current folder)",
    )


def run(args: argparse.Namespace) -> int:
    from engine.errors import UserInputError
    from engine.machines.control import STOP_FILE, read_request, write_request

    folder = Path(args.workdir)
    if not args.confirm:
        raise UserInputError(
            "the kill switch cancels every working order, closes every position and halts "
            "trading until 'engine resume'; run it again with --confirm to do that "
            "(nothing was written)"
        )
    target = folder / STOP_FILE
    if target.exists():
        first = read_request(target)
        print(
            f"kill switch already requested by {first.requested_by} at {first.requested_at} "
            f"({target}); the request stands"
        )
        return 0
    path, request = write_request(folder, STOP_FILE, args.reason)
    print(f"kill switch requested at {request.requested_at} by {request.requested_by}: {path}")
    print(
        "a running engine cancels all orders, flattens and halts within a tick; "
        "to trade again later: engine resume --confirm-safe --reason TEXT"
    )
    return 0
