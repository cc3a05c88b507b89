"""The snapshot file: a plain TinyDB-compatible JSON file, read and validated, or encoded for a compaction.

Its ``_meta`` table says ``app`` and ``schema``; the store adds the
snapshot's generation (``gen``, bumped by every compaction) and the highest
doc id of each table (``ids``), so the first insert after an open does not
scan the table for it.  A snapshot written by a compaction also says how much
of the previous generation's journal it includes (``journal``: that journal's
generation and byte length), so a crash between the snapshot's replace and the
journal's leaves nothing to lose (see :mod:`.journal`).  ``gen``, ``ids`` and
``journal`` are taken out of the metadata when it is read.

Schema 2 keeps the events table (:data:`SEGMENT_TABLE`) last, grouped by
incident, with a fixed-width header and a per-incident byte-offset index at
the front of ``_meta`` (the layout: :mod:`incident_tui.store.segment`).
Reading such a file parses ``_meta`` only and keeps the file open, so one
incident's events are read later from their slice, and every other table is
a :class:`~incident_tui.store.lazy_table.LazyTable` parsed on first use,
when ``_meta``'s ``slices`` field (written by every compaction, tagged with
its generation) gives each table's document count and CRC-32::

    "slices": {"gen": 7, "tables": {"samples": [count, crc],
                                    "incidents": [count, crc, "<index by id, with each stage, as JSON text>", index_crc]}}

(:data:`INDEXED_TABLES` says which tables carry a per-document index.)
Without a usable ``slices`` field every table is parsed at open from its own
slice, as before the field existed.  A file without the header (schema 1, or
a database without events) is parsed whole.
"""

from __future__ import annotations

import contextlib
import os
import weakref
import zlib
from collections.abc import Mapping
from functools import partial
from typing import Any

import orjson

from incident_tui.store.lazy_table import LazyTable, SnapshotFile, encode_indexed
from incident_tui.store.segment import (
    HEADER_LEN,
    Segment,
    SegmentError,
    decode_layout,
    group_bodies,
    read_header,
)
from incident_tui.store.segment import encode_snapshot as encode_segmented
from incident_tui.store.segment_table import SegmentedTable
from incident_tui.store.storage.codec import OPTS, loads_bulk
from incident_tui.store.storage.errors import CorruptDatabaseError, SchemaVersionError, corrupt
from incident_tui.store.storage.files import naming, open_file, stat_key

APP_NAME = "incident-tui"
META_TABLE = "_meta"
META_DOC_ID = "1"
#: The table kept in the snapshot's segment (schema 2): written last, grouped by
#: ``SEGMENT_KEY``, with a byte-offset index in ``_meta``, so that opening parses
#: every other table and one group (one incident's timeline) is read on demand.
SEGMENT_TABLE = "events"
SEGMENT_KEY = "incident_id"
#: The ``_meta`` field saying each small table's document count and CRC-32 (and, for the tables
#: of :data:`INDEXED_TABLES`, a per-document index), tagged with the generation that wrote it.
SLICES_FIELD = "slices"
#: Tables written with a per-document index of one field, so that one document is found by it
#: without parsing the table: the incidents by their id (``incident-tui note INC-…``).
#: table -> (the field it is indexed by, the other fields whose values the index carries): the
#: dashboard lists the incidents not closed without parsing the closed ones.
INDEXED_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {"incidents": ("id", ("stage",))}


def close_fd(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


def pread_range(fd: int, path: str, start: int, end: int) -> bytes:
    """Bytes ``[start, end)`` of the (never modified in place) snapshot open as ``fd``."""
    parts: list[bytes] = []
    pos = start
    with naming(path):
        while pos < end:
            chunk = os.pread(fd, end - pos, pos)
            if not chunk:
                raise SegmentError(f"file ends at byte {pos}, inside its events segment (ends at {end})")
            parts.append(chunk)
            pos += len(chunk)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def segment_error(db_path: str, exc: SegmentError) -> CorruptDatabaseError:
    return corrupt(db_path, f"its events segment is unreadable ({exc})")


class Snapshot:
    __slots__ = ("key", "gen", "data", "high", "base", "seg", "fd", "lazy", "_fin", "__weakref__")

    def __init__(self, key: tuple[int, int, int], gen: int, data: dict[str, dict[str, Any]],
                 high: dict[str, int] | None = None, base: tuple[int, int] | None = None,
                 seg: Segment | None = None, fd: int = -1, lazy: dict[str, LazyTable] | None = None):
        self.key = key
        #: The tables not parsed yet (each a slice of the file, parsed on first use); not in ``data``.
        self.lazy = lazy or {}
        self.gen = gen
        self.data = data
        self.high = high or {}  # highest doc id per table, from the metadata (may be missing)
        # (generation, byte length) of the previous journal this snapshot includes, if recorded.
        self.base = base
        self.seg = seg  # where the events segment is, when the file has one (then ``fd`` stays open)
        self.fd = fd
        self._fin = weakref.finalize(self, close_fd, fd) if fd >= 0 else None

    def detach(self) -> int:
        """Hand the open file over to the caller (who closes it); -1 when there is none."""
        if self._fin is not None:
            self._fin.detach()
            self._fin = None
        fd, self.fd = self.fd, -1
        return fd

    @property
    def schema(self) -> int:
        schema: int = self.data[META_TABLE][META_DOC_ID]["schema"]
        return schema


def new_data(schema_version: int) -> dict[str, dict[str, Any]]:
    """The tables of a new, empty database."""
    return {META_TABLE: {META_DOC_ID: {"app": APP_NAME, "schema": schema_version}}}


def high_ids(data: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
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


def _read_base(journal: Any, gen: int) -> tuple[int, int] | None:
    """The journal position the metadata says this snapshot includes, if written with this generation.

    Tagged with the snapshot's generation like ``ids``: an older incident-tui
    that compacts keeps the field but not its meaning, and is then ignored.
    """
    if not isinstance(journal, dict) or journal.get("gen") != gen:
        return None
    base = journal.get("base")
    if (not isinstance(base, list) or len(base) != 2
            or not all(type(n) is int and n >= 0 for n in base)):
        return None
    return base[0], base[1]


def read_snapshot(db_path: str, schema_version: int) -> Snapshot | None:
    """Parse and validate the snapshot; None when missing or empty.

    Raises :class:`CorruptDatabaseError` for anything but an incident-tui
    database, :class:`SchemaVersionError` for one newer than
    ``schema_version``; the file is only read.
    """
    try:
        fd = open_file(db_path, db_path, os.O_RDONLY, "snapshot", create=False)
    except FileNotFoundError:
        return None
    keep = False
    lazy: dict[str, LazyTable] = {}
    try:
        with naming(db_path):
            st = os.fstat(fd)
            head = os.pread(fd, HEADER_LEN, 0)
        try:
            header = read_header(head)
        except SegmentError as exc:
            raise corrupt(db_path, f"invalid events segment header ({exc})") from None
        seg: Segment | None = None
        if header is None:
            with open(os.dup(fd), "rb", closefd=True) as fh:
                raw = fh.read()
            if not raw:
                return None
            try:
                data = loads_bulk(raw)
            except orjson.JSONDecodeError as exc:
                where = f" at byte {exc.pos}" if getattr(exc, "pos", None) is not None else ""
                kind = "truncated" if exc.pos is not None and exc.pos >= len(raw.rstrip()) else "corrupt"
                raise corrupt(db_path, f"{kind} JSON{where} ({exc.msg})") from None
            del raw
        else:
            # Schema 2: parse _meta only; the events stay in the file, read
            # one incident at a time, and so do the other tables when _meta
            # says their counts and checksums (parsed on first use).
            read = partial(pread_range, fd, db_path)
            try:
                meta_table, spans, seg = decode_layout(read, header, st.st_size, loads_bulk)
                data = {META_TABLE: meta_table}
                slices = _read_slices(meta_table[META_DOC_ID].pop(SLICES_FIELD, None),
                                      meta_table[META_DOC_ID].get("gen"), spans)
                if slices is None:  # written by a version that did not record them: parsed now
                    for name, (s, e) in spans.items():
                        data[name] = loads_bulk(read(s, e))
                elif slices:
                    file = SnapshotFile(os.dup(fd), partial(_pread_file, db_path))
                    lazy = {name: LazyTable(name, *spans[name], count, crc, file, index, loads_bulk)
                            for name, (count, crc, index) in slices.items()}
            except orjson.JSONDecodeError as exc:
                raise corrupt(db_path, f"corrupt JSON before the events segment ({exc.msg})") from None
            except SegmentError as exc:
                raise corrupt(db_path, f"invalid events segment ({exc})") from None
            if seg.table != SEGMENT_TABLE or seg.key != SEGMENT_KEY:
                raise corrupt(db_path, f"events segment of an unknown kind ({seg.table!r} by {seg.key!r})")
            keep = True
    finally:
        if not keep:
            os.close(fd)
    if seg is None:
        return _checked(db_path, schema_version, st, data, None, -1)
    try:
        snap = _checked(db_path, schema_version, st, data, seg, fd)
    except BaseException:
        os.close(fd)
        raise
    for name, table in lazy.items():
        table.high = snap.high.get(name)
    snap.lazy = lazy
    return snap


def _pread_file(db_path: str, fd: int, start: int, end: int) -> bytes:
    return pread_range(fd, db_path, start, end)


def _read_slices(raw: Any, gen: Any, spans: Mapping[str, tuple[int, int]]
                 ) -> dict[str, tuple[int, int, tuple[str, int] | None]] | None:
    """Each table's (count, CRC-32, document index) from the metadata; None when it cannot be used.

    Tagged with the snapshot's generation like ``ids``: a version that does
    not know the field keeps it when it compacts, and it is then stale.  It
    must name exactly the tables the layout has, or it is not used either
    (every table is then parsed at open, as before it existed).
    """
    if not isinstance(raw, dict) or raw.get("gen") != gen or type(gen) is not int:
        return None
    tables = raw.get("tables")
    if not isinstance(tables, dict) or set(tables) != set(spans):
        return None
    out: dict[str, tuple[int, int, tuple[str, int] | None]] = {}
    for name, entry in tables.items():
        if (not isinstance(entry, list) or len(entry) not in (2, 4)
                or not all(type(n) is int and n >= 0 for n in entry[:2])):
            return None
        index: tuple[str, int] | None = None
        if len(entry) == 4:
            if not isinstance(entry[2], str) or type(entry[3]) is not int:
                return None
            index = (entry[2], entry[3])  # parsed and checked on first use (see LazyTable.index)
        out[name] = (entry[0], entry[1], index)
    return out


def _checked(db_path: str, schema_version: int, st: os.stat_result, data: Any, seg: Segment | None,
             fd: int) -> Snapshot:
    if not isinstance(data, dict):
        raise corrupt(db_path, f"not an incident-tui database (top level is a JSON {type(data).__name__}, expected an object)")
    meta_table = data.get(META_TABLE)
    if not isinstance(meta_table, dict):
        raise corrupt(db_path, f"not an incident-tui database (no {META_TABLE} table; a plain TinyDB or other JSON file?)")
    meta = meta_table.get(META_DOC_ID)
    if not isinstance(meta, dict) or meta.get("app") != APP_NAME:
        raise corrupt(db_path, f"not an incident-tui database ({META_TABLE} does not name app {APP_NAME!r})")
    schema = meta.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
        raise corrupt(db_path, f"invalid schema version {schema!r} in {META_TABLE}")
    if schema > schema_version:
        raise SchemaVersionError(
            f"cannot open database {db_path}: written by a newer incident-tui "
            f"(schema {schema}, this version reads up to {schema_version})"
        )
    gen = meta.pop("gen", 0)
    if not isinstance(gen, int):
        raise corrupt(db_path, f"invalid generation {gen!r} in {META_TABLE}")
    high = _read_high_ids(meta.pop("ids", None), gen)
    base = _read_base(meta.pop("journal", None), gen)
    for name, table in data.items():
        if not isinstance(table, dict):
            raise corrupt(db_path, f"table {name!r} is not a JSON object")
        # set(map(type)) runs in C: a few ms for 150k documents.
        if not set(map(type, table.values())) <= {dict}:
            bad = next(k for k, v in table.items() if type(v) is not dict)
            raise corrupt(db_path, f"document {bad!r} of table {name!r} is not a JSON object")
    if seg is not None and seg.high is not None:
        high[seg.table] = max(high.get(seg.table, 0), seg.high)
    return Snapshot(stat_key(st), gen, data, high, base, seg, fd)


def with_base(data: dict[str, dict[str, Any]], gen: int, base: tuple[int, int]) -> dict[str, dict[str, Any]]:
    """``data`` (a shallow copy) whose metadata says that, as generation ``gen``, it includes ``base``.

    ``base`` is the (generation, byte length) of the journal ``data`` is the
    replay of.  Only a compaction's snapshot has one: a new or migrated
    database is not the replay of any journal.
    """
    data = dict(data)
    meta_table = dict(data[META_TABLE])
    meta_table[META_DOC_ID] = {**meta_table[META_DOC_ID], "journal": {"gen": gen, "base": list(base)}}
    data[META_TABLE] = meta_table
    return data


def encode_snapshot(db_path: str, data: Mapping[str, Any], gen: int) -> tuple[bytes, Segment | None, int]:
    """The snapshot file's bytes for ``data`` as generation ``gen``, its segment and its document count.

    ``data`` is not changed.  Its SEGMENT_TABLE is a dict, or a
    :class:`SegmentedTable` while the table is still in a snapshot's segment
    (then its groups' bytes are reused; see :meth:`SegmentedTable.bodies`).
    Any other table is a dict, or a :class:`LazyTable` still in the previous
    snapshot: its bytes are copied as they are (checked against their CRC)
    when the journal changed none of its documents, else it is parsed and
    written anew.
    """
    tables = dict(data)
    meta_table = dict(tables.pop(META_TABLE))
    found = tables.pop(SEGMENT_TABLE, None)
    seg = found if isinstance(found, SegmentedTable) else None
    table = None if seg is not None else found
    first = {**meta_table[META_DOC_ID], "gen": gen}
    first.pop(SLICES_FIELD, None)
    if seg is None and table is None:
        # No events: a plain TinyDB file, parsed whole at open.
        try:
            tables = {name: t.materialise() if isinstance(t, LazyTable) else t for name, t in tables.items()}
        except SegmentError as exc:
            raise corrupt(db_path, f"its table is unreadable ({exc})") from None
        first["ids"] = {"gen": gen, "high": high_ids(tables)}
        meta_table[META_DOC_ID] = first
        payload = orjson.dumps({META_TABLE: meta_table, **tables}, option=OPTS)
        return payload, None, sum(map(len, tables.values())) + len(meta_table)
    try:
        encoded, slices, high, small_docs = _encode_tables(tables)
        if seg is not None:
            bodies, count, top = seg.bodies()
        else:
            assert table is not None
            bodies = iter(group_bodies(table, SEGMENT_KEY))
            count = len(table)
            top = high_ids({SEGMENT_TABLE: table}).get(SEGMENT_TABLE)
        if top is not None:
            high[SEGMENT_TABLE] = top
        first["ids"] = {"gen": gen, "high": high}
        first[SLICES_FIELD] = {"gen": gen, "tables": slices}
        meta_table[META_DOC_ID] = first
        payload, segment = encode_segmented(meta_table, encoded, SEGMENT_TABLE, SEGMENT_KEY, bodies,
                                            count=count, high=top)
    except SegmentError as exc:
        raise segment_error(db_path, exc) from None
    return payload, segment, small_docs + len(meta_table) + count


def _index_is_current(table: LazyTable, key: str | None, extra: tuple[str, ...]) -> bool:
    """Whether an unchanged table's index (checked here) is the one this version writes; an index
    from before a field was added to it is written again, once."""
    index = table.index()
    return index is not None and index.key == key and index.extra == extra


def _encode_tables(tables: Mapping[str, Any]) -> tuple[dict[str, bytes], dict[str, list[Any]], dict[str, int], int]:
    """Every small table's bytes, its ``slices`` entry (count, CRC-32, document index), the highest ids, the document count."""
    encoded: dict[str, bytes] = {}
    slices: dict[str, list[Any]] = {}
    high: dict[str, int] = {}
    docs_total = 0
    for name, t in tables.items():
        key, extra = INDEXED_TABLES.get(name, (None, ()))
        index: tuple[str, int] | None
        if (isinstance(t, LazyTable) and not t.overlay and (key is None) == (t.index_text is None)
                and (t.index_text is None or _index_is_current(t, key, extra))):
            # Unchanged since the previous snapshot: its bytes (and index, checked) as they are.
            raw, count, crc, top, index = t.raw(), t.count, t.crc, t.high, t.index_text
        else:
            docs = t.materialise() if isinstance(t, LazyTable) else t
            index = None
            if key is not None:
                raw, doc_index = encode_indexed(docs, key, extra)
                text = doc_index.encode()
                index = (text, zlib.crc32(text.encode()))
            else:
                raw = orjson.dumps(docs, option=OPTS)
            count, crc, top = len(docs), zlib.crc32(raw), high_ids({name: docs}).get(name)
        encoded[name] = raw
        slices[name] = [count, crc] if index is None else [count, crc, *index]
        if top is not None:
            high[name] = top
        docs_total += count
    return encoded, slices, high, docs_total
