"""The hook into TinyDB: a Table whose writes become journal operations, and the database built on it.

:class:`JournalTable` (installed as ``TinyDB.table_class``) turns each write
method into per-document operations instead of TinyDB's read-modify-write of
the whole database.  It relies on internals of tinydb 4.9.0, which is pinned
exactly; the unit tests fail loudly if those internals change.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import Any

from tinydb import TinyDB
from tinydb.queries import QueryLike
from tinydb.storages import Storage
from tinydb.table import Table

from incident_tui.store.storage.codec import deepcopy
from incident_tui.store.storage.core import JournalStorage
from incident_tui.store.storage.errors import LockHolder, StoreError, one_line
from incident_tui.store.storage.snapshot import SEGMENT_KEY
from incident_tui.store.storage.transaction import Txn


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

    def insert(self, document: Mapping[Any, Any]) -> int:
        """Insert a document; durable and visible to others on return."""
        if not isinstance(document, Mapping):
            raise ValueError("Document is not a Mapping")
        js = self._js
        with Txn(js):
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

    def insert_multiple(self, documents: Iterable[Mapping[Any, Any]]) -> list[int]:
        """Insert documents as one commit; returns their ids."""
        js = self._js
        doc_ids: list[int] = []
        with Txn(js):
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
        fields: Mapping[Any, Any] | Callable[[MutableMapping[Any, Any]], None],
        cond: QueryLike | None = None,
        doc_ids: Iterable[int] | None = None,
    ) -> list[int]:
        """Update matching documents (all when neither cond nor doc_ids)."""
        js = self._js
        name = self._name
        with Txn(js):
            js._ensure_table(name)
            if cond is None and doc_ids is not None and js.is_segmented(name):
                return self._update_in_segment(fields, doc_ids)
            ids = self._select(cond, doc_ids)
            table = js._table(name) or {}
            for doc_id in ids:
                key = str(doc_id)
                if callable(fields):
                    # The callable may mutate nested values: give it a copy.
                    new = deepcopy(table[key])
                    fields(new)
                else:
                    new = dict(table[key])
                    new.update(fields)
                js._put(name, key, new)
        return ids

    def _update_in_segment(
        self,
        fields: Mapping[Any, Any] | Callable[[MutableMapping[Any, Any]], None],
        doc_ids: Iterable[int],
    ) -> list[int]:
        # update(doc_ids=...) of events still in the snapshot's segment: each
        # document is looked up by id (first in the group its new fields name),
        # so starring or editing one event does not load every event.
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
                new = deepcopy(old)
                fields(new)
            else:
                new = dict(old)
                new.update(fields)
            js._put(name, key, new)
            ids.append(doc_id)
        return ids

    def update_multiple(
        self,
        updates: Iterable[tuple[Mapping[Any, Any] | Callable[[MutableMapping[Any, Any]], None], QueryLike]],
    ) -> list[int]:
        """Apply several (fields, cond) updates, as stock TinyDB does, in one commit."""
        js = self._js
        name = self._name
        updates = list(updates)
        updated: list[int] = []
        with Txn(js):
            js._ensure_table(name)
            table = js._table(name) or {}
            for key in list(table):
                live = table[key]
                work = None
                for fields, cond in updates:
                    # Later conditions see earlier updates, like stock TinyDB.
                    if cond(live if work is None else work):
                        if work is None:
                            work = deepcopy(live)
                        updated.append(self.document_id_class(key))
                        if callable(fields):
                            fields(work)
                        else:
                            work.update(fields)
                if work is not None:
                    js._put(name, key, work)
        return updated

    def upsert(self, document: Mapping[Any, Any], cond: QueryLike | None = None) -> list[int]:
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
        with Txn(self._js):
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
        with Txn(js):
            js._ensure_table(self._name)
            ids = self._select(cond, doc_ids)
            if ids:
                js._save_order(self._name)
            for doc_id in ids:
                js._delete(self._name, str(doc_id))
        return ids

    def truncate(self) -> None:
        """Remove all documents; ids restart at 1 (as in stock TinyDB)."""
        with Txn(self._js):
            self._js._truncate(self._name)
        self._next_id = None

    def _get_next_id(self) -> int:
        # The counter lives in the storage so that catching up with another
        # process's inserts moves it too; Table._next_id stays unused.
        return self._js._next_id(self._name)

    def _read_table(self) -> dict[str, Mapping[Any, Any]]:
        return self._js._table(self._name) or {}

    def _update_table(self, updater: Callable[[dict[int, Mapping[Any, Any]]], None]) -> None:
        # Generic fallback for any Table code path not hooked above (in
        # 4.9.0 only ``persist_empty``): run the updater on a deep copy and
        # journal the difference.  Slow, but correct.
        js = self._js
        name = self._name
        with Txn(js):
            live = js._table(name)
            conv = self.document_id_class
            table = {conv(k): deepcopy(v) for k, v in (live or {}).items()}
            updater(table)
            js._replace_table(name, table)
        self.clear_cache()


class IncidentDB(TinyDB):
    """TinyDB wired to :class:`JournalStorage` and :class:`JournalTable`."""

    table_class = JournalTable
    # TinyDB types it as JSONStorage, though any Storage subclass is meant.
    default_storage_class = JournalStorage  # type: ignore[assignment]

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
        raise StoreError(one_line(f"cannot open database {given}: {where}{exc.strerror or exc}")) from exc


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
    return Txn(storage, db)
