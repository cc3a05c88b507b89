"""The snapshot file: a plain TinyDB-compatible JSON file, read and validated, or encoded for a compaction.

Its ``_meta`` table says ``app`` and ``schema``; the store adds the
snapshot's generation (``gen``, bumped by every compaction) and the highest
doc id of each table (``ids``), so the first insert after an open does not
scan the table for it.  A snapshot written by a compaction also says how much
of the previous generation's journal it includes (``journal``: that journal's
generation and byte length), so a crash between the snapshot's replace and the
journal's leaves nothing to lose (see :mod:`.journal`).  ``gen``, ``ids`` and
``journal`` are taken out of the metadata when it is read.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import orjson

from incident_tui.store.storage.codec import OPTS, loads_bulk
from incident_tui.store.storage.errors import SchemaVersionError, corrupt
from incident_tui.store.storage.files import open_file, stat_key

APP_NAME = "incident-tui"
META_TABLE = "_meta"
META_DOC_ID = "1"


class Snapshot:
    __slots__ = ("key", "gen", "data", "high", "base")

    def __init__(self, key: tuple[int, int, int], gen: int, data: dict[str, dict[str, Any]],
                 high: dict[str, int] | None = None, base: tuple[int, int] | None = None):
        self.key = key
        self.gen = gen
        self.data = data
        self.high = high or {}  # highest doc id per table, from the metadata (may be missing)
        # (generation, byte length) of the previous journal this snapshot includes, if recorded.
        self.base = base

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
    with open(fd, "rb", closefd=True) as fh:
        st = os.fstat(fd)
        raw = fh.read()
    if not raw:
        return None
    try:
        data = loads_bulk(raw)
    except orjson.JSONDecodeError as exc:
        where = f" at byte {exc.pos}" if getattr(exc, "pos", None) is not None else ""
        kind = "truncated" if exc.pos is not None and exc.pos >= len(raw.rstrip()) else "corrupt"
        raise corrupt(db_path, f"{kind} JSON{where} ({exc.msg})") from None
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
    return Snapshot(stat_key(st), gen, data, high, base)


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


def encode_snapshot(data: dict[str, dict[str, Any]], gen: int) -> bytes:
    """The snapshot file's bytes for ``data`` as generation ``gen`` (``data`` is not changed)."""
    data = dict(data)
    meta_table = dict(data[META_TABLE])
    meta_table[META_DOC_ID] = {**meta_table[META_DOC_ID], "gen": gen, "ids": {"gen": gen, "high": high_ids(data)}}
    data[META_TABLE] = meta_table
    return orjson.dumps(data, option=OPTS)
