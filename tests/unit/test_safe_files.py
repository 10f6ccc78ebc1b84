"""safe_files: atomic writes, appends and locked rewrites that never follow a link."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pytest

from engine.errors import FileAccessError, UnsafePathError
from engine.safe_files import is_temporary_name, open_folder, write_atomic


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    victim = tmp_path / "outside" / "victim"
    victim.parent.mkdir()
    victim.write_text("keep me\n")
    return victim


def test_write_atomic_when_new_file_then_content_mode_and_no_temporary_left(
    tmp_path: Path,
) -> None:
    path = write_atomic(tmp_path / "a.txt", "hello\n")
    assert path.read_text() == "hello\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644 & ~_umask()
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_write_atomic_when_replacing_then_mode_of_the_old_file_kept(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("old")
    path.chmod(0o600)
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new" and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_write_atomic_when_target_is_a_link_then_link_replaced_and_target_untouched(
    tmp_path: Path, outside: Path
) -> None:
    link = tmp_path / "a.txt"
    link.symlink_to(outside)
    write_atomic(link, "mine\n")
    assert not link.is_symlink() and link.read_text() == "mine\n"
    assert outside.read_text() == "keep me\n"


@pytest.mark.parametrize("planted", [".a.txt.tmp", "a.txt.tmp", f".a.txt.{os.getpid()}.tmp"])
def test_write_atomic_when_predictable_temporary_is_a_link_then_never_written_through(
    tmp_path: Path, outside: Path, planted: str
) -> None:
    (tmp_path / planted).symlink_to(outside)
    write_atomic(tmp_path / "a.txt", "mine\n")
    assert outside.read_text() == "keep me\n" and (tmp_path / planted).is_symlink()


def test_open_folder_when_a_part_is_a_link_then_refused_with_its_target(
    tmp_path: Path, outside: Path
) -> None:
    (tmp_path / "sub").symlink_to(outside.parent)
    with pytest.raises(UnsafePathError, match="is a symbolic link"):
        open_folder(tmp_path, "sub")
    with pytest.raises(UnsafePathError):
        open_folder(tmp_path, "sub", "deeper", create=True)
    assert sorted(p.name for p in outside.parent.iterdir()) == ["victim"]


def test_open_folder_when_root_is_a_file_or_missing_then_file_access_error(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(FileAccessError, match="is not a folder"):
        open_folder(tmp_path / "f")
    with pytest.raises(FileAccessError, match="no such folder"):
        open_folder(tmp_path / "missing")


def test_read_bytes_when_fifo_then_refused_without_waiting(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    start = time.monotonic()
    with open_folder(tmp_path) as folder, pytest.raises(UnsafePathError, match="is a FIFO"):
        folder.read_bytes("pipe")
    assert time.monotonic() - start < 2


def test_read_bytes_when_over_the_limit_then_refused(tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(b"x" * 100)
    with open_folder(tmp_path) as folder:
        assert folder.read_bytes("big", limit=100) == b"x" * 100
        with pytest.raises(FileAccessError, match="larger than 99 bytes"):
            folder.read_bytes("big", limit=99)


def test_open_append_when_records_written_then_in_order_and_synced(tmp_path: Path) -> None:
    with open_folder(tmp_path) as folder:
        with folder.open_append("journal.jsonl", fsync_each=True) as log:
            log.write(b'{"n":1}\n')
            log.write(b'{"n":2}\n')
        with folder.open_append("journal.jsonl") as log:
            log.write(b'{"n":3}\n')
    assert (tmp_path / "journal.jsonl").read_bytes() == b'{"n":1}\n{"n":2}\n{"n":3}\n'


def test_open_append_when_name_is_a_link_or_fifo_then_refused(
    tmp_path: Path, outside: Path
) -> None:
    (tmp_path / "journal.jsonl").symlink_to(outside)
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    os.mkfifo(tmp_path / "pipe")
    with open_folder(tmp_path) as folder:
        for name in ("journal.jsonl", "dangling", "pipe"):
            with pytest.raises(UnsafePathError):
                folder.open_append(name)
    assert outside.read_text() == "keep me\n" and not (tmp_path / "nowhere").exists()


def test_open_append_when_exclusive_and_held_then_second_writer_refused(tmp_path: Path) -> None:
    with open_folder(tmp_path) as folder:
        first = folder.open_append("journal.jsonl", exclusive=True)
        try:
            with pytest.raises(FileAccessError, match="being written by another process"):
                folder.open_append("journal.jsonl", exclusive=True)
        finally:
            first.close()
        folder.open_append("journal.jsonl", exclusive=True).close()


def test_open_locked_when_file_replaced_while_waiting_then_waiter_gets_the_new_file(
    tmp_path: Path,
) -> None:
    (tmp_path / "data").write_bytes(b"old\n")
    seen: list[bytes] = []
    with open_folder(tmp_path) as folder:
        with folder.open_locked("data") as f:

            def waiter() -> None:
                with open_folder(tmp_path) as other, other.open_locked("data") as g:
                    seen.append(g.read())

            thread = threading.Thread(target=waiter)
            thread.start()
            time.sleep(0.2)
            assert f.read() == b"old\n"
            folder.write_atomic("data", b"new\n")
        thread.join(5)
    assert seen == [b"new\n"]


def test_is_temporary_name_when_made_by_write_atomic_then_recognised() -> None:
    assert is_temporary_name(".1m.jsonl.0a1b2c3d4e5f.tmp", "1m.jsonl")
    assert not is_temporary_name("1m.jsonl.tmp", "1m.jsonl")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
