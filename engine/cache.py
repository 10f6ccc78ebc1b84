"""A content-addressed cache of work already done: checked files and validated data.

Loading a strategy re-checks its schema, lints and the machines' safety properties, and
reading a data file re-parses and re-validates every bar. When the same bytes were
checked before by the same engine, the answer is the same, so it is kept here under a
key that is the SHA-256 of everything that decided it: the file's bytes, the files it
depends on, and a fingerprint of the engine's own code (its version and the size and
modification time of every module), so a changed file or a changed engine misses.

Only successful work is cached; an error is always found again, with its location.
The folder is ``$ENGINE_CACHE_DIR``, else ``$XDG_CACHE_HOME/nse-rule-engine``, else
``~/.cache/nse-rule-engine``; ``ENGINE_CACHE_DIR=off`` turns the cache off. A cache entry
that cannot be read is ignored (and rewritten), never trusted: the cache can only save
time, never change an answer. Entries are written through ``engine.safe_files`` (a
temporary file renamed into place, never through a link), so a reader never sees half an
entry; each starts with the SHA-256 of its contents, so an entry damaged on disk (cut
short, a flipped bit) is ignored too.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from engine.logs import category_logger

__all__ = ["cache_dir", "cache_key", "read_entry", "write_entry"]

log = category_logger("cache")

ENV_VAR = "ENGINE_CACHE_DIR"
_APP = "nse-rule-engine"
_DIGEST_SIZE = 32  # the SHA-256 of an entry's contents, stored in front of them


def cache_dir() -> Path | None:
    """The cache folder, or None when the cache is off."""
    named = os.environ.get(ENV_VAR)
    if named is not None:
        if named.strip().lower() in ("", "off", "0", "none"):
            return None
        return Path(named).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / _APP


@cache
def _engine_fingerprint() -> bytes:
    from engine import __version__

    root = Path(__file__).resolve().parent
    h = hashlib.sha256(__version__.encode())
    for path in sorted(root.rglob("*.py")):
        st = path.stat()
        h.update(f"{path.relative_to(root)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    for path in sorted((root.parent / "schema").glob("*.json")):
        h.update(path.read_bytes())
    return h.digest()


def cache_key(kind: str, parts: Iterable[bytes]) -> str:
    """The key of one piece of work: its kind, its inputs' bytes, the engine's code."""
    h = hashlib.sha256(kind.encode() + b"\0" + _engine_fingerprint())
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.hexdigest()


def _path(kind: str, key: str) -> Path | None:
    folder = cache_dir()
    return None if folder is None else folder / kind / f"{key}.bin"


def read_entry(kind: str, key: str) -> bytes | None:
    path = _path(kind, key)
    if path is None:
        return None
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    digest, data = raw[:_DIGEST_SIZE], raw[_DIGEST_SIZE:]
    if len(digest) < _DIGEST_SIZE or hashlib.sha256(data).digest() != digest:
        return None  # damaged: ignored, and rewritten by the caller
    return data


def write_entry(kind: str, key: str, data: bytes) -> None:
    """Store an entry; a cache that cannot be written is logged and otherwise ignored."""
    path = _path(kind, key)
    if path is None:
        return
    from engine.errors import FileAccessError
    from engine.safe_files import open_folder

    try:
        with open_folder(path.parent, create=True) as folder:
            folder.write_atomic(path.name, hashlib.sha256(data).digest() + data, fsync=False)
    except FileAccessError as e:
        log.debug("cache entry {} not written: {}", path, e)
