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
* Compaction notes the journal position X it has applied and takes a
  shallow in-memory copy of the tables (stored documents are never mutated
  in place), then, holding no lock, writes it as a new snapshot to a temp
  file in the same directory and fsyncs it; the snapshot's ``_meta`` records
  X (the old journal's generation and byte length).  Back under the lock it
  renames the temp file over the old snapshot (``os.replace``), fsyncs the
  directory, and only then replaces the journal with a new one: a header and
  the records committed after X, copied as bytes (temp file, fsync, rename,
  directory fsync).  Writers therefore wait for the swap (two renames and
  three syncs), never for the serialisation.  A crash between the two
  replaces leaves the new snapshot beside the old journal, whose records
  after X continue it: nothing is lost, nothing applied twice.  The
  snapshot's ``_meta`` also records the highest doc id of each table, so the
  first insert after an open does not scan the table for it.  Snapshot and
  journal header carry a generation number: a journal of another
  generation (and not the one the snapshot includes up to X) is left over
  from an older compaction interrupted after the replace, its records are
  already in the snapshot, and it is ignored.
* Other processes notice changes with two ``stat`` calls (``refresh()``): an
  unchanged (inode, size, mtime) pair means nothing happened; a new snapshot
  inode means a compaction (taken over without parsing the snapshot when the
  new journal's header names the position the process had already read past,
  a full reload otherwise); a longer journal means new lines to replay.
* Open cost does not grow with the timeline (schema 2).  The snapshot keeps
  the events table last, grouped by incident, with a fixed-width header and a
  per-incident byte-offset index at the front of ``_meta`` (the layout:
  :mod:`incident_tui.store.segment`).  Open parses only the bytes before the
  events and keeps the snapshot open; the events stay on disk as a
  :class:`~incident_tui.store.segment_table.SegmentedTable`: the snapshot's
  slices plus an overlay of every event written since (journal replay and own
  writes).  ``read_group`` reads one incident's slice (checked against its
  CRC-32) merged with the overlay; inserts, and updates by doc id, go to the
  overlay.  Any generic read of the whole table (``table("events").all()``,
  a query, ``read()``'s events) parses the segment once and the table becomes
  an ordinary in-memory one.  Compaction reuses the groups' bytes and appends
  the new events (it parses only when older events changed); the handle then
  reads from the new file.
* Open cost does not grow with history at all: the other tables are parsed
  on first use (:mod:`incident_tui.store.lazy_table`).  Open parses ``_meta``
  only; each table stays a slice of the snapshot, with its document count
  and CRC-32 in ``_meta``'s ``slices`` field (generation-tagged like
  ``ids``), and is parsed, checked against its CRC, the first time anything
  reads or writes it.  Journal records for a table not parsed yet wait in its
  overlay and are applied in order when it is; this process's own writes
  parse it first.  The incidents also carry a per-document index of their
  ``id`` (value, doc id, byte span, CRC-32 of each document; JSON text with
  its own CRC, parsed on first use), so ``find_by_key`` (a CLI command on
  one incident) parses one document, not the table.  A damaged slice, index
  or document is refused when first used, naming the file, and never copied:
  a compaction copies an unchanged slice's bytes only after checking them.
  The field is additive: a schema-2 reader that does not know it ignores it,
  and a file without it (or with a stale one) is parsed at open as before,
  until its next compaction writes it.  The layout stays schema 2.
* The journal is compacted once it outgrows a share of what an *eager* open
  parses (the snapshot without its events): replay then stays a bounded
  fraction of that (see ``COMPACT_RATIO`` in :mod:`.core`, with the write
  amplification it costs).  ``JournalStorage.bulk()`` turns automatic
  compaction off for a bulk load and compacts once at its end.

The hook into TinyDB is :class:`JournalTable` (installed as
``TinyDB.table_class``), which turns each write method into per-document
operations instead of TinyDB's read-modify-write of the whole database.  It
relies on internals of tinydb 4.9.0, which is pinned exactly; the unit tests
fail loudly if those internals change.

The package, one module per job (each has one reason to change):

* :mod:`.errors`: the store's errors and their one-line messages;
* :mod:`.files`: opening the database's files safely, refusing non-regular ones, syncing, temp files;
* :mod:`.lock`: who holds the lock, and what a timed-out wait says;
* :mod:`.codec`: the JSON encoding both formats share;
* :mod:`.snapshot`: the snapshot format (read and validate, encode);
* :mod:`.journal`: the journal format (header, records, the :class:`Op` codes, replay);
* :mod:`.transaction`: the transaction context manager and its undo log;
* :mod:`.core`: :class:`JournalStorage`, which ties them together;
* :mod:`.tinydb_hook`: :class:`JournalTable`, :class:`IncidentDB`, :func:`open_db`, :func:`transaction`.

Import from the package (``from incident_tui.store.storage import open_db``),
not from its modules.  Store code never imports textual.
"""

from __future__ import annotations

import fcntl as fcntl  # re-exported: tests reach the modules the store uses through the package
import os as os
from collections.abc import Callable
from types import ModuleType
from typing import Any

from incident_tui.store.storage.codec import BULK_LOAD_BYTES as BULK_LOAD_BYTES
from incident_tui.store.storage.core import COMPACT_MIN_BYTES as COMPACT_MIN_BYTES
from incident_tui.store.storage.core import COMPACT_MIN_OPS as COMPACT_MIN_OPS
from incident_tui.store.storage.core import COMPACT_RATIO as COMPACT_RATIO
from incident_tui.store.storage.core import JournalStorage
from incident_tui.store.storage.errors import (
    CorruptDatabaseError,
    LockHolder,
    LockTimeoutError,
    SchemaVersionError,
    StoreError,
    UnsafeFileError,
)
from incident_tui.store.storage.files import JOURNAL_SUFFIX as JOURNAL_SUFFIX
from incident_tui.store.storage.files import datasync
from incident_tui.store.storage.files import LOCK_SUFFIX as LOCK_SUFFIX
from incident_tui.store.storage.journal import JOURNAL_FORMAT as JOURNAL_FORMAT
from incident_tui.store.storage.journal import Op as Op
from incident_tui.store.storage.lock import DEFAULT_LOCK_TIMEOUT
from incident_tui.store.storage.snapshot import APP_NAME as APP_NAME
from incident_tui.store.storage.snapshot import META_DOC_ID as META_DOC_ID
from incident_tui.store.storage.snapshot import META_TABLE as META_TABLE
from incident_tui.store.storage.snapshot import SEGMENT_KEY as SEGMENT_KEY
from incident_tui.store.storage.snapshot import SEGMENT_TABLE as SEGMENT_TABLE
from incident_tui.store.storage.tinydb_hook import IncidentDB, JournalTable, open_db, transaction

#: Version of the data layout inside the snapshot.  Bump it together with an
#: entry in :data:`MIGRATIONS`.  Read from here at call time.
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

def __getattr__(name: str) -> ModuleType:
    # ``secrets`` (temp file names) pulls in hashlib, random and base64: ~5 ms a
    # command that writes no temp file would pay at start-up.  Imported when
    # first asked for (tests reach it through the package, as the others).
    if name == "secrets":
        import secrets

        return secrets
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# How journal writes reach the disk (fdatasync where there is one).  Read
# from here at call time, so a test can make the disk "full".
_datasync = datasync

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
