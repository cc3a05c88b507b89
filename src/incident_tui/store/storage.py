"""Crash-safe, multi-process storage for incident-tui, underneath the TinyDB API.

Stock TinyDB rewrites the whole JSON file on every write: slow at scale, torn
by a kill -9 in the middle, and unsafe with two processes.  This module keeps
the TinyDB API (``open_db`` returns a :class:`tinydb.TinyDB`) and replaces the
layer below it:

* State lives in memory.  On disk there is a *snapshot* (``path``: a plain
  TinyDB-compatible JSON file whose ``_meta`` table says ``app`` and
  ``schema``) plus an append-only JSON-lines *journal* (``path + ".journal"``)
  of per-document operations.  Each line of the journal is one commit.
* Every commit takes ``fcntl.flock`` on ``path + ".lock"``, first catches up
  with what other processes appended, appends one line and fdatasyncs it.
  A write is acknowledged only after that, so kill -9 can at worst leave a torn
  last line, which readers ignore and the next writer truncates away.
* ``path`` is resolved to its real path first, so a symlink to the database
  shares its journal and lock.  The journal, lock and temp files are opened
  with O_NOFOLLOW (created with O_EXCL); a symlink, directory, FIFO or device
  in the place of any of them, or of the snapshot, is refused, never followed,
  truncated or replaced.
* A lock wait polls LOCK_NB with a backoff and gives up after
  ``lock_timeout`` seconds with :class:`LockTimeoutError`, naming the holder:
  the exclusive holder writes its pid and name into the lock file, and
  /proc/locks says who holds it when that is available.
* Compaction takes a consistent in-memory copy of the tables under the
  exclusive lock (a shallow copy: stored documents are never mutated in
  place), then, holding no lock, writes it as a new snapshot to a temp file
  in the same directory and fsyncs it.  Back under the lock, if nothing was
  committed meanwhile, it ``os.replace``\\ s the temp file over the old
  snapshot, fsyncs the directory and only then resets the journal; if
  something was, it starts over (and after a few tries compacts under the
  lock).  Writers therefore wait for the swap, never for the serialisation.
  The snapshot's ``_meta`` records the highest doc id of each table, so the
  first insert after an open does not scan the table for it.  Snapshot and journal header carry a
  generation number: a journal whose generation differs from the snapshot's is
  left over from a compaction interrupted after the replace, its records are
  already in the snapshot, and it is ignored.
* Other processes notice changes with two ``stat`` calls (``refresh()``): an
  unchanged (inode, size, mtime) pair means nothing happened; a new snapshot
  inode means a compaction (full reload); a longer journal means new lines to
  replay.

The hook into TinyDB is :class:`JournalTable` (installed as
``TinyDB.table_class``), which turns each write method into per-document
operations instead of TinyDB's read-modify-write of the whole database.  It
relies on internals of tinydb 4.9.0, which is pinned exactly; the unit tests
fail loudly if those internals change.

Store code never imports textual.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import gc
import glob
import os
import secrets
import stat
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from functools import partial
from dataclasses import dataclass
from typing import Any

import orjson
from tinydb import TinyDB
from tinydb.queries import QueryLike
from tinydb.storages import Storage
from tinydb.table import Table
from incident_tui.domain.errors import IncidentTuiError
from incident_tui.store.segment import (
    HEADER_LEN,
    Segment,
    SegmentError,
    decode_prefix,
    encode_snapshot,
    group_bodies,
    group_key,
    read_header,
)
from incident_tui.store.segment_table import MISSING as _OVERLAY_MISSING
from incident_tui.store.segment_table import SegmentedTable

__all__ = [
    "open_db",
    "transaction",
    "StoreError",
    "CorruptDatabaseError",
    "SchemaVersionError",
    "UnsafeFileError",
    "LockTimeoutError",
    "LockHolder",
    "DEFAULT_LOCK_TIMEOUT",
    "SCHEMA_VERSION",
    "MIGRATIONS",
    "JournalStorage",
    "JournalTable",
    "IncidentDB",
]

#: Version of the data layout inside the snapshot.  Bump it together with an
#: entry in :data:`MIGRATIONS`.
SCHEMA_VERSION = 2


def _v1_to_v2(data: dict[str, dict[str, Any]]) -> None:
    """Schema 2 changes the file layout only (the events segment, see store/segment.py).

    The documents stay as they are; writing the migrated state as a new
    snapshot is what lays the events out by incident with their index.
    """


#: ``MIGRATIONS[v]`` upgrades the in-memory data (``{table: {doc_id: doc}}``,
#: doc ids as strings) from schema ``v`` to ``v + 1``, in place.  Run at open,
#: under the exclusive lock, after the journal has been replayed; the result is
#: then written as a new snapshot.
MIGRATIONS: dict[int, Callable[[dict[str, dict[str, Any]]], None]] = {1: _v1_to_v2}

#: The table kept in the snapshot's segment (schema 2): written last, grouped by
#: ``SEGMENT_KEY``, with a byte-offset index in ``_meta``, so that opening parses
#: every other table and one group (one incident's timeline) is read on demand.
SEGMENT_TABLE = "events"
SEGMENT_KEY = "incident_id"

APP_NAME = "incident-tui"
META_TABLE = "_meta"
META_DOC_ID = "1"
JOURNAL_SUFFIX = ".journal"
LOCK_SUFFIX = ".lock"
JOURNAL_FORMAT = 1
# Temp files of a compaction are ``<path>.compact-<pid>-<random>.tmp``.  They
# are written outside the lock, so one found at open may also be a live
# compaction of another process: deleting it (under the exclusive lock) makes
# that compaction find its temp file gone at the swap and start over.
_TMP_INFIX = ".compact-"
_TMP_SUFFIX = ".tmp"
# A journal header line is ~30 bytes; anything longer without a newline is
# not a torn header.
_MAX_HEADER = 256

# Auto-compaction: when the journal holds more document operations than a
# tenth of the snapshot's documents (at least COMPACT_MIN_OPS), or more bytes
# than a tenth of the snapshot's (at least COMPACT_MIN_BYTES).  Replay costs
# one Python-level apply per operation (~3x the snapshot per MB of small
# documents), so it is the operation count that scales with the snapshot and
# keeps open time within ~30% of a clean open at any size; the byte floor is
# for the few big documents (prompt texts), which replay at parsing speed.
# At 150k events that is a compaction every ~15k appends, written outside
# the lock (see compact()).
COMPACT_MIN_BYTES = 4 * 1024 * 1024
COMPACT_MIN_OPS = 1000
COMPACT_RATIO = 0.1
# A compaction whose copy was overtaken by other commits starts over this
# many times before it compacts under the lock.
_COMPACT_ATTEMPTS = 3
# ... and an automatic one overtaken every time waits for a quieter moment
# (a later commit) until the journal is this many times past its threshold.
_COMPACT_OVERDUE = 4.0

#: Seconds a lock wait lasts before :class:`LockTimeoutError` (a stopped or
#: hung process holding the lock must not hang everyone else silently).
DEFAULT_LOCK_TIMEOUT = 5.0
# Lock waits poll LOCK_NB with an exponential backoff up to this many seconds.
_LOCK_POLL_MAX = 0.05
# The exclusive holder writes "<pid> <name>" into the lock file, padded to a
# fixed size so that one pwrite replaces the previous holder's record.
_HOLDER_BYTES = 128

_OPTS = orjson.OPT_NON_STR_KEYS  # TinyDB (stdlib json) turns int keys into strings too
_MISSING: Any = object()


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


def _printable(text: str, limit: int = 60) -> str:
    # Lock files and /proc are outside text: keep the name to printable
    # characters before it reaches a terminal.
    cleaned = "".join(c if c.isprintable() and c not in "\u2028\u2029" else "?" for c in text)
    cleaned = " ".join(cleaned.split())
    return cleaned[:limit] + ("…" if len(cleaned) > limit else "")


def _default_holder_name() -> str:
    return os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"


def _proc_name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm", "rb") as fh:
            return fh.read(64).decode("utf-8", "replace").strip()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _find_lock_holder(fd: int) -> LockHolder | None:
    """Who holds the flock on ``fd``'s file: /proc/locks when there is one, else the lock file's record."""
    recorded: LockHolder | None = None
    try:
        raw = os.pread(fd, _HOLDER_BYTES, 0).decode("utf-8", "replace").strip()
        pid_text, _, name = raw.partition(" ")
        if pid_text.isdigit():
            recorded = LockHolder(int(pid_text), _printable(name))
    except OSError:
        pass
    pids: list[int] = []
    try:
        st = os.fstat(fd)
        dev = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
        with open("/proc/locks", "rb") as fh:
            for line in fh.read().decode("ascii", "replace").splitlines():
                fields = line.split()
                # "1: FLOCK  ADVISORY  WRITE 1234 fd:01:567 0 EOF"; waiters have "->".
                if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == dev and fields[4].isdigit():
                    pids.append(int(fields[4]))
    except OSError:
        pids = []
    if pids:
        pid = recorded.pid if recorded is not None and recorded.pid in pids else pids[0]
        if recorded is not None and recorded.pid == pid and recorded.name:
            return recorded
        return LockHolder(pid, _printable(_proc_name(pid)))
    if recorded is not None and _alive(recorded.pid):
        return recorded
    return None


def _refuse_kind(st: os.stat_result) -> str | None:
    """Why a file of this type is refused, or None for a regular file."""
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory"
    if stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "is a character device"
    if stat.S_ISBLK(mode):
        return "is a block device"
    if stat.S_ISSOCK(mode):
        return "is a socket"
    if stat.S_ISLNK(mode):
        return "is a symbolic link"
    return "is not a regular file"


@contextlib.contextmanager
def _naming(path: str) -> Iterator[None]:
    """Give an OSError from an fd-level call (no file name of its own) the file it is about."""
    try:
        yield
    except OSError as exc:
        if exc.filename is None:
            exc.filename = path
        raise


def _dumps(obj: Any) -> bytes:
    return orjson.dumps(obj, option=_OPTS)


def _deepcopy(doc: Any) -> Any:
    # Documents are JSON by construction, and an orjson round trip is several
    # times faster than copy.deepcopy.
    return orjson.loads(orjson.dumps(doc, option=_OPTS))


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _key(st: os.stat_result) -> tuple[int, int, int]:
    # Snapshots are only ever replaced (new inode) and journals only appended
    # to or reset, so (inode, size, mtime) identifies a state of either file.
    return (st.st_ino, st.st_size, st.st_mtime_ns)


# Above this many bytes, parsing pauses the cyclic GC and freezes the result.
BULK_LOAD_BYTES = 4 * 1024 * 1024


def _loads_bulk(raw: bytes) -> Any:
    """orjson.loads for tens of MB without paying the cyclic GC for it.

    Parsing a big snapshot allocates about a million containers.  With the GC
    running, collections keep traversing them while they are built, and the
    first collections afterwards traverse them again to promote them: about
    0.2 s at 150k events, for nothing (JSON has no cycles).  So: collect the
    garbage that exists now (cheap, the heap is small or already frozen),
    parse with the GC off, then ``gc.freeze()`` so the GC never scans the
    loaded documents; they are still freed normally by reference counting
    when replaced.  Small inputs skip all of this.
    """
    if len(raw) < BULK_LOAD_BYTES:
        return orjson.loads(raw)
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        return orjson.loads(raw)
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def _high_ids(data: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """The highest doc id of each non-empty table (tables with non-numeric ids are left out)."""
    high: dict[str, int] = {}
    for name, table in data.items():
        if name == META_TABLE or not table:
            continue
        try:
            high[name] = max(map(int, table))
        except ValueError:
            continue
    return high


def _read_high_ids(ids: Any, gen: int) -> dict[str, int]:
    """The metadata's highest ids, if they were written with this generation of the snapshot.

    An older incident-tui that compacted the file kept the field but not its
    generation: then it is stale and ignored (the ids are computed as before).
    """
    if not isinstance(ids, dict) or ids.get("gen") != gen or not isinstance(ids.get("high"), dict):
        return {}
    return {name: n for name, n in ids["high"].items() if type(n) is int and n >= 0}


def _fsync_dir(dirname: str) -> None:
    fd = os.open(dirname, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_datasync = getattr(os, "fdatasync", os.fsync)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _close_fd(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


def _pread_range(fd: int, path: str, start: int, end: int) -> bytes:
    """Bytes ``[start, end)`` of the (immutable) snapshot open as ``fd``."""
    parts: list[bytes] = []
    pos = start
    with _naming(path):
        while pos < end:
            chunk = os.pread(fd, end - pos, pos)
            if not chunk:
                raise SegmentError(f"file ends at byte {pos}, inside its events segment (ends at {end})")
            parts.append(chunk)
            pos += len(chunk)
    return parts[0] if len(parts) == 1 else b"".join(parts)


class _Snapshot:
    __slots__ = ("key", "gen", "data", "high", "seg", "fd", "_fin", "__weakref__")

    def __init__(self, key: tuple[int, int, int], gen: int, data: dict[str, dict[str, Any]],
                 high: dict[str, int] | None = None, seg: Segment | None = None, fd: int = -1):
        self.key = key
        self.gen = gen
        self.data = data
        self.high = high or {}  # highest doc id per table, from the metadata (may be missing)
        self.seg = seg  # where the events segment is, when the file has one (then ``fd`` stays open)
        self.fd = fd
        self._fin = weakref.finalize(self, _close_fd, fd) if fd >= 0 else None

    def detach(self) -> int:
        """Hand the open file over to the caller (who closes it); -1 when there is none."""
        if self._fin is not None:
            self._fin.detach()
            self._fin = None
        fd, self.fd = self.fd, -1
        return fd


class _Txn:
    """Context manager behind :func:`transaction` and every single write.

    The outermost level takes the exclusive file lock and catches up; inner
    levels are savepoints: an exception leaving an inner block undoes only
    that block's writes (the outer block decides whether to commit the rest).
    """

    __slots__ = ("_s", "_ret", "_outer", "_mark")

    def __init__(self, storage: JournalStorage, ret: Any = None):
        self._s = storage
        self._ret = ret

    def __enter__(self) -> Any:
        s = self._s
        s._check_open()
        # The file lock first (a bounded wait, re-entrant per thread), then the
        # in-memory mutex: a wait for another process never blocks this
        # process's readers.
        s._lock(fcntl.LOCK_EX)
        try:
            s._mutex.acquire()
            try:
                s._check_open()
                self._outer = s._depth == 0
                if self._outer:
                    s._catch_up(exclusive=True)
                self._mark = (len(s._ops), len(s._undo), dict(s._hw))
                s._depth += 1
            except BaseException:
                s._mutex.release()
                raise
        except BaseException:
            s._unlock()
            raise
        return self._ret

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        s = self._s
        try:
            try:
                s._depth -= 1
                if exc_type is not None:
                    s._rollback_to(*self._mark)
                elif self._outer:
                    s._commit(self._mark[2])
            finally:
                if self._outer:
                    s._ops.clear()
                    s._undo.clear()
                s._mutex.release()
        finally:
            s._unlock()
        if s._compact_pending and self._outer and s._lock_owner != threading.get_ident():
            s._auto_compact()
        return False


def _close_fds(fds: list[int]) -> None:
    for i, fd in enumerate(fds):
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
            fds[i] = -1


class JournalStorage(Storage):
    """TinyDB storage: in-memory state, snapshot + fsynced journal on disk.

    Use it through :func:`open_db`; it must be paired with
    :class:`JournalTable` (the stock Table mutates documents in place, which
    this storage would not see).

    Threads: writes, refresh() and compact() serialise on an internal lock,
    but reads iterate the live in-memory tables without it, so a handle must
    not be read in one thread while another thread writes or refreshes it.
    Documents returned by reads share nested values with the store (as
    TinyDB's own query cache does): change data through the write methods,
    never by mutating a returned document.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        lock_timeout: float | None = None,
        holder_name: str | None = None,
        on_lock_wait: Callable[[LockHolder | None, float], None] | None = None,
    ) -> None:
        """Open or create the database at ``path`` (see :func:`open_db`)."""
        # The real path: a symlink to the database must share its journal and
        # lock with the file it points to, or two handles would each hand out
        # the same ids and lose each other's writes at compaction.
        self.path = os.path.realpath(os.path.abspath(os.fspath(path)))
        self.journal_path = self.path + JOURNAL_SUFFIX
        self.lock_path = self.path + LOCK_SUFFIX
        self.lock_timeout = DEFAULT_LOCK_TIMEOUT if lock_timeout is None else float(lock_timeout)
        #: Called from the waiting thread while a lock wait lasts (holder, seconds
        #: waited); it may raise to abandon the wait.
        self.on_lock_wait = on_lock_wait
        name = _printable(holder_name or _default_holder_name())
        self._holder_record = f"{os.getpid()} {name}".encode()[: _HOLDER_BYTES - 1].ljust(_HOLDER_BYTES - 1) + b"\n"
        self._mutex = threading.RLock()
        # The file lock within this process: flock is per open file, so threads
        # sharing our lock fd must take turns on this first.  Owner and depth
        # make it re-entrant per thread.
        self._thread_lock = threading.Lock()
        self._lock_owner: int | None = None
        self._lock_depth = 0
        self._lock_mode = 0
        # [journal fd, lock fd, snapshot fd]; a list so the finalizer sees
        # reopened fds.  The snapshot stays open while its events segment is
        # read on demand (a compaction elsewhere replaces the file, not this inode).
        self._fds = [-1, -1, -1]
        self._finalizer = weakref.finalize(self, _close_fds, self._fds)
        self._closed = False
        self._data: dict[str, dict[str, Any]] = {}
        # SEGMENT_TABLE while it is still in the snapshot's segment (then it is
        # not in _data); None once it is an ordinary in-memory table.
        self._seg: SegmentedTable | None = None
        self._hw: dict[str, int] = {}  # highest doc id handed out or seen, per table
        self._tables: dict[str, weakref.WeakSet[Table]] = {}
        self._change_counts: dict[str, int] = {}
        self._all_changes = 0
        self._depth = 0
        self._ops: list[bytes] = []
        self._undo: list[tuple[Any, ...]] = []
        self._gen = 0
        self._snap_key: tuple[int, int, int] | None = None
        self._j_key: tuple[int, int, int] | None = None
        self._j_ino = -1
        self._jpos = 0  # bytes of the journal applied (always at a line boundary)
        self._jline = 0  # lines of the journal applied, header included
        self._jops = 0  # document operations in those lines
        self._snap_docs = 0  # documents in the snapshot, all tables
        self._j_current = False  # journal header matches self._gen
        # Tables changed by other processes and not yet reported by refresh();
        # None means "everything" (a reload after someone else's compaction).
        # Writes catch up too, so this must outlive a single catch-up.
        self._unreported: set[str] | None = set()
        #: Tables changed by other processes, as of the last refresh() that
        #: returned True; None after a full reload (treat as all tables).
        self.changed_tables: frozenset[str] | None = frozenset()
        self.compact_min_bytes = COMPACT_MIN_BYTES
        self.compact_min_ops = COMPACT_MIN_OPS
        self.compact_ratio = COMPACT_RATIO
        self._compact_pending = False  # a commit found the journal long; compact once unlocked
        try:
            self._open()
        except BaseException:
            self._closed = True
            _close_fds(self._fds)
            raise

    # ------------------------------------------------------------------ open

    def _open(self) -> None:
        # Validate an existing file before creating anything next to it, so a
        # foreign or corrupt file does not sprout .lock/.journal siblings.
        snap = self._read_snapshot()
        # Likewise a symlinked or special journal or lock: refused before either is created.
        for sibling, what in ((self.journal_path, "journal"), (self.lock_path, "lock file")):
            try:
                kind = _refuse_kind(os.lstat(sibling))
            except FileNotFoundError:
                continue
            if kind is not None:
                raise self._unsafe(sibling, what, kind)
        parent = os.path.dirname(self.path)
        if snap is None:
            os.makedirs(parent, exist_ok=True)
        self._fds[1] = self._open_file(self.lock_path, os.O_RDWR, "lock file")
        self._open_journal()
        need_ex = snap is None or bool(self._leftovers()) or self._schema_of(snap) < SCHEMA_VERSION
        if not need_ex:
            with self._flock(fcntl.LOCK_SH):
                snap = self._reuse_or_read(snap)
                if snap is not None and self._schema_of(snap) >= SCHEMA_VERSION:
                    self._load(snap, exclusive=False)
                else:
                    need_ex = True
        if need_ex:
            with self._flock(fcntl.LOCK_EX):
                for leftover in self._leftovers():
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(leftover)
                snap = self._reuse_or_read(snap)
                if snap is None:
                    self._create()
                else:
                    self._load(snap, exclusive=True)
                    self._migrate()
        self._unreported = set()  # what we opened is not a change

    def _reuse_or_read(self, snap: _Snapshot | None) -> _Snapshot | None:
        # The unlocked pre-read is reused when the file is provably the same
        # one (same inode/size/mtime), which saves parsing it twice at open.
        if snap is not None:
            try:
                if _key(os.stat(self.path)) == snap.key:
                    return snap
            except FileNotFoundError:
                pass
        return self._read_snapshot()

    def _leftovers(self) -> list[str]:
        return glob.glob(glob.escape(self.path) + _TMP_INFIX + "*" + _TMP_SUFFIX)

    def _open_file(self, path: str, flags: int, what: str, *, create: bool = True) -> int:
        """Open one of the database's files, never through a symlink, never anything but a regular file.

        Created (O_EXCL, mode 0600) when missing and ``create``; the directory
        entry is made durable before the caller writes acknowledged data into
        it.  A symlink, directory, FIFO, device or socket is refused with
        :class:`UnsafeFileError` and left as it is.
        """
        # O_NONBLOCK: opening a FIFO must not hang; it is refused below anyway.
        base = flags | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
        created = False
        try:
            try:
                fd = os.open(path, base)
            except FileNotFoundError:
                if not create:
                    raise
                try:
                    fd = os.open(path, base | os.O_CREAT | os.O_EXCL, 0o600)
                    created = True
                except FileExistsError:  # another process created it just now
                    fd = os.open(path, base)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EISDIR, errno.ENXIO, errno.EOPNOTSUPP):
                try:
                    kind = _refuse_kind(os.lstat(path))
                except OSError:
                    kind = None
                if kind is not None:
                    raise self._unsafe(path, what, kind) from None
            raise
        try:
            st = os.fstat(fd)
            kind = _refuse_kind(st)
            if kind is not None:
                raise self._unsafe(path, what, kind)
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
            if created:
                _fsync_dir(os.path.dirname(path))
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _unsafe(self, path: str, what: str, kind: str) -> UnsafeFileError:
        if path == self.path:
            detail = f"it {kind}, not a regular file; refusing to read or replace it"
        else:
            detail = f"its {what} {path} {kind}, not a regular file; refusing to follow or overwrite it (remove it)"
        return UnsafeFileError(_one_line(f"cannot open database {self.path}: {detail}"))

    def _open_journal(self) -> None:
        fd = self._open_file(self.journal_path, os.O_RDWR | os.O_APPEND, "journal")
        if self._fds[0] >= 0:
            os.close(self._fds[0])
        self._fds[0] = fd
        self._j_ino = os.fstat(fd).st_ino

    def _corrupt(self, what: str, path: str | None = None) -> CorruptDatabaseError:
        return CorruptDatabaseError(
            _one_line(f"cannot open database {path or self.path}: {what} (file left unchanged)")
        )

    @staticmethod
    def _schema_of(snap: _Snapshot) -> int:
        return snap.data[META_TABLE][META_DOC_ID]["schema"]

    def _read_snapshot(self) -> _Snapshot | None:
        """Parse and validate the snapshot; None when missing or empty."""
        try:
            fd = self._open_file(self.path, os.O_RDONLY, "snapshot", create=False)
        except FileNotFoundError:
            return None
        keep = False
        try:
            with _naming(self.path):
                st = os.fstat(fd)
                head = os.pread(fd, HEADER_LEN, 0)
            try:
                header = read_header(head)
            except SegmentError as exc:
                raise self._corrupt(f"invalid events segment header ({exc})") from None
            seg: Segment | None = None
            if header is None:
                with open(os.dup(fd), "rb", closefd=True) as fh:
                    raw = fh.read()
                if not raw:
                    return None
                try:
                    data = _loads_bulk(raw)
                except orjson.JSONDecodeError as exc:
                    where = f" at byte {exc.pos}" if getattr(exc, "pos", None) is not None else ""
                    kind = "truncated" if exc.pos is not None and exc.pos >= len(raw.rstrip()) else "corrupt"
                    raise self._corrupt(f"{kind} JSON{where} ({exc.msg})") from None
                del raw
            else:
                # Schema 2: parse everything before the events segment; the
                # events stay in the file, read one incident at a time.
                start, end = header
                try:
                    prefix = _pread_range(fd, self.path, 0, min(start, st.st_size))
                    data, seg = decode_prefix(prefix, start, end, st.st_size)
                except orjson.JSONDecodeError as exc:
                    raise self._corrupt(f"corrupt JSON before the events segment ({exc.msg})") from None
                except SegmentError as exc:
                    raise self._corrupt(f"invalid events segment ({exc})") from None
                if seg.table != SEGMENT_TABLE or seg.key != SEGMENT_KEY:
                    raise self._corrupt(f"events segment of an unknown kind ({seg.table!r} by {seg.key!r})")
                data.pop(seg.table, None)
                keep = True
        finally:
            if not keep:
                os.close(fd)
        if seg is None:
            return self._checked_snapshot(st, data, None, -1)
        try:
            return self._checked_snapshot(st, data, seg, fd)
        except BaseException:
            os.close(fd)
            raise

    def _checked_snapshot(self, st: os.stat_result, data: Any, seg: Segment | None, fd: int) -> _Snapshot:
        if not isinstance(data, dict):
            raise self._corrupt(f"not an incident-tui database (top level is a JSON {type(data).__name__}, expected an object)")
        meta_table = data.get(META_TABLE)
        if not isinstance(meta_table, dict):
            raise self._corrupt(f"not an incident-tui database (no {META_TABLE} table; a plain TinyDB or other JSON file?)")
        meta = meta_table.get(META_DOC_ID)
        if not isinstance(meta, dict) or meta.get("app") != APP_NAME:
            raise self._corrupt(f"not an incident-tui database ({META_TABLE} does not name app {APP_NAME!r})")
        schema = meta.get("schema")
        if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
            raise self._corrupt(f"invalid schema version {schema!r} in {META_TABLE}")
        if schema > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"cannot open database {self.path}: written by a newer incident-tui "
                f"(schema {schema}, this version reads up to {SCHEMA_VERSION})"
            )
        gen = meta.pop("gen", 0)
        if not isinstance(gen, int):
            raise self._corrupt(f"invalid generation {gen!r} in {META_TABLE}")
        high = _read_high_ids(meta.pop("ids", None), gen)
        for name, table in data.items():
            if not isinstance(table, dict):
                raise self._corrupt(f"table {name!r} is not a JSON object")
            # set(map(type)) runs in C: a few ms for 150k documents.
            if not set(map(type, table.values())) <= {dict}:
                bad = next(k for k, v in table.items() if type(v) is not dict)
                raise self._corrupt(f"document {bad!r} of table {name!r} is not a JSON object")
        if seg is not None and seg.high is not None:
            high[seg.table] = max(high.get(seg.table, 0), seg.high)
        return _Snapshot(_key(st), gen, data, high, seg, fd)

    def _load(self, snap: _Snapshot, *, exclusive: bool) -> None:
        self._unreported = None
        self._data = snap.data
        self._set_segment(snap.seg, snap.detach())
        self._gen = snap.gen
        self._snap_key = snap.key
        # The highest ids as of the snapshot; the journal replay below raises them.
        self._hw = {name: n for name, n in snap.high.items() if name in snap.data or self._has_table(name)}
        self._j_key = None
        self._jpos = 0
        self._jline = 0
        self._jops = 0
        self._snap_docs = sum(map(len, snap.data.values())) + (snap.seg.count if snap.seg is not None else 0)
        self._j_current = False
        self._sync_journal(exclusive=exclusive)
        if exclusive and not self._j_current:
            self._reset_journal()
        self._invalidate(None)

    def _set_segment(self, seg: Segment | None, fd: int) -> None:
        """Read SEGMENT_TABLE from ``seg`` of the snapshot open as ``fd`` (ours from now on) or, with None, from _data."""
        old, self._fds[2] = self._fds[2], fd
        if old >= 0:
            _close_fd(old)
        if seg is None or fd < 0:
            self._seg = None
            return
        self._seg = SegmentedTable(seg, partial(_pread_range, fd, self.path))
        self._data.pop(seg.table, None)

    def _segment_error(self, exc: SegmentError) -> CorruptDatabaseError:
        return self._corrupt(f"its events segment is unreadable ({exc})")

    def _materialise(self) -> None:
        """Make SEGMENT_TABLE an ordinary in-memory table (parses the whole segment once)."""
        with self._mutex:
            seg = self._seg
            if seg is None:
                return
            try:
                base, table = seg.materialise()
            except SegmentError as exc:
                raise self._segment_error(exc) from None
            # Undo entries of the open transaction name overlay states; make
            # them plain document undos against the table as it now is.
            undo = self._undo
            for i, entry in enumerate(undo):
                if entry[0] == "l":
                    prev = entry[3]
                    if prev is _OVERLAY_MISSING:
                        prev = base.get(entry[2], _MISSING)
                    elif prev is None:
                        prev = _MISSING
                    undo[i] = ("d", entry[1], entry[2], prev)
            self._data[SEGMENT_TABLE] = table
            self._seg = None
            self._set_segment(None, -1)

    def _table(self, name: str) -> dict[str, Any] | None:
        """The in-memory table ``name`` (None when there is none); materialises the segment if needed."""
        table = self._data.get(name)
        if table is None and self._seg is not None and name == SEGMENT_TABLE:
            self._materialise()
            table = self._data.get(name)
        return table

    def _has_table(self, name: str) -> bool:
        return name in self._data or (self._seg is not None and name == SEGMENT_TABLE)

    def _create(self) -> None:
        # Only an empty or missing snapshot gets here.  A journal holding
        # anything past its header line is somebody's data: its records are
        # changes on top of a snapshot that is gone, so neither replaying them
        # nor resetting the journal is safe.  Refuse and touch nothing.  The
        # whole file counts, however long its first record is.
        fd = self._fds[0]
        with _naming(self.journal_path):
            size = os.fstat(fd).st_size
            first = b""
            pos = 0
            while pos < size and b"\n" not in first and len(first) <= _MAX_HEADER:
                chunk = os.pread(fd, 4096, pos)
                if not chunk:
                    break
                first += chunk
                pos += len(chunk)
        nl = first.find(b"\n")
        state = "missing" if not os.path.lexists(self.path) else "empty"
        if nl >= 0:
            header_ok = False
            with contextlib.suppress(orjson.JSONDecodeError):
                header = orjson.loads(first[:nl])
                header_ok = isinstance(header, dict) and header.get("journal") == JOURNAL_FORMAT
            what = f"holds {size - nl - 1} bytes of records" if header_ok else "is not an incident-tui journal"
            safe = header_ok and size == nl + 1
        else:
            # Empty, or a header torn by a crash during a reset: nothing lost.
            what = "is not an incident-tui journal"
            safe = size <= _MAX_HEADER
        if not safe:
            raise CorruptDatabaseError(_one_line(
                f"cannot open database {self.path}: the snapshot is {state} but its journal "
                f"{self.journal_path} {what}; restore {self.path} from a backup, or move the journal "
                "away to start a new database (both files left unchanged)"
            ))
        self._data = {META_TABLE: {META_DOC_ID: {"app": APP_NAME, "schema": SCHEMA_VERSION}}}
        self._set_segment(None, -1)
        self._hw.clear()
        self._gen = 0
        self._compact_locked()

    def _migrate(self) -> None:
        meta = self._data[META_TABLE][META_DOC_ID]
        schema = meta["schema"]
        if schema >= SCHEMA_VERSION:
            return
        # Look the mapping up at call time so tests (and future code) can
        # extend it.  Migrations see every table, the events included.
        self._materialise()
        for version in range(schema, SCHEMA_VERSION):
            step = MIGRATIONS.get(version)
            if step is None:
                raise StoreError(f"cannot open database {self.path}: no migration from schema {version}")
            try:
                step(self._data)
            except Exception as exc:
                raise StoreError(
                    _one_line(f"cannot open database {self.path}: migration from schema {version} failed: {exc!r}")
                ) from exc
        self._data[META_TABLE][META_DOC_ID]["schema"] = SCHEMA_VERSION
        self._hw.clear()
        self._invalidate(None)
        # The migrated state is written as a whole new snapshot (atomic
        # replace), so a crash mid-migration leaves the old file intact.
        self._compact_locked(segment=True)

    # --------------------------------------------------------------- locking

    @contextlib.contextmanager
    def _flock(self, mode: int) -> Iterator[None]:
        self._lock(mode)
        try:
            yield
        finally:
            self._unlock()

    def _lock(self, mode: int, *, wait: bool = True) -> bool:
        """Take the cross-process lock for this thread; False only when ``wait`` is false and it is busy.

        Re-entrant per thread (a shared request inside an exclusive hold is a
        no-op; flock would otherwise convert the lock).  Waits poll LOCK_NB
        with a backoff until :attr:`lock_timeout`, calling
        :attr:`on_lock_wait` between polls, then raise
        :class:`LockTimeoutError` naming the holder.
        """
        me = threading.get_ident()
        if self._lock_owner == me:
            if mode == fcntl.LOCK_EX and self._lock_mode != fcntl.LOCK_EX:
                raise StoreError("internal error: cannot upgrade a shared database lock")
            self._lock_depth += 1
            return True
        start = time.monotonic()
        delay = 0.001
        holder: LockHolder | None = None
        looked = -1.0
        while True:
            if self._thread_lock.acquire(blocking=False):
                try:
                    self._check_open()
                    with _naming(self.lock_path):
                        fcntl.flock(self._fds[1], mode | fcntl.LOCK_NB)
                except BlockingIOError:
                    self._thread_lock.release()
                except BaseException:
                    self._thread_lock.release()
                    raise
                else:
                    self._lock_owner = me
                    self._lock_mode = mode
                    self._lock_depth = 1
                    if mode == fcntl.LOCK_EX:
                        with contextlib.suppress(OSError):  # only a hint for those who wait
                            os.pwrite(self._fds[1], self._holder_record, 0)
                    return True
            if not wait:
                return False
            waited = time.monotonic() - start
            if looked < 0 or waited - looked >= 1.0:
                holder = self._holder()
                looked = waited
            if waited >= self.lock_timeout:
                raise self._lock_timeout(self._holder() or holder, waited)
            if self.on_lock_wait is not None:
                self.on_lock_wait(holder, waited)
            time.sleep(min(delay, max(self.lock_timeout - waited, 0.0)))
            delay = min(delay * 2, _LOCK_POLL_MAX)

    def _unlock(self) -> None:
        self._lock_depth -= 1
        if self._lock_depth:
            return
        self._lock_owner = None
        self._lock_mode = 0
        try:
            if self._fds[1] >= 0:
                fcntl.flock(self._fds[1], fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def _holder(self) -> LockHolder | None:
        if self._lock_owner is not None:
            return LockHolder(os.getpid(), "another thread of this process")
        fd = self._fds[1]
        return _find_lock_holder(fd) if fd >= 0 else None

    def _lock_timeout(self, holder: LockHolder | None, waited: float) -> LockTimeoutError:
        who = f"by {holder}" if holder is not None else "by another process"
        secs = f"{waited:.0f}" if waited >= 1 else f"{waited:.1f}"
        return LockTimeoutError(
            _one_line(
                f"database {self.path} is locked {who} for {secs} s; is it stopped? kill it or retry "
                "(lock_timeout in the config or INCIDENT_TUI_LOCK_TIMEOUT waits longer)"
            ),
            holder,
            waited,
        )

    @contextlib.contextmanager
    def hold_lock(self) -> Iterator[None]:
        """Hold the exclusive database lock in this thread, without touching the in-memory state.

        Lets a caller wait for the lock (bounded by :attr:`lock_timeout`)
        before it takes its own locks around a transaction; transactions of
        this thread inside the block reuse it.  Other threads' refresh() with
        ``wait=False`` return at once meanwhile.
        """
        self._check_open()
        self._lock(fcntl.LOCK_EX)
        try:
            yield
        finally:
            self._unlock()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"database {self.path} is closed")

    # -------------------------------------------------------------- catch up

    def _catch_up(self, *, exclusive: bool) -> bool:
        """Apply what other processes committed; caller holds the file lock."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise StoreError(f"database file {self.path} disappeared") from None
        if _key(st) != self._snap_key:
            snap = self._read_snapshot()
            if snap is None:
                raise StoreError(f"database file {self.path} was emptied by someone else")
            self._load(snap, exclusive=exclusive)
            return True
        changed = self._sync_journal(exclusive=exclusive)
        if exclusive and not self._j_current:
            self._reset_journal()
        return changed

    def _sync_journal(self, *, exclusive: bool) -> bool:
        try:
            jst = os.stat(self.journal_path)
        except FileNotFoundError:
            jst = None
        if jst is None or jst.st_ino != self._j_ino:
            # Someone deleted or replaced the journal; follow the path.
            self._open_journal()
            jst = os.fstat(self._fds[0])
            self._jpos = 0
            self._jline = 0
            self._jops = 0
            self._j_current = False
        key = _key(jst)
        size = jst.st_size
        if key == self._j_key:
            if exclusive and self._j_current and size > self._jpos:
                # A torn tail seen earlier (under the shared lock, which must
                # not modify files): cut it now, before we append after it.
                self._cut_tail()
            return False
        if size < self._jpos:
            # Shrunk below what we applied while the snapshot stayed the same:
            # not something this module does.  Start over from the files.
            snap = self._read_snapshot()
            if snap is None:
                raise StoreError(f"database file {self.path} was emptied by someone else")
            self._load(snap, exclusive=exclusive)
            return True
        fd = self._fds[0]
        base = self._jpos
        with _naming(self.journal_path):
            buf = os.pread(fd, size - base, base) if size > base else b""
        if base == 0:
            nl = buf.find(b"\n")
            if nl < 0:
                # Empty journal or a header torn by a crash during reset.
                self._j_current = False
                self._j_key = key
                return False
            try:
                header = orjson.loads(buf[:nl])
            except orjson.JSONDecodeError:
                raise self._corrupt("line 1 is not a journal header", self.journal_path) from None
            if not isinstance(header, dict) or header.get("journal") != JOURNAL_FORMAT:
                raise self._corrupt("line 1 is not a journal header", self.journal_path)
            if header.get("gen") != self._gen:
                # Left over from a compaction interrupted between the snapshot
                # replace and the journal reset: already in the snapshot.
                self._j_current = False
                self._j_key = key
                return False
            self._j_current = True
            base = nl + 1
            buf = buf[base:]
            self._jpos = base
            self._jline = 1
        end = buf.rfind(b"\n") + 1
        changed = False
        if end:
            records = self._parse_lines(buf[:end])
            touched: set[str] = set()
            first_line = self._jline + 1
            for i, record in enumerate(records):
                self._apply_record(record, first_line + i, touched)
            self._jpos = base + end
            self._jline += len(records)
            self._jops += sum(map(len, records))
            self._invalidate(touched)
            if self._unreported is not None:
                self._unreported |= touched
            changed = True
        self._j_key = key
        if end < len(buf) and exclusive:
            self._cut_tail()
        return changed

    def _cut_tail(self) -> None:
        # Bytes after the last complete line, seen under the exclusive lock,
        # can only be a crashed writer's unacknowledged commit: cut them so
        # the next append starts on a line boundary.
        fd = self._fds[0]
        with _naming(self.journal_path):
            os.ftruncate(fd, self._jpos)
            _datasync(fd)
        self._j_key = _key(os.fstat(fd))

    def _parse_lines(self, chunk: bytes) -> list[Any]:
        # One orjson call over all lines joined as an array is much faster
        # than a call per line; orjson never emits a raw newline, so every
        # newline in the journal is a line separator.
        try:
            return _loads_bulk(b"[" + chunk[:-1].replace(b"\n", b",") + b"]")
        except orjson.JSONDecodeError:
            pass
        for i, line in enumerate(chunk[:-1].split(b"\n")):
            try:
                orjson.loads(line)
            except orjson.JSONDecodeError:
                raise self._corrupt(
                    f"line {self._jline + 1 + i} is not valid JSON (a corrupt record before the last line)",
                    self.journal_path,
                ) from None
        raise self._corrupt("unreadable records", self.journal_path)  # pragma: no cover

    def _apply_record(self, record: Any, lineno: int, touched: set[str]) -> None:
        data = self._data
        hw = self._hw
        try:
            for op in record:
                kind = op[0]
                name = op[1]
                if type(name) is not str:
                    raise TypeError
                touched.add(name)
                seg = self._seg
                if seg is not None and name == SEGMENT_TABLE:
                    if kind == "s" or kind == "d":
                        doc_id = op[2]
                        doc = op[3] if kind == "s" else None
                        if type(doc_id) is not str or kind == "s" and type(doc) is not dict:
                            raise TypeError
                        seg.put(doc_id, doc)
                        h = hw.get(name)
                        if kind == "s" and h is not None:
                            n = int(doc_id)
                            if n > h:
                                hw[name] = n
                        continue
                    self._materialise()  # truncate/drop: rare, done on the whole table
                if kind == "s":
                    doc_id, doc = op[2], op[3]
                    if type(doc) is not dict or type(doc_id) is not str:
                        raise TypeError
                    table = data.get(name)
                    if table is None:
                        data[name] = table = {}
                    table[doc_id] = doc
                    h = hw.get(name)
                    if h is not None:
                        n = int(doc_id)
                        if n > h:
                            hw[name] = n
                elif kind == "d":
                    if type(op[2]) is not str:
                        raise TypeError
                    table = data.get(name)
                    if table is not None:
                        table.pop(op[2], None)
                elif kind == "t":
                    data[name] = {}
                    hw.pop(name, None)
                elif kind == "x":
                    data.pop(name, None)
                    hw.pop(name, None)
                else:
                    raise ValueError
        except (TypeError, ValueError, IndexError, KeyError):
            raise self._corrupt(f"line {lineno} is not a valid record", self.journal_path) from None

    def _invalidate(self, names: set[str] | None) -> None:
        # Table query caches (and, via _hw, doc id counters) must not survive
        # a change they did not see, or two processes would hand out the same
        # doc id / show stale search results.
        if names is None:
            self._all_changes += 1
            for tables in self._tables.values():
                for t in tables:
                    t.clear_cache()
            return
        for name in names:
            self._change_counts[name] = self._change_counts.get(name, 0) + 1
            for t in self._tables.get(name, ()):
                t.clear_cache()

    def change_count(self, name: str) -> int:
        """A number that moves whenever table ``name`` changes here or is caught up from another process.

        Lets callers keep their own derived data (an index, a rendered view) and rebuild it
        only when this moves. Rolled-back writes move it too, which only costs a rebuild.
        """
        return self._change_counts.get(name, 0) + self._all_changes

    def _register(self, table: Table) -> None:
        self._tables.setdefault(table.name, weakref.WeakSet()).add(table)

    # ---------------------------------------------------------------- writes

    def transaction(self) -> _Txn:
        """Context manager: one atomic, durable commit (see :func:`transaction`)."""
        return _Txn(self)

    def _next_id(self, name: str) -> int:
        seg = self._seg
        if seg is not None and name == SEGMENT_TABLE:
            # Every snapshot id is at most the segment's high id (its index is
            # written with the documents); the overlay is checked one by one.
            h = max(self._hw.get(name, 0), seg.segment.high or 0) if name in self._hw else seg.high()
            h += 1
            while str(h) in seg:
                h += 1
            self._hw[name] = h
            return h
        table = self._data.get(name)
        h = self._hw.get(name)
        if h is None:
            h = max(map(int, table), default=0) if table else 0
        h += 1
        if table:
            # The counter may come from a hand-edited snapshot's metadata: never hand out an id in use.
            while str(h) in table:
                h += 1
        self._hw[name] = h
        return h

    def _put(self, name: str, doc_id: str, doc: Mapping[str, Any]) -> None:
        if not isinstance(doc, dict):
            doc = dict(doc)
        # Serialise first: a non-JSON value fails before anything changes.
        payload = orjson.dumps(doc, option=_OPTS)
        # Keep the parsed copy, not the caller's object: memory then equals
        # what a replay produces, and later mutation by the caller can't leak.
        stored = orjson.loads(payload)
        seg = self._seg
        if seg is not None and name == SEGMENT_TABLE:
            self._undo.append(("l", name, doc_id, seg.put(doc_id, stored)))
            h = self._hw.get(name)
            if h is not None and int(doc_id) > h:
                self._hw[name] = int(doc_id)
            self._ops.append(b'["s",' + _dumps(name) + b"," + _dumps(doc_id) + b"," + payload + b"]")
            self._invalidate({name})
            return
        table = self._data.get(name)
        if table is None:
            self._undo.append(("t", name, _MISSING))
            self._data[name] = table = {}
        self._undo.append(("d", name, doc_id, table.get(doc_id, _MISSING)))
        table[doc_id] = stored
        h = self._hw.get(name)
        if h is not None:
            n = int(doc_id)
            if n > h:
                self._hw[name] = n
        self._ops.append(b'["s",' + _dumps(name) + b"," + _dumps(doc_id) + b"," + payload + b"]")
        self._invalidate({name})

    def _save_order(self, name: str) -> None:
        # Undoing a delete re-adds the document at the end of the dict; this
        # entry lets a rollback put the documents back in their old order
        # (TinyDB returns documents in dict order).  Once per remove call.
        table = self._table(name)
        if table:
            self._undo.append(("o", name, list(table)))

    def _delete(self, name: str, doc_id: str) -> None:
        if name == META_TABLE and doc_id == META_DOC_ID:
            raise StoreError(f"the {META_TABLE} document is managed by the store")
        table = self._table(name)
        if table is None or doc_id not in table:
            return
        self._undo.append(("d", name, doc_id, table.pop(doc_id)))
        self._ops.append(b'["d",' + _dumps(name) + b"," + _dumps(doc_id) + b"]")
        self._invalidate({name})

    def _ensure_table(self, name: str) -> None:
        # Stock TinyDB creates a table on any write to it, even one that
        # changes no document; keep tables() identical.
        if not self._has_table(name):
            self._truncate(name)

    def _truncate(self, name: str) -> None:
        if name == META_TABLE:
            raise StoreError(f"the {META_TABLE} table is managed by the store")
        self._table(name)  # the segment, if any, becomes a plain table first
        # Replacing the dict (instead of clearing it) makes the undo O(1).
        self._undo.append(("t", name, self._data.get(name, _MISSING)))
        self._data[name] = {}
        self._hw.pop(name, None)  # recomputed from the (empty) table, as stock does
        self._ops.append(b'["t",' + _dumps(name) + b"]")
        self._invalidate({name})

    def _drop(self, name: str) -> None:
        if name == META_TABLE:
            raise StoreError(f"the {META_TABLE} table is managed by the store")
        if self._table(name) is None:
            return
        self._undo.append(("t", name, self._data.pop(name)))
        self._hw.pop(name, None)
        self._ops.append(b'["x",' + _dumps(name) + b"]")
        self._invalidate({name})

    def _rollback_to(self, n_ops: int, n_undo: int, hw: dict[str, int]) -> None:
        data = self._data
        touched: set[str] = set()
        undo = self._undo
        for i in range(len(undo) - 1, n_undo - 1, -1):
            entry = undo[i]
            name = entry[1]
            touched.add(name)
            if entry[0] == "l":
                seg = self._seg
                assert seg is not None  # "l" entries are rewritten when the segment is materialised
                seg.restore(entry[2], entry[3])
                continue
            if entry[0] == "o":
                table = data[name]
                ordered = {k: table[k] for k in entry[2]}
                table.clear()
                table.update(ordered)
                continue
            if entry[0] == "d":
                table = data[name]
                if entry[3] is _MISSING:
                    table.pop(entry[2], None)
                else:
                    table[entry[2]] = entry[3]
            elif entry[2] is _MISSING:
                data.pop(name, None)
            else:
                data[name] = entry[2]
        del undo[n_undo:]
        del self._ops[n_ops:]
        # The id counters as they were, so a rollback neither burns nor
        # re-hands-out ids (the table may have held higher ids earlier).
        self._hw = hw
        self._invalidate(touched)

    def _commit(self, hw_before: dict[str, int]) -> None:
        if not self._ops:
            return
        line = b"[" + b",".join(self._ops) + b"]\n"
        fd = self._fds[0]
        try:
            _write_all(fd, line)
            _datasync(fd)
        except OSError as exc:
            # Not acknowledged: take the bytes back out (best effort) and the
            # in-memory changes with them, so memory keeps matching disk.
            with contextlib.suppress(OSError):
                os.ftruncate(fd, self._jpos)
            self._rollback_to(0, 0, hw_before)
            raise StoreError(
                _one_line(f"could not write to {self.journal_path}: {exc.strerror or exc}")
            ) from exc
        self._jpos += len(line)
        self._jline += 1
        self._jops += len(self._ops)
        self._j_key = _key(os.fstat(fd))
        if self._compact_due():
            # Done by _Txn once the lock is released, so that this commit's
            # waiters are not held up by the serialisation.
            self._compact_pending = True

    def _compact_due(self, factor: float = 1.0) -> bool:
        ratio = self.compact_ratio
        return (self._jpos > factor * max(self.compact_min_bytes, self._snap_key[1] * ratio)
                or self._jops > factor * max(self.compact_min_ops, self._snap_docs * ratio))

    def _auto_compact(self) -> None:
        """The compaction a commit found due; called after the commit released the lock."""
        self._compact_pending = False
        try:
            self._compact(wait=False, force=False)
        except (OSError, StoreError):
            # The commit itself is durable; a failed or busy compaction only
            # leaves the journal long (and maybe a temp file, removed at the
            # next open).  Try again at the next commit.
            pass

    # ----------------------------------------------------------- compaction

    def _snapshot_bytes(self, gen: int, data: Mapping[str, Any] | None = None) -> tuple[bytes, Segment | None, int]:
        """The snapshot of ``data`` (default: the current state) as bytes, its segment and its document count.

        SEGMENT_TABLE in ``data`` is a dict, or a :class:`SegmentedTable` while it
        is still in a snapshot's segment.  Schema 2 layout: see store/segment.py.
        """
        tables = dict(self._data if data is None else data)
        if data is None and self._seg is not None:
            tables[SEGMENT_TABLE] = self._seg
        meta_table = dict(tables.pop(META_TABLE))
        found = tables.pop(SEGMENT_TABLE, None)
        seg = found if isinstance(found, SegmentedTable) else None
        table = None if seg is not None else found
        high = _high_ids(tables)
        first = {**meta_table[META_DOC_ID], "gen": gen}
        if seg is None and table is None:
            first["ids"] = {"gen": gen, "high": high}
            meta_table[META_DOC_ID] = first
            payload = orjson.dumps({META_TABLE: meta_table, **tables}, option=_OPTS)
            return payload, None, sum(map(len, tables.values())) + len(meta_table)
        if seg is not None:
            bodies, count, top = seg.bodies()
        else:
            assert table is not None
            bodies = iter(group_bodies(table, SEGMENT_KEY))
            count = len(table)
            top = _high_ids({SEGMENT_TABLE: table}).get(SEGMENT_TABLE)
        if top is not None:
            high[SEGMENT_TABLE] = top
        first["ids"] = {"gen": gen, "high": high}
        meta_table[META_DOC_ID] = first
        try:
            payload, segment = encode_snapshot(meta_table, tables, SEGMENT_TABLE, SEGMENT_KEY, bodies, count=count, high=top)
        except SegmentError as exc:
            raise self._segment_error(exc) from None
        return payload, segment, sum(map(len, tables.values())) + len(meta_table) + count

    def _compact_locked(self, *, segment: bool = False) -> None:
        """Compact entirely under the lock the caller holds (creation, migration, fallback).

        With ``segment``, SEGMENT_TABLE is read from the new snapshot's segment
        afterwards even if it was an in-memory table before (a migration).
        """
        gen = self._gen + 1
        payload, seg, docs = self._snapshot_bytes(gen)
        tmp = self._write_temp(payload)
        del payload
        self._swap(tmp, gen, docs, seg, self._reopen(tmp) if seg is not None else -1, lazy=segment)

    @staticmethod
    def _reopen(tmp: str) -> int:
        """A read-only fd on our just-written temp file, -1 if it cannot be had (then the old file is read on)."""
        try:
            return os.open(tmp, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return -1

    def _write_temp(self, payload: bytes) -> str:
        """A new temp file beside the snapshot holding ``payload``, fsynced; its path."""
        tmp = f"{self.path}{_TMP_INFIX}{os.getpid()}-{secrets.token_hex(8)}{_TMP_SUFFIX}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            with _naming(tmp):
                try:
                    os.fchmod(fd, 0o600)  # exact mode whatever the umask
                    _write_all(fd, payload)
                    os.fsync(fd)
                finally:
                    os.close(fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return tmp

    def _swap(self, tmp: str, gen: int, docs: int, seg: Segment | None = None, rfd: int = -1,
              *, lazy: bool = False) -> None:
        """Make the temp file the snapshot of generation ``gen``; caller holds the exclusive lock.

        ``seg`` and ``rfd`` are the temp file's segment and a read-only fd on it
        (closed here unless kept): a handle reading SEGMENT_TABLE from a segment
        (or ``lazy``) reads it from the new file from now on.
        """
        keep = False
        try:
            self._swap_files(tmp, gen, docs)
            if seg is not None and rfd >= 0 and (lazy or self._seg is not None):
                self._set_segment(seg, rfd)
                keep = True
        finally:
            if rfd >= 0 and not keep:
                _close_fd(rfd)

    def _swap_files(self, tmp: str, gen: int, docs: int) -> None:
        try:
            # Never replace what is not a regular file (it was checked at
            # open, but the path may have been swapped since).
            try:
                kind = _refuse_kind(os.lstat(self.path))
            except FileNotFoundError:
                kind = None
            if kind is not None:
                raise self._unsafe(self.path, "snapshot", kind)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        with _naming(self.path):
            _fsync_dir(os.path.dirname(self.path))
        # From here the new snapshot is the truth; the old journal is stale
        # (its generation differs) even if we die before resetting it.
        self._gen = gen
        self._snap_key = _key(os.stat(self.path))
        self._snap_docs = docs
        self._reset_journal()

    def _state(self) -> tuple[Any, ...]:
        # What identifies the committed state this handle has applied.
        return (self._snap_key, self._gen, self._j_ino, self._jpos, self._j_current)

    def _compact(self, *, wait: bool, force: bool) -> bool:
        """Compact without holding the lock while the snapshot is written; True when it did.

        Under the exclusive lock: catch up and take a shallow copy of the
        tables (documents are never mutated in place, so it stays
        consistent).  Without any lock: serialise the copy, write and fsync
        the temp file.  Under the lock again: if nothing was committed since
        the copy, swap the files (a rename, a directory fsync and a journal
        reset); otherwise start over.  ``wait=False`` gives up at once when
        the lock is busy; ``force=False`` stops when the journal is no longer
        long (someone else compacted).
        """
        for _ in range(_COMPACT_ATTEMPTS):
            if not self._lock(fcntl.LOCK_EX, wait=wait):
                return False
            try:
                with self._mutex:
                    self._check_open()
                    if self._depth:
                        raise StoreError("compact() cannot run inside a transaction")
                    self._catch_up(exclusive=True)
                    if not force and not self._compact_due():
                        return False
                    if self._lock_depth > 1:
                        # The caller holds the lock across this call (hold_lock):
                        # nobody can commit meanwhile anyway.
                        self._compact_locked()
                        return True
                    state = self._state()
                    gen = self._gen + 1
                    copy: dict[str, Any] = {name: dict(table) for name, table in self._data.items()}
                    dup = -1
                    if self._seg is not None:
                        # Its own fd: a catch-up in another thread may close ours meanwhile.
                        dup = os.dup(self._fds[2])
                        copy[SEGMENT_TABLE] = self._seg.copy(partial(_pread_range, dup, self.path))
            finally:
                self._unlock()
            try:
                payload, new_seg, docs = self._snapshot_bytes(gen, copy)
            finally:
                if dup >= 0:
                    _close_fd(dup)
            del copy
            tmp: str | None = self._write_temp(payload)
            del payload
            rfd = self._reopen(tmp) if tmp is not None and new_seg is not None else -1
            try:
                if not self._lock(fcntl.LOCK_EX, wait=wait):
                    return False
                try:
                    with self._mutex:
                        self._check_open()
                        self._catch_up(exclusive=True)
                        if tmp is not None and self._state() == state and os.path.lexists(tmp):
                            swapping, tmp = tmp, None
                            swap_fd, rfd = rfd, -1
                            self._swap(swapping, gen, docs, new_seg, swap_fd)
                            return True
                        if not force and not self._compact_due():
                            return False
                finally:
                    self._unlock()
            finally:
                if rfd >= 0:
                    _close_fd(rfd)
                if tmp is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(tmp)
        # Commits kept overtaking the copy.  An automatic compaction tries
        # again after a later commit, unless the journal is already far past
        # its threshold; compact() does it now.  Either way, under the lock.
        if not self._lock(fcntl.LOCK_EX, wait=wait):
            return False
        try:
            with self._mutex:
                self._check_open()
                if self._depth:
                    raise StoreError("compact() cannot run inside a transaction")
                self._catch_up(exclusive=True)
                if not force and not self._compact_due(_COMPACT_OVERDUE):
                    return False
                self._compact_locked()
                return True
        finally:
            self._unlock()

    def _reset_journal(self) -> None:
        fd = self._fds[0]
        header = orjson.dumps({"journal": JOURNAL_FORMAT, "gen": self._gen}) + b"\n"
        with _naming(self.journal_path):
            os.ftruncate(fd, 0)
            _write_all(fd, header)
            _datasync(fd)
        self._jpos = len(header)
        self._jline = 1
        self._jops = 0
        self._j_current = True
        self._j_key = _key(os.fstat(fd))

    # ------------------------------------------------------------ public API

    def read(self) -> dict[str, dict[str, Any]]:
        """Return ``{table: {doc_id: doc}}``; the outer dict is a copy.

        The documents are the live in-memory ones: treat them as read-only
        (TinyDB's own query cache already shares documents between callers).
        While the events are still in the snapshot's segment, their table is
        a read-only mapping that loads them all on first use: prefer
        :meth:`read_group` for one incident's.
        """
        data: dict[str, Any] = dict(self._data)
        if self._seg is not None:
            data[SEGMENT_TABLE] = _SegmentView(self)
        return data

    def read_table(self, name: str) -> dict[str, dict[str, Any]]:
        """One table, ``{doc_id: doc}`` (live documents: read-only); {} when missing."""
        return self._table(name) or {}

    def is_segmented(self, name: str) -> bool:
        """True while table ``name`` is read from the snapshot's segment (one group at a time)."""
        return self._seg is not None and name == SEGMENT_TABLE

    def read_group(self, name: str, key: str, value: str) -> dict[str, dict[str, Any]]:
        """The documents of table ``name`` whose field ``key`` equals ``value``, ``{doc_id: doc}`` in table order.

        For the events by incident this parses one incident's slice of the
        snapshot plus what the journal added since, never the whole table.
        """
        with self._mutex:
            seg = self._seg
            if seg is not None and name == SEGMENT_TABLE and key == SEGMENT_KEY:
                try:
                    return seg.group(value)
                except SegmentError as exc:
                    raise self._segment_error(exc) from None
            table = self._table(name) or {}
            return {k: doc for k, doc in table.items() if doc.get(key, _MISSING) == value}

    def group_keys(self, name: str, key: str) -> set[str]:
        """Every string value of field ``key`` in table ``name`` (from the segment's index when it has one)."""
        with self._mutex:
            seg = self._seg
            if seg is not None and name == SEGMENT_TABLE and key == SEGMENT_KEY:
                return seg.group_keys()
            table = self._table(name) or {}
            return {v for v in (group_key(doc, key) for doc in table.values()) if v is not None}

    def find_document(self, name: str, doc_id: str, *, key: str | None = None, value: Any = None) -> dict[str, Any] | None:
        """Document ``doc_id`` of table ``name``, or None.

        ``key``/``value`` say where it probably is (its incident), which spares
        parsing other groups of the segment; it is found anywhere regardless.
        """
        with self._mutex:
            seg = self._seg
            if seg is not None and name == SEGMENT_TABLE:
                try:
                    if key == SEGMENT_KEY and (value is None or isinstance(value, str)):
                        return seg.get(doc_id, value)
                    return seg.get(doc_id)
                except SegmentError as exc:
                    raise self._segment_error(exc) from None
            return (self._data.get(name) or {}).get(doc_id)

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        """Generic whole-database write, turned into a diff of per-document ops.

        Only TinyDB's ``drop_table``/``drop_tables`` get here (the table
        methods are hooked).  The ``_meta`` table is always kept.
        """
        with self.transaction():
            for name in [*self._data, *([SEGMENT_TABLE] if self._seg is not None else [])]:
                if name not in data and name != META_TABLE:
                    self._drop(name)
            for name, table in data.items():
                if isinstance(table, _SegmentView) and table.storage is self and self._seg is not None:
                    continue  # the segment as read(): unchanged
                current = self._table(name)
                if table is current:
                    continue
                new = {str(k): v for k, v in table.items()}
                if current is None:
                    self._truncate(name)
                    current = self._data[name]
                self._save_order(name)
                for doc_id in list(current):
                    if doc_id not in new:
                        self._delete(name, doc_id)
                for doc_id, doc in new.items():
                    if current.get(doc_id, _MISSING) != doc:
                        self._put(name, doc_id, doc)

    def refresh(self, *, wait: bool = True) -> bool:
        """Catch up with other processes' commits; True if anything changed.

        With ``wait=False`` a busy lock (another process writing, another
        thread of ours in a transaction) returns False at once instead of
        waiting; the changes are reported by a later call.

        "Changed" counts everything other processes committed since the
        previous refresh(), including what our own writes already caught up
        with; :attr:`changed_tables` then names the tables (None: all).
        Costs two ``stat`` calls when nothing happened, so it can be polled a
        few times a second.  Returns False inside a transaction (which is
        caught up and holds the lock) and reports those changes afterwards.
        """
        with self._mutex:
            self._check_open()
            if self._depth:
                return False
            try:
                unchanged = (
                    _key(os.stat(self.path)) == self._snap_key
                    and _key(os.stat(self.journal_path)) == self._j_key
                )
            except FileNotFoundError:
                unchanged = False  # the locked path below reports it properly
        if not unchanged:
            # Not under the mutex: a wait for another process must not block
            # this process's own readers.
            if not self._lock(fcntl.LOCK_SH, wait=wait):
                return False
            try:
                with self._mutex:
                    self._check_open()
                    if self._depth:
                        return False
                    self._catch_up(exclusive=False)
            finally:
                self._unlock()
        with self._mutex:
            pending = self._unreported
            if pending is not None and not pending:
                return False
            self.changed_tables = None if pending is None else frozenset(pending)
            self._unreported = set()
            return True

    def compact(self) -> None:
        """Rewrite the snapshot with the current state and reset the journal.

        Temp file in the same directory, fsync, ``os.replace``, fsync of the
        directory, then the journal reset; other processes notice the new
        snapshot inode and reload.  Also happens automatically once the
        journal outgrows ``compact_min_bytes`` and ``compact_ratio`` of the
        snapshot, right after the commit that made it so (once that commit
        released the lock).  Other writers wait only for the final swap: the
        snapshot is serialised and written without the lock (see
        :meth:`_compact`).
        """
        self._check_open()
        with self._mutex:
            if self._depth:
                raise StoreError("compact() cannot run inside a transaction")
        self._compact(wait=True, force=True)

    @property
    def generation(self) -> int:
        """Generation of the snapshot in use (bumped by every compaction)."""
        return self._gen

    @property
    def journal_bytes(self) -> int:
        """Size of the journal applied so far, header included."""
        return self._jpos

    def close(self) -> None:
        """Release file handles and the lock.  Idempotent."""
        with self._mutex:
            self._closed = True
            _close_fds(self._fds)

    def __repr__(self) -> str:
        return f"<JournalStorage {self.path} gen={self._gen} journal={self._jpos}B>"


class _SegmentView(Mapping[str, Any]):
    """SEGMENT_TABLE in :meth:`JournalStorage.read` while it is still in the segment: loads it on first use."""

    __slots__ = ("storage",)

    def __init__(self, storage: JournalStorage) -> None:
        self.storage = storage

    def _table(self) -> dict[str, Any]:
        return self.storage._table(SEGMENT_TABLE) or {}

    def __getitem__(self, key: str) -> Any:
        return self._table()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())


class JournalTable(Table):
    """TinyDB Table whose writes become per-document journal operations.

    Overrides every write method of ``tinydb.table.Table`` (4.9.0) with the
    same signature and semantics, each as one atomic, durable commit (upsert
    included, which stock TinyDB does as two writes).  Reads use the
    in-memory tables directly.
    """

    def __init__(
        self,
        storage: Storage,
        name: str,
        cache_size: int = Table.default_query_cache_capacity,
        persist_empty: bool = False,
    ):
        """Create the table view and register it for cache invalidation."""
        if not isinstance(storage, JournalStorage):
            raise TypeError("JournalTable needs a JournalStorage (use open_db)")
        super().__init__(storage, name, cache_size=cache_size, persist_empty=persist_empty)
        storage._register(self)

    @property
    def _js(self) -> JournalStorage:
        return self._storage  # type: ignore[return-value]

    def insert(self, document: Mapping) -> int:
        """Insert a document; durable and visible to others on return."""
        if not isinstance(document, Mapping):
            raise ValueError("Document is not a Mapping")
        js = self._js
        with _Txn(js):
            if isinstance(document, self.document_class):
                doc_id = document.doc_id
                if str(doc_id) in (js._table(self._name) or ()):
                    raise ValueError(f"Document with ID {doc_id} already exists")
                # Like stock TinyDB: the next auto id is recomputed from the
                # documents present (safe: they include everything caught up).
                js._hw.pop(self._name, None)
            else:
                doc_id = js._next_id(self._name)
            js._put(self._name, str(doc_id), document)
        return doc_id

    def insert_multiple(self, documents: Iterable[Mapping]) -> list[int]:
        """Insert documents as one commit; returns their ids."""
        js = self._js
        doc_ids: list[int] = []
        with _Txn(js):
            js._ensure_table(self._name)
            for document in documents:
                if not isinstance(document, Mapping):
                    raise ValueError("Document is not a Mapping")
                if isinstance(document, self.document_class):
                    doc_id = document.doc_id
                    if str(doc_id) in (js._table(self._name) or ()):
                        raise ValueError(f"Document with ID {doc_id} already exists")
                else:
                    doc_id = js._next_id(self._name)
                js._put(self._name, str(doc_id), document)
                doc_ids.append(doc_id)
        return doc_ids

    def _select(self, cond: QueryLike | None, doc_ids: Iterable[int] | None) -> list[Any]:
        table = self._js._table(self._name) or {}
        if doc_ids is not None:
            return [i for i in list(doc_ids) if str(i) in table]
        conv = self.document_id_class
        if cond is not None:
            return [conv(k) for k, doc in list(table.items()) if cond(doc)]
        return [conv(k) for k in list(table)]

    def update(
        self,
        fields: Mapping | Callable[[MutableMapping], None],
        cond: QueryLike | None = None,
        doc_ids: Iterable[int] | None = None,
    ) -> list[int]:
        """Update matching documents (all when neither cond nor doc_ids)."""
        js = self._js
        name = self._name
        with _Txn(js):
            js._ensure_table(name)
            if cond is None and doc_ids is not None and js.is_segmented(name):
                return self._update_in_segment(fields, doc_ids)
            ids = self._select(cond, doc_ids)
            table = js._table(name) or {}
            for doc_id in ids:
                key = str(doc_id)
                if callable(fields):
                    # The callable may mutate nested values: give it a copy.
                    new = _deepcopy(table[key])
                    fields(new)
                else:
                    new = dict(table[key])
                    new.update(fields)
                js._put(name, key, new)
        return ids

    def _update_in_segment(self, fields: Mapping | Callable[[MutableMapping], None], doc_ids: Iterable[int]) -> list[int]:
        # update(doc_ids=...) of events still in the segment: each document is
        # looked up by id (in the group its new fields name first), so starring
        # or editing one event does not load every event.
        js = self._js
        name = self._name
        hint = fields.get(SEGMENT_KEY) if isinstance(fields, Mapping) else None
        ids: list[int] = []
        for doc_id in list(doc_ids):
            key = str(doc_id)
            old = js.find_document(name, key, key=SEGMENT_KEY, value=hint)
            if old is None:
                continue
            if callable(fields):
                new = _deepcopy(old)
                fields(new)
            else:
                new = dict(old)
                new.update(fields)
            js._put(name, key, new)
            ids.append(doc_id)
        return ids

    def update_multiple(
        self,
        updates: Iterable[tuple[Mapping | Callable[[MutableMapping], None], QueryLike]],
    ) -> list[int]:
        """Apply several (fields, cond) updates, as stock TinyDB does, in one commit."""
        js = self._js
        name = self._name
        updates = list(updates)
        updated: list[int] = []
        with _Txn(js):
            js._ensure_table(name)
            table = js._table(name) or {}
            for key in list(table):
                live = table[key]
                work = None
                for fields, cond in updates:
                    # Later conditions see earlier updates, like stock TinyDB.
                    if cond(live if work is None else work):
                        if work is None:
                            work = _deepcopy(live)
                        updated.append(self.document_id_class(key))
                        if callable(fields):
                            fields(work)
                        else:
                            work.update(fields)
                if work is not None:
                    js._put(name, key, work)
        return updated

    def upsert(self, document: Mapping, cond: QueryLike | None = None) -> list[int]:
        """Update matching documents or insert; atomic across processes."""
        if isinstance(document, self.document_class) and hasattr(document, "doc_id"):
            doc_ids: list[int] | None = [document.doc_id]
        else:
            doc_ids = None
        if doc_ids is None and cond is None:
            raise ValueError(
                "If you don't specify a search query, you must "
                "specify a doc_id. Hint: use a table.Document "
                "object."
            )
        with _Txn(self._js):
            updated = self.update(document, cond, doc_ids)
            if updated:
                return updated
            return [self.insert(document)]

    def remove(
        self,
        cond: QueryLike | None = None,
        doc_ids: Iterable[int] | None = None,
    ) -> list[int]:
        """Remove matching documents; returns the removed ids."""
        if doc_ids is None and cond is None:
            raise RuntimeError("Use truncate() to remove all documents")
        js = self._js
        with _Txn(js):
            js._ensure_table(self._name)
            ids = self._select(cond, doc_ids)
            if ids:
                js._save_order(self._name)
            for doc_id in ids:
                js._delete(self._name, str(doc_id))
        return ids

    def truncate(self) -> None:
        """Remove all documents; ids restart at 1 (as in stock TinyDB)."""
        with _Txn(self._js):
            self._js._truncate(self._name)
        self._next_id = None

    def _get_next_id(self) -> int:
        # The counter lives in the storage so that catching up with another
        # process's inserts moves it too; Table._next_id stays unused.
        return self._js._next_id(self._name)

    def _read_table(self) -> dict[str, Mapping]:
        return self._js._table(self._name) or {}

    def _update_table(self, updater: Callable[[dict[int, Mapping]], None]) -> None:
        # Generic fallback for any Table code path not hooked above (in
        # 4.9.0 only ``persist_empty``): run the updater on a deep copy and
        # journal the difference.  Slow, but correct.
        js = self._js
        name = self._name
        with _Txn(js):
            live = js._table(name)
            conv = self.document_id_class
            table = {conv(k): _deepcopy(v) for k, v in (live or {}).items()}
            updater(table)
            new = {str(k): v for k, v in table.items()}
            if live is None:
                js._truncate(name)
                live = js._data[name]
            js._save_order(name)
            for key in list(live):
                if key not in new:
                    js._delete(name, key)
            for key, doc in new.items():
                if live.get(key, _MISSING) != doc:
                    js._put(name, key, doc)
        self.clear_cache()


class IncidentDB(TinyDB):
    """TinyDB wired to :class:`JournalStorage` and :class:`JournalTable`."""

    table_class = JournalTable
    default_storage_class = JournalStorage

    @property
    def storage(self) -> JournalStorage:
        """The journal storage (``refresh()``, ``compact()``, ...)."""
        return self._storage  # type: ignore[return-value]


def open_db(
    path: str | os.PathLike[str],
    *,
    lock_timeout: float | None = None,
    holder_name: str | None = None,
    on_lock_wait: Callable[[LockHolder | None, float], None] | None = None,
) -> TinyDB:
    """Open the incident-tui database at ``path``, creating it when missing.

    ``path`` may be a symlink: the journal and lock live beside the file it
    resolves to.  Creates parent directories and the files (mode 0600).
    Raises :class:`CorruptDatabaseError` (one-line message naming the file and
    the problem; the file is left byte-identical) for a corrupt, truncated or
    foreign file, :class:`UnsafeFileError` (a subclass) when the snapshot,
    journal or lock is a symlink, directory, FIFO or device, and
    :class:`SchemaVersionError` for a file from a newer version.  Older schemas
    are migrated (see :data:`MIGRATIONS`).  An existing empty file is treated
    as a new database unless its journal holds records.

    Every wait for the cross-process lock (here and in later writes) lasts at
    most ``lock_timeout`` seconds (default :data:`DEFAULT_LOCK_TIMEOUT`), then
    raises :class:`LockTimeoutError` naming the holding process.
    ``holder_name`` is what other processes' errors call this one (default:
    the program name); ``on_lock_wait(holder, waited)`` is called between
    polls of a wait and may raise to abandon it.
    """
    try:
        return IncidentDB(path, lock_timeout=lock_timeout, holder_name=holder_name, on_lock_wait=on_lock_wait)
    except OSError as exc:
        given = os.fspath(path)
        about = os.fspath(exc.filename) if exc.filename is not None else None
        where = f"{about}: " if about is not None and about not in (given, os.path.realpath(given)) else ""
        raise StoreError(_one_line(f"cannot open database {given}: {where}{exc.strerror or exc}")) from exc


def transaction(db: TinyDB) -> contextlib.AbstractContextManager[TinyDB]:
    """Group reads and writes into one atomic, durable commit.

    Takes the cross-process lock, catches up with other processes' writes,
    buffers every write of the block and commits them as one journal record
    (one fsync) on exit.  On an exception nothing is written and the
    in-memory state is rolled back.  Re-entrant: a nested block joins the
    outer one (an exception escaping only the inner block undoes only its
    writes).  Yields ``db``.
    """
    storage = db.storage
    if not isinstance(storage, JournalStorage):
        raise TypeError("transaction() needs a database from open_db()")
    return _Txn(storage, db)
