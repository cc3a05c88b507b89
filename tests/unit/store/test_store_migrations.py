"""Schema version and the migration mechanism (with a fake next schema, 3)."""

from __future__ import annotations

import json

import pytest

from incident_tui.store import storage as storage_mod
from incident_tui.store.storage import SCHEMA_VERSION, StoreError, open_db


def snapshot_meta(path) -> dict:
    with open(path, "rb") as fh:
        return json.loads(fh.read())["_meta"]["1"]


def test_current_schema_is_recorded(db, db_path):
    assert SCHEMA_VERSION == 2
    meta = snapshot_meta(db_path)
    assert meta["app"] == "incident-tui" and meta["schema"] == SCHEMA_VERSION


def test_only_the_layout_migration_exists_so_far():
    assert set(storage_mod.MIGRATIONS) == {1}


@pytest.fixture
def v2_db(db_path):
    """A schema-2 database with records both in the snapshot and in the journal."""
    db = open_db(db_path)
    db.table("events").insert({"text": "in snapshot"})
    db.storage.compact()
    db.table("events").insert({"text": "in journal"})
    db.close()
    return db_path


def test_migration_runs_once_at_open(v2_db, monkeypatch):
    calls = []

    def v2_to_v3(data):
        calls.append(sorted(data))
        for doc in data.get("events", {}).values():
            doc["body"] = doc.pop("text")

    monkeypatch.setattr(storage_mod, "SCHEMA_VERSION", 3)
    monkeypatch.setitem(storage_mod.MIGRATIONS, 2, v2_to_v3)

    db = open_db(v2_db)
    # the journal was replayed before migrating: both documents converted
    assert [d["body"] for d in db.table("events").all()] == ["in snapshot", "in journal"]
    assert db.table("_meta").get(doc_id=1)["schema"] == 3
    db.close()
    assert len(calls) == 1
    assert snapshot_meta(v2_db)["schema"] == 3  # written as a new snapshot

    db = open_db(v2_db)  # already at 3: not migrated again
    assert len(calls) == 1
    assert [d["body"] for d in db.table("events").all()] == ["in snapshot", "in journal"]
    db.close()


def test_missing_migration_is_an_error_and_changes_nothing(v2_db, monkeypatch):
    before = (v2_db.read_bytes(), open(f"{v2_db}.journal", "rb").read())
    monkeypatch.setattr(storage_mod, "SCHEMA_VERSION", 3)
    with pytest.raises(StoreError, match="no migration from schema 2"):
        open_db(v2_db)
    assert (v2_db.read_bytes(), open(f"{v2_db}.journal", "rb").read()) == before


def test_failing_migration_changes_nothing(v2_db, monkeypatch):
    before = (v2_db.read_bytes(), open(f"{v2_db}.journal", "rb").read())

    def broken(data):
        data["events"].clear()  # half-done work must not reach the disk
        raise RuntimeError("bug in migration")

    monkeypatch.setattr(storage_mod, "SCHEMA_VERSION", 3)
    monkeypatch.setitem(storage_mod.MIGRATIONS, 2, broken)
    with pytest.raises(StoreError) as info:
        open_db(v2_db)
    assert "\n" not in str(info.value) and "bug in migration" in str(info.value)
    assert (v2_db.read_bytes(), open(f"{v2_db}.journal", "rb").read()) == before


def test_migrations_chain(v2_db, monkeypatch):
    order = []
    monkeypatch.setattr(storage_mod, "SCHEMA_VERSION", 4)
    monkeypatch.setitem(storage_mod.MIGRATIONS, 2, lambda data: order.append(2))
    monkeypatch.setitem(storage_mod.MIGRATIONS, 3, lambda data: order.append(3))
    open_db(v2_db).close()
    assert order == [2, 3]
    assert snapshot_meta(v2_db)["schema"] == 4
