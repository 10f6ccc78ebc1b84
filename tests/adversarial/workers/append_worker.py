"""A second process for the concurrency test: appends a real file's bars to a store in
chunks, forward or backward, once a start file appears; prints how many it stored."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from engine.data.csv_import import read_bars
from engine.data.storage import BarStore


def main(root: str, start_file: str, order: str, source: str, chunk: int) -> None:
    bars = read_bars(source).all_bars
    chunks = [bars[i : i + chunk] for i in range(0, len(bars), chunk)]
    if order == "backward":
        chunks.reverse()
    store = BarStore(root)
    deadline = time.monotonic() + 30
    while not Path(start_file).exists():
        if time.monotonic() > deadline:
            raise SystemExit("the start file never appeared")
        time.sleep(0.001)
    written = skipped = 0
    for part in chunks:
        report = store.append(part)
        written, skipped = written + report.written, skipped + report.skipped
    print(json.dumps({"written": written, "skipped": skipped}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
