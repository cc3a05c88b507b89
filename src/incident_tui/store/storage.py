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
* Compaction writes a new snapshot to a temp file in the same directory,
  fsyncs it, ``os.replace``\\ s it over the old one, fsyncs the directory and
  only then resets the journal.  Snapshot and journal header carry a
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
import fcntl
import gc
import glob
import os
import secrets
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any

import orjson
from tinydb import TinyDB
from tinydb.queries import QueryLike
from tinydb.storages import Storage
from tinydb.table import Table

__all__ = [
    "open_db",
    "transaction",
    "StoreError",
    "CorruptDatabaseError",
    "SchemaVersionError",
    "SCHEMA_VERSION",
    "MIGRATIONS",
    "JournalStorage",
    "JournalTable",
    "IncidentDB",
]

#: Version of the data layout inside the snapshot.  Bump it together with an
#: entry in :data:`MIGRATIONS`.
SCHEMA_VERSION = 1

#: ``MIGRATIONS[v]`` upgrades the in-memory data (``{table: {doc_id: doc}}``,
#: doc ids as strings) from schema ``v`` to ``v + 1``, in place.  Run at open,
#: under the exclusive lock, after the journal has been replayed; the result is
#: then written as a new snapshot.  Only schema 1 exists so far.
MIGRATIONS: dict[int, Callable[[dict[str, dict[str, Any]]], None]] = {}

APP_NAME = "incident-tui"
META_TABLE = "_meta"
META_DOC_ID = "1"
JOURNAL_SUFFIX = ".journal"
LOCK_SUFFIX = ".lock"
JOURNAL_FORMAT = 1
# Temp files of a compaction are ``<path>.compact-<pid>-<random>.tmp``; only a
# holder of the exclusive lock writes them, so whoever holds that lock may
# delete any it finds (they are leftovers of a crash).
_TMP_INFIX = ".compact-"
_TMP_SUFFIX = ".tmp"

# Auto-compaction: when the journal outgrows both of these.  Replaying the
# journal costs more per byte than loading the snapshot (one Python-level
# apply per operation), so it is kept to a tenth of the snapshot: open time
# stays within ~25% of a clean open (0.5 s budget at 150k events).  At 150k
# events that is a compaction (~0.5 s, under the lock) every ~15k appends,
# ~35 us amortised per append.
COMPACT_MIN_BYTES = 4 * 1024 * 1024
COMPACT_RATIO = 0.1

_OPTS = orjson.OPT_NON_STR_KEYS  # TinyDB (stdlib json) turns int keys into strings too
_MISSING: Any = object()


class StoreError(Exception):
    """Base class of every error raised by the store."""


class CorruptDatabaseError(StoreError):
    """The database file is corrupt, truncated or not an incident-tui database.

    The message is one line naming the file and the problem.  The file has
    not been modified.
    """


class SchemaVersionError(StoreError):
    """The file was written by a newer incident-tui (unknown schema version)."""


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


class _Snapshot:
    __slots__ = ("key", "gen", "data")

    def __init__(self, key: tuple[int, int, int], gen: int, data: dict[str, dict[str, Any]]):
        self.key = key
        self.gen = gen
        self.data = data


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
        s._mutex.acquire()
        try:
            s._check_open()
            self._outer = s._depth == 0
            if self._outer:
                fcntl.flock(s._fds[1], fcntl.LOCK_EX)
                try:
                    s._catch_up(exclusive=True)
                except BaseException:
                    fcntl.flock(s._fds[1], fcntl.LOCK_UN)
                    raise
            self._mark = (len(s._ops), len(s._undo), dict(s._hw))
            s._depth += 1
        except BaseException:
            s._mutex.release()
            raise
        return self._ret

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        s = self._s
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
                if not s._closed:
                    fcntl.flock(s._fds[1], fcntl.LOCK_UN)
            s._mutex.release()
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

    def __init__(self, path: str | os.PathLike[str]) -> None:
        """Open or create the database at ``path`` (see :func:`open_db`)."""
        self.path = os.path.abspath(os.fspath(path))
        self.journal_path = self.path + JOURNAL_SUFFIX
        self.lock_path = self.path + LOCK_SUFFIX
        self._mutex = threading.RLock()
        # [journal fd, lock fd]; a list so the finalizer sees reopened fds.
        self._fds = [-1, -1]
        self._finalizer = weakref.finalize(self, _close_fds, self._fds)
        self._closed = False
        self._data: dict[str, dict[str, Any]] = {}
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
        self._j_current = False  # journal header matches self._gen
        # Tables changed by other processes and not yet reported by refresh();
        # None means "everything" (a reload after someone else's compaction).
        # Writes catch up too, so this must outlive a single catch-up.
        self._unreported: set[str] | None = set()
        #: Tables changed by other processes, as of the last refresh() that
        #: returned True; None after a full reload (treat as all tables).
        self.changed_tables: frozenset[str] | None = frozenset()
        self.compact_min_bytes = COMPACT_MIN_BYTES
        self.compact_ratio = COMPACT_RATIO
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
        parent = os.path.dirname(self.path)
        if snap is None:
            os.makedirs(parent, exist_ok=True)
        self._fds[1] = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
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

    def _open_journal(self) -> None:
        try:
            fd = os.open(self.journal_path, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC)
        except FileNotFoundError:
            fd = os.open(self.journal_path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            # The directory entry must be durable before acknowledged writes
            # go into this file.
            _fsync_dir(os.path.dirname(self.journal_path))
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
            fh = open(self.path, "rb")
        except FileNotFoundError:
            return None
        except IsADirectoryError:
            raise self._corrupt("it is a directory") from None
        with fh:
            st = os.fstat(fh.fileno())
            raw = fh.read()
        if not raw:
            return None
        try:
            data = _loads_bulk(raw)
        except orjson.JSONDecodeError as exc:
            where = f" at byte {exc.pos}" if getattr(exc, "pos", None) is not None else ""
            kind = "truncated" if exc.pos is not None and exc.pos >= len(raw.rstrip()) else "corrupt"
            raise self._corrupt(f"{kind} JSON{where} ({exc.msg})") from None
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
        for name, table in data.items():
            if not isinstance(table, dict):
                raise self._corrupt(f"table {name!r} is not a JSON object")
            # set(map(type)) runs in C: a few ms for 150k documents.
            if not set(map(type, table.values())) <= {dict}:
                bad = next(k for k, v in table.items() if type(v) is not dict)
                raise self._corrupt(f"document {bad!r} of table {name!r} is not a JSON object")
        return _Snapshot(_key(st), gen, data)

    def _load(self, snap: _Snapshot, *, exclusive: bool) -> None:
        self._unreported = None
        self._data = snap.data
        self._gen = snap.gen
        self._snap_key = snap.key
        self._hw.clear()
        self._j_key = None
        self._jpos = 0
        self._jline = 0
        self._j_current = False
        self._sync_journal(exclusive=exclusive)
        if exclusive and not self._j_current:
            self._reset_journal()
        self._invalidate(None)

    def _create(self) -> None:
        # Only an empty or missing snapshot gets here.  A journal holding
        # records without its snapshot is somebody's data: refuse, don't reset.
        buf = os.pread(self._fds[0], 1 << 20, 0)
        lines = buf.split(b"\n")
        if len(lines) > 2 and any(lines[1:-1]):
            raise self._corrupt(
                f"the snapshot is missing or empty but {self.journal_path} holds records; "
                "move the journal away to start a new database",
            )
        self._data = {META_TABLE: {META_DOC_ID: {"app": APP_NAME, "schema": SCHEMA_VERSION}}}
        self._hw.clear()
        self._gen = 0
        self._compact_locked()

    def _migrate(self) -> None:
        meta = self._data[META_TABLE][META_DOC_ID]
        schema = meta["schema"]
        if schema >= SCHEMA_VERSION:
            return
        # Look the mapping up at call time so tests (and future code) can
        # extend it.
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
        self._compact_locked()

    # --------------------------------------------------------------- locking

    @contextlib.contextmanager
    def _flock(self, mode: int) -> Iterator[None]:
        fcntl.flock(self._fds[1], mode)
        try:
            yield
        finally:
            fcntl.flock(self._fds[1], fcntl.LOCK_UN)

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
        h = self._hw.get(name)
        if h is None:
            table = self._data.get(name)
            h = max(map(int, table), default=0) if table else 0
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
        table = self._data.get(name)
        if table:
            self._undo.append(("o", name, list(table)))

    def _delete(self, name: str, doc_id: str) -> None:
        if name == META_TABLE and doc_id == META_DOC_ID:
            raise StoreError(f"the {META_TABLE} document is managed by the store")
        table = self._data.get(name)
        if table is None or doc_id not in table:
            return
        self._undo.append(("d", name, doc_id, table.pop(doc_id)))
        self._ops.append(b'["d",' + _dumps(name) + b"," + _dumps(doc_id) + b"]")
        self._invalidate({name})

    def _ensure_table(self, name: str) -> None:
        # Stock TinyDB creates a table on any write to it, even one that
        # changes no document; keep tables() identical.
        if name not in self._data:
            self._truncate(name)

    def _truncate(self, name: str) -> None:
        if name == META_TABLE:
            raise StoreError(f"the {META_TABLE} table is managed by the store")
        # Replacing the dict (instead of clearing it) makes the undo O(1).
        self._undo.append(("t", name, self._data.get(name, _MISSING)))
        self._data[name] = {}
        self._hw.pop(name, None)  # recomputed from the (empty) table, as stock does
        self._ops.append(b'["t",' + _dumps(name) + b"]")
        self._invalidate({name})

    def _drop(self, name: str) -> None:
        if name == META_TABLE:
            raise StoreError(f"the {META_TABLE} table is managed by the store")
        if name not in self._data:
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
        self._j_key = _key(os.fstat(fd))
        if self._jpos > max(self.compact_min_bytes, self._snap_key[1] * self.compact_ratio):
            try:
                self._compact_locked()
            except OSError:
                # The commit itself is durable; a failed compaction only
                # leaves the journal long (and maybe a temp file, removed at
                # the next open).  Try again at the next commit.
                pass

    # ----------------------------------------------------------- compaction

    def _snapshot_bytes(self, gen: int) -> bytes:
        data = dict(self._data)
        meta_table = dict(data[META_TABLE])
        meta_table[META_DOC_ID] = {**meta_table[META_DOC_ID], "gen": gen}
        data[META_TABLE] = meta_table
        return orjson.dumps(data, option=_OPTS)

    def _compact_locked(self) -> None:
        gen = self._gen + 1
        payload = self._snapshot_bytes(gen)
        tmp = f"{self.path}{_TMP_INFIX}{os.getpid()}-{secrets.token_hex(4)}{_TMP_SUFFIX}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            try:
                os.fchmod(fd, 0o600)  # exact mode whatever the umask
                _write_all(fd, payload)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        _fsync_dir(os.path.dirname(self.path))
        # From here the new snapshot is the truth; the old journal is stale
        # (its generation differs) even if we die before resetting it.
        self._gen = gen
        self._snap_key = _key(os.stat(self.path))
        self._reset_journal()

    def _reset_journal(self) -> None:
        fd = self._fds[0]
        header = orjson.dumps({"journal": JOURNAL_FORMAT, "gen": self._gen}) + b"\n"
        os.ftruncate(fd, 0)
        _write_all(fd, header)
        _datasync(fd)
        self._jpos = len(header)
        self._jline = 1
        self._j_current = True
        self._j_key = _key(os.fstat(fd))

    # ------------------------------------------------------------ public API

    def read(self) -> dict[str, dict[str, Any]]:
        """Return ``{table: {doc_id: doc}}``; the outer dict is a copy.

        The documents are the live in-memory ones: treat them as read-only
        (TinyDB's own query cache already shares documents between callers).
        """
        return dict(self._data)

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        """Generic whole-database write, turned into a diff of per-document ops.

        Only TinyDB's ``drop_table``/``drop_tables`` get here (the table
        methods are hooked).  The ``_meta`` table is always kept.
        """
        with self.transaction():
            for name in list(self._data):
                if name not in data and name != META_TABLE:
                    self._drop(name)
            for name, table in data.items():
                current = self._data.get(name)
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

    def refresh(self) -> bool:
        """Catch up with other processes' commits; True if anything changed.

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
                with self._flock(fcntl.LOCK_SH):
                    self._catch_up(exclusive=False)
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
        snapshot.
        """
        with self._mutex:
            self._check_open()
            if self._depth:
                raise StoreError("compact() cannot run inside a transaction")
            with self._flock(fcntl.LOCK_EX):
                self._catch_up(exclusive=True)
                self._compact_locked()

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
                if str(doc_id) in js._data.get(self._name, ()):
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
                    if str(doc_id) in js._data.get(self._name, ()):
                        raise ValueError(f"Document with ID {doc_id} already exists")
                else:
                    doc_id = js._next_id(self._name)
                js._put(self._name, str(doc_id), document)
                doc_ids.append(doc_id)
        return doc_ids

    def _select(self, cond: QueryLike | None, doc_ids: Iterable[int] | None) -> list[Any]:
        table = self._js._data.get(self._name, {})
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
            ids = self._select(cond, doc_ids)
            table = js._data[name]
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
            table = js._data[name]
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
        return self._js._data.get(self._name, {})

    def _update_table(self, updater: Callable[[dict[int, Mapping]], None]) -> None:
        # Generic fallback for any Table code path not hooked above (in
        # 4.9.0 only ``persist_empty``): run the updater on a deep copy and
        # journal the difference.  Slow, but correct.
        js = self._js
        name = self._name
        with _Txn(js):
            live = js._data.get(name)
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


def open_db(path: str | os.PathLike[str]) -> TinyDB:
    """Open the incident-tui database at ``path``, creating it when missing.

    Creates parent directories and the files (mode 0600).  Raises
    :class:`CorruptDatabaseError` (one-line message naming the file and the
    problem; the file is left byte-identical) for a corrupt, truncated or
    foreign file, and :class:`SchemaVersionError` for a file from a newer
    version.  Older schemas are migrated (see :data:`MIGRATIONS`).  An
    existing empty file is treated as a new database.
    """
    try:
        return IncidentDB(path)
    except OSError as exc:
        raise StoreError(_one_line(f"cannot open database {os.fspath(path)}: {exc.strerror or exc}")) from exc


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
