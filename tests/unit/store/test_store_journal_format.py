"""The journal's on-disk format is pinned: the op codes' letters and the bytes each write appends.

Files written by every earlier version use these letters; renaming an ``Op``
member must never change what is written or what can be read.
"""

from __future__ import annotations

import json

from incident_tui.store.storage import Op, open_db


def journal_lines(db_path) -> list[bytes]:
    with open(f"{db_path}.journal", "rb") as fh:
        return fh.read().splitlines()


def test_op_codes_keep_their_on_disk_letters():
    assert {op.name: op.value for op in Op} == {"SET": "s", "DELETE": "d", "TRUNCATE": "t", "DROP": "x"}


def test_each_write_appends_the_same_bytes_as_before(db, db_path):
    table = db.table("t")
    table.insert({"a": 1, "é": "ü\n"})
    table.update({"a": 2}, doc_ids=[1])
    table.remove(doc_ids=[1])
    table.insert({"b": None})
    table.truncate()
    db.drop_table("t")
    gen = db.storage.generation
    assert journal_lines(db_path) == [
        b'{"journal":1,"gen":%d}' % gen,
        '[["s","t","1",{"a":1,"é":"ü\\n"}]]'.encode(),
        b'[["s","t","1",{"a":2,"\xc3\xa9":"\xc3\xbc\\n"}]]',
        b'[["d","t","1"]]',
        b'[["s","t","2",{"b":null}]]',
        b'[["t","t"]]',
        b'[["x","t"]]',
    ]


def test_a_journal_written_by_hand_in_the_old_format_is_replayed(db_path):
    open_db(db_path).close()
    records = [
        [["s", "events", "1", {"n": 1}], ["s", "events", "2", {"n": 2}], ["s", "gone", "1", {"x": 1}]],
        [["d", "events", "1"]],
        [["t", "kept"], ["s", "kept", "7", {"k": True}]],
        [["x", "gone"]],
    ]
    with open(f"{db_path}.journal", "ab") as fh:
        for record in records:
            fh.write(json.dumps(record, separators=(",", ":")).encode() + b"\n")
    db = open_db(db_path)
    assert db.tables() == {"events", "kept", "_meta"}
    assert db.table("events").all() == [{"n": 2}]
    assert db.table("kept").get(doc_id=7) == {"k": True}
    assert db.table("events").insert({"n": 3}) == 3  # the replayed ids count
    db.close()
