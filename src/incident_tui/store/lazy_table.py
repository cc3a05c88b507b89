"""A small table still in the snapshot: its slice, parsed on first use, with the journal's later changes on top.

Opening a database parses only ``_meta`` (see :mod:`incident_tui.store.segment` for the layout):
every other table but the events stays a slice of the snapshot file until something touches it.

* The slice is the table's value ``{...}``, as the snapshot's ``segment_tables`` index gives it.
  Its CRC-32 and document count are in ``_meta`` (the ``slices`` field, see
  :mod:`incident_tui.store.storage.snapshot`): the bytes are checked against the CRC when the
  table is parsed, or copied as they are into the next snapshot by a compaction, so a damaged
  slice is refused at first use (with the file named) and never spread.
* :attr:`LazyTable.overlay` holds what the journal changed since the snapshot (replay of other
  processes' commits): ``doc_id -> doc``, or ``None`` for a deleted document.  Replay does not
  parse the slice; the changes are applied, in order, when the table materialises.  A dict
  assignment keeps an existing document's position and appends a new one, so the table that
  results is the one an eager replay would have built.
* A table may carry a per-document index (the incidents by their ``id``): the value, doc id,
  byte span and CRC-32 of every document, so :meth:`LazyTable.find` parses the one document
  asked for (plus the overlay) and never the whole table.  The index may also carry other
  fields' values (the incidents' ``stage``), so :meth:`LazyTable.select` parses only the
  documents whose value passes (the open incidents, not the long closed history).

Pure data and bytes: the storage decides when a table materialises, does the locking and the
journal, and writes into the materialised dict (never into a LazyTable) for its own commits.
"""

from __future__ import annotations

import contextlib
import os
import weakref
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from incident_tui.store.segment import SegmentError

__all__ = ["DocIndex", "LazyTable", "SnapshotFile", "encode_indexed"]

_OPTS = orjson.OPT_NON_STR_KEYS


def _close(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


class SnapshotFile:
    """An open snapshot file, read with ``pread``; closed when the last table reading it is gone.

    The snapshot is never modified in place (a compaction replaces the file), so what this
    reads stays the snapshot it was opened as.
    """

    __slots__ = ("fd", "read_range", "_fin", "__weakref__")

    def __init__(self, fd: int, read_range: Callable[[int, int, int], bytes]) -> None:
        self.fd = fd
        self.read_range = read_range  # (fd, start, end) -> bytes
        self._fin = weakref.finalize(self, _close, fd)

    def read(self, start: int, end: int) -> bytes:
        return self.read_range(self.fd, start, end)

    def close(self) -> None:
        self._fin()


@dataclass(frozen=True)
class DocIndex:
    """A table slice's per-document index, in file order: one field's value (the key), and others'."""

    key: str
    #: [key value or None, doc id, start, end, crc, *extra values] per document, in file order;
    #: start/end relative to the slice's first byte (its ``{``); a value that is not a string is
    #: None.  The shape of every entry is checked when the index is read; the numbers of an entry
    #: when it is used (:meth:`span`).
    entries: list[list[Any]]
    length: int  # the slice's length, which every span lies within
    #: The other fields whose values follow the CRC, in order (an index written before they
    #: existed has none).
    extra: tuple[str, ...] = ()

    def position(self, field: str) -> int | None:
        """Where ``field``'s value lies in an entry; None when the index does not carry it."""
        if field == self.key:
            return 0
        return 5 + self.extra.index(field) if field in self.extra else None

    def span(self, entry: list[Any]) -> tuple[int, int, int]:
        """``(start, end, crc)`` of one entry, checked; SegmentError when it does not fit the slice."""
        s, e, crc = entry[2], entry[3], entry[4]
        if not (type(s) is int and type(e) is int and type(crc) is int and 0 < s < e < self.length):
            raise SegmentError("document index has an out-of-range entry")
        return s, e, crc

    def as_json(self) -> list[Any]:
        return [self.key, self.entries, list(self.extra)] if self.extra else [self.key, self.entries]

    def encode(self) -> str:
        """The index as JSON text: stored as a string in ``_meta``, so opening a database only copies it."""
        return orjson.dumps(self.as_json()).decode()

    @classmethod
    def decode(cls, text: str, crc: int, length: int) -> DocIndex:
        """Read what :meth:`encode` wrote (``crc``: the CRC-32 of its UTF-8); SegmentError when damaged."""
        raw = text.encode()
        if zlib.crc32(raw) != crc:
            raise SegmentError("the document index does not match its checksum")
        try:
            return cls.from_json(orjson.loads(raw), length)
        except orjson.JSONDecodeError:  # pragma: no cover - the CRC matched what was written
            raise SegmentError("the document index is not valid JSON") from None

    @classmethod
    def from_json(cls, raw: Any, length: int) -> DocIndex:
        """Read what :meth:`as_json` gave; SegmentError when its shape is not an index's."""
        if not (isinstance(raw, list) and len(raw) in (2, 3) and isinstance(raw[0], str)
                and isinstance(raw[1], list)):
            raise SegmentError("document index is invalid")
        extra: list[Any] = raw[2] if len(raw) == 3 else []
        if (not isinstance(extra, list) or set(map(type, extra)) - {str} or raw[0] in extra
                or len(set(extra)) != len(extra)):
            raise SegmentError("document index is invalid")
        entries: list[list[Any]] = raw[1]
        width = 5 + len(extra)
        values = {0, *range(5, width)}
        # Set-of-types checks run in C: the whole index is checked in well under a ms.
        if entries and (set(map(type, entries)) != {list} or set(map(len, entries)) != {width}
                        or not all(set(map(type, (e[i] for e in entries))) <= {str, type(None)} for i in values)
                        or set(map(type, (e[1] for e in entries))) != {str}):
            raise SegmentError("document index has an invalid entry")
        return cls(raw[0], entries, length, tuple(extra))


def _indexed(value: Any) -> str | None:
    """A field's value as an index holds it: a string, or None for anything else."""
    return value if isinstance(value, str) else None


def encode_indexed(docs: Mapping[str, Mapping[str, Any]], key: str,
                   extra: tuple[str, ...] = ()) -> tuple[bytes, DocIndex]:
    """A table's bytes (the same as ``orjson.dumps(docs)``) and its per-document index of field
    ``key``, carrying the values of the ``extra`` fields too."""
    parts = [b"{"]
    pos = 1
    entries: list[list[Any]] = []
    for doc_id, doc in docs.items():
        if pos > 1:
            parts.append(b",")
            pos += 1
        head = orjson.dumps(doc_id, option=_OPTS) + b":"
        body = orjson.dumps(doc, option=_OPTS)
        s = pos + len(head)
        entries.append([_indexed(doc.get(key)), str(doc_id), s, s + len(body), zlib.crc32(body),
                        *(_indexed(doc.get(field)) for field in extra)])
        parts += [head, body]
        pos = s + len(body)
    parts.append(b"}")
    return b"".join(parts), DocIndex(key, entries, pos + 1, extra)


class LazyTable:
    """A table whose documents stay in the snapshot until first use; later changes wait in :attr:`overlay`."""

    __slots__ = ("name", "start", "end", "count", "crc", "file", "index_text", "_index", "overlay", "moved", "loads",
                 "high")

    def __init__(self, name: str, start: int, end: int, count: int, crc: int, file: SnapshotFile,
                 index_text: tuple[str, int] | None = None, loads: Callable[[bytes], Any] = orjson.loads) -> None:
        self.name = name
        self.start = start  # the slice is the file's bytes [start, end): the table's "{...}"
        self.end = end
        self.count = count  # documents in the slice
        self.crc = crc
        self.file = file
        #: The per-document index as stored (JSON text, its CRC-32), parsed on first use by :meth:`index`.
        self.index_text = index_text
        self._index: DocIndex | None = None
        self.loads = loads
        #: The highest numeric doc id in the slice, when the snapshot's metadata says it.
        self.high: int | None = None
        #: doc id -> document replayed from the journal since the snapshot, or None when deleted since.
        self.overlay: dict[str, dict[str, Any] | None] = {}
        #: ids deleted and then set again: like a dict, the document is then last, not in its old place.
        self.moved: set[str] = set()

    def copy(self, file: SnapshotFile | None = None) -> LazyTable:
        """An independent copy (its own overlay; documents are shared, never mutated)."""
        other = LazyTable(self.name, self.start, self.end, self.count, self.crc, file or self.file, self.index_text,
                          self.loads)
        other._index = self._index
        other.high = self.high
        other.overlay = dict(self.overlay)
        other.moved = set(self.moved)
        return other

    def put(self, doc_id: str, doc: dict[str, Any] | None) -> None:
        """A document replayed from the journal (None: deleted); a deleted id set again moves to the end, as in a dict."""
        overlay = self.overlay
        if doc is not None and doc_id in overlay and overlay[doc_id] is None:
            del overlay[doc_id]
            self.moved.add(doc_id)
        overlay[doc_id] = doc

    # ------------------------------------------------------------------ reads

    def index(self) -> DocIndex | None:
        """The per-document index (parsed and checked once); None when the slice has none."""
        if self._index is None and self.index_text is not None:
            self._index = DocIndex.decode(*self.index_text, self.end - self.start)
        return self._index

    def raw(self) -> bytes:
        """The slice's bytes, checked against their CRC-32 (SegmentError when they do not match)."""
        body = self.file.read(self.start, self.end)
        if zlib.crc32(body) != self.crc:
            raise SegmentError(f"the bytes of table {self.name!r} do not match their checksum")
        return body

    def base(self) -> dict[str, dict[str, Any]]:
        """The snapshot's documents (parses the slice)."""
        try:
            docs = self.loads(self.raw())
        except orjson.JSONDecodeError as exc:
            raise SegmentError(f"table {self.name!r} is not valid JSON ({exc.msg})") from None
        if not isinstance(docs, dict) or not set(map(type, docs.values())) <= {dict}:
            raise SegmentError(f"table {self.name!r} holds a document that is not an object")
        if len(docs) != self.count:
            raise SegmentError(f"table {self.name!r} holds {len(docs)} documents, its index says {self.count}")
        return docs

    def materialise(self) -> dict[str, dict[str, Any]]:
        """The current table: the snapshot's documents with the overlay applied in order."""
        table = self.base()
        for doc_id, doc in self.overlay.items():
            if doc is None or doc_id in self.moved:
                table.pop(doc_id, None)
            if doc is not None:
                table[doc_id] = doc
        return table

    def find(self, key: str, value: str) -> dict[str, dict[str, Any]] | None:
        """The current documents whose ``key`` equals ``value``, ``{doc_id: doc}`` in table order.

        Parses only those documents' bytes (each checked against its CRC); None when the slice
        has no index of ``key`` (then only the whole table can tell).
        """
        return self.select(key, lambda found: found == value)

    def select(self, field: str, keep: Callable[[str | None], bool]) -> dict[str, dict[str, Any]] | None:
        """The current documents whose ``field`` value passes ``keep``, ``{doc_id: doc}`` in table order.

        ``keep`` is given the value as the index holds it (None for a value that is not a
        string, or a missing field). Parses only the documents kept (each checked against its
        CRC, and that it holds the value the index says); None when the slice's index does not
        carry ``field`` (then only the whole table can tell).
        """
        index = self.index()
        at = index.position(field) if index is not None else None
        if index is None or at is None:
            return None
        overlay, moved = self.overlay, self.moved
        wanted: list[list[Any]] = []
        for entry in index.entries:
            doc_id = entry[1]
            if doc_id in moved:
                continue  # deleted and set again since: after the snapshot's documents
            if doc_id in overlay:
                wanted.append(entry)  # updated (or deleted) since, in its old place
            elif keep(entry[at]):
                wanted.append(entry)
        # One read of the slice when many documents are wanted; else one read each.
        whole = self.file.read(self.start, self.end) if len(wanted) > 8 else None
        found: dict[str, dict[str, Any]] = {}
        for entry in wanted:
            doc_id = entry[1]
            if doc_id in overlay:
                new = overlay[doc_id]
                if new is not None and keep(_indexed(new.get(field))):
                    found[doc_id] = new
                continue
            s, e, crc = index.span(entry)
            body = whole[s:e] if whole is not None else self.file.read(self.start + s, self.start + e)
            if zlib.crc32(body) != crc:
                raise SegmentError(f"the bytes of document {doc_id!r} of table {self.name!r} do not match their checksum")
            try:
                doc = orjson.loads(body)
            except orjson.JSONDecodeError as exc:  # pragma: no cover - the CRC matched what was written
                raise SegmentError(f"document {doc_id!r} of table {self.name!r} is not valid JSON ({exc.msg})") from None
            if type(doc) is not dict or _indexed(doc.get(field)) != entry[at]:
                raise SegmentError(f"document {doc_id!r} of table {self.name!r} is not what its index says")
            found[doc_id] = doc
        if overlay:
            known = {entry[1] for entry in index.entries}
            for doc_id, doc in overlay.items():
                if doc is not None and (doc_id not in known or doc_id in moved) and keep(_indexed(doc.get(field))):
                    found[doc_id] = doc  # new since the snapshot: after the snapshot's documents
        return found
