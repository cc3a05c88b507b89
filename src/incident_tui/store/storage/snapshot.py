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
Reading such a file parses ``_meta`` and every other table from its own
slice and keeps the file open, so one incident's events are read later from
their slice.  A file without the header (schema 1, or a database without
events) is parsed whole.
"""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Mapping
from functools import partial
from typing import Any

import orjson

from incident_tui.store.segment import (
    HEADER_LEN,
    Segment,
    SegmentError,
    decode_prefix,
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
    __slots__ = ("key", "gen", "data", "high", "base", "seg", "fd", "_fin", "__weakref__")

    def __init__(self, key: tuple[int, int, int], gen: int, data: dict[str, dict[str, Any]],
                 high: dict[str, int] | None = None, base: tuple[int, int] | None = None,
                 seg: Segment | None = None, fd: int = -1):
        self.key = key
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
            # Schema 2: parse everything before the events segment; the
            # events stay in the file, read one incident at a time.
            try:
                data, seg = decode_prefix(partial(pread_range, fd, db_path), header, st.st_size, loads_bulk)
            except orjson.JSONDecodeError as exc:
                raise corrupt(db_path, f"corrupt JSON before the events segment ({exc.msg})") from None
            except SegmentError as exc:
                raise corrupt(db_path, f"invalid events segment ({exc})") from None
            if seg.table != SEGMENT_TABLE or seg.key != SEGMENT_KEY:
                raise corrupt(db_path, f"events segment of an unknown kind ({seg.table!r} by {seg.key!r})")
            data.pop(seg.table, None)
            keep = True
    finally:
        if not keep:
            os.close(fd)
    if seg is None:
        return _checked(db_path, schema_version, st, data, None, -1)
    try:
        return _checked(db_path, schema_version, st, data, seg, fd)
    except BaseException:
        os.close(fd)
        raise


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
    """
    tables = dict(data)
    meta_table = dict(tables.pop(META_TABLE))
    found = tables.pop(SEGMENT_TABLE, None)
    seg = found if isinstance(found, SegmentedTable) else None
    table = None if seg is not None else found
    high = high_ids(tables)
    first = {**meta_table[META_DOC_ID], "gen": gen}
    if seg is None and table is None:
        first["ids"] = {"gen": gen, "high": high}
        meta_table[META_DOC_ID] = first
        payload = orjson.dumps({META_TABLE: meta_table, **tables}, option=OPTS)
        return payload, None, sum(map(len, tables.values())) + len(meta_table)
    try:
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
        meta_table[META_DOC_ID] = first
        payload, segment = encode_segmented(meta_table, tables, SEGMENT_TABLE, SEGMENT_KEY, bodies,
                                            count=count, high=top)
    except SegmentError as exc:
        raise segment_error(db_path, exc) from None
    return payload, segment, sum(map(len, tables.values())) + len(meta_table) + count
