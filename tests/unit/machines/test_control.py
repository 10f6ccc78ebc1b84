"""Control files: EMERGENCY_STOP and RESUME requests, written atomically."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.errors import DataError
from engine.machines.control import RESUME_FILE, STOP_FILE, read_request, write_request


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
