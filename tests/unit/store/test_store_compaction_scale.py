"""Compaction that scales: highest ids in the snapshot, a threshold that follows the snapshot,
and writers that never wait for a snapshot to be serialised."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import orjson

from incident_tui.store import storage as storage_mod
from incident_tui.store.storage import open_db

FIXTURES = Path(__file__).with_name("fixtures")


def _meta(path) -> dict:
    return orjson.loads(Path(path).read_bytes())["_meta"]["1"]


def test_snapshot_records_the_highest_ids(db_path):
    db = open_db(db_path)
    ids = db.table("events").insert_multiple({"n": i} for i in range(5))
    db.table("events").remove(doc_ids=[ids[1]])
    db.storage.compact()
    db.close()
    meta = _meta(db_path)
    assert meta["ids"] == {"gen": meta["gen"], "high": {"events": 5}}
    db = open_db(db_path)
    assert db.storage._hw == {"events": 5}  # known at open: the first insert scans nothing
    assert db.table("_meta").all() == [{"app": "incident-tui", "schema": storage_mod.SCHEMA_VERSION}]
    assert db.table("events").insert({"n": 5}) == 6
    db.close()


def test_old_snapshot_without_high_ids_opens_and_continues_the_ids(tmp_path):
    path = tmp_path / "old.json"
    shutil.copyfile(FIXTURES / "schema1_without_high_ids.json", path)
    db = open_db(path)
    assert [d["text"] for d in db.table("events").all()] == ["first", "second", "third"]
    assert db.table("events").insert({"incident_id": "INC-20261101-001", "text": "fourth"}) == 10
    db.storage.compact()
    db.close()
    assert _meta(path)["ids"]["high"] == {"incidents": 1, "events": 10}


def test_high_ids_left_by_an_older_version_are_ignored(tmp_path):
    # An older incident-tui compacts: it keeps the unknown field but writes its own generation.
    path = tmp_path / "db.json"
    data = orjson.loads((FIXTURES / "schema1_without_high_ids.json").read_bytes())
    data["_meta"]["1"]["ids"] = {"gen": 2, "high": {"events": 3}}
    path.write_bytes(orjson.dumps(data))
    db = open_db(path)
    assert db.table("events").insert({"text": "new"}) == 10
    db.close()


def test_a_hand_edited_low_high_id_never_overwrites_a_document(tmp_path):
    path = tmp_path / "db.json"
    data = orjson.loads((FIXTURES / "schema1_without_high_ids.json").read_bytes())
    data["_meta"]["1"]["ids"] = {"gen": 3, "high": {"events": 1}}
    path.write_bytes(orjson.dumps(data))
    db = open_db(path)
    new = [db.table("events").insert({"text": f"new {i}"}) for i in range(3)]
    assert len(set(new) | {2, 5, 9}) == 6  # three fresh ids, none of the existing ones
    assert sorted(d["text"] for d in db.table("events").all()) == ["first", "new 0", "new 1", "new 2", "second",
                                                                   "third"]
    db.close()


def test_journal_of_small_writes_stays_a_fraction_of_the_snapshot(db_path):
    db = open_db(db_path)
    db.table("events").insert_multiple({"n": i, "text": "x" * 40} for i in range(20_000))
    db.storage.compact()
    events = db.table("events")
    limit = max(storage_mod.COMPACT_MIN_OPS, 0.1 * 20_000)
    gen = db.storage.generation
    for i in range(2_500):
        events.insert({"n": i, "text": "y" * 40})
        assert db.storage._jops <= limit
    assert db.storage.generation > gen
    assert db.storage.journal_bytes < 0.15 * Path(db_path).stat().st_size
    db.close()
    assert len(open_db(db_path).table("events")) == 22_500


def test_a_writer_does_not_wait_while_another_handle_serialises_a_snapshot(db_path, monkeypatch):
    """The compacting handle is paused mid-serialisation: another handle still commits at once."""
    a = open_db(db_path)
    a.table("events").insert_multiple({"n": i} for i in range(100))
    b = open_db(db_path, lock_timeout=0.5)
    serialising, resume = threading.Event(), threading.Event()
    real = storage_mod.JournalStorage._snapshot_bytes
    calls = []

    def paused(self, gen, data=None):
        if self is a.storage and not calls:
            calls.append(gen)
            serialising.set()
            assert resume.wait(10)
        return real(self, gen, data)

    monkeypatch.setattr(storage_mod.JournalStorage, "_snapshot_bytes", paused)
    errors: list[BaseException] = []

    def compact():
        try:
            a.storage.compact()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    worker = threading.Thread(target=compact)
    worker.start()
    assert serialising.wait(10)
    b.table("events").insert({"n": "while compacting"})  # would time out if the lock were held
    resume.set()
    worker.join(10)
    assert not errors
    # The copy was overtaken by b's commit: the compaction started over and kept it.
    assert a.storage.journal_bytes == len(Path(f"{db_path}.journal").read_bytes())
    assert Path(f"{db_path}.journal").read_bytes().count(b"\n") == 1
    a.close()
    b.close()
    reopened = open_db(db_path)
    assert len(reopened.table("events")) == 101
    assert reopened.table("events").search(lambda d: d["n"] == "while compacting")
    reopened.close()


def test_a_failed_auto_compaction_does_not_fail_the_write(db_path, monkeypatch):
    db = open_db(db_path)
    db.storage.compact_min_bytes = 0
    db.storage.compact_ratio = 0.0

    def broken(self, payload):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage_mod.JournalStorage, "_write_temp", broken)
    gen = db.storage.generation
    assert db.table("events").insert({"n": 1}) == 1  # durable; the compaction is tried again later
    assert db.storage.generation == gen
    monkeypatch.undo()
    db.table("events").insert({"n": 2})
    assert db.storage.generation > gen
    db.close()
    assert [d["n"] for d in open_db(db_path).table("events").all()] == [1, 2]


def test_auto_compaction_skips_a_busy_lock_instead_of_waiting(db_path):
    db = open_db(db_path)
    other = open_db(db_path)
    db.storage.compact_min_bytes = 0
    db.storage.compact_ratio = 0.0
    db.table("events").insert({"n": 1})
    gen = db.storage.generation
    # Another handle takes the lock between the commit and its compaction.
    real_unlock = db.storage._unlock
    held = []

    def unlock_then_grab():
        real_unlock()
        if not held and db.storage._lock_owner is None:
            held.append(other.storage._lock(storage_mod.fcntl.LOCK_EX))

    db.storage._unlock = unlock_then_grab
    db.table("events").insert({"n": 2})
    db.storage._unlock = real_unlock
    assert held == [True] and db.storage.generation == gen  # skipped, not waited for
    other.storage._unlock()
    db.table("events").insert({"n": 3})
    assert db.storage.generation > gen
    db.close()
    other.close()
