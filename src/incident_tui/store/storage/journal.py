"""The journal's format: its header, its records and their operations, encoded and replayed.

The journal (``<path>.journal``) is JSON lines.  Line 1 is a header,
``{"journal": 1, "gen": <snapshot generation>}``, and its records are changes
on top of the snapshot of that generation.  Every further line is one
commit: a JSON array of operations, each an array whose first element is an
:class:`Op` letter and whose second is the table name::

    ["s", table, doc_id, document]   set a document (insert or replace)
    ["d", table, doc_id]             delete a document (a missing one is no error)
    ["t", table]                     truncate a table (it exists, empty)
    ["x", table]                     drop a table

These letters are the on-disk format: files written by every earlier version
use them, so they never change.  A torn last line (no newline: a crashed
writer's unacknowledged commit) is not a record.

A compaction writes the new snapshot (generation G+1) from the state at byte
X of the generation-G journal without holding the lock; under the lock it
then replaces the snapshot and, only after that, replaces the journal with a
new file holding the header and the bytes after X (the commits made
meanwhile, copied, not re-encoded).  So:

* The snapshot's metadata records ``X`` (see :mod:`.snapshot`).  Found next
  to the generation-G journal, which is what a crash between the two
  replaces leaves, the snapshot is continued by that journal's records after
  X (replayed from there; the new journal is written at the next exclusive
  lock).  No record is lost, none is applied twice.
* The new journal's header says the same: ``{"journal": 1, "gen": G+1,
  "base": [G, X], "snap": [inode, size, mtime_ns]}`` (``snap``: the new
  snapshot file's identity).  A process that had already read the old journal
  uses it to take the new files over without parsing the new snapshot: its
  state is the snapshot's plus the copied records it has already applied.
* A journal of any other generation is left over from an older compaction
  interrupted after the replace (or one that recorded no position): its
  records are already in the snapshot, and it is ignored.

``base`` and ``snap`` are additive: a version that does not know them reads
a new journal correctly (its records are changes on top of the snapshot of
its generation), so the format stays 1.  What such a version gets wrong is
the crash window between the two replaces: it takes the old journal for a
stale one and would drop the commits made during that compaction, if it were
the first to open the database after such a crash.
"""

from __future__ import annotations

import contextlib
import enum
import os
from typing import Any, NamedTuple

import orjson

from incident_tui.store.lazy_table import LazyTable
from incident_tui.store.segment_table import SegmentedTable

from incident_tui.store.storage.codec import dumps, loads_bulk
from incident_tui.store.storage.errors import CorruptDatabaseError, corrupt, one_line
from incident_tui.store.storage.files import naming

JOURNAL_FORMAT = 1
# A journal header line is ~30 bytes (~60 with a base); anything longer
# without a newline is not a torn header.
MAX_HEADER = 256


class Op(enum.StrEnum):
    """The operation of one journal entry, as its on-disk letter."""

    SET = "s"
    DELETE = "d"
    TRUNCATE = "t"
    DROP = "x"


_SET = b'["' + Op.SET.encode() + b'",'
_DELETE = b'["' + Op.DELETE.encode() + b'",'
_TRUNCATE = b'["' + Op.TRUNCATE.encode() + b'",'
_DROP = b'["' + Op.DROP.encode() + b'",'


def set_op(name: str, doc_id: str, payload: bytes) -> bytes:
    """The encoded operation setting document ``doc_id`` to ``payload`` (its JSON)."""
    return _SET + dumps(name) + b"," + dumps(doc_id) + b"," + payload + b"]"


def delete_op(name: str, doc_id: str) -> bytes:
    return _DELETE + dumps(name) + b"," + dumps(doc_id) + b"]"


def truncate_op(name: str) -> bytes:
    return _TRUNCATE + dumps(name) + b"]"


def drop_op(name: str) -> bytes:
    return _DROP + dumps(name) + b"]"


def record_line(ops: list[bytes]) -> bytes:
    """One commit's line: its encoded operations as one JSON array, newline-terminated."""
    return b"[" + b",".join(ops) + b"]\n"


class Header(NamedTuple):
    gen: Any  # the snapshot generation the records are on top of (validated by the caller)
    base: tuple[int, int] | None  # the previous journal's (generation, byte length) this one continues
    snap: tuple[int, int, int] | None  # the stat key of the snapshot it was written with


def header_line(gen: int, base: tuple[int, int] | None = None, snap: tuple[int, int, int] | None = None) -> bytes:
    """The header of a journal on top of snapshot ``gen``; a compaction's new journal also names ``base`` and ``snap``."""
    if base is None or snap is None:
        return orjson.dumps({"journal": JOURNAL_FORMAT, "gen": gen}) + b"\n"
    return orjson.dumps({"journal": JOURNAL_FORMAT, "gen": gen, "base": list(base), "snap": list(snap)}) + b"\n"


def _ints(value: Any, n: int) -> tuple[int, ...] | None:
    if isinstance(value, list) and len(value) == n and all(type(v) is int and v >= 0 for v in value):
        return tuple(value)
    return None


def read_header(line: bytes, journal_path: str) -> Header:
    """What the header ``line`` (without its newline) says; corrupt if it is no header."""
    try:
        header = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise corrupt(journal_path, "line 1 is not a journal header") from None
    if not isinstance(header, dict) or header.get("journal") != JOURNAL_FORMAT:
        raise corrupt(journal_path, "line 1 is not a journal header")
    base = _ints(header.get("base"), 2)
    snap = _ints(header.get("snap"), 3)
    return Header(header.get("gen"), None if base is None else (base[0], base[1]),
                  None if snap is None else (snap[0], snap[1], snap[2]))


def header_gen(line: bytes, journal_path: str) -> Any:
    """The generation named by the header ``line`` (without its newline); corrupt if it is no header."""
    return read_header(line, journal_path)[0]


def parse_lines(chunk: bytes, first_lineno: int, journal_path: str) -> list[Any]:
    """The records of ``chunk`` (complete lines, the first being line ``first_lineno``)."""
    # One orjson call over all lines joined as an array is much faster
    # than a call per line; orjson never emits a raw newline, so every
    # newline in the journal is a line separator.
    try:
        records: list[Any] = loads_bulk(b"[" + chunk[:-1].replace(b"\n", b",") + b"]")
        return records
    except orjson.JSONDecodeError:
        pass
    for i, line in enumerate(chunk[:-1].split(b"\n")):
        try:
            orjson.loads(line)
        except orjson.JSONDecodeError:
            raise corrupt(
                journal_path,
                f"line {first_lineno + i} is not valid JSON (a corrupt record before the last line)",
            ) from None
    raise corrupt(journal_path, "unreadable records")  # pragma: no cover


def apply_records(
    data: dict[str, dict[str, Any]],
    hw: dict[str, int],
    records: list[Any],
    first_lineno: int,
    journal_path: str,
) -> set[str]:
    """Replay ``records`` (the first being line ``first_lineno``) onto the tables ``data`` and the id counters ``hw``.

    A table of ``data`` may be a :class:`SegmentedTable` (the events still in
    the snapshot's segment) or a :class:`LazyTable` (a table not parsed
    yet): its document writes go to its overlay; a truncate or drop replaces
    or removes it like any table.  Returns the
    names of the tables they touched.
    """
    touched: set[str] = set()
    # Plain strings in locals: this loop replays every operation at open.
    set_, delete, truncate, drop = Op.SET.value, Op.DELETE.value, Op.TRUNCATE.value, Op.DROP.value
    for lineno, record in enumerate(records, first_lineno):
        try:
            for op in record:
                kind = op[0]
                name = op[1]
                if type(name) is not str:
                    raise TypeError
                touched.add(name)
                seg: Any = data.get(name)
                if (type(seg) is SegmentedTable or type(seg) is LazyTable) and (kind == set_ or kind == delete):
                    doc_id = op[2]
                    doc = op[3] if kind == set_ else None
                    if type(doc_id) is not str or kind == set_ and type(doc) is not dict:
                        raise TypeError
                    seg.put(doc_id, doc)
                    h = hw.get(name)
                    if kind == set_ and h is not None:
                        n = int(doc_id)
                        if n > h:
                            hw[name] = n
                    continue
                if kind == set_:
                    doc_id, doc = op[2], op[3]
                    if type(doc) is not dict or type(doc_id) is not str:
                        raise TypeError
                    table = data.get(name)
                    if table is None:
                        data[name] = table = {}
                    table[doc_id] = doc
                    h = hw.get(name)
                    if h is not None:
                        n = int(doc_id)
                        if n > h:
                            hw[name] = n
                elif kind == delete:
                    if type(op[2]) is not str:
                        raise TypeError
                    table = data.get(name)
                    if table is not None:
                        table.pop(op[2], None)
                elif kind == truncate:
                    data[name] = {}
                    hw.pop(name, None)
                elif kind == drop:
                    data.pop(name, None)
                    hw.pop(name, None)
                else:
                    raise ValueError
        except (TypeError, ValueError, IndexError, KeyError):
            raise corrupt(journal_path, f"line {lineno} is not a valid record") from None
    return touched


def refuse_orphan_records(fd: int, db_path: str, journal_path: str, state: str) -> None:
    """Refuse the journal open at ``fd`` if it holds records while its snapshot is ``state`` ("missing", "empty").

    Its records would be changes on top of a snapshot that is gone, so
    neither replaying them nor resetting the journal is safe: refused, and
    nothing is touched.  The whole file counts, however long its first record
    is.  An empty journal, only a header, or a header torn by a crash during
    a reset loses nothing.
    """
    with naming(journal_path):
        size = os.fstat(fd).st_size
        first = b""
        pos = 0
        while pos < size and b"\n" not in first and len(first) <= MAX_HEADER:
            chunk = os.pread(fd, 4096, pos)
            if not chunk:
                break
            first += chunk
            pos += len(chunk)
    nl = first.find(b"\n")
    if nl >= 0:
        header_ok = False
        with contextlib.suppress(orjson.JSONDecodeError):
            header = orjson.loads(first[:nl])
            header_ok = isinstance(header, dict) and header.get("journal") == JOURNAL_FORMAT
        what = f"holds {size - nl - 1} bytes of records" if header_ok else "is not an incident-tui journal"
        safe = header_ok and size == nl + 1
    else:
        # Empty, or a header torn by a crash during a reset: nothing lost.
        what = "is not an incident-tui journal"
        safe = size <= MAX_HEADER
    if not safe:
        raise CorruptDatabaseError(one_line(
            f"cannot open database {db_path}: the snapshot is {state} but its journal "
            f"{journal_path} {what}; restore {db_path} from a backup, or move the journal "
            "away to start a new database (both files left unchanged)"
        ))
