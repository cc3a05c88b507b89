"""Transactions: the context manager around every commit, and the undo log that rolls one back.

A write changes the in-memory tables at once and records how to undo it; the
commit appends the transaction's journal operations as one line.  An
exception undoes the writes instead (only an inner block's, for a nested
block), so memory always matches what is on disk.
"""

from __future__ import annotations

import enum
import fcntl
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from incident_tui.store.segment_table import MISSING as OVERLAY_MISSING
from incident_tui.store.segment_table import SegmentedTable

if TYPE_CHECKING:
    from incident_tui.store.storage.core import JournalStorage

#: "No value": a document or table that did not exist before a write.
MISSING: Any = object()


class Undo(enum.Enum):
    """What an undo entry puts back (in memory only; never written to disk)."""

    DOC = "doc"  # a document as it was, or gone if it was MISSING
    TABLE = "table"  # a whole table as it was, or gone if it was MISSING
    ORDER = "order"  # the order of a table's documents (a re-added one lands at the end)
    OVERLAY = "overlay"  # an overlay entry of the table still in the snapshot's segment


class UndoLog:
    """The undo entries of the open transaction, oldest first."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: list[tuple[Any, ...]] = []

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()

    def doc(self, name: str, doc_id: str, old: Any) -> None:
        """Document ``doc_id`` of ``name`` was ``old`` (MISSING: absent)."""
        self._entries.append((Undo.DOC, name, doc_id, old))

    def table(self, name: str, old: Any) -> None:
        """Table ``name`` was the dict ``old`` (MISSING: absent)."""
        self._entries.append((Undo.TABLE, name, old))

    def order(self, name: str, doc_ids: list[str]) -> None:
        """Table ``name`` held ``doc_ids`` in this order."""
        self._entries.append((Undo.ORDER, name, doc_ids))

    def overlay(self, name: str, doc_id: str, old: Any) -> None:
        """The segmented table's overlay entry for ``doc_id`` was ``old`` (what SegmentedTable.put returned)."""
        self._entries.append((Undo.OVERLAY, name, doc_id, old))

    def settle_overlay(self, base: Mapping[str, Any]) -> None:
        """The segmented table became a plain one: its overlay entries become document entries.

        ``base`` is the snapshot's part of the table: what an overlay entry
        that was absent let show through.
        """
        entries = self._entries
        for i, entry in enumerate(entries):
            if entry[0] is Undo.OVERLAY:
                old = entry[3]
                if old is OVERLAY_MISSING:
                    old = base.get(entry[2], MISSING)
                elif old is None:
                    old = MISSING
                entries[i] = (Undo.DOC, entry[1], entry[2], old)

    def rollback(self, data: dict[str, dict[str, Any]], mark: int, segmented: SegmentedTable | None = None) -> set[str]:
        """Undo the entries after the first ``mark`` on ``data`` (and ``segmented``), newest first; the tables touched."""
        touched: set[str] = set()
        entries = self._entries
        for i in range(len(entries) - 1, mark - 1, -1):
            entry = entries[i]
            kind, name = entry[0], entry[1]
            touched.add(name)
            if kind is Undo.OVERLAY:
                # Overlay entries exist only while the table is segmented (settle_overlay).
                assert segmented is not None
                segmented.restore(entry[2], entry[3])
            elif kind is Undo.ORDER:
                table = data[name]
                ordered = {k: table[k] for k in entry[2]}
                table.clear()
                table.update(ordered)
            elif kind is Undo.DOC:
                table = data[name]
                if entry[3] is MISSING:
                    table.pop(entry[2], None)
                else:
                    table[entry[2]] = entry[3]
            elif entry[2] is MISSING:
                data.pop(name, None)
            else:
                data[name] = entry[2]
        del entries[mark:]
        return touched


class Txn:
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

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
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
