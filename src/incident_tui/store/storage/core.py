"""JournalStorage: the TinyDB storage that ties snapshot, journal, lock and transactions together.

It holds the state in memory and coordinates the files: takes the lock,
catches up with other processes, commits each transaction as one journal line,
and compacts.  The formats live in :mod:`.snapshot` and :mod:`.journal`, the
file handling in :mod:`.files` and :mod:`.lock`, the undo log in
:mod:`.transaction`; the package docstring tells the whole design.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any

import orjson
from tinydb.storages import Storage
from tinydb.table import Table

# SCHEMA_VERSION, MIGRATIONS and _datasync are read from the package at call
# time, not imported: a migration raises the package's SCHEMA_VERSION (and the
# tests do), and the tests replace its _datasync to simulate a full disk.
from incident_tui.store import storage as _package
from incident_tui.store.storage import journal
from incident_tui.store.storage.codec import OPTS
from incident_tui.store.storage.errors import CorruptDatabaseError, LockHolder, StoreError, corrupt, one_line
from incident_tui.store.storage.files import (
    JOURNAL_SUFFIX,
    JOURNAL_TMP_INFIX,
    LOCK_SUFFIX,
    close_fds,
    leftover_temps,
    naming,
    open_file,
    refuse_unsafe_siblings,
    release_replaced,
    remove_leftover_temps,
    replace_file,
    replace_snapshot,
    stat_key,
    write_all,
    write_temp,
)
from incident_tui.store.storage.lock import (
    DEFAULT_LOCK_TIMEOUT,
    LOCK_POLL_MAX,
    LOCK_POLL_SHORT,
    LOCK_POLL_SHORT_FOR,
    LOCK_WAIT_REPORT_AFTER,
    find_lock_holder,
    holder_record,
    lock_timeout_error,
)
from incident_tui.store.lazy_table import LazyTable, SnapshotFile
from incident_tui.store.segment import Segment, SegmentError, group_key
from incident_tui.store.segment_table import SegmentedTable
from incident_tui.store.storage.snapshot import (
    META_DOC_ID,
    META_TABLE,
    SEGMENT_KEY,
    SEGMENT_TABLE,
    Snapshot,
    close_fd,
    encode_snapshot,
    new_data,
    pread_range,
    read_snapshot,
    segment_error,
    with_base,
)
from incident_tui.store.storage.transaction import MISSING, Txn, UndoLog

# Auto-compaction keeps the replay of the journal a bounded fraction of the
# *eager* open cost: parsing every table but the events (what the dashboard's
# list needs; the events are read one incident at a time and cost an open
# nothing, so they do not count).  Replay costs one Python-level apply per
# operation (~3.6 us) on top of parsing (~7 ms per MB), ~3x an eager open per
# MB of small documents.  So the journal is compacted once it holds more
# operations than COMPACT_RATIO of the snapshot's non-event documents (at
# least COMPACT_MIN_OPS: ~4 ms of applies), or more bytes than COMPACT_RATIO
# of its non-event bytes (at least COMPACT_MIN_BYTES, for the few big
# documents, prompt texts, which replay at parsing speed): replay then stays
# under ~15% of an eager open, and under ~15 ms on a small database.
# The price is write amplification: each compaction rewrites the whole file,
# events included (copied as bytes, not re-encoded), for at most COMPACT_RATIO
# of its small tables in journal: at 5,000 incidents (61 MB, 6 MB of it not
# events, 13k documents) a compaction every 1,000 operations (~1,000 notes,
# ~300 KB of journal): ~200 bytes written per byte committed, outside the lock
# (see compact()).  A bulk load (JournalStorage.bulk) compacts once at its end.
COMPACT_MIN_BYTES = 2 * 1024 * 1024
COMPACT_MIN_OPS = 1000
COMPACT_RATIO = 0.05
# A compaction whose copy was overtaken by other commits starts over once
# (so a quiet database ends with an empty journal); the last try swaps anyway
# and copies the records committed meanwhile into the new journal.  Only a
# compaction whose files were replaced under it by another process's
# compaction gives up after these tries...
_COMPACT_ATTEMPTS = 2
# ... and then an automatic one waits for a later commit, unless the journal
# is this many times past its threshold; compact() then compacts under the lock.
_COMPACT_OVERDUE = 4.0


def _sync(fd: int) -> None:
    _package._datasync(fd)


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
        self._holder_record = holder_record(holder_name)
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
        self._finalizer = weakref.finalize(self, close_fds, self._fds)
        self._closed = False
        self._data: dict[str, dict[str, Any]] = {}
        # SEGMENT_TABLE while it is still in the snapshot's segment (then it is
        # not in _data); None once it is an ordinary in-memory table.
        self._seg: SegmentedTable | None = None
        # The other tables not parsed yet, each a slice of a snapshot parsed on
        # first use (then moved into _data); never both here and in _data.
        self._lazy: dict[str, LazyTable] = {}
        self._hw: dict[str, int] = {}  # highest doc id handed out or seen, per table
        self._tables: dict[str, weakref.WeakSet[Table]] = {}
        self._change_counts: dict[str, int] = {}
        self._all_changes = 0
        self._depth = 0
        self._ops: list[bytes] = []
        self._undo = UndoLog()
        self._gen = 0
        self._snap_key: tuple[int, int, int] | None = None
        self._j_key: tuple[int, int, int] | None = None
        self._j_ino = -1
        self._jpos = 0  # bytes of the journal applied (always at a line boundary)
        self._jline = 0  # lines of the journal applied, header included
        self._jops = 0  # document operations in those lines
        self._snap_docs = 0  # documents in the snapshot, all tables
        self._snap_events = (0, 0)  # bytes and documents of the snapshot's events segment
        self._j_current = False  # journal header matches self._gen
        # The snapshot's record of the previous journal it includes: (generation, bytes).
        self._base: tuple[int, int] | None = None
        # The journal is the previous generation's, replayed from _base[1] on: a
        # compaction stopped between its two replaces (finished under the
        # exclusive lock by _reset_journal).
        self._j_prev = False
        self._epoch = 0  # moves whenever the state is reloaded or the journal rewritten
        self._held_temps: dict[str, int] = {}  # snapshot temp files being written -> their flocked fds
        # Replaced files kept open until the lock is released: freeing a big
        # file's blocks (at its last close) is not done while others wait.
        self._close_after_unlock: list[int] = []
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
        self._bulk = 0  # inside bulk(): no automatic compaction
        #: Why automatic compaction stopped (one line), or None: the snapshot has a damaged part,
        #: which compaction never copies over the file. Not tried again until the snapshot changes
        #: (another process compacted or the file was restored), so a commit never pays a failing
        #: compaction again; the journal grows meanwhile, and the caller should say so.
        self.compaction_refused: str | None = None
        self._refused_snap: Any = None
        try:
            self._open()
        except BaseException:
            self._closed = True
            close_fds(self._fds)
            raise

    # ------------------------------------------------------------------ open

    def _open(self) -> None:
        # Validate an existing file before creating anything next to it, so a
        # foreign or corrupt file does not sprout .lock/.journal siblings.
        snap = self._read_snapshot()
        # Likewise a symlinked or special journal or lock: refused before either is created.
        refuse_unsafe_siblings(self.path)
        parent = os.path.dirname(self.path)
        if snap is None:
            os.makedirs(parent, exist_ok=True)
        self._fds[1] = open_file(self.path, self.lock_path, os.O_RDWR, "lock file")
        self._open_journal()
        need_ex = snap is None or bool(leftover_temps(self.path)) or snap.schema < _package.SCHEMA_VERSION
        if not need_ex:
            with self._flock(fcntl.LOCK_SH):
                snap = self._reuse_or_read(snap)
                if snap is not None and snap.schema >= _package.SCHEMA_VERSION:
                    self._load(snap, exclusive=False)
                else:
                    need_ex = True
        if need_ex:
            with self._flock(fcntl.LOCK_EX):
                remove_leftover_temps(self.path)
                snap = self._reuse_or_read(snap)
                if snap is None:
                    self._create()
                else:
                    self._load(snap, exclusive=True)
                    self._migrate()
        self._unreported = set()  # what we opened is not a change

    def _reuse_or_read(self, snap: Snapshot | None) -> Snapshot | None:
        # The unlocked pre-read is reused when the file is provably the same
        # one (same inode/size/mtime), which saves parsing it twice at open.
        if snap is not None:
            try:
                if stat_key(os.stat(self.path)) == snap.key:
                    return snap
            except FileNotFoundError:
                pass
        return self._read_snapshot()

    def _open_journal(self) -> None:
        fd = open_file(self.path, self.journal_path, os.O_RDWR | os.O_APPEND, "journal")
        if self._fds[0] >= 0:
            os.close(self._fds[0])
        self._fds[0] = fd
        self._j_ino = os.fstat(fd).st_ino

    def _read_snapshot(self) -> Snapshot | None:
        return read_snapshot(self.path, _package.SCHEMA_VERSION)

    def _load(self, snap: Snapshot, *, exclusive: bool) -> None:
        self._unreported = None
        self._data = snap.data
        self._lazy = snap.lazy
        self._set_segment(snap.seg, snap.detach())
        self._gen = snap.gen
        self._base = snap.base
        self._snap_key = snap.key
        self._epoch += 1
        # The highest ids as of the snapshot; the journal replay below raises them.
        self._hw = {name: n for name, n in snap.high.items() if name in snap.data or self._has_table(name)}
        self._j_key = None
        self._jpos = 0
        self._jline = 0
        self._jops = 0
        self._snap_docs = (sum(map(len, snap.data.values())) + sum(t.count for t in snap.lazy.values())
                           + (snap.seg.count if snap.seg is not None else 0))
        self._snap_events = (snap.seg.end - snap.seg.start, snap.seg.count) if snap.seg is not None else (0, 0)
        self._j_current = False
        self._j_prev = False
        self._sync_journal(exclusive=exclusive)
        if exclusive and not self._j_current:
            self._reset_journal()
        self._invalidate(None)

    def _set_segment(self, seg: Segment | None, fd: int) -> None:
        """Read SEGMENT_TABLE from ``seg`` of the snapshot open as ``fd`` (ours from now on) or, with None, from _data."""
        old, self._fds[2] = self._fds[2], fd
        if old >= 0:
            # Maybe the last fd of a snapshot another process's compaction replaced: freed in
            # chunks (release_replaced), and not while this handle holds the lock (a reload).
            if self._lock_depth:
                self._close_after_unlock.append(old)
            else:
                release_replaced(old)
        if seg is None or fd < 0:
            self._seg = None
            return
        self._seg = SegmentedTable(seg, partial(pread_range, fd, self.path))
        self._data.pop(seg.table, None)

    def _materialise(self) -> None:
        """Make SEGMENT_TABLE an ordinary in-memory table (parses the whole segment once)."""
        with self._mutex:
            seg = self._seg
            if seg is None:
                return
            try:
                base, table = seg.materialise()
            except SegmentError as exc:
                raise segment_error(self.path, exc) from None
            # Undo entries of the open transaction name overlay states; make
            # them plain document undos against the table as it now is.
            self._undo.settle_overlay(base)
            self._data[SEGMENT_TABLE] = table
            self._set_segment(None, -1)

    def _materialise_table(self, name: str) -> None:
        """Parse table ``name`` from its snapshot slice, with what the journal changed since (see lazy_table)."""
        with self._mutex:
            lazy = self._lazy.get(name)
            if lazy is None:
                return
            try:
                table = lazy.materialise()
            except SegmentError as exc:
                raise corrupt(self.path, f"its table {name!r} is unreadable ({exc})") from None
            self._data[name] = table
            del self._lazy[name]

    def _table(self, name: str) -> dict[str, Any] | None:
        """The in-memory table ``name`` (None when there is none); materialises it (or the segment) if needed."""
        table = self._data.get(name)
        if table is None:
            if name in self._lazy:
                self._materialise_table(name)
            elif self._seg is not None and name == SEGMENT_TABLE:
                self._materialise()
            else:
                return None
            table = self._data.get(name)
        return table

    def _has_table(self, name: str) -> bool:
        return name in self._data or name in self._lazy or (self._seg is not None and name == SEGMENT_TABLE)

    def _create(self) -> None:
        # Only an empty or missing snapshot gets here.  A journal holding
        # anything past its header line is somebody's data: its records are
        # changes on top of a snapshot that is gone, so neither replaying them
        # nor resetting the journal is safe.  Refuse and touch nothing.  The
        # whole file counts, however long its first record is.
        state = "missing" if not os.path.lexists(self.path) else "empty"
        journal.refuse_orphan_records(self._fds[0], self.path, self.journal_path, state)
        self._data = new_data(_package.SCHEMA_VERSION)
        self._lazy = {}
        self._set_segment(None, -1)
        self._hw.clear()
        self._gen = 0
        self._compact_locked(replayable=False)

    def _migrate(self) -> None:
        meta = self._data[META_TABLE][META_DOC_ID]
        schema = meta["schema"]
        target = _package.SCHEMA_VERSION
        if schema >= target:
            return
        # Look the mapping up at call time so tests (and future code) can
        # extend it.  Migrations see every table, the events included.
        self._materialise()
        for name in list(self._lazy):
            self._materialise_table(name)
        for version in range(schema, target):
            step = _package.MIGRATIONS.get(version)
            if step is None:
                raise StoreError(f"cannot open database {self.path}: no migration from schema {version}")
            try:
                step(self._data)
            except Exception as exc:
                raise StoreError(
                    one_line(f"cannot open database {self.path}: migration from schema {version} failed: {exc!r}")
                ) from exc
        self._data[META_TABLE][META_DOC_ID]["schema"] = target
        self._hw.clear()
        self._invalidate(None)
        # The migrated state is written as a whole new snapshot (atomic
        # replace), so a crash mid-migration leaves the old file intact.  It
        # is not the replay of the journal: the snapshot records no position
        # in it, so no other process takes it over unread.
        self._compact_locked(replayable=False)

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
        :attr:`on_lock_wait` between polls once the wait lasts
        LOCK_WAIT_REPORT_AFTER, then raise
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
                    with naming(self.lock_path):
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
            if waited >= self.lock_timeout:
                raise lock_timeout_error(self.path, self._holder() or holder, waited)
            if self.on_lock_wait is not None and waited >= LOCK_WAIT_REPORT_AFTER:
                if looked < 0 or waited - looked >= 1.0:
                    holder = self._holder()
                    looked = waited
                self.on_lock_wait(holder, waited)
            time.sleep(min(delay, max(self.lock_timeout - waited, 0.0)))
            delay = min(delay * 2, LOCK_POLL_SHORT if waited < LOCK_POLL_SHORT_FOR else LOCK_POLL_MAX)

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
            self._close_replaced()

    def _close_replaced(self) -> None:
        # In the order kept: a compaction's old snapshot (freed in chunks)
        # before its old journal, so that another process taking the swap
        # over meanwhile is not the last to close (and free) that journal
        # while the snapshot's blocks are being freed.
        while self._close_after_unlock:
            release_replaced(self._close_after_unlock.pop(0))

    def _holder(self) -> LockHolder | None:
        if self._lock_owner is not None:
            return LockHolder(os.getpid(), "another thread of this process")
        fd = self._fds[1]
        return find_lock_holder(fd) if fd >= 0 else None

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
        if stat_key(st) != self._snap_key:
            if not self._adopt(stat_key(st), exclusive=exclusive):
                self._reload(exclusive=exclusive)
            return True
        changed = self._sync_journal(exclusive=exclusive)
        if exclusive and not self._j_current:
            self._reset_journal()
        return changed

    def _reload(self, *, exclusive: bool) -> bool:
        snap = self._read_snapshot()
        if snap is None:
            raise StoreError(f"database file {self.path} was emptied by someone else")
        self._load(snap, exclusive=exclusive)
        return True

    def _adopt(self, snap_key: tuple[int, int, int], *, exclusive: bool) -> bool:
        """Take over another process's compaction without parsing its snapshot; False when it cannot be.

        Possible when we had applied the old journal past the position the
        new snapshot includes, and the new journal's header names that
        position and this snapshot file: the old journal's records after the
        position are then both in our state and, copied, at the start of the
        new journal.  They are compared byte for byte before anything is
        changed.  The caller holds the file lock (compactions swap under the
        exclusive one, so the files are a matching pair).
        """
        if not self._j_current:
            return False
        try:
            jst = os.stat(self.journal_path)
        except FileNotFoundError:
            return False
        if jst.st_ino == self._j_ino:
            return False  # rewritten in place (or not yet replaced): not a compaction we can follow
        # Whatever was committed to the old journal before the swap (the fd still holds it).
        old_fd = self._fds[0]
        with naming(self.journal_path):
            size = os.fstat(old_fd).st_size
            buf = os.pread(old_fd, size - self._jpos, self._jpos) if size > self._jpos else b""
        self._apply_chunk(buf, self._jpos)
        try:
            fd = open_file(self.path, self.journal_path, os.O_RDWR | os.O_APPEND, "journal", create=False)
        except FileNotFoundError:
            return False
        taken = False
        try:
            with naming(self.journal_path):
                head = os.pread(fd, journal.MAX_HEADER, 0)
                nl = head.find(b"\n")
                if nl < 0:
                    return False
                header = journal.read_header(head[:nl], self.journal_path)
                if (header.gen != self._gen + 1 or header.snap != snap_key or header.base is None
                        or header.base[0] != self._gen or not 0 < header.base[1] <= self._jpos):
                    return False
                x = header.base[1]
                copied = os.pread(old_fd, self._jpos - x, x)
                if os.pread(fd, len(copied), nl + 1) != copied:
                    return False
            ops = sum(map(len, journal.parse_lines(copied, 2, self.journal_path))) if copied else 0
            taken = True
        finally:
            if not taken:
                os.close(fd)
        self._fds[0] = fd
        self._close_after_unlock.append(old_fd)
        self._j_ino = os.fstat(fd).st_ino
        self._gen = header.gen
        self._base = header.base
        self._snap_key = snap_key
        self._snap_docs = sum(map(len, self._data.values())) + sum(t.count + len(t.overlay) for t in self._lazy.values()) + (
            self._seg.segment.count + len(self._seg.overlay) if self._seg is not None else 0)
        self._jpos = nl + 1 + len(copied)
        self._jline = 1 + copied.count(b"\n")
        self._jops = ops
        self._j_current = True
        self._j_prev = False
        self._j_key = None
        self._epoch += 1
        # As after a reload, everything counts as changed (change counts move,
        # refresh() reports all tables): callers rebuild what they derive
        # from a snapshot as they did.
        self._unreported = None
        self._invalidate(None)
        self._sync_journal(exclusive=exclusive)  # what was committed after the swap
        return True

    def _apply_chunk(self, buf: bytes, base: int) -> bool:
        """Replay the complete lines of ``buf`` (the journal's bytes from ``base``, our position)."""
        end = buf.rfind(b"\n") + 1
        if not end:
            return False
        records = journal.parse_lines(buf[:end], self._jline + 1, self.journal_path)
        seg = self._seg
        data: dict[str, Any] = self._data
        if seg is not None:
            # Replayed into the segment's overlay; a truncate or drop in the
            # records replaces or removes it, and then the table is in memory.
            data[SEGMENT_TABLE] = seg
        # Likewise the tables not parsed yet: their changes wait in their overlay.
        lazy = self._lazy
        data.update(lazy)
        try:
            touched = journal.apply_records(self._data, self._hw, records, self._jline + 1, self.journal_path)
        finally:
            for name, table in list(lazy.items()):
                if data.get(name) is table:
                    del data[name]
                else:
                    del lazy[name]  # truncated or dropped by a record: a plain table now, or none
            if seg is not None:
                if data.get(SEGMENT_TABLE) is seg:
                    del data[SEGMENT_TABLE]
                else:
                    self._set_segment(None, -1)
        self._jpos = base + end
        self._jline += len(records)
        self._jops += sum(map(len, records))
        self._invalidate(touched)
        if self._unreported is not None:
            self._unreported |= touched
        return True

    def _sync_journal(self, *, exclusive: bool) -> bool:
        try:
            jst = os.stat(self.journal_path)
        except FileNotFoundError:
            jst = None
        if jst is None or jst.st_ino != self._j_ino:
            if self._j_prev:
                # Someone finished the compaction whose old journal we were
                # replaying (after a crash): start over from the files.
                return self._reload(exclusive=exclusive)
            # Someone deleted or replaced the journal; follow the path.
            self._open_journal()
            jst = os.fstat(self._fds[0])
            self._jpos = 0
            self._jline = 0
            self._jops = 0
            self._j_current = False
        key = stat_key(jst)
        size = jst.st_size
        if key == self._j_key:
            if exclusive and self._j_current and size > self._jpos:
                # A torn tail seen earlier (under the shared lock, which must
                # not modify files): cut it now, before we append after it.
                self._cut_tail()
            return False
        if size < self._jpos:
            # Shrunk below what we applied while the snapshot stayed the same:
            # not something this store does.  Start over from the files.
            snap = self._read_snapshot()
            if snap is None:
                raise StoreError(f"database file {self.path} was emptied by someone else")
            self._load(snap, exclusive=exclusive)
            return True
        fd = self._fds[0]
        base = self._jpos
        with naming(self.journal_path):
            buf = os.pread(fd, size - base, base) if size > base else b""
        if base == 0:
            nl = buf.find(b"\n")
            if nl < 0:
                # Empty journal or a header torn by a crash during reset.
                self._j_current = False
                self._j_key = key
                return False
            gen = journal.read_header(buf[:nl], self.journal_path).gen
            if gen == self._gen:
                self._j_current = True
                base = nl + 1
                self._jline = 1
            elif self._base is not None and gen == self._base[0]:
                # The journal the snapshot includes up to byte _base[1]: a
                # compaction stopped between its two replaces.  Its records
                # after that byte continue the snapshot.
                base = self._base[1]
                if base <= nl or buf[base - 1:base] != b"\n":
                    raise corrupt(self.path, f"its journal {self.journal_path} has no line ending at byte "
                                  f"{base}, where its snapshot says the journal it includes ends")
                self._j_prev = True
                self._jline = buf.count(b"\n", 0, base)
            else:
                # Left over from a compaction interrupted between the snapshot
                # replace and the journal reset: already in the snapshot.
                self._j_current = False
                self._j_key = key
                return False
            buf = buf[base:]
            self._jpos = base
        end = buf.rfind(b"\n") + 1
        changed = self._apply_chunk(buf, base)
        self._j_key = key
        if end < len(buf) and exclusive:
            self._cut_tail()
        return changed

    def _cut_tail(self) -> None:
        # Bytes after the last complete line, seen under the exclusive lock,
        # can only be a crashed writer's unacknowledged commit: cut them so
        # the next append starts on a line boundary.
        fd = self._fds[0]
        with naming(self.journal_path):
            os.ftruncate(fd, self._jpos)
            _sync(fd)
        self._j_key = stat_key(os.fstat(fd))

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

    def transaction(self) -> Txn:
        """Context manager: one atomic, durable commit (see :func:`transaction`)."""
        return Txn(self)

    def _next_id(self, name: str) -> int:
        seg = self._seg
        if seg is not None and name == SEGMENT_TABLE:
            # Every snapshot id is at most the segment's high id (its index is
            # written with the documents); the overlay is checked one by one.
            n = max(self._hw[name], seg.segment.high or 0) if name in self._hw else seg.high()
            n += 1
            while str(n) in seg:
                n += 1
            self._hw[name] = n
            return n
        table = self._table(name)
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
        payload = orjson.dumps(doc, option=OPTS)
        # Keep the parsed copy, not the caller's object: memory then equals
        # what a replay produces, and later mutation by the caller can't leak.
        stored = orjson.loads(payload)
        seg = self._seg
        if seg is not None and name == SEGMENT_TABLE:
            self._undo.overlay(name, doc_id, seg.put(doc_id, stored))
            h = self._hw.get(name)
            if h is not None and int(doc_id) > h:
                self._hw[name] = int(doc_id)
            self._ops.append(journal.set_op(name, doc_id, payload))
            self._invalidate({name})
            return
        table = self._table(name)
        if table is None:
            self._undo.table(name, MISSING)
            self._data[name] = table = {}
        self._undo.doc(name, doc_id, table.get(doc_id, MISSING))
        table[doc_id] = stored
        h = self._hw.get(name)
        if h is not None:
            n = int(doc_id)
            if n > h:
                self._hw[name] = n
        self._ops.append(journal.set_op(name, doc_id, payload))
        self._invalidate({name})

    def _save_order(self, name: str) -> None:
        # Undoing a delete re-adds the document at the end of the dict; this
        # entry lets a rollback put the documents back in their old order
        # (TinyDB returns documents in dict order).  Once per remove call.
        table = self._table(name)
        if table:
            self._undo.order(name, list(table))

    def _delete(self, name: str, doc_id: str) -> None:
        if name == META_TABLE and doc_id == META_DOC_ID:
            raise StoreError(f"the {META_TABLE} document is managed by the store")
        table = self._table(name)
        if table is None or doc_id not in table:
            return
        self._undo.doc(name, doc_id, table.pop(doc_id))
        self._ops.append(journal.delete_op(name, doc_id))
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
        self._undo.table(name, self._data.get(name, MISSING))
        self._data[name] = {}
        self._hw.pop(name, None)  # recomputed from the (empty) table, as stock does
        self._ops.append(journal.truncate_op(name))
        self._invalidate({name})

    def _drop(self, name: str) -> None:
        if name == META_TABLE:
            raise StoreError(f"the {META_TABLE} table is managed by the store")
        if self._table(name) is None:
            return
        self._undo.table(name, self._data.pop(name))
        self._hw.pop(name, None)
        self._ops.append(journal.drop_op(name))
        self._invalidate({name})

    def _rollback_to(self, n_ops: int, n_undo: int, hw: dict[str, int]) -> None:
        touched = self._undo.rollback(self._data, n_undo, self._seg)
        del self._ops[n_ops:]
        # The id counters as they were, so a rollback neither burns nor
        # re-hands-out ids (the table may have held higher ids earlier).
        self._hw = hw
        self._invalidate(touched)

    def _commit(self, hw_before: dict[str, int]) -> None:
        if not self._ops:
            return
        line = journal.record_line(self._ops)
        fd = self._fds[0]
        try:
            write_all(fd, line)
            _sync(fd)
        except OSError as exc:
            # Not acknowledged: take the bytes back out (best effort) and the
            # in-memory changes with them, so memory keeps matching disk.
            with contextlib.suppress(OSError):
                os.ftruncate(fd, self._jpos)
            self._rollback_to(0, 0, hw_before)
            raise StoreError(
                one_line(f"could not write to {self.journal_path}: {exc.strerror or exc}")
            ) from exc
        self._jpos += len(line)
        self._jline += 1
        self._jops += len(self._ops)
        self._j_key = stat_key(os.fstat(fd))
        if self._compact_due():
            # Done by Txn once the lock is released, so that this commit's
            # waiters are not held up by the serialisation.
            self._compact_pending = True

    def compaction_warning(self) -> str | None:
        """One line for the user while automatic compaction is refused (a damaged snapshot), else None."""
        if self.compaction_refused is None:
            return None
        return (f"{self.compaction_refused}; automatic compaction is off until the file is restored or "
                "repaired, so the journal grows (every write is still kept)")

    def _compact_due(self, factor: float = 1.0) -> bool:
        if self._bulk:
            return False
        if self.compaction_refused is not None:
            if self._snap_key == self._refused_snap:
                return False  # the same damaged snapshot: it would fail again
            self.compaction_refused = self._refused_snap = None
        ratio = self.compact_ratio
        snap_bytes = self._snap_key[1] if self._snap_key is not None else 0
        # What an eager open parses: the snapshot but its events (see COMPACT_RATIO).
        event_bytes, event_docs = self._snap_events
        eager_bytes, eager_docs = max(snap_bytes - event_bytes, 0), max(self._snap_docs - event_docs, 0)
        return (self._jpos > factor * max(self.compact_min_bytes, eager_bytes * ratio)
                or self._jops > factor * max(self.compact_min_ops, eager_docs * ratio))

    def _auto_compact(self) -> None:
        """The compaction a commit found due; called after the commit released the lock."""
        self._compact_pending = False
        try:
            self._compact(wait=False, force=False)
        except CorruptDatabaseError as exc:
            # A damaged part of the snapshot: every later try would read it and fail the same way.
            self.compaction_refused, self._refused_snap = one_line(str(exc)), self._snap_key
        except (OSError, StoreError):
            # The commit itself is durable; a failed or busy compaction only
            # leaves the journal long (and maybe a temp file, removed at the
            # next open).  Try again at the next commit.
            pass

    # ----------------------------------------------------------- compaction

    def _snapshot_bytes(self, gen: int, data: Mapping[str, Any] | None = None) -> tuple[bytes, Segment | None, int]:
        """The snapshot of ``data`` (default: the current state): bytes, segment, document count (see encode_snapshot)."""
        if data is None:
            data = dict(self._data)
            data.update(self._lazy)
            if self._seg is not None:
                data[SEGMENT_TABLE] = self._seg
        return encode_snapshot(self.path, data, gen)

    def _compact_locked(self, *, replayable: bool = True) -> None:
        """Compact entirely under the lock the caller holds (creation, migration, fallback).

        ``replayable``: the state is the replay of the journal (not a new or
        migrated database), so the snapshot records the position it includes.
        """
        gen = self._gen + 1
        base = (self._gen, self._jpos) if replayable and self._j_current else None
        data: dict[str, Any] = dict(self._data)
        data.update(self._lazy)
        if self._seg is not None:
            data[SEGMENT_TABLE] = self._seg
        if base is not None:
            data = with_base(data, gen, base)
        payload, seg, docs = self._snapshot_bytes(gen, data)
        tmp = self._write_temp(payload)
        del payload
        self._swap(tmp, gen, docs, base, self._jops, seg, self._reopen(tmp) if seg is not None else -1)

    @staticmethod
    def _reopen(tmp: str) -> int:
        """A read-only fd on our just-written temp file; -1 if there is none (the old file is then read on)."""
        try:
            return os.open(tmp, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return -1

    def _write_temp(self, payload: bytes) -> str:
        """A new temp file beside the snapshot holding ``payload``, fsynced; its path."""
        return write_temp(self.path, payload, held=self._held_temps)

    def _release_temp(self, tmp: str) -> None:
        """Close the temp file's fd (and with it its flock), once it is the snapshot or deleted.

        A deleted one (a compaction that started over) is freed in chunks,
        as a replaced snapshot is (see release_replaced).
        """
        fd = self._held_temps.pop(tmp, -1)
        if fd >= 0:
            release_replaced(fd)

    def _swap(self, tmp: str, gen: int, docs: int, base: tuple[int, int] | None = None, base_ops: int = 0,
              seg: Segment | None = None, rfd: int = -1) -> None:
        """Make the temp file the snapshot of generation ``gen``, then the journal its own; caller holds the exclusive lock.

        ``base``: the (generation, bytes) of the current journal the snapshot
        includes, its ``base_ops`` operations; None when it is no replay of it.
        ``seg`` and ``rfd``: the temp file's events segment and a read-only fd
        on it (closed here unless kept).  When the new snapshot holds our whole
        state (nothing committed after ``base``), SEGMENT_TABLE is read from its
        segment from then on, with an empty overlay, even if it was an
        in-memory table before: a process that once loaded every event (or a
        migration) lets them go.  Otherwise the handle keeps reading the old
        file (still open) plus its overlay, which is the same state.
        """
        keep = False
        try:
            current = (base is None or base[1] == self._jpos) and self._depth == 0
            self._swap_files(tmp, gen, docs, base, base_ops)
            self._snap_events = (seg.end - seg.start, seg.count) if seg is not None else (0, 0)
            if seg is not None and rfd >= 0 and current:
                self._set_segment(seg, rfd)
                keep = True
        finally:
            if rfd >= 0 and not keep:
                close_fd(rfd)

    def _swap_files(self, tmp: str, gen: int, docs: int, base: tuple[int, int] | None, base_ops: int) -> None:
        # The order of the syncs, and why a crash anywhere loses no commit:
        # 1. The temp snapshot's data is fsynced (write_temp) before the rename,
        #    so a rename that reaches the disk never names a file with holes.
        # 2. The snapshot rename is made durable (directory fsync) before the
        #    journal is replaced: the new journal starts at the snapshot's
        #    base, so it must never survive a crash beside the old snapshot.
        #    Between the two, the new snapshot beside the old journal is a
        #    state that opening handles (_sync_journal replays from the base).
        # 3. The new journal is fsynced as a temp file, renamed and the
        #    directory fsynced, all before the lock is released: no commit is
        #    acknowledged in a journal whose name might not survive a crash.
        # 4. Only after the lock is released is the old snapshot freed, in
        #    chunks (release_replaced), and only when it has no name and
        #    nobody else has it open: nothing a process or a restart reads
        #    changes.  Those syncs order nothing; they keep each commit small.
        # Nothing under the lock reads or writes an amount sized by the
        # database: two renames, the tail of the journal, three syncs.
        # Writable, so that once nobody else reads it, it can be freed in chunks
        # (release_replaced); read-only where we may not write it.
        for mode in (os.O_RDWR, os.O_RDONLY):
            try:
                self._close_after_unlock.append(os.open(self.path, mode | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC))
                break
            except OSError:
                continue
        try:
            replace_snapshot(self.path, tmp)
        finally:
            self._release_temp(tmp)
        # From here the new snapshot is the truth.  The old journal continues
        # it from the base on (or is stale, without one) until _reset_journal
        # has written the new one; a crash in between loses nothing (see
        # _sync_journal).
        self._gen = gen
        self._base = base
        self._snap_key = stat_key(os.stat(self.path))
        self._snap_docs = docs
        self._epoch += 1
        self._j_current = False
        self._j_prev = base is not None
        if base is not None:
            self._jops -= base_ops
        self._reset_journal()

    def _position(self) -> tuple[Any, ...]:
        # Which files this handle follows, and since when: a compaction may
        # swap only if these are still the ones it copied its state from.
        return (self._snap_key, self._gen, self._j_ino, self._epoch)

    def _compact(self, *, wait: bool, force: bool) -> bool:
        """Compact without holding the lock while the snapshot is written; True when it did.

        Under the exclusive lock: catch up and note the journal position X;
        then, holding only this handle's mutex, take a shallow copy of the
        tables (documents are never mutated in place, so it stays the state
        at X).  Without any lock: serialise
        the copy (recording X in its metadata), write and fsync the temp
        file.  Under the lock again: replace the snapshot, then the journal
        with a new one holding the records committed since X, copied as
        bytes (:meth:`_continue_journal`).  The first try starts over
        instead when something was committed meanwhile, so that a quiet
        database ends with an empty journal.  It also starts over when
        another process compacted meanwhile.  ``wait=False`` gives up at once
        when the lock is busy; ``force=False`` stops when the journal is no
        longer long (someone else compacted).
        """
        for attempt in range(_COMPACT_ATTEMPTS):
            last = attempt == _COMPACT_ATTEMPTS - 1
            held: threading.RLock | None = None
            dup = -1
            try:
                with self._compaction_turn(wait=wait, force=force) as go:
                    if not go:
                        return False
                    if self._lock_depth > 1:
                        # The caller holds the lock across this call (hold_lock):
                        # nobody can commit meanwhile anyway.
                        self._compact_locked()
                        return True
                    at = self._position()
                    x, x_ops = self._jpos, self._jops
                    base = (self._gen, x)
                    gen = self._gen + 1
                    # Our state stays the state at X while we hold the mutex
                    # (catching up needs it): other processes may commit while
                    # we copy.
                    self._mutex.acquire()
                    held = self._mutex
                copy: dict[str, Any] = {name: dict(table) for name, table in self._data.items()}
                files: dict[int, SnapshotFile] = {}
                for name, lazy in self._lazy.items():
                    # Its own fd too, shared by the tables of one snapshot file.
                    if id(lazy.file) not in files:
                        files[id(lazy.file)] = SnapshotFile(os.dup(lazy.file.fd), lazy.file.read_range)
                    copy[name] = lazy.copy(files[id(lazy.file)])
                if self._seg is not None:
                    # Its own fd: a catch-up in another thread may close ours meanwhile.
                    dup = os.dup(self._fds[2])
                    copy[SEGMENT_TABLE] = self._seg.copy(partial(pread_range, dup, self.path))
            finally:
                if held is not None:
                    held.release()
            try:
                payload, new_seg, docs = self._snapshot_bytes(gen, with_base(copy, gen, base))
            finally:
                if dup >= 0:
                    close_fd(dup)
            del copy
            written = self._write_temp(payload)
            del payload
            rfd = self._reopen(written) if new_seg is not None else -1
            tmp: str | None = written
            try:
                if not self._lock(fcntl.LOCK_EX, wait=wait):
                    return False
                try:
                    with self._mutex:
                        self._check_open()
                        self._catch_up(exclusive=True)
                        if (tmp is not None and self._position() == at and self._j_current
                                and (last or self._jpos == x) and os.path.lexists(tmp)):
                            swapping, tmp = tmp, None
                            swap_fd, rfd = rfd, -1
                            self._swap(swapping, gen, docs, base, x_ops, new_seg, swap_fd)
                            return True
                        if not force and not self._compact_due():
                            return False
                finally:
                    self._unlock()
            finally:
                if rfd >= 0:
                    close_fd(rfd)
                if tmp is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(tmp)
                    self._release_temp(tmp)
        # Another process's compactions kept replacing the files under ours
        # (or its temp file was removed, by hand: a live one is flocked).
        # An automatic compaction tries again after a later commit, unless the
        # journal is already far past its threshold; compact() does it now.
        # Either way, under the lock.
        with self._compaction_turn(wait=wait, force=force, factor=_COMPACT_OVERDUE) as go:
            if go:
                self._compact_locked()
            return go

    @contextlib.contextmanager
    def _compaction_turn(self, *, wait: bool, force: bool, factor: float = 1.0) -> Iterator[bool]:
        """Where a compaction starts: the exclusive lock and the mutex held, caught up.

        Yields whether to go on: False when the lock is busy and ``wait`` is
        false, or when not ``force`` and the journal is no longer ``factor``
        times past its threshold (someone else compacted).
        """
        if not self._lock(fcntl.LOCK_EX, wait=wait):
            yield False
            return
        try:
            with self._mutex:
                self._check_open()
                if self._depth:
                    raise StoreError("compact() cannot run inside a transaction")
                self._catch_up(exclusive=True)
                yield force or self._compact_due(factor)
        finally:
            self._unlock()

    def _reset_journal(self) -> None:
        """Make the journal this snapshot generation's own; caller holds the exclusive lock.

        When the old journal continues the snapshot (a compaction's swap, or
        one stopped by a crash after replacing the snapshot), its records
        after the snapshot's base are copied into the new journal; otherwise
        (stale, empty or torn) it is emptied down to a new header in place.
        """
        if self._j_prev:
            self._continue_journal()
            return
        fd = self._fds[0]
        header = journal.header_line(self._gen)
        with naming(self.journal_path):
            os.ftruncate(fd, 0)
            write_all(fd, header)
            _sync(fd)
        self._jpos = len(header)
        self._jline = 1
        self._jops = 0
        self._j_current = True
        self._j_key = stat_key(os.fstat(fd))
        self._epoch += 1

    def _continue_journal(self) -> None:
        """Replace the previous generation's journal with this one's: a header, then its records after the base.

        The records are copied as bytes (they are a few, committed while the
        snapshot was written), into a temp file that is fsynced and renamed
        over the journal; then the directory is fsynced.  Until the rename
        the old journal is the one in place, and it continues the snapshot
        (its metadata says from which byte): a crash at any point loses
        nothing and applies nothing twice.
        """
        assert self._base is not None
        x = self._base[1]
        old_fd = self._fds[0]
        with naming(self.journal_path):
            tail = os.pread(old_fd, self._jpos - x, x) if self._jpos > x else b""
        if len(tail) != self._jpos - x:
            raise StoreError(f"journal {self.journal_path} is shorter than what was read from it")
        header = journal.header_line(self._gen, self._base, self._snap_key)
        tmp = write_temp(self.path, header + tail, JOURNAL_TMP_INFIX)
        try:
            fd = open_file(self.path, tmp, os.O_RDWR | os.O_APPEND, "journal", create=False)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        try:
            replace_file(self.path, tmp, self.journal_path, "journal")
        except BaseException:
            os.close(fd)
            raise
        self._fds[0] = fd
        self._close_after_unlock.append(old_fd)
        self._j_ino = os.fstat(fd).st_ino
        self._jpos = len(header) + len(tail)
        self._jline = 1 + tail.count(b"\n")
        self._j_current = True
        self._j_prev = False
        self._j_key = stat_key(os.fstat(fd))
        self._epoch += 1

    # ------------------------------------------------------------ public API

    def read(self) -> dict[str, dict[str, Any]]:
        """Return ``{table: {doc_id: doc}}``; the outer dict is a copy.

        The documents are the live in-memory ones: treat them as read-only
        (TinyDB's own query cache already shares documents between callers).
        While the events are still in the snapshot's segment, their table is
        a read-only mapping that loads them all on first use: prefer
        :meth:`read_group` for one incident's.  So is a table not parsed yet.
        """
        data: dict[str, Any] = dict(self._data)
        for name in self._lazy:
            data[name] = _SegmentView(self, name)
        if self._seg is not None:
            data[SEGMENT_TABLE] = _SegmentView(self, SEGMENT_TABLE)
        return data

    def read_table(self, name: str) -> dict[str, dict[str, Any]]:
        """One table, ``{doc_id: doc}`` (live documents: read-only); {} when missing."""
        return self._table(name) or {}

    def count(self, name: str) -> int:
        """How many documents table ``name`` holds (the events counted from the segment's index, not loaded)."""
        with self._mutex:
            seg = self._seg
            if seg is not None and name == SEGMENT_TABLE:
                try:
                    return seg.size()
                except SegmentError as exc:
                    raise segment_error(self.path, exc) from None
            lazy = self._lazy.get(name)
            if lazy is not None and not lazy.overlay:
                return lazy.count
            return len(self._table(name) or ())

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
                    raise segment_error(self.path, exc) from None
            table = self._table(name) or {}
            return {k: doc for k, doc in table.items() if doc.get(key, MISSING) == value}

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
                    raise segment_error(self.path, exc) from None
            found: dict[str, Any] | None = (self._table(name) or {}).get(doc_id)
            return found

    def find_by_key(self, name: str, key: str, value: str) -> dict[str, dict[str, Any]] | None:
        """The documents of table ``name`` whose ``key`` equals ``value``, ``{doc_id: doc}`` in table order.

        Answered from the snapshot's per-document index while the table is not
        parsed yet (the incidents by id: one document parsed, not the table);
        None when there is no such index (the table is parsed, or has none):
        then the caller looks through the table itself.
        """
        return self.select_by(name, key, lambda found: found == value)

    def select_by(self, name: str, field: str,
                  keep: Callable[[str | None], bool]) -> dict[str, dict[str, Any]] | None:
        """The documents of table ``name`` whose ``field`` value passes ``keep``, ``{doc_id: doc}`` in
        table order (``keep`` sees None for a value that is not a string).

        Answered from the snapshot's per-document index while the table is not parsed yet
        (the incidents not closed: the closed ones are never parsed); None when the index
        does not carry ``field`` (the table is parsed, or has none): then the caller looks
        through the table itself.
        """
        with self._mutex:
            lazy = self._lazy.get(name)
            if lazy is None:
                return None
            try:
                return lazy.select(field, keep)
            except SegmentError as exc:
                raise corrupt(self.path, f"its table {name!r} is unreadable ({exc})") from None

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        """Generic whole-database write, turned into a diff of per-document ops.

        Only TinyDB's ``drop_table``/``drop_tables`` get here (the table
        methods are hooked).  The ``_meta`` table is always kept.
        """
        with self.transaction():
            for name in [*self._data, *self._lazy, *([SEGMENT_TABLE] if self._seg is not None else [])]:
                if name not in data and name != META_TABLE:
                    self._drop(name)
            for name, table in data.items():
                if (isinstance(table, _SegmentView) and table.storage is self and table.name == name
                        and (name in self._lazy or (self._seg is not None and name == SEGMENT_TABLE))):
                    continue  # the table as read() gave it, not parsed yet: unchanged
                if table is not self._table(name):
                    self._replace_table(name, table)

    def _replace_table(self, name: str, table: Mapping[Any, Mapping[str, Any]]) -> None:
        """Make table ``name`` hold exactly ``table`` (doc id → document), journalling only the difference."""
        new = {str(k): v for k, v in table.items()}
        current = self._table(name)
        if current is None:
            self._truncate(name)
            current = self._data[name]
        self._save_order(name)
        for doc_id in list(current):
            if doc_id not in new:
                self._delete(name, doc_id)
        for doc_id, doc in new.items():
            if current.get(doc_id, MISSING) != doc:
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
                    stat_key(os.stat(self.path)) == self._snap_key
                    and stat_key(os.stat(self.journal_path)) == self._j_key
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

    @contextlib.contextmanager
    def bulk(self) -> Iterator[None]:
        """A bulk load: no automatic compaction inside the block, one compaction at its end.

        Seeding thousands of incidents would otherwise compact again and again
        as the journal outgrows a threshold set by a snapshot that keeps
        growing (quadratic work).  The journal grows for the whole block
        instead, and a reader opening meanwhile replays it; the compaction at
        the end (when the block ends without an exception) leaves the
        database as quick to open as a quiet one.
        """
        self._check_open()
        self._bulk += 1
        try:
            yield
        finally:
            self._bulk -= 1
        if not self._bulk:
            self.compact()

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
            # The tables' own fds on the snapshot first: a replaced one is
            # freed in chunks only by the last close (see release_replaced).
            for lazy in self._lazy.values():
                lazy.file.close()
            close_fds(self._fds)
            self._close_replaced()

    def __repr__(self) -> str:
        return f"<JournalStorage {self.path} gen={self._gen} journal={self._jpos}B>"




class _SegmentView(Mapping[str, Any]):
    """A table in :meth:`JournalStorage.read` while it is still in the snapshot (the segment, a slice): loads it on first use."""

    __slots__ = ("storage", "name")

    def __init__(self, storage: JournalStorage, name: str) -> None:
        self.storage = storage
        self.name = name

    def _table(self) -> dict[str, Any]:
        return self.storage._table(self.name) or {}

    def __getitem__(self, key: str) -> Any:
        return self._table()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())
