"""One table kept on disk in a snapshot's segment, with the journal's later changes in memory.

The storage holds the segmented table (``events``) this way until something needs all of it
(a generic TinyDB read such as ``db.table("events").all()``): then :meth:`SegmentedTable.materialise`
parses the whole segment once and the table becomes an ordinary in-memory dict again.

* The snapshot part is immutable: its bytes are read through ``read(start, end)`` (a ``pread``
  of the snapshot file the storage keeps open, so a compaction replacing the file elsewhere
  does not change what this object sees).
* :attr:`overlay` holds every document written after the snapshot (journal replay and this
  process's writes): ``doc_id -> doc``, or ``None`` for a deleted document.  An overlay entry
  hides the snapshot's document with the same id, whatever group that one was in.
* One group (one incident's events) is its slice of the segment, minus the ids the overlay
  hides, plus the overlay's documents of that group, in id order.

Pure data and bytes: the storage does the locking, the file handles and the journal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from incident_tui.store.segment import Body, Segment, decode_all, decode_group, encode_group, group_bodies, group_key, id_range

__all__ = ["SegmentedTable", "Reader", "MISSING"]

#: ``read(start, end)`` returns the snapshot file's bytes ``[start, end)``.
Reader = Callable[[int, int], bytes]


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


#: "No overlay entry" (the snapshot's document, if any, shows through).
MISSING: Any = _Missing()
_MISSING = MISSING
_NO_HINT: Any = _Missing()


class SegmentedTable:
    """A table whose snapshot documents stay on disk, and whose later changes are in memory."""

    __slots__ = ("segment", "read", "overlay", "_groups")

    def __init__(self, segment: Segment, read: Reader) -> None:
        self.segment = segment
        self.read = read
        #: doc id -> document written after the snapshot, or None when deleted since.
        self.overlay: dict[str, dict[str, Any] | None] = {}
        # group -> ids of the overlay's documents in that group, in the order they were written.
        self._groups: dict[str | None, dict[str, None]] = {}

    def copy(self, read: Reader | None = None) -> SegmentedTable:
        """An independent copy (the overlay is copied; documents are shared, never mutated)."""
        other = SegmentedTable(self.segment, read or self.read)
        other.overlay = dict(self.overlay)
        other._groups = {g: dict(ids) for g, ids in self._groups.items()}
        return other

    # ----------------------------------------------------------------- writes

    def put(self, doc_id: str, doc: dict[str, Any] | None) -> Any:
        """Set the overlay entry of ``doc_id`` (None: deleted); returns the previous entry or ``missing``."""
        prev = self.overlay.get(doc_id, _MISSING)
        if isinstance(prev, dict):
            self._groups.get(group_key(prev, self.segment.key), {}).pop(doc_id, None)
        if doc is _MISSING:
            self.overlay.pop(doc_id, None)
        else:
            self.overlay[doc_id] = doc
            if doc is not None:
                self._groups.setdefault(group_key(doc, self.segment.key), {})[doc_id] = None
        return prev

    def restore(self, doc_id: str, prev: Any) -> None:
        """Undo a :meth:`put` (``prev`` is what it returned)."""
        self.put(doc_id, prev)

    # ------------------------------------------------------------------ reads

    def _base_group(self, group: str | None) -> dict[str, dict[str, Any]]:
        span = self.segment.span(group)
        if span is None:
            return {}
        return decode_group(self.segment.check(group, self.read(*span)), self.segment.key, group)

    def group(self, group: str | None) -> dict[str, dict[str, Any]]:
        """The current documents of one group, ``{doc_id: doc}`` in table order.

        Like a dict: a document updated in place keeps its position, a new one comes last.
        """
        base = self._base_group(group)
        overlay = self.overlay
        if not overlay:
            return base
        mine = self._groups.get(group, {})
        docs: dict[str, dict[str, Any]] = {}
        for k, v in base.items():
            if k not in overlay:
                docs[k] = v
            elif k in mine:
                new = overlay[k]
                if new is not None:
                    docs[k] = new
        for doc_id in mine:
            if doc_id not in docs:
                doc = overlay[doc_id]
                if doc is not None:
                    docs[doc_id] = doc
        return docs

    def get(self, doc_id: str, group: Any = _NO_HINT) -> dict[str, Any] | None:
        """The current document ``doc_id``, or None when there is none.

        Looks in the overlay, then in ``group`` (a hint: where the document probably is), then in
        the groups whose id range includes the id; never parses the whole table.
        """
        if doc_id in self.overlay:
            return self.overlay[doc_id]
        if not doc_id.isdigit():
            return self.base().get(doc_id)  # ids outside the ranges: only a full read can tell
        tried: set[str | None] = set()
        if group is not _NO_HINT and (group is None or isinstance(group, str)):
            tried.add(group)
            doc = self._base_group(group).get(doc_id)
            if doc is not None:
                return doc
        for candidate in self.segment.groups_holding(int(doc_id)):
            if candidate not in tried:
                doc = self._base_group(candidate).get(doc_id)
                if doc is not None:
                    return doc
        return None

    def group_keys(self) -> set[str]:
        """Every group key that has (or may have) documents: the index's and the overlay's."""
        keys = {g for g in self.segment.groups if g is not None}
        keys.update(g for g, ids in self._groups.items() if g is not None and ids)
        return keys

    def group_ids(self, group: str | None) -> list[str]:
        """Ids of the overlay's documents in ``group`` (cheap: no parsing)."""
        return list(self._groups.get(group, ()))

    def high(self) -> int:
        """The highest numeric doc id in the snapshot or the overlay (0 when none)."""
        high = self.segment.high or 0
        for doc_id in self.overlay:
            if doc_id.isdigit() and int(doc_id) > high:
                high = int(doc_id)
        return high

    def __contains__(self, doc_id: object) -> bool:
        """Only what is known without parsing: ids in the overlay (None entries excluded)."""
        return isinstance(doc_id, str) and self.overlay.get(doc_id) is not None

    def count(self) -> int:
        """Documents in the snapshot part (what the journal adds is counted by the storage)."""
        return self.segment.count

    def _in_base(self, doc_id: str) -> bool:
        if not doc_id.isdigit():
            return doc_id in self.base()
        return any(doc_id in self._base_group(g) for g in self.segment.groups_holding(int(doc_id)))

    def size(self) -> int:
        """How many documents the table holds now, without parsing it.

        New ids (above the snapshot's highest) count as they are; an overlay entry for an older
        id (an update or a delete, rare) looks that document up in the groups that may hold it.
        """
        seg = self.segment
        n = seg.count
        floor = seg.high or 0
        for doc_id, doc in self.overlay.items():
            new = doc_id.isdigit() and int(doc_id) > floor and (seg.high is not None or not seg.count)
            if new:
                n += doc is not None
            else:
                n += (doc is not None) - self._in_base(doc_id)
        return n

    def base(self) -> dict[str, dict[str, Any]]:
        """Every document of the snapshot part, ``{doc_id: doc}`` in id order (parses it all)."""
        seg = self.segment
        return decode_all(self.read(seg.start, seg.end), seg)

    def materialise(self) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        """``(base, table)``: the snapshot's documents and the current table with the overlay applied."""
        base = self.base()
        table = dict(base)
        for doc_id, doc in self.overlay.items():
            if doc is None:
                table.pop(doc_id, None)
            else:
                table[doc_id] = doc
        return base, table

    # ------------------------------------------------------------- compaction

    def _touches_snapshot(self) -> bool:
        """True when the overlay changes or deletes a snapshot document (not only adds new ones)."""
        high = self.segment.high
        if high is None and self.segment.count:
            return bool(self.overlay)  # non-numeric ids in the snapshot: no cheap way to tell
        floor = high or 0
        return any(not doc_id.isdigit() or int(doc_id) <= floor for doc_id in self.overlay)

    def bodies(self) -> tuple[Iterator[Body], int, int | None]:
        """The current table as group bodies for a new snapshot, its document count and highest id.

        When the overlay only adds documents with ids above the snapshot's (the usual case:
        new timeline events), the snapshot's group bytes are reused as they are and the new
        documents are appended to their groups; otherwise the table is parsed and re-encoded.
        """
        if self._touches_snapshot():
            _, table = self.materialise()
            numeric = [int(k) for k in table if k.isdigit()]
            return iter(group_bodies(table, self.segment.key)), len(table), max(numeric, default=None)
        seg = self.segment
        added = {g: [i for i in ids if self.overlay.get(i) is not None] for g, ids in self._groups.items()}
        added = {g: ids for g, ids in added.items() if ids}
        count = seg.count + sum(map(len, added.values()))
        high = self.high() if added else seg.high

        def encode(ids: list[str]) -> bytes:
            docs: dict[str, dict[str, Any]] = {}
            for i in ids:
                doc = self.overlay[i]
                if doc is not None:
                    docs[i] = doc
            return encode_group(docs)

        def gen() -> Iterator[Body]:
            for group, span in seg.groups.items():
                body = seg.check(group, self.read(seg.start + span[0], seg.start + span[1]))
                old = seg.ranges.get(group)
                more = added.pop(group, None)
                if not more:
                    yield (group, body, *(old or (None, None)))
                    continue
                lo, hi = id_range(more)
                if old is not None:
                    lo, hi = (old[0] if lo is None else min(old[0], lo)), (old[1] if hi is None else max(old[1], hi))
                yield group, body + b"," + encode(more), lo, hi
            for group, ids in added.items():
                yield (group, encode(ids), *id_range(ids))

        return gen(), count, high

