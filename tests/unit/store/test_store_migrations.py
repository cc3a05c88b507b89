"""Schema version and the migration mechanism (with a fake schema 2)."""

from __future__ import annotations

import json

import pytest

from incident_tui.store import storage as storage_mod
from incident_tui.store.storage import SCHEMA_VERSION, StoreError, open_db


def snapshot_meta(path) -> dict:
    with open(path, "rb") as fh:
        return json.loads(fh.read())["_meta"]["1"]


def test_current_schema_is_recorded(db, db_path):
    assert SCHEMA_VERSION == 1
    meta = snapshot_meta(db_path)
    assert meta["app"] == "incident-tui" and meta["schema"] == SCHEMA_VERSION


def test_only_schema_1_exists_so_far():
    assert storage_mod.MIGRATIONS == {}


@pytest.fixture
def v1_db(db_path):
    """A schema-1 database with records both in the snapshot and in the journal."""
    db = open_db(db_path)
    db.table("events").insert({"text": "in snapshot"})
    db.storage.compact()
    db.table("events").insert({"text": "in journal"})
    db.close()
    return db_path


def test_migration_runs_once_at_open(v1_db, monkeypatch):
    calls = []

    def v1_to_v2(data):
        calls.append(sorted(data))
        for doc in data.get("events", {}).values():
            doc["body"] = doc.pop("text")

    monkeypatch.setattr(storage_mod, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(storage_mod.MIGRATIONS, 1, v1_to_v2)

    db = open_db(v1_db)
    # the journal was replayed before migrating: both documents converted
    assert [d["body"] for d in db.table("events").all()] == ["in snapshot", "in journal"]
    assert db.table("_meta").get(doc_id=1)["schema"] == 2
    db.close()
    assert len(calls) == 1
    assert snapshot_meta(v1_db)["schema"] == 2  # written as a new snapshot

    db = open_db(v1_db)  # already at 2: not migrated again
    assert len(calls) == 1
    assert [d["body"] for d in db.table("events").all()] == ["in snapshot", "in journal"]
    db.close()


def test_missing_migration_is_an_error_and_changes_nothing(v1_db, monkeypatch):
    before = (v1_db.read_bytes(), open(f"{v1_db}.journal", "rb").read())
    monkeypatch.setattr(storage_mod, "SCHEMA_VERSION", 2)
    with pytest.raises(StoreError, match="no migration from schema 1"):
        open_db(v1_db)
    assert (v1_db.read_bytes(), open(f"{v1_db}.journal", "rb").read()) == before


def test_failing_migration_changes_nothing(v1_db, monkeypatch):
    before = (v1_db.read_bytes(), open(f"{v1_db}.journal", "rb").read())

    def broken(data):
        data["events"].clear()  # half-done work must not reach the disk
        raise RuntimeError("bug in migration")

    monkeypatch.setattr(storage_mod, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(storage_mod.MIGRATIONS, 1, broken)
    with pytest.raises(StoreError) as info:
        open_db(v1_db)
    assert "\n" not in str(info.value) and "bug in migration" in str(info.value)
    assert (v1_db.read_bytes(), open(f"{v1_db}.journal", "rb").read()) == before


def test_migrations_chain(v1_db, monkeypatch):
    order = []
    monkeypatch.setattr(storage_mod, "SCHEMA_VERSION", 3)
    monkeypatch.setitem(storage_mod.MIGRATIONS, 1, lambda data: order.append(1))
    monkeypatch.setitem(storage_mod.MIGRATIONS, 2, lambda data: order.append(2))
    open_db(v1_db).close()
    assert order == [1, 2]
    assert snapshot_meta(v1_db)["schema"] == 3
