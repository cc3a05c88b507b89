"""The snapshot layout of schema 2: one big table kept last, grouped, with a byte-offset index.

A snapshot is still one valid TinyDB JSON file.  What schema 2 adds is an order and an index,
so that opening a database parses only the small tables and one group (one incident's
timeline events) is parsed from a slice of the file on demand::

    {"_meta":{"1":{"segment":"000000004321:000000012345:000000098765", ...meta...,
                   "segment_index":{"table":"events","key":"incident_id","count":N,"high":H,
                                    "groups":[["INC-1",0,812,1,40,3735928559],...]},
                   "segment_tables":[["incidents","000000004340","000000007000"],...]}},
     "incidents":{...}, "samples":{...}, ...,
     "events":{<group INC-1>,<group INC-2>,<rest>}}

* The segmented table (``events``) is the LAST key of the top-level object; every other table
  comes before it.
* ``segment`` is the first field of the first ``_meta`` document and has a fixed width:
  ``META_END:START:END``, twelve digits each.  META_END is the offset just after the ``_meta``
  table's value, START the offset of the first byte inside the segmented table's ``{``, END
  the offset of its closing ``}``; the file ends right after it with ``}`` (the top level's),
  so its size is END + 2.  Reading the first :data:`HEADER_LEN` bytes gives all three.
* ``segment_tables`` gives every other table's value span ``[s, e)`` (fixed-width numbers in
  strings, so ``_meta``'s length is known before the offsets it records).  Open parses
  ``_meta`` (:func:`decode_layout`) and each table later from its own slice, on first use
  (see :mod:`incident_tui.store.lazy_table`): the memory a parse needs on top of its result
  is that of one table, never of the whole file.  The separators between the slices
  (``,"name":``) and their braces are checked at open, so a file whose index does not match
  is refused.
* ``segment_index.groups`` lists the groups in file order: the group key (the documents'
  ``key`` field, a string; ``null`` for the documents whose field is missing or not a string),
  the span ``[s, e)`` of its documents relative to START, the lowest and highest numeric doc
  id in it (``null`` when it has none), so a document can be found by id without parsing
  every group, and the CRC-32 of its bytes: a slice read later, or copied as it is into the
  next snapshot by a compaction, is checked against it, so damage is refused, never spread.
  A group's bytes are ``"id":{doc},"id":{doc}`` (in the table's order, which is id order
  unless documents were written with explicit ids) and parse as ``b"{" + bytes + b"}"``;
  groups are separated by one comma.  ``count`` is the number of documents and ``high`` the
  highest numeric doc id (``null`` when none is numeric).
* Offsets are byte offsets of orjson's UTF-8 output.  Nothing is found by scanning for
  text, so document text (quotes, ``"events":``, U+2028, any unicode) cannot move them.
* A reader that does not know this layout (schema 1) parses the whole file as JSON and finds
  ``"schema": 2``: it refuses the file as written by a newer version.

Everything here is a pure function over bytes and JSON values; the storage decides where the
bytes come from (a ``pread`` of the open snapshot) and keeps the journal's later changes on top.
"""

from __future__ import annotations

import heapq
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from incident_tui.domain.errors import IncidentTuiError

__all__ = [
    "SEGMENT_FIELD",
    "INDEX_FIELD",
    "HEADER_PREFIX",
    "HEADER_LEN",
    "Segment",
    "SegmentError",
    "group_key",
    "group_bodies",
    "encode_group",
    "id_range",
    "Body",
    "encode_snapshot",
    "read_header",
    "Header",
    "TABLES_FIELD",
    "decode_prefix",
    "decode_layout",
    "decode_group",
    "decode_all",
]

SEGMENT_FIELD = "segment"
INDEX_FIELD = "segment_index"
TABLES_FIELD = "segment_tables"
_WIDTH = 12
_MAX_OFFSET = 10**_WIDTH - 1
META_TABLE = "_meta"
META_DOC_ID = "1"
HEADER_PREFIX = b'{"' + META_TABLE.encode() + b'":{"' + META_DOC_ID.encode() + b'":{"' + SEGMENT_FIELD.encode() + b'":"'
#: Bytes to read from the start of a file to know whether it has a segment, and where.
HEADER_LEN = len(HEADER_PREFIX) + 3 * _WIDTH + 3
_OPTS = orjson.OPT_NON_STR_KEYS


class SegmentError(IncidentTuiError, ValueError):
    """The segment's header, index or bytes are inconsistent (a corrupt or hand-edited file)."""


@dataclass(frozen=True)
class Segment:
    """Where the segmented table lies in a snapshot file, and where each group lies in it."""

    table: str
    key: str
    start: int
    end: int
    #: group key -> (start, end) relative to :attr:`start`; None is the group of the rest.
    groups: dict[str | None, tuple[int, int]]
    #: group key -> (lowest, highest) numeric doc id in it, or None when it has none.
    ranges: dict[str | None, tuple[int, int] | None]
    #: group key -> CRC-32 of its bytes.
    crcs: dict[str | None, int]
    count: int
    high: int | None

    def check(self, group: str | None, body: bytes) -> bytes:
        """``body`` if it is the group's bytes as written (its CRC-32 matches), else SegmentError."""
        if zlib.crc32(body) != self.crcs.get(group):
            raise SegmentError(f"the bytes of group {group!r} do not match their checksum")
        return body

    def groups_holding(self, doc_id: int) -> list[str | None]:
        """The groups whose id range includes ``doc_id`` (the only ones that may hold it)."""
        return [g for g, r in self.ranges.items() if r is not None and r[0] <= doc_id <= r[1]]

    def span(self, group: str | None) -> tuple[int, int] | None:
        """Absolute byte span of one group in the file, or None when the group has no documents."""
        rel = self.groups.get(group)
        if rel is None:
            return None
        return self.start + rel[0], self.start + rel[1]


def group_key(doc: Mapping[str, Any], key: str) -> str | None:
    """The group a document belongs to: its ``key`` field when that is a string, else None."""
    value = doc.get(key)
    return value if isinstance(value, str) else None


def _id_order(doc_id: str) -> tuple[int, int, str]:
    # Numeric ids in numeric order, anything else after them in text order.
    return (0, int(doc_id), "") if doc_id.isdigit() else (1, 0, doc_id)


#: One group as :func:`encode_snapshot` takes it: key, body, lowest and highest numeric id (or None).
Body = tuple[str | None, bytes, int | None, int | None]


def id_range(doc_ids: Iterable[str]) -> tuple[int | None, int | None]:
    """Lowest and highest numeric id among ``doc_ids`` ((None, None) when none is numeric)."""
    numeric = [int(k) for k in doc_ids if k.isdigit()]
    return (min(numeric), max(numeric)) if numeric else (None, None)


def encode_group(docs: Mapping[str, Mapping[str, Any]]) -> bytes:
    """``"id":{doc},...`` for the given documents, in the mapping's order."""
    return orjson.dumps(docs, option=_OPTS)[1:-1]


def group_bodies(docs: Mapping[str, Mapping[str, Any]], key: str) -> list[Body]:
    """Encode a whole table as group bodies (``"id":{doc},...``), each group in the table's order."""
    grouped: dict[str | None, dict[str, Mapping[str, Any]]] = {}
    for doc_id, doc in docs.items():
        grouped.setdefault(group_key(doc, key), {})[doc_id] = doc
    return [(group, encode_group(members), *id_range(members)) for group, members in grouped.items()]


def _num(n: int) -> str:
    return f"{n:0{_WIDTH}d}"


def encode_snapshot(
    meta_table: Mapping[str, Mapping[str, Any]],
    tables: Mapping[str, Mapping[str, Any] | bytes],
    table: str,
    key: str,
    bodies: Iterable[Body],
    *,
    count: int,
    high: int | None,
) -> tuple[bytes, Segment]:
    """A whole snapshot: ``_meta`` first (with the header and indexes), ``tables``, then ``table`` last.

    Returns the bytes and the :class:`Segment` describing them (what :func:`decode_prefix`
    would read back).

    ``meta_table`` must hold document ``"1"``; ``tables`` must hold neither ``_meta`` nor
    ``table``; a table given as ``bytes`` is written as it is (its encoded value).  ``bodies`` are the groups' encoded documents (empty ones are left out), at most
    one per group key.
    """
    if META_TABLE in tables or table in tables:
        raise ValueError("tables must not hold the meta table or the segmented table")
    parts: list[bytes] = []
    groups: list[list[Any]] = []
    pos = 0
    seen: set[str | None] = set()
    for group, body, lo, hi in bodies:
        if not body:
            continue
        if group in seen:
            raise ValueError(f"group {group!r} given twice")
        seen.add(group)
        if parts:
            pos += 1  # the comma between groups
        groups.append([group, pos, pos + len(body), lo, hi, zlib.crc32(body)])
        parts.append(body)
        pos += len(body)
    first = dict(meta_table[META_DOC_ID])
    for field in (SEGMENT_FIELD, INDEX_FIELD, TABLES_FIELD):
        first.pop(field, None)
    index = {"table": table, "key": key, "count": count, "high": high, "groups": groups}
    # A table given as bytes is its value already encoded (a slice copied from the previous snapshot).
    encoded = [(_key_bytes(name), docs if isinstance(docs, bytes) else orjson.dumps(docs, option=_OPTS))
               for name, docs in tables.items()]

    def meta_bytes(header: str, spans: list[list[str]]) -> bytes:
        doc = {SEGMENT_FIELD: header, **first, INDEX_FIELD: index, TABLES_FIELD: spans}
        out: dict[str, Any] = {META_DOC_ID: doc}
        out.update((k, v) for k, v in meta_table.items() if k != META_DOC_ID)
        return orjson.dumps(out, option=_OPTS)

    # Every number in the header and the table index has a fixed width, so the
    # _meta table's length is known before the offsets it records.
    zero = _num(0)
    names = list(tables)
    meta_len = len(meta_bytes(":".join([zero] * 3), [[name, zero, zero] for name in names]))
    lead = b'{"' + META_TABLE.encode() + b'":'
    meta_end = len(lead) + meta_len
    at = meta_end
    spans: list[list[str]] = []
    for (name_bytes, docs_bytes), name in zip(encoded, names):
        at += 1 + len(name_bytes) + 1  # ,"name":
        spans.append([name, _num(at), _num(at + len(docs_bytes))])
        at += len(docs_bytes)
    start = at + 1 + len(_key_bytes(table)) + 2  # ,"table":{
    end = start + pos
    if end > _MAX_OFFSET:
        raise ValueError("snapshot too large for the segment header")
    meta = meta_bytes(f"{_num(meta_end)}:{_num(start)}:{_num(end)}", spans)
    if len(meta) != meta_len or not (lead + meta).startswith(HEADER_PREFIX):  # pragma: no cover - fixed widths
        raise ValueError("the segment header did not keep its width")
    # One join (the groups with their commas in it): a single copy of the segment's bytes.
    pieces = [lead, meta]
    for name_bytes, docs_bytes in encoded:
        pieces += [b",", name_bytes, b":", docs_bytes]
    pieces += [b",", _key_bytes(table), b":{"]
    for i, part in enumerate(parts):
        if i:
            pieces.append(b",")
        pieces.append(part)
    pieces.append(b"}}")
    del parts, encoded
    payload = b"".join(pieces)
    del pieces
    spans_by_group: dict[str | None, tuple[int, int]] = {g[0]: (g[1], g[2]) for g in groups}
    ranges: dict[str | None, tuple[int, int] | None] = {
        g[0]: (g[3], g[4]) if g[3] is not None and g[4] is not None else None for g in groups
    }
    crcs: dict[str | None, int] = {g[0]: g[5] for g in groups}
    return payload, Segment(table, key, start, end, spans_by_group, ranges, crcs, count, high)


def _key_bytes(name: str) -> bytes:
    return orjson.dumps(name)


@dataclass(frozen=True)
class Header:
    """The fixed-width header: where ``_meta`` ends, where the segmented table's body starts and ends."""

    meta_end: int
    start: int
    end: int


def read_header(head: bytes) -> Header | None:
    """The header from a file's first :data:`HEADER_LEN` bytes; None when the file has no segment header.

    Raises :class:`SegmentError` when the header is there but malformed.
    """
    if not head.startswith(HEADER_PREFIX):
        return None
    raw = head[len(HEADER_PREFIX):HEADER_LEN]
    numbers = raw[:-1].split(b":")
    if raw[-1:] != b'"' or len(numbers) != 3 or not all(len(n) == _WIDTH and n.isdigit() for n in numbers):
        raise SegmentError("malformed segment header")
    meta_end, start, end = map(int, numbers)
    if not HEADER_LEN < meta_end < start <= end:
        raise SegmentError(f"segment offsets out of order ({meta_end}, {start}, {end})")
    return Header(meta_end, start, end)


def decode_prefix(
    read: Callable[[int, int], bytes], header: Header, size: int,
    loads: Callable[[bytes], Any] = orjson.loads,
) -> tuple[dict[str, Any], Segment]:
    """Parse every table but the segmented one, each from its own slice, and validate the indexes.

    ``read(start, end)`` gives the file's bytes; ``size`` is the file's size; ``loads`` parses
    one table.  Returns the tables (the ``_meta`` document without the segment fields) and the
    :class:`Segment`.  Raises ``orjson.JSONDecodeError`` when a slice is not JSON,
    :class:`SegmentError` when the header, indexes, separators or size disagree.
    """
    meta_table, spans, segment = decode_layout(read, header, size, loads)
    data: dict[str, Any] = {META_TABLE: meta_table}
    for name, (s, e) in spans.items():
        data[name] = loads(read(s, e))
    data[segment.table] = {}
    return data, segment


def decode_layout(
    read: Callable[[int, int], bytes], header: Header, size: int,
    loads: Callable[[bytes], Any] = orjson.loads,
) -> tuple[dict[str, Any], dict[str, tuple[int, int]], Segment]:
    """Parse ``_meta`` only and validate the layout; every other table stays in the file.

    Returns the ``_meta`` table (its first document without the segment fields), the value
    span ``[s, e)`` of every other table but the segmented one, in file order, and the
    :class:`Segment`.  Only the separators between the slices are read (a few bytes each), so
    a file whose index does not match is refused here; what is inside a slice is checked when
    it is parsed.  Raises as :func:`decode_prefix`.
    """
    start, end = header.start, header.end
    if size != end + 2:
        kind = "truncated" if size < end + 2 else "longer than its segment header says"
        raise SegmentError(f"{kind} ({size} bytes, the header says {end + 2})")
    meta_table = loads(read(len(b'{"' + META_TABLE.encode() + b'":'), header.meta_end))
    meta = meta_table.get(META_DOC_ID) if isinstance(meta_table, dict) else None
    if not isinstance(meta, dict):
        raise SegmentError("no meta document")
    meta.pop(SEGMENT_FIELD, None)
    index = meta.pop(INDEX_FIELD, None)
    spans = meta.pop(TABLES_FIELD, None)
    if not isinstance(index, dict) or not isinstance(spans, list):
        raise SegmentError("no segment index")
    tables: dict[str, tuple[int, int]] = {}
    at = header.meta_end
    for entry in spans:
        if (not isinstance(entry, list) or len(entry) != 3 or not all(isinstance(x, str) for x in entry)
                or not (entry[1].isdigit() and entry[2].isdigit())):
            raise SegmentError("table index has an invalid entry")
        name, s, e = entry[0], int(entry[1]), int(entry[2])
        gap = b"," + _key_bytes(name) + b":"
        if (s != at + len(gap) or not s < e <= start or name == META_TABLE or name in tables
                or read(at, s) != gap or read(s, s + 1) != b"{" or read(e - 1, e) != b"}"):
            raise SegmentError(f"table index does not match the file at table {name!r}")
        tables[name] = (s, e)
        at = e
    table, key, count, high, groups = (index.get(f) for f in ("table", "key", "count", "high", "groups"))
    if not isinstance(table, str) or not isinstance(key, str):
        raise SegmentError("segment index names no table or key")
    gap = b"," + _key_bytes(table) + b":{"
    if start != at + len(gap) or table in tables or read(at, start) != gap or read(end, end + 2) != b"}}":
        raise SegmentError(f"table {table!r} is not where the header says, last")
    if type(count) is not int or count < 0 or not (high is None or (type(high) is int and high >= 0)):
        raise SegmentError("segment index has an invalid count or high id")
    if not isinstance(groups, list):
        raise SegmentError("segment index has no group list")
    group_spans: dict[str | None, tuple[int, int]] = {}
    ranges: dict[str | None, tuple[int, int] | None] = {}
    crcs: dict[str | None, int] = {}
    pos = 0
    length = end - start
    for entry in groups:
        if (not isinstance(entry, list) or len(entry) != 6 or not (entry[0] is None or isinstance(entry[0], str))
                or type(entry[1]) is not int or type(entry[2]) is not int or type(entry[5]) is not int):
            raise SegmentError("segment index has an invalid group entry")
        group, gs, ge, lo, hi, crc = entry
        crcs[group] = crc
        if lo is None and hi is None:
            ranges[group] = None
        elif type(lo) is int and type(hi) is int and 0 <= lo <= hi:
            ranges[group] = (lo, hi)
        else:
            raise SegmentError("segment index has an invalid id range")
        if not (pos <= gs < ge <= length) or group in group_spans:
            raise SegmentError("segment index has overlapping or out-of-range groups")
        group_spans[group] = (gs, ge)
        pos = ge + 1
    if (groups and group_spans[groups[-1][0]][1] != length) or (not groups and length):
        raise SegmentError("segment index does not cover the segment")
    return meta_table, tables, Segment(table, key, start, end, group_spans, ranges, crcs, count, high)


def decode_group(body: bytes, key: str, group: str | None) -> dict[str, dict[str, Any]]:
    """Parse one group's bytes into ``{doc_id: doc}``, checking every document belongs to it."""
    try:
        docs = orjson.loads(b"{" + body + b"}")
    except orjson.JSONDecodeError as exc:
        raise SegmentError(f"group {group!r} is not valid JSON ({exc.msg})") from None
    if not isinstance(docs, dict):  # pragma: no cover - "{...}" parses to an object or fails
        raise SegmentError(f"group {group!r} is not an object")
    for doc_id, doc in docs.items():
        if type(doc) is not dict or group_key(doc, key) != group:
            raise SegmentError(f"document {doc_id!r} does not belong to group {group!r}")
    return docs


def decode_all(body: bytes, segment: Segment) -> dict[str, dict[str, Any]]:
    """Parse the whole segmented table (``file[start:end]``) into ``{doc_id: doc}``.

    The groups are merged back into one table by id, each group keeping its own order: the
    table's order as it was written whenever that was id order within each group.
    """
    if len(body) != segment.end - segment.start:
        raise SegmentError("segment bytes have the wrong length")
    for group, (s, e) in segment.groups.items():
        segment.check(group, body[s:e])
    # Groups are joined by commas: the whole body is one object, parsed in one call.
    try:
        merged = orjson.loads(b"{" + body + b"}")
    except orjson.JSONDecodeError as exc:
        raise SegmentError(f"segment is not valid JSON ({exc.msg})") from None
    if not isinstance(merged, dict) or not set(map(type, merged.values())) <= {dict}:
        raise SegmentError("segment holds a document that is not an object")
    if len(merged) != segment.count:
        raise SegmentError(f"segment holds {len(merged)} documents, its index says {segment.count}")
    if len(segment.groups) <= 1:
        return merged
    ids = list(merged)
    order = list(map(_id_order, ids))
    if all(a <= b or ga != gb for a, b, ga, gb in zip(
            order, order[1:], _groups_of(merged, ids, segment.key), _groups_of(merged, ids[1:], segment.key))):
        # Every group is in id order (the usual case): one sort restores the table's order.
        return {ids[i]: merged[ids[i]] for i in sorted(range(len(ids)), key=order.__getitem__)}
    runs: list[list[tuple[tuple[int, int, str], str]]] = []
    last: Any = object()
    for doc_id, o in zip(ids, order):
        g = group_key(merged[doc_id], segment.key)
        if not runs or g != last:
            runs.append([])
            last = g
        runs[-1].append((o, doc_id))
    return {doc_id: merged[doc_id] for _, doc_id in heapq.merge(*runs, key=lambda item: item[0])}


def _groups_of(docs: Mapping[str, Mapping[str, Any]], ids: list[str], key: str) -> Iterator[str | None]:
    return (group_key(docs[i], key) for i in ids)
