"""Storage layer for incident-tui: a TinyDB database in one local file.

Provisional implementation (stock JSONStorage plus a file lock) so that other
layers can build against the API; the journal-based internals replace it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from typing import Any

from tinydb import TinyDB
from tinydb.storages import JSONStorage

__all__ = ["open_db", "transaction", "StoreError", "CorruptDatabaseError", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1
APP_NAME = "incident-tui"


class StoreError(Exception):
    """Base class of every error raised by the store."""


class CorruptDatabaseError(StoreError):
    """The database file is corrupt, truncated or not an incident-tui database."""


class _LockedJSONStorage(JSONStorage):
    """Stock JSON storage with a cross-process lock file (provisional)."""

    def __init__(self, path: str) -> None:
        super().__init__(path, create_dirs=True)
        self.path = path
        self._lock_fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        self._depth = 0
        self._mutex = threading.RLock()
        self._stamp = self._stat()

    def _stat(self) -> tuple[int, int]:
        st = os.stat(self.path)
        return (st.st_mtime_ns, st.st_size)

    def refresh(self) -> bool:
        """Return True if another process changed the file since we last looked."""
        stamp = self._stat()
        changed = stamp != self._stamp
        self._stamp = stamp
        return changed

    def compact(self) -> None:
        """No-op in the provisional implementation (the file is always compact)."""

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        super().write(data)
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._stamp = self._stat()

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        with self._mutex:
            if self._depth == 0:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def close(self) -> None:
        super().close()
        os.close(self._lock_fd)


def open_db(path: str | os.PathLike[str]) -> TinyDB:
    """Open (creating when missing) the incident-tui database at ``path``.

    Raises CorruptDatabaseError when the file is not a readable incident-tui
    database; the file is left untouched in that case.
    """
    path = os.fspath(path)
    if os.path.exists(path) and os.path.getsize(path) > 0:
        try:
            with open(path, "rb") as fh:
                data = json.loads(fh.read())
        except (ValueError, UnicodeDecodeError) as exc:
            raise CorruptDatabaseError(f"{path}: not valid JSON ({exc})") from None
        if not isinstance(data, dict) or "_meta" not in data:
            raise CorruptDatabaseError(f"{path}: not an incident-tui database (no _meta table)")
    else:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
    db = TinyDB(path, storage=_LockedJSONStorage)
    if not db.table("_meta").all():
        db.table("_meta").insert({"app": APP_NAME, "schema": SCHEMA_VERSION})
    os.chmod(path, 0o600)
    return db


@contextlib.contextmanager
def transaction(db: TinyDB) -> Iterator[TinyDB]:
    """Run the block under the cross-process lock (provisional: no rollback yet)."""
    with db.storage.locked():
        for table in db._tables.values():
            table.clear_cache()
            table._next_id = None
        yield db
