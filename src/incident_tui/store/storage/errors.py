"""The store's errors, and the one-line messages that name the database file they are about."""

from __future__ import annotations

from dataclasses import dataclass

from incident_tui.domain.errors import IncidentTuiError


class StoreError(IncidentTuiError):
    """Base class of every error raised by the store."""


class CorruptDatabaseError(StoreError):
    """The database file is corrupt, truncated or not an incident-tui database.

    The message is one line naming the file and the problem.  The file has
    not been modified.
    """


class SchemaVersionError(StoreError):
    """The file was written by a newer incident-tui (unknown schema version)."""


class UnsafeFileError(CorruptDatabaseError):
    """A database file (snapshot, journal, lock) is a symlink, a directory, a FIFO or a device.

    Refused without following, opening for write or replacing it.
    """


@dataclass(frozen=True)
class LockHolder:
    """The process holding a database lock, as far as it can be found out."""

    pid: int
    name: str = ""

    def __str__(self) -> str:
        return f"pid {self.pid} ({self.name})" if self.name else f"pid {self.pid}"


class LockTimeoutError(StoreError):
    """The database lock was held by another process for longer than the lock timeout."""

    def __init__(self, message: str, holder: LockHolder | None, waited: float) -> None:
        super().__init__(message)
        self.holder = holder
        self.waited = waited


def one_line(text: str) -> str:
    """``text`` with every run of white space (newlines included) folded to one space."""
    return " ".join(str(text).split())


def corrupt(db_path: str, what: str, path: str | None = None) -> CorruptDatabaseError:
    """The error for a bad snapshot (or, with ``path``, a bad journal) of the database at ``db_path``."""
    return CorruptDatabaseError(one_line(f"cannot open database {path or db_path}: {what} (file left unchanged)"))


def unsafe(db_path: str, path: str, what: str, kind: str) -> UnsafeFileError:
    """The error for one of the database's files (``what``: "journal", ...) that is not a regular file."""
    if path == db_path:
        detail = f"it {kind}, not a regular file; refusing to read or replace it"
    else:
        detail = f"its {what} {path} {kind}, not a regular file; refusing to follow or overwrite it (remove it)"
    return UnsafeFileError(one_line(f"cannot open database {db_path}: {detail}"))
