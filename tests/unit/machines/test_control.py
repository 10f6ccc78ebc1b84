"""Control files: EMERGENCY_STOP and RESUME requests, written atomically, read defensively,
claimed once by a running engine."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.errors import DataError, FileAccessError
from engine.machines.control import (
    RESUME_FILE,
    STOP_FILE,
    claim_request,
    control_state,
    find_pickup,
    read_request,
    wait_for_pickup,
    write_request,
)


def test_write_request_when_stop_then_json_with_who_when_why(tmp_path: Path) -> None:
    now = datetime(2025, 1, 7, 4, 0, tzinfo=UTC)
    (tmp_path / "work").mkdir()
    path, request = write_request(tmp_path / "work", STOP_FILE, "broker outage", now=now)
    assert path == tmp_path / "work" / "EMERGENCY_STOP"
    data = json.loads(path.read_text())
    assert data["kind"] == "emergency_stop"
    assert data["requested_at"] == "2025-01-07T04:00:00+00:00"
    assert data["reason"] == "broker outage"
    assert "@" in data["requested_by"]
    assert read_request(path) == request
    assert [p.name for p in path.parent.iterdir()] == ["EMERGENCY_STOP"]  # no temp file left


def test_write_request_when_resume_then_confirm_safe_recorded(tmp_path: Path) -> None:
    path, _ = write_request(tmp_path, RESUME_FILE, "books checked", confirm_safe=True)
    request = read_request(path)
    assert (request.kind, request.confirm_safe, request.reason) == ("resume", True, "books checked")


def test_write_request_when_unknown_name_then_refuses(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_request(tmp_path, "STOP_EVERYTHING", "x")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("not json", "not a JSON control request"),
        ('{"kind": "party"}', "not a control request"),
    ],
)
def test_read_request_when_file_is_not_a_request_then_data_error(
    tmp_path: Path, text: str, fragment: str
) -> None:
    path = tmp_path / STOP_FILE
    path.write_text(text)
    with pytest.raises(DataError, match=fragment):
        read_request(path)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"\xff\xfe{", "not UTF-8"),
        (b'{"kind": "emergency_stop", "pid": 1e400}', "'pid' is not a process id"),
        (b'{"kind": "emergency_stop", "pid": true}', "'pid' is not a process id"),
        (b'{"kind": "emergency_stop", "reason": ["x"]}', "'reason' is not text"),
        (b"[" * 50_000, "not a JSON control request"),
        (b" " * 70_000, "larger than 65536 bytes"),
    ],
)
def test_read_request_when_hostile_content_then_data_error(
    tmp_path: Path, content: bytes, fragment: str
) -> None:
    (tmp_path / STOP_FILE).write_bytes(content)
    with pytest.raises(DataError, match=fragment):
        read_request(tmp_path / STOP_FILE)


def test_write_request_when_folder_missing_then_error_and_nothing_created(tmp_path: Path) -> None:
    with pytest.raises(FileAccessError, match="no such folder"):
        write_request(tmp_path / "typo", STOP_FILE, "x")
    assert not (tmp_path / "typo").exists()


def test_claim_request_when_claimed_then_handled_name_carries_pid_and_request_kept(
    tmp_path: Path,
) -> None:
    _, request = write_request(tmp_path, STOP_FILE, "outage")
    now = datetime(2026, 12, 1, 9, 15, tzinfo=UTC)
    claim = claim_request(tmp_path, STOP_FILE, pid=4242, now=now)
    assert claim is not None and claim.request == request and claim.pid == 4242
    assert claim.path.name == "EMERGENCY_STOP.handled-20261201T091500.000000Z-pid4242"
    assert claim_request(tmp_path, STOP_FILE) is None  # taken once only
    found = find_pickup(tmp_path, STOP_FILE, request.request_id)
    assert found is not None and (found.pid, found.path) == (4242, claim.path)


def test_claim_request_when_stop_unreadable_then_still_claimed_with_the_reason(
    tmp_path: Path,
) -> None:
    (tmp_path / STOP_FILE).mkdir()
    claim = claim_request(tmp_path, STOP_FILE)
    assert claim is not None and claim.request is None and "is a folder" in (claim.problem or "")


def test_control_state_when_stops_and_resumes_handled_then_halted_follows_the_latest(
    tmp_path: Path,
) -> None:
    assert not control_state(tmp_path).halted
    write_request(tmp_path, STOP_FILE, "a")
    state = control_state(tmp_path)
    assert state.stop_pending and not state.halted
    claim_request(tmp_path, STOP_FILE, now=datetime(2026, 12, 1, 9, tzinfo=UTC))
    assert control_state(tmp_path).halted
    write_request(tmp_path, RESUME_FILE, "b", confirm_safe=True)
    claim_request(tmp_path, RESUME_FILE, now=datetime(2026, 12, 1, 10, tzinfo=UTC))
    assert not control_state(tmp_path).halted


def test_wait_for_pickup_when_nobody_claims_then_none_after_the_timeout(tmp_path: Path) -> None:
    _, request = write_request(tmp_path, STOP_FILE, "x")
    assert wait_for_pickup(tmp_path, STOP_FILE, request.request_id, 0.1) is None
