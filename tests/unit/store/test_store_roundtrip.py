"""Every TinyDB write operation, in memory and after reopening the file."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tinydb import Query, TinyDB
from tinydb.storages import MemoryStorage
from tinydb.table import Document

from incident_tui.store.storage import SCHEMA_VERSION, StoreError, open_db, transaction

Q = Query()


def state(db) -> dict:
    """Every table's documents by id (a plain dict, comparable across handles)."""
    return {name: {d.doc_id: dict(d) for d in db.table(name).all()} for name in sorted(db.tables())}


def reopened(db, path) -> dict:
    other = open_db(path)
    try:
        return state(other)
    finally:
        other.close()


EVENT = {
    "incident_id": "INC-20261125-001",
    "at": "2026-11-25T14:02:00+00:00",
    "kind": "note",
    "text": "rolled back prompt v05 to v04 after the judge score fell",
    "author": "ana",
    "starred": False,
    "meta": {"source": "cli", "tags": ["rollback"]},
}


def test_new_db_has_meta_and_nothing_else(db, db_path):
    assert db.tables() == {"_meta"}
    assert db.table("_meta").all() == [{"app": "incident-tui", "schema": SCHEMA_VERSION}]
    assert os.path.exists(db_path) and os.path.exists(f"{db_path}.journal")


def test_insert_and_get(db, db_path):
    events = db.table("events")
    doc_id = events.insert(EVENT)
    assert doc_id == 1
    assert events.get(doc_id=1) == EVENT
    assert events.search(Q.kind == "note") == [EVENT]
    assert reopened(db, db_path)["events"] == {1: EVENT}


def test_insert_copies_the_document(db):
    doc = {"meta": {"k": 1}}
    db.table("t").insert(doc)
    doc["meta"]["k"] = 2  # the caller's later mutation must not reach the store
    assert db.table("t").get(doc_id=1) == {"meta": {"k": 1}}


def test_insert_multiple_and_ids(db, db_path):
    t = db.table("events")
    assert t.insert_multiple([{"i": i} for i in range(5)]) == [1, 2, 3, 4, 5]
    assert t.insert({"i": 5}) == 6
    assert len(reopened(db, db_path)["events"]) == 6


def test_insert_document_with_id(db, db_path):
    t = db.table("t")
    assert t.insert(Document({"a": 1}, doc_id=10)) == 10
    assert t.insert({"a": 2}) == 11
    with pytest.raises(ValueError):
        t.insert(Document({"a": 3}, doc_id=10))
    with pytest.raises(ValueError):
        t.insert_multiple([{"ok": 1}, Document({"a": 3}, doc_id=11)])
    assert len(t) == 2  # the failed insert_multiple left nothing behind
    assert reopened(db, db_path)["t"] == {10: {"a": 1}, 11: {"a": 2}}


def test_insert_rejects_non_mapping_and_non_json(db):
    t = db.table("t")
    with pytest.raises(ValueError):
        t.insert([1, 2])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        t.insert({"x": object()})
    assert len(t) == 0
    assert t.insert({"x": 1}) == 1


def test_update_variants(db, db_path):
    t = db.table("t")
    t.insert_multiple([{"n": i, "tags": []} for i in range(4)])
    assert t.update({"hot": True}, Q.n >= 2) == [3, 4]
    assert t.update(lambda d: d["tags"].append("x"), doc_ids=[1, 99]) == [1]
    assert t.update({"all": 1}) == [1, 2, 3, 4]
    expected = {
        1: {"n": 0, "tags": ["x"], "all": 1},
        2: {"n": 1, "tags": [], "all": 1},
        3: {"n": 2, "tags": [], "hot": True, "all": 1},
        4: {"n": 3, "tags": [], "hot": True, "all": 1},
    }
    assert state(db)["t"] == expected
    assert reopened(db, db_path)["t"] == expected


def test_update_callable_failure_changes_nothing(db):
    t = db.table("t")
    t.insert({"meta": {"a": 1}})

    def bad(doc):
        doc["meta"]["a"] = 2
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        t.update(bad)
    assert t.get(doc_id=1) == {"meta": {"a": 1}}


def test_update_multiple(db, db_path):
    t = db.table("t")
    t.insert_multiple([{"n": i} for i in range(3)])
    assert t.update_multiple([({"a": 1}, Q.n == 0), ({"b": 2}, Q.n == 2)]) == [1, 3]
    assert reopened(db, db_path)["t"] == {1: {"n": 0, "a": 1}, 2: {"n": 1}, 3: {"n": 2, "b": 2}}


def test_upsert(db, db_path):
    t = db.table("t")
    assert t.upsert({"k": "a", "v": 1}, Q.k == "a") == [1]
    assert t.upsert({"k": "a", "v": 2}, Q.k == "a") == [1]
    assert t.upsert(Document({"v": 3}, doc_id=7)) == [7]
    assert t.upsert(Document({"w": 4}, doc_id=7)) == [7]
    with pytest.raises(ValueError):
        t.upsert({"x": 1})
    assert reopened(db, db_path)["t"] == {1: {"k": "a", "v": 2}, 7: {"v": 3, "w": 4}}


def test_remove(db, db_path):
    t = db.table("t")
    t.insert_multiple([{"n": i} for i in range(5)])
    assert t.remove(Q.n < 2) == [1, 2]
    assert t.remove(doc_ids=[3, 42]) == [3]
    with pytest.raises(RuntimeError):
        t.remove()
    assert reopened(db, db_path)["t"] == {4: {"n": 3}, 5: {"n": 4}}
    # ids are not handed out again in this session after a removal
    assert t.insert({"n": 5}) == 6


def test_truncate_restarts_ids(db, db_path):
    t = db.table("t")
    t.insert_multiple([{"n": i} for i in range(3)])
    t.truncate()
    assert len(t) == 0
    assert "t" in db.tables()
    assert t.insert({"n": 9}) == 1
    assert reopened(db, db_path)["t"] == {1: {"n": 9}}


def test_drop_table_and_drop_tables_keep_meta(db, db_path):
    db.table("a").insert({"x": 1})
    db.table("b").insert({"y": 1})
    db.drop_table("a")
    assert db.tables() == {"_meta", "b"}
    assert set(reopened(db, db_path)) == {"_meta", "b"}
    db.drop_tables()
    assert db.tables() == {"_meta"}
    assert set(reopened(db, db_path)) == {"_meta"}


def test_meta_is_protected(db):
    with pytest.raises(StoreError):
        db.table("_meta").truncate()
    with pytest.raises(StoreError):
        db.table("_meta").remove(doc_ids=[1])
    assert db.table("_meta").get(doc_id=1)["app"] == "incident-tui"


def test_default_table_and_persist_empty(db, db_path):
    db.insert({"x": 1})  # TinyDB forwards to the _default table
    assert len(db) == 1
    db.table("empty", persist_empty=True)
    assert set(reopened(db, db_path)) == {"_meta", "_default", "empty"}


def test_query_cache_invalidated_by_writes(db):
    t = db.table("t")
    t.insert({"k": 1})
    assert t.count(Q.k == 1) == 1
    t.insert({"k": 1})
    assert t.count(Q.k == 1) == 2
    t.update({"k": 2}, doc_ids=[1])
    assert t.count(Q.k == 1) == 1


def test_writes_after_close_fail(db_path):
    db = open_db(db_path)
    db.close()
    with pytest.raises(StoreError):
        db.table("t").insert({"x": 1})
    db.close()  # idempotent


def test_reopen_many_times_keeps_everything(db_path):
    for i in range(5):
        db = open_db(db_path)
        db.table("t").insert({"i": i})
        db.close()
    db = open_db(db_path)
    assert [d["i"] for d in db.table("t").all()] == [0, 1, 2, 3, 4]
    db.close()


# --- model-based: random operation sequences against stock TinyDB in memory ---

names = st.sampled_from(["a", "b"])
values = st.integers(0, 4)
ops = st.one_of(
    st.tuples(st.just("insert"), names, values),
    st.tuples(st.just("insert_multiple"), names, st.lists(values, max_size=3)),
    st.tuples(st.just("insert_doc"), names, values),
    st.tuples(st.just("update"), names, values, values),
    st.tuples(st.just("update_fn"), names, values),
    st.tuples(st.just("update_ids"), names, st.lists(st.integers(1, 8), max_size=3, unique=True), values),
    st.tuples(st.just("update_multiple"), names, values, values),
    st.tuples(st.just("upsert"), names, values, values),
    st.tuples(st.just("remove"), names, values),
    st.tuples(st.just("remove_ids"), names, st.lists(st.integers(1, 8), max_size=3, unique=True)),
    st.tuples(st.just("truncate"), names),
    st.tuples(st.just("drop"), names),
    st.tuples(st.just("reopen"),),
)
# A transaction that applies some operations and then fails: no trace left.
aborts = st.tuples(st.just("abort"), st.lists(ops.filter(lambda op: op[0] != "reopen"), min_size=1, max_size=4))


class Abort(Exception):
    pass


def apply(db, op, doc_counter):
    kind = op[0]
    if kind == "reopen":
        return None
    t = db.table(op[1])
    if kind == "insert":
        return t.insert({"v": op[2]})
    if kind == "insert_multiple":
        return t.insert_multiple([{"v": v} for v in op[2]])
    if kind == "insert_doc":
        # Explicit ids above anything auto-assigned, increasing, so that the
        # stock and the journal id counters agree.
        return t.insert(Document({"v": op[2]}, doc_id=10_000 * (doc_counter + 1)))
    if kind == "update":
        return t.update({"u": op[3]}, Q.v == op[2])
    if kind == "update_fn":
        return t.update(lambda d: d.__setitem__("f", d.get("f", 0) + 1), Q.v == op[2])
    if kind == "update_ids":
        return t.update({"u": op[3]}, doc_ids=op[2])
    if kind == "update_multiple":
        return t.update_multiple([({"m": 1}, Q.v == op[2]), ({"m": 2}, Q.v == op[3])])
    if kind == "upsert":
        return t.upsert({"v": op[2], "up": op[3]}, Q.v == op[2])
    if kind == "remove":
        return t.remove(Q.v == op[2])
    if kind == "remove_ids":
        return t.remove(doc_ids=op[2])
    if kind == "truncate":
        return t.truncate()
    if kind == "drop":
        return db.drop_table(op[1])
    raise AssertionError(kind)


def model_state(model) -> dict:
    # Lists, not dicts: document order (what all() returns) must match too.
    data = model.storage.read() or {}
    return {name: [(int(k), v) for k, v in docs.items()] for name, docs in sorted(data.items())}


def journal_state(db) -> dict:
    return {
        name: [(d.doc_id, dict(d)) for d in db.table(name).all()]
        for name in sorted(db.tables())
        if name != "_meta"
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(ops, aborts), max_size=25))
def test_matches_stock_tinydb(tmp_path_factory, sequence):
    path = tmp_path_factory.mktemp("model") / "db.json"
    db = open_db(path)
    model = TinyDB(storage=MemoryStorage)
    try:
        for i, op in enumerate(sequence):
            if op[0] == "reopen":
                db.close()
                db = open_db(path)
                # A reopened stock TinyDB recomputes its id counters the same way.
                data = model.storage.read()
                model = TinyDB(storage=MemoryStorage)
                if data is not None:
                    model.storage.write(data)
                continue
            if op[0] == "abort":
                with pytest.raises(Abort):
                    with transaction(db):
                        for j, sub in enumerate(op[1]):
                            apply(db, sub, 1000 + 10 * i + j)
                        raise Abort
                assert journal_state(db) == model_state(model), op
                continue
            assert apply(db, op, i) == apply(model, op, i), op
            assert journal_state(db) == model_state(model), op
        db.close()
        db = open_db(path)
        assert journal_state(db) == model_state(model)
    finally:
        db.close()
