"""Every file the engine writes goes through here: atomic, inside its folder, never via a link.

A file the engine writes must never land somewhere else (through a symbolic link planted
in the folder, or a sub-folder swapped for a link to another place), must never be seen
half written, and must never hang the engine (a FIFO where a file was expected). So:

- A folder is opened once (``open_folder``). The folder the caller names may itself be a
  link (the user chose it); every name *below* it is opened relative to the folder's
  descriptor with ``O_NOFOLLOW``, so a link in the way is refused (``UnsafePathError``),
  never followed, and a folder cannot be swapped between a check and its use.
- ``Folder.write_atomic`` writes a temporary file created the way ``tempfile.mkstemp``
  creates one (a random, unpredictable name, ``O_CREAT | O_EXCL | O_NOFOLLOW``, mode 0600)
  but relative to the folder's descriptor, syncs it, gives it its final mode and renames
  it over the target, then syncs the folder. Readers see the old file or the new one,
  never a mix; a planted ``.NAME.tmp`` link is never written through; a crash leaves at
  most a ``.NAME.<random>.tmp`` file beside the target.
- ``Folder.open_append`` is the primitive for append-only logs: ``O_APPEND | O_NOFOLLOW``,
  regular files only, one ``write`` per record, an optional fsync per record and an
  optional exclusive lock so that one process owns the log.
- ``Folder.open_locked`` opens a file for reading and rewriting under an exclusive
  ``flock``, re-checking after the lock that the name still holds the same file (a
  writer may have replaced it meanwhile). The bar store and retention share it.
- ``Folder.read_bytes`` reads regular files only, bounded when asked, without following
  a link: a FIFO or device where a file is expected is reported, never waited on.

Every writer in the engine uses this module, and every later one must too: the run
journal (on ``open_append``), reports and exported results (on ``write_atomic``). A plain
``open(path, "w")`` elsewhere in the engine is a defect. Operating-system errors come back
as ``FileAccessError`` naming the path and the reason (exit code 2, no traceback).

POSIX only (descriptor-relative calls and ``flock``), which is where the engine runs.
"""

from __future__ import annotations

import errno
import fcntl
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import IO

from engine.errors import FileAccessError, UnsafePathError

__all__ = [
    "DEFAULT_MODE",
    "AppendFile",
    "Folder",
    "is_temporary_name",
    "open_folder",
    "write_atomic",
]

DEFAULT_MODE = 0o644  # before the umask
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_TEMP_SUFFIX = ".tmp"
_umask: int | None = None


def _current_umask() -> int:
    global _umask
    if _umask is None:
        _umask = os.umask(0o022)
        os.umask(_umask)
    return _umask


def _check_name(name: str) -> None:
    if not name or name in (".", "..") or "/" in name or "\0" in name:
        raise ValueError(f"{name!r} is not a single file name")


def is_temporary_name(name: str, target: str) -> bool:
    """True for a temporary file ``write_atomic`` makes while writing ``target``."""
    return name.startswith(f".{target}.") and name.endswith(_TEMP_SUFFIX)


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "symbolic link"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device"


class Folder:
    """An open folder. Names below it are single components, opened relative to it."""

    __slots__ = ("_fd", "path")

    def __init__(self, fd: int, path: Path) -> None:
        self._fd = fd
        self.path = path

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> Folder:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Folder({str(self.path)!r})"

    # ------------------------------------------------------------------ looking
    def kind(self, name: str) -> str | None:
        """What ``name`` is, without following it ("file", "folder", "symbolic link",
        "FIFO", "socket", "device"), or None when there is nothing by that name."""
        _check_name(name)
        try:
            return _kind(os.lstat(name, dir_fd=self._fd).st_mode)
        except FileNotFoundError:
            return None
        except OSError as e:
            raise FileAccessError(
                f"cannot look at {self.path / name}: {e.strerror}", path=str(self.path / name)
            ) from None

    def names(self) -> list[str]:
        """Every name in the folder, sorted."""
        try:
            return sorted(os.listdir(self._fd))
        except OSError as e:
            raise FileAccessError(f"cannot list {self.path}: {e.strerror}") from None

    def child(self, name: str, *, create: bool = False) -> Folder:
        """The sub-folder ``name`` (made when ``create``); a link there is refused."""
        _check_name(name)
        if create:
            try:
                os.mkdir(name, 0o777, dir_fd=self._fd)
            except FileExistsError:
                pass
            except OSError as e:
                raise self._error(e, name, "create the folder", "folder") from None
        try:
            fd = os.open(name, _DIR_FLAGS, dir_fd=self._fd)
        except OSError as e:
            raise self._error(e, name, "open the folder", "folder") from None
        return Folder(fd, self.path / name)

    # ------------------------------------------------------------------ reading
    def read_bytes(self, name: str, *, limit: int | None = None) -> bytes:
        """The bytes of the regular file ``name``; more than ``limit`` bytes is an error."""
        fd = self._open_regular(name, os.O_RDONLY, "read")
        with os.fdopen(fd, "rb") as f:
            try:
                data = f.read() if limit is None else f.read(limit + 1)
            except OSError as e:
                raise self._error(e, name, "read") from None
        if limit is not None and len(data) > limit:
            raise FileAccessError(
                f"{self.path / name} is larger than {limit} bytes; it is not a file the "
                "engine wrote",
                path=str(self.path / name),
            )
        return data

    # ------------------------------------------------------------------ writing
    def write_atomic(
        self, name: str, data: bytes | str, *, fsync: bool = True, mode: int | None = None
    ) -> Path:
        """Replace ``name`` with ``data`` in one rename (see the module docstring).

        ``mode`` defaults to the mode of the file being replaced, else 0644 less the umask.
        """
        _check_name(name)
        payload = data.encode("utf-8") if isinstance(data, str) else data
        if mode is None:
            mode = self._mode_of(name)
        tmp, fd = self._temporary(name)
        try:
            try:
                view = memoryview(payload)
                while view:
                    view = view[os.write(fd, view) :]
                os.fchmod(fd, mode)
                if fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, name, src_dir_fd=self._fd, dst_dir_fd=self._fd)
        except OSError as e:
            self._discard(tmp)
            raise self._error(e, name, "write") from None
        except BaseException:
            self._discard(tmp)
            raise
        if fsync:
            self.sync()
        return self.path / name

    def open_append(
        self,
        name: str,
        *,
        fsync_each: bool = False,
        exclusive: bool = False,
        mode: int = DEFAULT_MODE,
    ) -> AppendFile:
        """``name`` opened for appending records (created when missing).

        ``exclusive`` takes a non-blocking exclusive lock: a second writer is refused
        with ``FileAccessError`` instead of interleaving its records.
        """
        fd = self._open_regular(name, os.O_WRONLY | os.O_APPEND, "append to", create=mode)
        if exclusive:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise FileAccessError(
                    f"{self.path / name} is being written by another process",
                    path=str(self.path / name),
                ) from None
        return AppendFile(fd, self.path / name, fsync_each)

    @contextmanager
    def open_locked(self, name: str, *, create: bool = True) -> Iterator[IO[bytes]]:
        """``name`` opened for reading and writing under an exclusive ``flock``.

        The lock waits for other holders. After locking, the handle is checked to still
        be the file named ``name`` (a holder may have replaced it) and reopened if not.
        """
        while True:
            fd = self._open_regular(
                name, os.O_RDWR, "open", create=DEFAULT_MODE if create else None
            )
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                now = os.fstat(fd)
                named = os.lstat(name, dir_fd=self._fd)
                if (now.st_ino, now.st_dev) == (named.st_ino, named.st_dev):
                    break
            except FileNotFoundError:
                if not create:
                    os.close(fd)
                    raise FileAccessError(
                        f"{self.path / name} was removed while waiting for its lock",
                        path=str(self.path / name),
                    ) from None
            except OSError as e:
                os.close(fd)
                raise self._error(e, name, "lock") from None
            os.close(fd)
        f = os.fdopen(fd, "r+b")
        try:
            yield f
        finally:
            f.close()  # closing releases the lock

    def rename(self, name: str, new_name: str) -> Path:
        """Rename ``name`` (whatever it is; a link is moved, not followed) within the folder."""
        _check_name(name)
        _check_name(new_name)
        try:
            os.rename(name, new_name, src_dir_fd=self._fd, dst_dir_fd=self._fd)
        except OSError as e:
            raise self._error(e, name, "rename") from None
        return self.path / new_name

    def unlink(self, name: str) -> None:
        """Remove the file ``name`` (a link itself, never its target)."""
        _check_name(name)
        try:
            os.unlink(name, dir_fd=self._fd)
        except OSError as e:
            raise self._error(e, name, "remove") from None

    def sync(self) -> None:
        """Make renames and new names in this folder durable."""
        try:
            os.fsync(self._fd)
        except OSError as e:
            raise FileAccessError(f"cannot sync {self.path}: {e.strerror}") from None

    # ------------------------------------------------------------------ inside
    def _open_regular(self, name: str, flags: int, doing: str, *, create: int | None = None) -> int:
        _check_name(name)
        flags |= _FILE_FLAGS
        if create is not None:
            flags |= os.O_CREAT
        try:
            fd = os.open(name, flags, create or 0, dir_fd=self._fd)
        except OSError as e:
            raise self._error(e, name, doing) from None
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            raise self._not_a_file(name, _kind(mode))
        os.set_blocking(fd, True)
        return fd

    def _temporary(self, name: str) -> tuple[str, int]:
        for _ in range(100):
            tmp = f".{name}.{secrets.token_hex(6)}{_TEMP_SUFFIX}"
            try:
                return tmp, os.open(tmp, _TEMP_FLAGS, 0o600, dir_fd=self._fd)
            except FileExistsError:
                continue
            except OSError as e:
                raise FileAccessError(
                    f"cannot write {self.path / name}: {e.strerror}", path=str(self.path / name)
                ) from None
        raise FileAccessError(f"cannot create a temporary file in {self.path}")

    def _discard(self, tmp: str) -> None:
        try:
            os.unlink(tmp, dir_fd=self._fd)
        except OSError:
            pass

    def _mode_of(self, name: str) -> int:
        try:
            st = os.lstat(name, dir_fd=self._fd)
        except OSError:
            st = None
        if st is not None and stat.S_ISREG(st.st_mode):
            return stat.S_IMODE(st.st_mode)
        return DEFAULT_MODE & ~_current_umask()

    def _not_a_file(self, name: str, kind: str, want: str = "file") -> FileAccessError:
        path = self.path / name
        if kind == "symbolic link":
            try:
                target = os.readlink(name, dir_fd=self._fd)
            except OSError:
                target = "?"
            return UnsafePathError(
                f"{path} is a symbolic link (to {target}); the engine never reads or writes "
                "through a link inside its folders: remove the link, or point the engine "
                "at the real folder",
                path=str(path),
            )
        cls = FileAccessError if kind in ("file", "folder") else UnsafePathError
        return cls(f"{path} is a {kind}, not a {want}", path=str(path))

    def _error(self, e: OSError, name: str, doing: str, want: str = "file") -> FileAccessError:
        """An ``OSError`` on ``name`` as a message naming the path and what is wrong."""
        path = self.path / name
        if e.errno in (errno.ELOOP, errno.ENOTDIR, errno.EISDIR, errno.ENXIO, errno.EEXIST):
            try:
                kind = _kind(os.lstat(name, dir_fd=self._fd).st_mode)
            except OSError:
                kind = None
            if kind is not None and kind != want:
                return self._not_a_file(name, kind, want)
        if e.errno == errno.ENOENT:
            return FileAccessError(f"{path}: no such {want}", path=str(path))
        return FileAccessError(f"cannot {doing} {path}: {e.strerror}", path=str(path))


class AppendFile:
    """A file open for appending records: one ``write`` call per record, in order."""

    __slots__ = ("_fd", "fsync_each", "path")

    def __init__(self, fd: int, path: Path, fsync_each: bool) -> None:
        self._fd = fd
        self.path = path
        self.fsync_each = fsync_each

    def write(self, record: bytes) -> None:
        """Append one record (the caller includes its terminator, e.g. a newline)."""
        try:
            view = memoryview(record)
            while view:
                view = view[os.write(self._fd, view) :]
            if self.fsync_each:
                os.fsync(self._fd)
        except OSError as e:
            raise FileAccessError(
                f"cannot append to {self.path}: {e.strerror}", path=str(self.path)
            ) from None

    def sync(self) -> None:
        try:
            os.fsync(self._fd)
        except OSError as e:
            raise FileAccessError(f"cannot sync {self.path}: {e.strerror}") from None

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> AppendFile:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_folder(path: str | Path, *parts: str, create: bool = False) -> Folder:
    """``path`` (which may be a link: the caller named it), then each of ``parts`` below it,
    none of which may be a link. ``create`` makes whatever is missing."""
    p = Path(path)
    if create:
        try:
            p.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            pass  # a file by that name: reported by the open below
        except OSError as e:
            raise FileAccessError(
                f"cannot create the folder {p}: {e.strerror}", path=str(p)
            ) from None
    try:
        fd = os.open(p, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except NotADirectoryError:
        raise FileAccessError(f"{p} is not a folder", path=str(p)) from None
    except FileNotFoundError:
        raise FileAccessError(f"{p}: no such folder", path=str(p)) from None
    except OSError as e:
        raise FileAccessError(f"cannot open the folder {p}: {e.strerror}", path=str(p)) from None
    folder = Folder(fd, p)
    try:
        for part in parts:
            inner = folder.child(part, create=create)
            folder.close()
            folder = inner
    except BaseException:
        folder.close()
        raise
    return folder


def write_atomic(
    path: str | Path, data: bytes | str, *, fsync: bool = True, mode: int | None = None
) -> Path:
    """Replace the file ``path`` atomically; its folder must exist (and may be a link)."""
    p = Path(path)
    if p.name in ("", ".", ".."):
        raise FileAccessError(f"{p} names a folder; a file name was expected", path=str(p))
    with open_folder(p.parent) as folder:
        return folder.write_atomic(p.name, data, fsync=fsync, mode=mode)
