"""On-disk behaviour: bad files, torn journal, modes, temp leftovers, compaction."""

from __future__ import annotations

import hashlib
import json
import os
import stat

import pytest
from tinydb import TinyDB

from incident_tui.store import storage as storage_mod
from incident_tui.store.storage import (
    CorruptDatabaseError,
    SchemaVersionError,
    StoreError,
    open_db,
)


def digest(path) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def files_state(*paths) -> list:
    """Content hash and mtime of each path, to prove nothing was touched."""
    out = []
    for p in paths:
        st = os.stat(p)
        out.append((str(p), digest(p), st.st_mtime_ns, st.st_size))
    return out


def make_db(path, n=3):
    db = open_db(path)
    db.table("events").insert_multiple([{"n": i, "text": "t" * 20} for i in range(n)])
    return db


# --------------------------------------------------------------- bad files

BAD_FILES = {
    "garbage": b"\x00\x01\x02 this is not json at all \xff\xfe",
    "truncated": b'{"_meta": {"1": {"app": "incident-tui", "schema": 1, "gen": 1}}, "events": {"1": {"n": 0, "te',
    "plain tinydb": json.dumps({"_default": {"1": {"name": "x"}}}).encode(),
    "empty tinydb": b'{"_default": {}}',
    "list": b"[1, 2, 3]",
    "number": b"42",
    "string": b'"incident-tui"',
    "null": b"null",
    "other app": json.dumps({"_meta": {"1": {"app": "other", "schema": 1}}}).encode(),
    "meta not a table": json.dumps({"_meta": ["app"]}).encode(),
    "bad schema": json.dumps({"_meta": {"1": {"app": "incident-tui", "schema": "one"}}}).encode(),
    "table not object": json.dumps({"_meta": {"1": {"app": "incident-tui", "schema": 1}}, "events": [1]}).encode(),
    "doc not object": json.dumps({"_meta": {"1": {"app": "incident-tui", "schema": 1}}, "events": {"1": 5}}).encode(),
    "whitespace": b"   \n",
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_bad_file_is_refused_and_left_alone(tmp_path, kind):
    path = tmp_path / "incidents.json"
    path.write_bytes(BAD_FILES[kind])
    os.chmod(path, 0o644)
    before = files_state(path)
    with pytest.raises(CorruptDatabaseError) as info:
        open_db(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    assert files_state(path) == before
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    # nothing created next to a file that is not ours
    assert sorted(os.listdir(tmp_path)) == ["incidents.json"]
    # and it stays refused (not "repaired" by the first attempt)
    with pytest.raises(CorruptDatabaseError):
        open_db(path)


def test_truncated_real_snapshot(db_path):
    make_db(db_path, 50).close()
    open_db(db_path).storage.compact()
    raw = db_path.read_bytes()
    db_path.write_bytes(raw[: len(raw) // 2])
    before = files_state(db_path, f"{db_path}.journal")
    with pytest.raises(CorruptDatabaseError, match="truncated"):
        open_db(db_path)
    assert files_state(db_path, f"{db_path}.journal") == before


def test_newer_schema_is_refused_unchanged(tmp_path):
    path = tmp_path / "db.json"
    path.write_bytes(json.dumps({"_meta": {"1": {"app": "incident-tui", "schema": 99, "gen": 1}}}).encode())
    before = files_state(path)
    with pytest.raises(SchemaVersionError) as info:
        open_db(path)
    assert "\n" not in str(info.value) and "99" in str(info.value)
    assert files_state(path) == before


def test_directory_is_refused(tmp_path):
    with pytest.raises(CorruptDatabaseError):
        open_db(tmp_path)


def test_unreadable_parent_gives_store_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError):
        open_db(blocker / "sub" / "db.json")


def test_empty_file_becomes_a_new_database(tmp_path):
    path = tmp_path / "db.json"
    path.write_bytes(b"")
    db = open_db(path)
    assert db.table("_meta").get(doc_id=1)["app"] == "incident-tui"
    db.close()
    assert json.loads(path.read_bytes())["_meta"]["1"]["app"] == "incident-tui"


def test_journal_without_snapshot_is_refused(db_path):
    make_db(db_path).close()
    os.unlink(db_path)
    before = files_state(f"{db_path}.journal")
    with pytest.raises(CorruptDatabaseError, match="journal"):
        open_db(db_path)
    assert files_state(f"{db_path}.journal") == before
    assert not db_path.exists()


# ------------------------------------------------------------------ journal


def test_torn_last_line_is_dropped_then_cut_by_next_writer(db_path):
    make_db(db_path).close()
    journal = f"{db_path}.journal"
    with open(journal, "ab") as fh:
        fh.write(b'[["s","events","4",{"n":3,"te')  # a kill in the middle of a commit
    before = files_state(db_path, journal)
    db = open_db(db_path)
    assert [d["n"] for d in db.table("events").all()] == [0, 1, 2]
    assert files_state(db_path, journal) == before  # readers never modify
    assert db.table("events").insert({"n": 3}) == 4
    db.close()
    db = open_db(db_path)
    assert [d["n"] for d in db.table("events").all()] == [0, 1, 2, 3]
    db.close()
    with open(journal, "rb") as fh:
        for line in fh.read().splitlines():
            json.loads(line)  # every line whole again


def test_torn_line_is_ignored_by_refresh(db_path):
    db = make_db(db_path)
    with open(f"{db_path}.journal", "ab") as fh:
        fh.write(b'[["s","events","9"')
    assert db.storage.refresh() is False
    assert len(db.table("events")) == 3
    db.close()


@pytest.mark.parametrize("damage", ["garbage", "not a record", "empty line"])
def test_corrupt_line_before_the_last_is_an_error(db_path, damage):
    db = make_db(db_path, 1)
    db.table("events").insert({"n": 1})
    db.table("events").insert({"n": 2})
    db.close()
    journal = f"{db_path}.journal"
    with open(journal, "rb") as fh:
        lines = fh.read().split(b"\n")
    # lines: header, insert_multiple, n=1, n=2, ""
    lines[2] = {"garbage": b"[[\"s\",\"ev\x00\x01ents", "not a record": b'{"op": 1}', "empty line": b""}[damage]
    with open(journal, "wb") as fh:
        fh.write(b"\n".join(lines))
    before = files_state(db_path, journal)
    with pytest.raises(CorruptDatabaseError) as info:
        open_db(db_path)
    assert "\n" not in str(info.value)
    assert "journal" in str(info.value) and "line 3" in str(info.value)
    assert files_state(db_path, journal) == before


def test_corrupt_header_is_an_error(db_path):
    make_db(db_path).close()
    journal = f"{db_path}.journal"
    with open(journal, "rb") as fh:
        rest = fh.read().split(b"\n", 1)[1]
    with open(journal, "wb") as fh:
        fh.write(b"not a header\n" + rest)
    before = files_state(db_path, journal)
    with pytest.raises(CorruptDatabaseError):
        open_db(db_path)
    assert files_state(db_path, journal) == before


# ------------------------------------------------------------ modes, temps


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_files_are_0600(db_path, umask):
    old = os.umask(umask)
    try:
        db = make_db(db_path)
        db.storage.compact()
        db.table("events").insert({"n": 9})
        db.close()
    finally:
        os.umask(old)
    for p in (db_path, f"{db_path}.journal", f"{db_path}.lock"):
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o600, p


def test_temp_leftovers_are_removed_on_open(db_path):
    make_db(db_path).close()
    leftovers = [f"{db_path}.compact-4242-deadbeef.tmp", f"{db_path}.compact-1-00.tmp"]
    for p in leftovers:
        with open(p, "wb") as fh:
            fh.write(b'{"half": ')
    unrelated = db_path.parent / "notes.tmp"
    unrelated.write_text("keep me")
    db = open_db(db_path)
    assert len(db.table("events")) == 3
    db.close()
    assert not any(os.path.exists(p) for p in leftovers)
    assert unrelated.exists()


# -------------------------------------------------------------- compaction


def test_compaction_then_reopen(db_path):
    db = make_db(db_path, 20)
    db.table("events").remove(doc_ids=[3])
    db.table("events").update({"edited": True}, doc_ids=[4])
    expected = [(d.doc_id, dict(d)) for d in db.table("events").all()]
    gen = db.storage.generation
    db.storage.compact()
    assert db.storage.generation == gen + 1
    with open(f"{db_path}.journal", "rb") as fh:
        assert fh.read().count(b"\n") == 1  # only the header left
    db.close()
    db = open_db(db_path)
    assert [(d.doc_id, dict(d)) for d in db.table("events").all()] == expected
    assert db.table("events").insert({"n": 99}) == 21
    db.close()


def test_snapshot_is_plain_tinydb_json(db_path, tmp_path):
    db = make_db(db_path, 5)
    db.storage.compact()
    db.close()
    plain = TinyDB(db_path, access_mode="r")
    assert [d["n"] for d in plain.table("events").all()] == [0, 1, 2, 3, 4]
    assert plain.table("_meta").get(doc_id=1)["app"] == "incident-tui"
    plain.close()


def test_meta_generation_is_not_visible(db):
    db.storage.compact()
    assert db.table("_meta").all() == [{"app": "incident-tui", "schema": storage_mod.SCHEMA_VERSION}]


def test_auto_compaction(db_path):
    db = open_db(db_path)
    db.storage.compact_min_bytes = 4096
    db.storage.compact_ratio = 0.0
    gen = db.storage.generation
    for i in range(100):
        db.table("events").insert({"n": i, "pad": "p" * 80})
    assert db.storage.generation > gen
    assert db.storage.journal_bytes < 4096 + 200
    db.close()
    db = open_db(db_path)
    assert [d["n"] for d in db.table("events").all()] == list(range(100))
    db.close()


def test_crash_after_snapshot_replace_before_journal_reset(db_path, monkeypatch):
    """Stale journal (old generation) next to a new snapshot: ignored, then reset."""
    db = make_db(db_path, 5)
    db.table("events").remove(doc_ids=[1])  # replaying this twice would be harmless, but
    db.table("events").insert({"n": 5})  # re-applying stale records must not happen at all

    def die(self):
        raise KeyboardInterrupt("simulated kill")

    monkeypatch.setattr(storage_mod.JournalStorage, "_reset_journal", die)
    with pytest.raises(KeyboardInterrupt):
        db.storage.compact()
    monkeypatch.undo()
    db.close()
    # the journal still holds the old generation's records
    with open(f"{db_path}.journal", "rb") as fh:
        assert fh.read().count(b"\n") > 1
    other = open_db(db_path)
    assert [d["n"] for d in other.table("events").all()] == [1, 2, 3, 4, 5]
    # a stale record re-applied would resurrect doc 1 after a delete of doc 2:
    other.table("events").remove(doc_ids=[2])
    other.close()
    again = open_db(db_path)
    assert [d["n"] for d in again.table("events").all()] == [2, 3, 4, 5]
    again.close()


def test_crash_while_writing_temp_snapshot(db_path, monkeypatch):
    db = make_db(db_path, 5)
    before = digest(db_path)

    def die(src, dst):
        raise KeyboardInterrupt("simulated kill before the replace")

    monkeypatch.setattr(storage_mod.os, "replace", die)
    with pytest.raises(KeyboardInterrupt):
        db.storage.compact()
    monkeypatch.undo()
    db.close()
    assert digest(db_path) == before
    db = open_db(db_path)
    assert len(db.table("events")) == 5
    db.close()
    assert not [p for p in os.listdir(db_path.parent) if p.endswith(".tmp")]


def test_torn_journal_header_after_reset_crash(db_path):
    db = make_db(db_path, 5)
    db.storage.compact()
    db.close()
    with open(f"{db_path}.journal", "wb") as fh:
        fh.write(b'{"journal":1,"ge')  # cut while writing the header
    db = open_db(db_path)
    assert len(db.table("events")) == 5
    db.table("events").insert({"n": 5})
    db.close()
    db = open_db(db_path)
    assert len(db.table("events")) == 6
    db.close()


def test_deleted_database_file_is_reported(db_path):
    db = make_db(db_path)
    os.unlink(db_path)
    with pytest.raises(StoreError):
        db.table("events").insert({"n": 1})
    with pytest.raises(StoreError):
        db.storage.refresh()
    db.close()


def test_failed_journal_write_rolls_back(db, db_path, monkeypatch):
    db.table("t").insert({"a": 1})
    journal_before = open(f"{db_path}.journal", "rb").read()

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage_mod, "_datasync", full)
    with pytest.raises(StoreError, match="No space left"):
        db.table("t").insert({"a": 2})
    monkeypatch.undo()
    assert [d["a"] for d in db.table("t").all()] == [1]
    assert open(f"{db_path}.journal", "rb").read() == journal_before
    assert db.table("t").insert({"a": 3}) == 2


def test_every_cut_point_of_the_last_commit(db_path):
    """A kill inside write() leaves a prefix of the last line: each prefix is dropped."""
    db = make_db(db_path, 2)
    db.close()
    journal = f"{db_path}.journal"
    with open(journal, "rb") as fh:
        good = fh.read()
    db = open_db(db_path)
    with storage_mod.transaction(db):
        db.table("events").insert({"n": 2, "text": "é" * 5})
        db.table("events").remove(doc_ids=[1])
    db.close()
    with open(journal, "rb") as fh:
        full = fh.read()
    last = full[len(good):]
    for cut in range(len(last)):  # every prefix, newline excluded
        with open(journal, "wb") as fh:
            fh.write(good + last[:cut])
        db = open_db(db_path)
        assert [d["n"] for d in db.table("events").all()] == [0, 1], cut
        db.table("events").insert({"n": 9})
        db.close()
        db = open_db(db_path)
        assert [d["n"] for d in db.table("events").all()] == [0, 1, 9], cut
        db.close()
