"""The kill switch always works: whatever sits where its file goes is reported and
replaced, never a traceback or a hang; it says whether a running engine picked the
request up; resume is refused when nothing awaits it; no stale RESUME beside a stop."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.machines.control import RESUME_FILE, STOP_FILE, claim_request, read_request

WORKERS = Path(__file__).parent / "workers"
ENGINE = Path(sys.executable).parent / "engine"


def engine(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ENGINE), *args], capture_output=True, text=True, timeout=30, check=False
    )


def _link_out(path: Path) -> None:
    path.symlink_to(path.parent.parent / "outside" / "victim")


IN_THE_WAY: dict[str, Callable[[Path], None]] = {
    "garbage": lambda p: p.write_text("stop everything!!\n"),
    "not-utf8": lambda p: p.write_bytes(b'{"kind": "emergency_stop", "reason": "\xff\xfe"}'),
    "pid-1e400": lambda p: p.write_text('{"kind": "emergency_stop", "pid": 1e400}'),
    "pid-text": lambda p: p.write_text('{"kind": "emergency_stop", "pid": "1"}'),
    "deep-json": lambda p: p.write_text("[" * 50_000 + "]" * 50_000),
    "huge": lambda p: p.write_bytes(b" " * 10_000_000),
    "empty": lambda p: p.write_bytes(b""),
    "folder": lambda p: p.mkdir(),
    "fifo": lambda p: os.mkfifo(p),
    "link-out": _link_out,
    "dangling-link": lambda p: p.symlink_to(p.parent / "nowhere"),
}


@pytest.mark.parametrize("kind", list(IN_THE_WAY))
def test_kill_switch_when_something_unreadable_in_the_way_then_reported_and_replaced(
    tmp_path: Path, kind: str
) -> None:
    work, outside = tmp_path / "work", tmp_path / "outside"
    work.mkdir()
    outside.mkdir()
    (outside / "victim").write_text("keep me\n")
    IN_THE_WAY[kind](work / STOP_FILE)
    done = engine(
        "kill-switch", "--confirm", "--reason", "test", "--workdir", str(work), "--wait", "0"
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "was not a readable request" in done.stdout and "moved to" in done.stdout
    request = read_request(work / STOP_FILE)
    assert (request.kind, request.reason) == ("emergency_stop", "test")
    aside = [p.name for p in work.iterdir() if p.name.startswith(f"{STOP_FILE}.invalid-")]
    assert len(aside) == 1  # what was in the way is kept for the record
    assert (outside / "victim").read_text() == "keep me\n"
    assert not (work / "nowhere").exists()


def test_kill_switch_when_resume_pending_then_resume_withdrawn(tmp_path: Path) -> None:
    (tmp_path / RESUME_FILE).write_text('{"kind": "resume"}')
    done = engine("kill-switch", "--confirm", "--workdir", str(tmp_path), "--wait", "0")
    assert done.returncode == 0 and "a pending resume request was withdrawn" in done.stdout
    names = sorted(p.name for p in tmp_path.iterdir())
    assert STOP_FILE in names and RESUME_FILE not in names
    assert any(n.startswith(f"{RESUME_FILE}.superseded-") for n in names)


def test_kill_switch_when_engine_running_then_says_which_pid_picked_it_up(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    work = tmp_path / "work"
    work.mkdir()
    watcher = subprocess.Popen(
        [sys.executable, str(WORKERS / "control_watcher.py"), str(work), STOP_FILE, str(ready)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        done = engine("kill-switch", "--confirm", "--workdir", str(work), "--wait", "10")
        out, err = watcher.communicate(timeout=30)
    finally:
        watcher.kill()
    assert watcher.returncode == 0, err
    assert done.returncode == 0
    assert f"picked up by the engine with pid {watcher.pid} ({out.strip()})" in done.stdout
    handled = json.loads((work / out.strip()).read_text())
    assert handled["kind"] == "emergency_stop"


def test_kill_switch_when_nothing_picks_it_up_then_says_so_without_promising(
    tmp_path: Path,
) -> None:
    start = time.monotonic()
    done = engine("kill-switch", "--confirm", "--workdir", str(tmp_path), "--wait", "0.5")
    assert done.returncode == 0 and time.monotonic() - start < 20
    assert "no running engine picked it up within 0.5 s" in done.stdout
    assert "within a tick" not in done.stdout


@pytest.mark.parametrize("flag_value", ["missing", "a-file"])
def test_kill_switch_and_resume_when_workdir_is_not_a_folder_then_exit_2(
    tmp_path: Path, flag_value: str
) -> None:
    workdir = tmp_path / flag_value
    if flag_value == "a-file":
        workdir.write_text("x")
    for args in (
        ["kill-switch", "--confirm"],
        ["resume", "--confirm-safe", "--reason", "ok"],
    ):
        done = engine(*args, "--workdir", str(workdir), "--wait", "0")
        assert done.returncode == 2 and "--workdir" in done.stderr, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == (
        ["a-file"] if flag_value == "a-file" else []
    )


def test_resume_when_unreadable_stop_pending_then_refused(tmp_path: Path) -> None:
    (tmp_path / STOP_FILE).mkdir()
    done = engine("resume", "--confirm-safe", "--reason", "ok", "--workdir", str(tmp_path))
    assert done.returncode == 2 and "an engine still treats it as a stop" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [STOP_FILE]


def test_resume_when_last_halt_already_resumed_then_refused(tmp_path: Path) -> None:
    engine("kill-switch", "--confirm", "--workdir", str(tmp_path), "--wait", "0")
    claim_request(tmp_path, STOP_FILE)
    ok = engine(
        "resume", "--confirm-safe", "--reason", "a", "--workdir", str(tmp_path), "--wait", "0"
    )
    assert ok.returncode == 0, ok.stderr
    claim_request(tmp_path, RESUME_FILE)
    again = engine("resume", "--confirm-safe", "--reason", "b", "--workdir", str(tmp_path))
    assert again.returncode == 2 and "no kill-switch halt awaits a resume" in again.stderr
    assert not (tmp_path / RESUME_FILE).exists()
