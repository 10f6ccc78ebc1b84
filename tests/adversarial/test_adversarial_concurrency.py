"""Two processes importing into one store at the same time store every bar exactly once."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

from engine.data.storage import BarStore
from engine.model import Timeframe

WORKERS = Path(__file__).parent / "workers"
ENGINE = Path(sys.executable).parent / "engine"


def stored_starts(path: Path) -> list[int]:
    return [json.loads(line)["t"] for line in path.read_text().splitlines()[1:]]


def test_store_when_two_processes_append_crosswise_then_every_bar_once_in_order(
    tmp_path: Path, market_dir: Path
) -> None:
    source = market_dir / "banknifty_1m_2023q2.csv"
    root, go = tmp_path / "st", tmp_path / "go"
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                str(WORKERS / "append_worker.py"),
                str(root),
                str(go),
                order,
                str(source),
                "1000",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for order in ("forward", "backward")
    ]
    time.sleep(1.5)  # both have read the file and wait for the start
    go.write_text("go")
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        results.append(json.loads(out))
    assert sum(r["written"] for r in results) == 15001
    assert all(r["written"] + r["skipped"] == 15001 for r in results)
    starts = stored_starts(root / "timeframes" / "BANKNIFTY" / "1m.jsonl")
    assert len(starts) == 15001 and starts == sorted(set(starts))
    assert len(BarStore(root).load("BANKNIFTY", Timeframe.M1).items) == 15001


def test_import_when_two_engine_processes_at_once_then_every_bar_once(
    tmp_path: Path, market_dir: Path
) -> None:
    root = tmp_path / "st"
    commands = [
        [
            str(ENGINE),
            "data",
            "import",
            str(market_dir / name),
            "--root",
            str(root),
            "--symbol",
            "BANKNIFTY",
            "--tf",
            "1m",
        ]
        for name in ("banknifty_1m_2023q2.csv", "banknifty_1m_2023q2.csv")
    ]
    processes = [
        subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for c in commands
    ]
    outs = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode in (0, 1) and "Traceback" not in err, err
        outs.append(out)
    stored = sum(int(s) for out in outs for s in re.findall(r"stored (\d+),", out))
    starts = stored_starts(root / "timeframes" / "BANKNIFTY" / "1m.jsonl")
    assert len(starts) == stored and starts == sorted(set(starts))
    assert stored == 15000  # the 15:30 bar of 2023-06-01 is outside the session
