"""Pin of the hook into TinyDB: fails loudly if tinydb's internals change.

JournalTable overrides Table's write methods and relies on private details
(``_read_table``, ``_get_next_id``, ``_update_table``, ``_next_id``,
``_query_cache``, ``_storage``, ``_name``) and on TinyDB routing
``drop_table``/``drop_tables`` through ``storage.write``.  Upgrading tinydb
means re-reading tinydb/table.py and tinydb/database.py against
src/incident_tui/store/storage/tinydb_hook.py, then updating the pins below.
"""

from __future__ import annotations

import hashlib
import inspect
from pathlib import Path

import pytest
import tinydb
import tinydb.database
import tinydb.table
from tinydb import Query, TinyDB
from tinydb.table import Document, Table

from incident_tui.store.storage import IncidentDB, JournalStorage, JournalTable, open_db

PINNED_VERSION = "4.9.0"
PINNED_SOURCES = {
    # sha256 of the installed modules the hook was written against
    tinydb.table: "57439301fb6e35b4db0c2b58eb55377b4dc69c2c71c2c37dd76e2ddc96342075",
    tinydb.database: "497883be9162f2aaf6e385f6d96f4ea2429fd49350ac4ea78d62dfb808d5de92",
}

# Every Table method JournalTable overrides, with tinydb 4.9.0's parameters.
OVERRIDDEN = {
    "__init__": ["self", "storage", "name", "cache_size", "persist_empty"],
    "insert": ["self", "document"],
    "insert_multiple": ["self", "documents"],
    "update": ["self", "fields", "cond", "doc_ids"],
    "update_multiple": ["self", "updates"],
    "upsert": ["self", "document", "cond"],
    "remove": ["self", "cond", "doc_ids"],
    "truncate": ["self"],
    "_get_next_id": ["self"],
    "_read_table": ["self"],
    "_update_table": ["self", "updater"],
}

# Public Table methods left to tinydb: they must only read through _read_table.
INHERITED_READERS = ["all", "search", "get", "contains", "count", "clear_cache", "__len__", "__iter__"]


def test_tinydb_version_is_pinned():
    assert tinydb.__version__ == PINNED_VERSION, (
        f"tinydb {tinydb.__version__} installed, the store's hook is written for {PINNED_VERSION}: "
        "re-check JournalTable against the new Table before changing the pin"
    )


@pytest.mark.parametrize("module", list(PINNED_SOURCES), ids=lambda m: m.__name__)
def test_tinydb_sources_unchanged(module):
    digest = hashlib.sha256(Path(module.__file__).read_bytes()).hexdigest()
    assert digest == PINNED_SOURCES[module], f"{module.__file__} differs from the version the hook was written for"


@pytest.mark.parametrize("name", sorted(OVERRIDDEN))
def test_overridden_methods_exist_with_same_signature(name):
    stock = getattr(Table, name, None)
    assert stock is not None, f"tinydb.table.Table.{name} is gone"
    assert list(inspect.signature(stock).parameters) == OVERRIDDEN[name], f"Table.{name} changed signature"
    ours = JournalTable.__dict__.get(name)
    assert ours is not None, f"JournalTable does not override {name}"
    assert list(inspect.signature(ours).parameters) == OVERRIDDEN[name]
    # same defaults too, so callers can't tell the difference
    for p_stock, p_ours in zip(
        inspect.signature(stock).parameters.values(), inspect.signature(ours).parameters.values()
    ):
        assert p_stock.default == p_ours.default, (name, p_stock.name)


def test_every_public_write_method_is_overridden():
    # A write method added to Table upstream would silently take the slow
    # generic path (or worse): list all public methods and classify them.
    public = {n for n, v in vars(Table).items() if inspect.isfunction(v) and not n.startswith("_")}
    expected = {n for n in OVERRIDDEN if not n.startswith("_")} | {n for n in INHERITED_READERS if not n.startswith("_")}
    assert public == expected


@pytest.mark.parametrize("name", INHERITED_READERS)
def test_inherited_readers_only_read(name):
    source = inspect.getsource(getattr(Table, name))
    for forbidden in ("_update_table", "storage.write", "_storage.write"):
        assert forbidden not in source, f"Table.{name} now writes ({forbidden})"


def test_private_attributes_the_hook_uses(tmp_path):
    t = Table(tinydb.storages.MemoryStorage(), "x")
    for attr in ("_storage", "_name", "_query_cache", "_next_id"):
        assert hasattr(t, attr), attr
    assert Table.document_class is Document
    assert Table.document_id_class is int
    assert TinyDB.table_class is Table  # the class attribute TinyDB consults
    init = inspect.getsource(TinyDB.__init__)
    assert "storage(*args, **kwargs)" in init
    assert "self.table_class(self.storage, name, **kwargs)" in inspect.getsource(TinyDB.table)
    # drop_table(s) are the only TinyDB paths to storage.write; our write() diffs them
    assert "self.storage.write" in inspect.getsource(TinyDB.drop_table)
    assert "self.storage.write({})" in inspect.getsource(TinyDB.drop_tables)


def test_open_db_uses_the_hook(db):
    assert isinstance(db, IncidentDB) and isinstance(db, TinyDB)
    assert isinstance(db.storage, JournalStorage)
    assert type(db.table("events")) is JournalTable
    assert type(db.table(TinyDB.default_table_name)) is JournalTable


def test_hooked_writes_never_rewrite_the_whole_database(db, monkeypatch):
    def forbidden(self, data):
        raise AssertionError("whole-database write() from a hooked Table method")

    monkeypatch.setattr(JournalStorage, "write", forbidden)
    t = db.table("t")
    t.insert({"a": 1})
    t.insert_multiple([{"a": 2}, {"a": 3}])
    t.update({"b": 1}, Query().a == 1)
    t.update(lambda d: d.update(c=1), doc_ids=[2])
    t.update_multiple([({"d": 1}, Query().a == 3)])
    t.upsert({"a": 4}, Query().a == 4)
    t.upsert(Document({"e": 1}, doc_id=1))
    t.remove(Query().a == 2)
    t.remove(doc_ids=[3])
    t.truncate()
    db.table("u", persist_empty=True)  # goes through the _update_table fallback
    assert db.tables() == {"_meta", "t", "u"}


def test_stock_table_on_journal_storage_is_refused(db):
    # The stock Table mutates documents in place; JournalTable refuses to be
    # built on anything else, and JournalStorage is only handed out by open_db.
    with pytest.raises(TypeError):
        JournalTable(tinydb.storages.MemoryStorage(), "x")


def test_a_second_handle_is_independent(db_path):
    a = open_db(db_path)
    b = open_db(db_path)
    assert a.storage is not b.storage
    a.close()
    b.close()
