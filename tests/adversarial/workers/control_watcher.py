"""A stand-in for the running engine's watcher in the pickup test: it claims control
requests with the same ``claim_request`` the runtime uses, then exits."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from engine.machines.control import claim_request


def main(folder: str, name: str, ready_file: str) -> None:
    Path(ready_file).write_text("ready")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        claim = claim_request(Path(folder), name)
        if claim is not None:
            print(claim.path.name)
            return
        time.sleep(0.02)
    raise SystemExit("no request arrived")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
