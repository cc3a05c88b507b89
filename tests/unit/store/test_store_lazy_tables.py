"""Open parses only _meta: every other table is a slice of the snapshot until first use.

Acts on real files and real processes: a second process writes through the journal while this
one has not parsed the tables yet; damaged slices; the file the previous version wrote.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from datetime import datetime, timezone

from incident_tui.domain.models import DetectionMethod, Incident, Severity
from incident_tui.store.repository import Repository
from incident_tui.store import storage as storage_mod
from incident_tui.store.storage import CorruptDatabaseError, open_db, transaction
from incident_tui.store.stores import Stores

FIXTURE = Path(__file__).with_name("fixtures") / "schema2_without_slices.json"


BASE = Incident(id="INC-0", title="t", prompt_id="summary", prompt_version=1, severity=Severity.P2,
                detected_by=DetectionMethod.MANUAL, detected_at=datetime(2026, 11, 1, tzinfo=timezone.utc)).to_dict()


def _inc(**fields) -> dict:
    return {**BASE, **fields}


def _other_process(path: Path, code: str) -> None:
    """Run ``code`` in a fresh Python process with ``db`` open on ``path`` (closed after)."""
    program = "import sys\nfrom incident_tui.store.storage import open_db, transaction\n"
    program += "db = open_db(sys.argv[1])\n" + textwrap.dedent(code) + "\ndb.close()\n"
    subprocess.run([sys.executable, "-c", program, str(path)], check=True, capture_output=True, text=True,
                   timeout=60)


@pytest.fixture
def compacted(db_path):
    """A compacted database with incidents (one id twice), samples, events and prompts."""
    db = open_db(db_path)
    with transaction(db):
        db.table("incidents").insert_multiple([
            _inc(id="INC-1", title="one"),
            _inc(id='INC-"2"\u2028', title="two"),
            _inc(id="INC-3", title="three"),
            _inc(id="INC-1", title="one again"),  # hand-made duplicate: the first one wins
            {"title": "no id at all"},
        ])
        db.table("samples").insert_multiple({"incident_id": "INC-1", "n": n} for n in range(5))
        db.table("events").insert_multiple({"incident_id": "INC-1", "n": n} for n in range(3))
        db.table("prompts").insert({"text": "p" * 2000})
    db.storage.compact()
    db.close()
    return db_path


def _eager(path: Path, table: str) -> list[dict]:
    """The table as the whole file says it (a plain JSON parse), in its order."""
    return list(json.loads(path.read_bytes())[table].values())


def test_open_parses_no_table_and_first_use_parses_one(compacted):
    db = open_db(compacted)
    assert set(db.storage._data) == {"_meta"}
    assert db.tables() == {"_meta", "incidents", "samples", "events", "prompts"}
    assert [d["n"] for d in db.table("samples").all()] == list(range(5))
    assert "samples" in db.storage._data and "incidents" not in db.storage._data
    assert db.table("_meta").all() == [{"app": "incident-tui", "schema": 2}]  # the index is no document
    db.close()


def test_find_incident_parses_one_document_and_sees_journal_updates(compacted):
    db = open_db(compacted)
    repo = Repository(db)
    assert repo.find_incident("INC-1").title == "one"
    assert repo.find_incident('INC-"2"\u2028').title == "two"
    assert repo.find_incident("INC-404") is None
    assert "incidents" not in db.storage._data  # found through the index, nothing parsed
    _other_process(compacted, """
        from tinydb import where
        t = db.table("incidents")
        with transaction(db):
            t.update({"title": "one, renamed"}, where("title") == "one")
            t.remove(where("id") == "INC-3")
            t.insert({**t.get(doc_id=1), "id": "INC-4", "title": "four"})
            t.update({"id": "INC-5"}, where("title") == "two")
    """)
    assert db.storage.refresh()
    assert repo.find_incident("INC-1").title == "one, renamed"
    assert repo.find_incident("INC-3") is None
    assert repo.find_incident("INC-4").title == "four"
    assert repo.find_incident('INC-"2"\u2028') is None and repo.find_incident("INC-5").title == "two"
    assert "incidents" not in db.storage._data  # the journal's changes wait in the overlay
    # Parsed now: the same table an eager open of the compacted file gives.
    assert db.table("incidents").all() == _eager_after_compaction(compacted, "incidents")
    db.close()


def _eager_after_compaction(path: Path, table: str) -> list[dict]:
    other = open_db(path)
    other.storage.compact()
    other.close()
    return _eager(path, table)


def test_lazy_tables_see_another_process_s_writes_in_the_order_an_eager_replay_gives(compacted):
    reader = open_db(compacted)
    _other_process(compacted, """
        s = db.table("samples")
        s.remove(doc_ids=[2])
        s.insert({"incident_id": "INC-9", "n": 99})
        s.update({"n": 30}, doc_ids=[3])
        from tinydb.table import Document
        s.insert(Document({"incident_id": "INC-1", "n": 2}, doc_id=2))  # deleted, then back: now last
        db.table("prompts").truncate()
        db.table("prompts").insert({"text": "after truncate"})
    """)
    reader.storage.refresh()
    assert {"samples", "incidents"} & set(reader.storage._data) == set()
    assert [d["n"] for d in reader.table("samples").all()] == [0, 30, 3, 4, 99, 2]
    assert reader.table("prompts").all() == [{"text": "after truncate"}]
    writer = open_db(compacted)  # a fresh open replays the same journal onto the same slices
    assert writer.table("samples").all() == reader.table("samples").all()
    writer.close()
    # The reader writes on top of what it replayed (its write parses the slice, overlay applied)...
    reader.table("samples").update({"n": 40}, doc_ids=[4])
    assert "samples" in reader.storage._data
    reader.storage.compact()
    reader.close()
    # ...and the compacted file says the same.
    assert [d["n"] for d in _eager(compacted, "samples")] == [0, 30, 40, 4, 99, 2]


def test_a_write_parses_the_table_and_a_compaction_copies_untouched_slices(compacted):
    db = open_db(compacted)
    before = Path(compacted).read_bytes()
    samples = before[before.index(b'"samples":') + len(b'"samples":'):before.index(b',"prompts":')]
    db.table("incidents").insert(_inc(id="INC-6", title="six"))
    assert "incidents" in db.storage._data and "samples" not in db.storage._data
    db.storage.compact()
    db.close()
    after = Path(compacted).read_bytes()
    assert samples in after  # copied as it was
    db = open_db(compacted)
    assert Repository(db).find_incident("INC-6").title == "six"
    assert [d["n"] for d in db.table("samples").all()] == list(range(5))
    db.close()


@pytest.mark.parametrize("table", ["samples", "incidents"])
def test_a_damaged_slice_is_refused_at_first_use_and_never_rewritten(compacted, table):
    raw = Path(compacted).read_bytes()
    at = raw.index(b'"incident_id":"INC-1","n":3' if table == "samples" else b'"title":"three"')
    damaged = raw[:at] + raw[at:at + 12].replace(b"i", b"j").replace(b"t", b"T") + raw[at + 12:]
    assert len(damaged) == len(raw) and damaged != raw
    Path(compacted).write_bytes(damaged)
    journal = Path(f"{compacted}.journal").read_bytes()
    db = open_db(compacted)  # _meta and the layout are sound: it opens
    assert Repository(db).find_incident("INC-1").title == "one"  # another document of the slice
    with pytest.raises(CorruptDatabaseError) as info:
        db.table(table).all()
    message = str(info.value)
    assert "\n" not in message and str(compacted) in message and repr(table) in message
    assert "checksum" in message
    if table == "incidents":
        with pytest.raises(CorruptDatabaseError, match="checksum"):
            Repository(db).find_incident("INC-3")  # the damaged document itself
    db.table("events").insert({"incident_id": "INC-1", "n": 9})  # other tables still take writes...
    with pytest.raises(CorruptDatabaseError):
        db.storage.compact()  # ...but the damaged slice is never copied over the file
    db.close()
    assert Path(compacted).read_bytes() == damaged
    assert Path(f"{compacted}.journal").read_bytes().startswith(journal)


def _damage_samples(path) -> bytes:
    raw = Path(path).read_bytes()
    at = raw.index(b'"incident_id":"INC-1","n":3')
    damaged = raw[:at] + raw[at:at + 12].replace(b"i", b"j") + raw[at + 12:]
    Path(path).write_bytes(damaged)
    return damaged


def test_a_damaged_snapshot_stops_automatic_compaction_once_and_says_why(compacted, monkeypatch):
    damaged = _damage_samples(compacted)
    db = open_db(compacted)
    storage = db.storage
    storage.compact_min_bytes = storage.compact_min_ops = 0
    storage.compact_ratio = 0.0  # every commit finds a compaction due
    tries = []
    real = storage_mod.JournalStorage._compact
    monkeypatch.setattr(storage_mod.JournalStorage, "_compact",
                        lambda self, **kw: tries.append(1) or real(self, **kw))
    assert storage.compaction_warning() is None
    db.table("events").insert({"incident_id": "INC-1", "n": 10})  # durable; its compaction fails
    assert len(tries) == 1
    warning = storage.compaction_warning()
    assert warning is not None and "\n" not in warning
    assert str(compacted) in warning and "'samples'" in warning and "journal grows" in warning
    for n in range(11, 16):  # later commits no longer read the damaged snapshot again
        db.table("events").insert({"incident_id": "INC-1", "n": n})
    assert len(tries) == 1
    with pytest.raises(CorruptDatabaseError):
        storage.compact()  # asked for by name it is still tried, and still refused
    storage._refused_snap = ("another", "snapshot")  # as after another process's compaction
    db.table("events").insert({"incident_id": "INC-1", "n": 16})
    assert len(tries) == 3 and storage.compaction_warning() is not None  # tried again: still damaged
    db.close()
    assert Path(compacted).read_bytes() == damaged  # never copied over
    assert [d["n"] for d in open_db(compacted).table("events").all()] == [0, 1, 2, *range(10, 17)]


def test_the_cli_warns_on_each_write_while_the_snapshot_is_damaged(compacted, monkeypatch):
    from click.testing import CliRunner

    from incident_tui.cli import main

    _damage_samples(compacted)
    monkeypatch.setattr(storage_mod.core, "COMPACT_MIN_BYTES", 0)
    monkeypatch.setattr(storage_mod.core, "COMPACT_MIN_OPS", 0)
    monkeypatch.setattr(storage_mod.core, "COMPACT_RATIO", 0.0)
    runner = CliRunner()
    result = runner.invoke(main, ["--db", str(compacted), "note", "INC-3", "still writing"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(lines) == 1 and "automatic compaction is off" in lines[0] and "'samples'" in lines[0]
    result = runner.invoke(main, ["--db", str(compacted), "list"])  # reads only: nothing to say
    assert "automatic compaction" not in result.stderr


def test_a_torn_slice_index_is_refused_at_first_use(compacted):
    raw = Path(compacted).read_bytes()
    at = raw.index(b'\\"INC-3\\"')  # inside the incidents' id index (JSON text in _meta)
    damaged = raw[:at + 3] + b"X" + raw[at + 4:]
    Path(compacted).write_bytes(damaged)
    db = open_db(compacted)
    with pytest.raises(CorruptDatabaseError, match="document index"):
        Repository(db).find_incident("INC-3")
    db.close()
    assert Path(compacted).read_bytes() == damaged


def test_a_file_from_before_the_slice_index_opens_and_gains_it_at_its_next_compaction(tmp_path):
    path = tmp_path / "db.json"
    shutil.copyfile(FIXTURE, path)
    original = path.read_bytes()
    db = open_db(path)
    assert {"incidents", "samples"} <= set(db.storage._data)  # parsed at open, as before
    assert Repository(db).find_incident("INC-20261101-002").title == 'second "q" \u2028'
    assert path.read_bytes() == original  # opened as it is, not rewritten
    db.table("events").insert({"incident_id": "INC-20261101-001", "text": "c", "at": "2026-11-01T00:03:00+00:00",
                               "kind": "note"})
    db.storage.compact()
    db.close()
    db = open_db(path)
    assert set(db.storage._data) == {"_meta"}
    repo = Repository(db)
    assert repo.find_incident("INC-20261101-001").title == "first"
    assert [e.text for e in repo.timeline("INC-20261101-001")] == ["a", "c"]
    assert db.table("samples").all() == [{"incident_id": "INC-20261101-001", "output": "bad"}]
    db.close()


def test_a_slice_index_left_stale_by_an_older_version_is_ignored(compacted):
    # An older schema-2 version compacts: it keeps the unknown field but writes its own generation.
    raw = Path(compacted).read_bytes()
    meta = json.loads(raw)["_meta"]["1"]
    gen = meta["gen"]
    stale = raw.replace(f'"slices":{{"gen":{gen},'.encode(), f'"slices":{{"gen":{gen - 1},'.encode(), 1)
    assert stale != raw and len(stale) == len(raw)
    Path(compacted).write_bytes(stale)
    db = open_db(compacted)
    assert "incidents" in db.storage._data  # not trusted: parsed at open
    assert Repository(db).find_incident("INC-1").title == "one"
    db.close()


def test_a_bulk_load_compacts_once_at_its_end(db_path):
    db = open_db(db_path)
    db.storage.compact_min_ops = 10
    gen = db.storage.generation
    with Stores(db).bulk_load():
        for n in range(50):
            db.table("events").insert({"incident_id": "INC-1", "n": n})
        assert db.storage.generation == gen  # no compaction inside
    assert db.storage.generation == gen + 1
    assert db.storage.journal_bytes == len(Path(f"{db_path}.journal").read_bytes())
    assert Path(f"{db_path}.journal").read_bytes().count(b"\n") == 1  # only the header left
    with pytest.raises(RuntimeError), Stores(db).bulk_load():
        db.table("events").insert({"incident_id": "INC-1", "n": 99})
        raise RuntimeError("seeding failed")
    assert db.storage.generation == gen + 1  # no compaction after a failed load
    db.close()


def test_the_events_do_not_raise_the_compaction_threshold(db_path):
    """Events cost an open nothing (read one incident at a time): a journal is measured against the rest."""
    db = open_db(db_path)
    with transaction(db):
        db.table("incidents").insert_multiple(_inc(id=f"INC-{n}") for n in range(100))
        db.table("events").insert_multiple({"incident_id": f"INC-{n % 100}", "text": "x" * 500} for n in range(20_000))
    db.storage.compact()
    gen = db.storage.generation
    most = 0
    for n in range(120):
        with transaction(db):
            db.table("events").insert_multiple({"incident_id": "INC-1", "text": f"note {n}.{k}"} for k in range(10))
        most = max(most, db.storage._jops)
    # Measured against the whole snapshot (20k documents, 10 MB) the journal could reach 2,000
    # operations; against what an open parses (100 incidents) it stays at the floor.
    assert most <= storage_mod.COMPACT_MIN_OPS
    assert db.storage.generation > gen
    db.close()


ID_INDEX_ONLY = Path(__file__).with_name("fixtures") / "schema2_id_index_only.json"


def _open_titles(repo: Repository) -> list[str]:
    return [i.title for i in repo.list_open_incidents()]


def test_the_open_incidents_are_listed_without_parsing_the_closed_ones(compacted, monkeypatch):
    db = open_db(compacted)
    with transaction(db):  # a second compaction: the first one's incidents get the stage index
        db.table("incidents").update({"stage": "closed"}, doc_ids=[3])
    db.storage.compact()
    db.close()
    db = open_db(compacted)
    repo = Repository(db)
    from incident_tui.store.lazy_table import LazyTable

    def whole_table(self):
        raise AssertionError(f"table {self.name} parsed whole")

    monkeypatch.setattr(LazyTable, "base", whole_table)
    assert _open_titles(repo) == ["one", "two", "one again"]  # "no id at all" is left out, named
    assert repo.skipped and "incidents" not in db.storage._data
    # Another process closes one, reopens the closed one, moves one to the end and adds one.
    _other_process(compacted, """
        from tinydb import where
        from tinydb.table import Document
        t = db.table("incidents")
        with transaction(db):
            t.update({"stage": "closed"}, where("title") == "one")
            t.update({"stage": "detect"}, where("title") == "three")
            moved = t.get(doc_id=2)
            t.remove(doc_ids=[2])
            t.insert(Document(dict(moved), doc_id=2))
            t.insert({**t.get(doc_id=3), "id": "INC-7", "title": "seven", "stage": "closed"})
            t.insert({**t.get(doc_id=3), "id": "INC-8", "title": "eight", "stage": "triage"})
    """)
    assert db.storage.refresh()
    assert _open_titles(repo) == ["three", "one again", "two", "eight"]
    assert "incidents" not in db.storage._data
    monkeypatch.undo()
    # The table an eager open gives, filtered, is the same list in the same order.
    eager = [d["title"] for d in _eager_after_compaction(compacted, "incidents")
             if d.get("stage") != "closed" and "id" in d]
    assert eager == ["three", "one again", "two", "eight"]
    db.close()


def test_a_document_that_is_not_what_the_stage_index_says_is_refused(tmp_path):
    import zlib

    from incident_tui.store.lazy_table import LazyTable, SnapshotFile, encode_indexed
    from incident_tui.store.segment import SegmentError

    raw, index = encode_indexed({"1": _inc(id="INC-1", stage="closed"), "2": _inc(id="INC-2")}, "id", ("stage",))
    index.entries[0][5] = "detect"  # the index says open; the bytes say closed
    text = index.encode()
    path = tmp_path / "slice"
    path.write_bytes(raw)
    fd = os.open(path, os.O_RDONLY)
    table = LazyTable("incidents", 0, len(raw), 2, zlib.crc32(raw),
                      SnapshotFile(fd, lambda fd, start, end: os.pread(fd, end - start, start)),
                      (text, zlib.crc32(text.encode())))
    with pytest.raises(SegmentError, match="not what its index says"):
        table.select("stage", lambda stage: stage != "closed")
    assert table.select("colour", lambda value: True) is None  # a field the index does not carry
    assert list(table.find("id", "INC-2")) == ["2"]


def test_an_index_from_before_the_stage_lists_as_before_and_gains_it_at_the_next_compaction(tmp_path):
    path = tmp_path / "db.json"
    shutil.copyfile(ID_INDEX_ONLY, path)
    original = path.read_bytes()
    db = open_db(path)
    repo = Repository(db)
    assert _open_titles(repo) == ["open one", "open two"]  # the whole table parsed, as before
    assert path.read_bytes() == original
    db.close()
    db = open_db(path)
    db.table("events").insert({"incident_id": "INC-20261101-001", "text": "b", "at": "2026-11-01T00:02:00+00:00",
                               "kind": "note"})
    db.storage.compact()  # the incidents are unchanged, but their index is written again, with the stage
    db.close()
    assert b'\\"stage\\"' in path.read_bytes()
    db = open_db(path)
    repo = Repository(db)
    assert _open_titles(repo) == ["open one", "open two"]
    assert "incidents" not in db.storage._data
    assert [e.text for e in repo.timeline("INC-20261101-001")] == ["a", "b"]
    db.close()
