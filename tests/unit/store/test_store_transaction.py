"""transaction(): one atomic journal record on commit, full rollback on error, nesting."""

from __future__ import annotations

import pytest
from tinydb import Query

from incident_tui.store.storage import StoreError, open_db, transaction

Q = Query()


def journal_lines(path) -> list[bytes]:
    with open(f"{path}.journal", "rb") as fh:
        return fh.read().splitlines()


def read_bytes(path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def test_commit_is_one_journal_record(db, db_path):
    before = len(journal_lines(db_path))
    with transaction(db) as same:
        assert same is db
        db.table("incidents").insert({"id": "INC-20261125-001"})
        db.table("events").insert_multiple([{"n": i} for i in range(3)])
        db.table("events").update({"seen": True}, Q.n == 1)
        # reads inside the block see the block's own writes
        assert db.table("events").count(Q.seen == True) == 1  # noqa: E712
    assert len(journal_lines(db_path)) == before + 1
    other = open_db(db_path)
    assert len(other.table("events")) == 3 and len(other.table("incidents")) == 1
    other.close()


def test_empty_transaction_writes_nothing(db, db_path):
    before = read_bytes(f"{db_path}.journal")
    with transaction(db):
        db.table("t").all()
    assert read_bytes(f"{db_path}.journal") == before


def test_rollback_restores_memory_and_writes_nothing(db, db_path):
    t = db.table("t")
    t.insert_multiple([{"n": i} for i in range(3)])
    db.table("gone").insert({"x": 1})
    snapshot_before = {name: [dict(d) for d in db.table(name).all()] for name in db.tables()}
    tables_before = db.tables()
    journal_before = read_bytes(f"{db_path}.journal")
    assert t.count(Q.n == 1) == 1  # populate the query cache
    with pytest.raises(RuntimeError):
        with transaction(db):
            t.insert({"n": 99})
            t.update({"n": 1000}, Q.n == 1)
            t.remove(doc_ids=[1])
            db.table("new").insert({"y": 1})
            db.drop_table("gone")
            t.truncate()
            t.insert({"n": 5})
            raise RuntimeError("abort")
    assert read_bytes(f"{db_path}.journal") == journal_before
    assert db.tables() == tables_before
    assert {name: [dict(d) for d in db.table(name).all()] for name in db.tables()} == snapshot_before
    assert t.count(Q.n == 1) == 1  # no stale cached result from inside the block
    assert t.insert({"n": 3}) == 4  # the id counter was rolled back too


def test_nested_transaction_joins_outer(db, db_path):
    before = len(journal_lines(db_path))
    with transaction(db):
        db.table("t").insert({"a": 1})
        with transaction(db):
            db.table("t").insert({"b": 2})
        db.table("t").insert({"c": 3})
    assert len(journal_lines(db_path)) == before + 1
    assert len(db.table("t")) == 3


def test_inner_exception_caught_inside_outer_undoes_only_inner(db):
    with transaction(db):
        db.table("t").insert({"keep": 1})
        try:
            with transaction(db):
                db.table("t").insert({"drop": 1})
                raise ValueError
        except ValueError:
            pass
        db.table("t").insert({"keep": 2})
    assert [dict(d) for d in db.table("t").all()] == [{"keep": 1}, {"keep": 2}]


def test_inner_exception_propagating_aborts_everything(db, db_path):
    journal_before = read_bytes(f"{db_path}.journal")
    with pytest.raises(KeyError):
        with transaction(db):
            db.table("t").insert({"a": 1})
            with transaction(db):
                db.table("t").insert({"b": 2})
                raise KeyError
    assert len(db.table("t")) == 0
    assert read_bytes(f"{db_path}.journal") == journal_before


def test_failed_write_method_inside_transaction_leaves_the_rest(db):
    with transaction(db):
        db.table("t").insert({"a": 1})
        with pytest.raises(ValueError):
            db.table("t").insert_multiple([{"b": 1}, "not a mapping"])  # type: ignore[list-item]
    assert [dict(d) for d in db.table("t").all()] == [{"a": 1}]


def test_compact_inside_transaction_is_refused(db):
    with transaction(db):
        with pytest.raises(StoreError):
            db.storage.compact()


def test_refresh_inside_transaction_is_a_noop(db):
    with transaction(db):
        db.table("t").insert({"a": 1})
        assert db.storage.refresh() is False
    assert len(db.table("t")) == 1


def test_transaction_blocks_other_writers_until_commit(db, db_path):
    # Two handles in one process lock like two processes (flock is per open
    # file description), so the second one must see the first one's commit.
    other = open_db(db_path)
    with transaction(db):
        db.table("incidents").insert({"id": "INC-20261125-001"})
    with transaction(other):
        ids = [d["id"] for d in other.table("incidents").all()]
        other.table("incidents").insert({"id": f"INC-20261125-{len(ids) + 1:03d}"})
    assert db.storage.refresh()
    assert [d["id"] for d in db.table("incidents").all()] == ["INC-20261125-001", "INC-20261125-002"]
    other.close()


def test_transaction_rejects_foreign_db(tmp_path):
    from tinydb import TinyDB

    plain = TinyDB(tmp_path / "plain.json")
    with pytest.raises(TypeError):
        with transaction(plain):
            pass
    plain.close()


def test_change_count_moves_on_every_kind_of_change(db, db_path):
    st = db.storage
    seen = {st.change_count("events")}

    def moved() -> bool:
        value = st.change_count("events")
        new = value not in seen
        seen.add(value)
        return new

    other_table_before = st.change_count("other")
    db.table("events").insert({"n": 1})
    assert moved()
    assert st.change_count("other") == other_table_before  # per table
    db.table("events").all()
    assert not moved()  # reads don't count
    with pytest.raises(RuntimeError):
        with transaction(db):
            db.table("events").insert({"n": 2})
            assert moved()
            raise RuntimeError
    assert moved()  # the rollback changed it back
    other = open_db(db_path)
    other.table("events").insert({"n": 3})
    assert st.refresh()
    assert moved()  # another process's write, caught up
    other.storage.compact()
    assert st.refresh()
    assert moved()  # full reload
    other.close()
