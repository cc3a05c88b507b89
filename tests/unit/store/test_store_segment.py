"""Schema 2: the events stay in the snapshot's segment and are read one incident at a time.

Acts on real files: open, write, compact, reopen, a second handle (as a second process would),
the schema-1 file the previous version wrote, and damaged or foreign files.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from incident_tui.store import segment as segment_mod
from incident_tui.store import storage as storage_mod
from incident_tui.store.storage import snapshot as snapshot_mod
from incident_tui.store.storage import (
    CorruptDatabaseError,
    SchemaVersionError,
    StoreError,
    open_db,
    transaction,
)

FIXTURE = Path(__file__).with_name("fixtures") / "schema1_db"
HOSTILE_IDS = ["INC-1", 'INC-"quoted"', "INC-\u2028line", "INC-ü🧯", '"events":{']


def _ev(inc: str, n: int, text: str = "") -> dict:
    return {"incident_id": inc, "n": n, "text": text or f"note {n} of {inc} \u2028 \"q\" \x1b[31m"}


def _fill(db, per: int = 4) -> dict[str, list[int]]:
    """Events for each hostile incident id, interleaved the way a night of incidents writes them."""
    expected: dict[str, list[int]] = {i: [] for i in HOSTILE_IDS}
    n = 0
    for _ in range(per):
        for inc in HOSTILE_IDS:
            n += 1
            db.table("events").insert(_ev(inc, n))
            expected[inc].append(n)
    db.table("events").insert({"n": 0, "text": "no incident at all"})
    return expected


def _group(db, inc: str) -> list[int]:
    return [d["n"] for d in db.storage.read_group("events", "incident_id", inc).values()]


@pytest.fixture
def segmented(db_path):
    """A compacted database with events of five incidents (hostile ids), reopened."""
    db = open_db(db_path)
    db.table("incidents").insert({"id": "INC-1", "title": "t"})
    expected = _fill(db)
    db.storage.compact()
    db.close()
    return db_path, expected


def test_open_leaves_the_events_in_the_file(segmented):
    path, expected = segmented
    db = open_db(path)
    assert db.storage.is_segmented("events")
    assert "events" not in db.storage._data  # nothing of the events parsed at open
    assert db.table("incidents").all() == [{"id": "INC-1", "title": "t"}]
    for inc, ns in expected.items():
        assert _group(db, inc) == ns
    assert db.storage.group_keys("events", "incident_id") == set(HOSTILE_IDS)
    assert db.storage.is_segmented("events")  # still: reading groups loads no other group
    assert "events" in db.tables()
    db.close()


def test_the_file_is_still_plain_tinydb_json(segmented):
    path, expected = segmented
    whole = json.loads(path.read_bytes())
    assert list(whole)[-1] == "events" and whole["_meta"]["1"]["schema"] == 2
    assert sorted(d["n"] for d in whole["events"].values()) == list(range(0, 21))


def test_writes_after_the_snapshot_are_merged_in_id_order(segmented):
    path, expected = segmented
    db = open_db(path)
    new = db.table("events").insert(_ev("INC-1", 100))
    assert new == 22  # the high id came from the snapshot's metadata, nothing scanned
    db.table("events").insert_multiple([_ev("INC-2-new", 101), _ev("INC-1", 102)])
    assert db.storage.is_segmented("events")
    assert _group(db, "INC-1") == expected["INC-1"] + [100, 102]
    assert _group(db, "INC-2-new") == [101]
    other = open_db(path)  # another process sees the same, snapshot slice + journal tail
    assert _group(other, "INC-1") == expected["INC-1"] + [100, 102]
    other.table("events").insert(_ev("INC-1", 103))
    other.close()
    db.storage.refresh()
    assert _group(db, "INC-1") == expected["INC-1"] + [100, 102, 103]
    assert db.storage.is_segmented("events")
    db.close()


def test_update_of_one_event_loads_no_other_incident(segmented):
    path, expected = segmented
    db = open_db(path)
    first = expected["INC-\u2028line"][0]
    doc_id = next(k for k, d in db.storage.read_group("events", "incident_id", "INC-\u2028line").items() if d["n"] == first)
    updated = db.table("events").update({"incident_id": "INC-\u2028line", "starred": True}, doc_ids=[int(doc_id), 999])
    assert updated == [int(doc_id)]
    assert db.storage.is_segmented("events")
    group = db.storage.read_group("events", "incident_id", "INC-\u2028line")
    assert group[doc_id]["starred"] is True and list(group) == sorted(group, key=int)  # kept its place
    # Moved to another incident (its new fields name the new one): found by its id range.
    db.table("events").update({"incident_id": "INC-1"}, doc_ids=[int(doc_id)])
    assert first not in _group(db, "INC-\u2028line") and first in _group(db, "INC-1")
    assert db.storage.find_document("events", doc_id)["incident_id"] == "INC-1"
    db.close()
    db = open_db(path)
    assert first in _group(db, "INC-1")
    db.close()


def test_rollback_of_segment_writes(segmented):
    path, expected = segmented
    db = open_db(path)
    with pytest.raises(RuntimeError), transaction(db):
        db.table("events").insert(_ev("INC-1", 500))
        db.table("events").update({"incident_id": "INC-1", "text": "changed"}, doc_ids=[1])
        raise RuntimeError("abandon")
    assert _group(db, "INC-1") == expected["INC-1"]
    assert db.storage.read_group("events", "incident_id", "INC-1")["1"]["text"] != "changed"
    # Loading every event in the middle of a transaction, then abandoning it.
    with pytest.raises(RuntimeError), transaction(db):
        db.table("events").insert(_ev("INC-1", 501))
        db.table("events").update({"incident_id": "INC-1", "text": "changed"}, doc_ids=[1])
        assert len(db.table("events").all()) == 22  # loads the whole table
        raise RuntimeError("abandon")
    assert not db.storage.is_segmented("events")
    assert _group(db, "INC-1") == expected["INC-1"]
    assert len(db.table("events")) == 21
    assert db.table("events").get(doc_id=1)["text"] != "changed"
    assert db.table("events").insert(_ev("INC-1", 502)) == 22  # no id burnt by the rollback
    db.close()


def test_generic_reads_and_writes_still_see_everything(segmented):
    path, expected = segmented
    db = open_db(path)
    db.table("events").insert(_ev("INC-1", 600))
    docs = db.table("events").all()
    assert [d["n"] for d in docs] == [*range(1, 21), 0, 600]  # the order they were written
    assert db.table("events").remove(doc_ids=[1]) == [1]
    assert db.storage.read()["events"]["2"]["n"] == 2
    db.close()
    db = open_db(path)
    assert len(db.table("events")) == 21
    db.drop_table("events")
    assert "events" not in db.tables()
    db.close()
    assert "events" not in open_db(path).tables()


def test_compaction_keeps_appends_updates_and_deletes(segmented):
    path, expected = segmented
    db = open_db(path)
    db.table("events").insert_multiple([_ev("INC-1", 700), _ev("INC-new", 701)])
    db.storage.compact()  # appends only: the old groups' bytes are reused
    assert db.storage.is_segmented("events")
    assert _group(db, "INC-1") == expected["INC-1"] + [700]
    db.table("events").update({"incident_id": "INC-ü🧯", "text": "edited"}, doc_ids=[5])
    other = open_db(path)
    other.table("events").remove(doc_ids=[2])  # a delete seen through the journal
    other.close()
    db.storage.compact()  # now the snapshot's documents change: re-encoded
    db.close()
    db = open_db(path)
    assert db.storage.is_segmented("events")
    all_docs = {d.doc_id: dict(d) for d in db.table("events").all()}
    assert 2 not in all_docs and all_docs[5]["text"] == "edited" and all_docs[23]["n"] == 701
    assert len(all_docs) == 22
    assert json.loads(path.read_bytes())["_meta"]["1"]["ids"]["high"]["events"] == 23
    db.close()


def test_a_handle_keeps_reading_its_snapshot_while_another_compacts(segmented):
    path, expected = segmented
    reader = open_db(path)
    writer = open_db(path)
    writer.table("events").insert(_ev("INC-1", 800))
    writer.storage.compact()  # replaces the file the reader has open
    writer.table("events").insert(_ev("INC-1", 801))
    assert _group(reader, "INC-1") == expected["INC-1"]  # not refreshed yet: its own consistent view
    reader.storage.refresh()
    assert _group(reader, "INC-1") == expected["INC-1"] + [800, 801]
    writer.close()
    reader.close()


def test_schema_1_database_is_migrated_once_with_everything_in_it(tmp_path):
    for name in ("incidents.json", "incidents.json.journal"):
        shutil.copyfile(FIXTURE / name, tmp_path / name)
    path = tmp_path / "incidents.json"
    assert json.loads(path.read_bytes())["_meta"]["1"]["schema"] == 1
    expected = json.loads((FIXTURE / "expected.json").read_text())
    db = open_db(path)
    assert db.storage.is_segmented("events")  # written in the new layout and read from it
    assert json.loads(path.read_bytes())["_meta"]["1"]["schema"] == 2
    for inc in ("INC-20260301-001", "INC-20260301-002", "INC-20260301-003"):
        want = {k: v for k, v in expected["events"].items() if v["incident_id"] == inc}
        assert db.storage.read_group("events", "incident_id", inc) == want
    got = {name: {str(d.doc_id): dict(d) for d in db.table(name).all()} for name in expected}
    assert got == expected
    db.close()
    migrated = path.read_bytes()
    db = open_db(path)  # already schema 2: opened as it is, not rewritten
    assert db.table("events").insert({"incident_id": "INC-20260301-001", "text": "after"}) == 12
    db.close()
    assert path.read_bytes() == migrated


def _v2_bytes(db_path) -> bytes:
    db = open_db(db_path)
    _fill(db, per=2)
    db.storage.compact()
    db.close()
    return Path(db_path).read_bytes()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda raw: raw[:-1],
        lambda raw: raw[: len(raw) - 40],
        lambda raw: raw + b"\n{}",
        lambda raw: raw.replace(b'"segment":"0', b'"segment":"x', 1),
        lambda raw: raw.replace(b'"segment":"0', b'"segment":"9', 1),
        lambda raw: raw.replace(b'"groups":[[', b'"groups":[[7,', 1),
        lambda raw: raw.replace(b'"table":"events"', b'"table":"eventz"', 1),
    ],
    ids=["cut1", "cut40", "appended", "letter", "offset", "index", "table"],
)
def test_damaged_schema_2_file_is_refused_and_left_byte_identical(db_path, mangle):
    raw = mangle(_v2_bytes(db_path))
    Path(db_path).write_bytes(raw)
    journal = Path(f"{db_path}.journal").read_bytes()
    with pytest.raises(CorruptDatabaseError) as info:
        open_db(db_path)
    assert "\n" not in str(info.value) and str(db_path) in str(info.value)
    assert Path(db_path).read_bytes() == raw
    assert Path(f"{db_path}.journal").read_bytes() == journal


def test_a_damaged_incident_slice_is_refused_when_read_and_never_rewritten(db_path):
    raw = _v2_bytes(db_path)
    pos = raw.index(b'"text":"note 2 of')  # inside one incident's slice, same length
    damaged = raw[:pos] + b'"text"}"' + raw[pos + 8:]
    Path(db_path).write_bytes(damaged)
    db = open_db(db_path)  # the prefix is sound: it opens
    assert _group(db, "INC-1") == [1, 6]
    with pytest.raises(CorruptDatabaseError, match="events segment is unreadable"):
        db.storage.read_group("events", "incident_id", 'INC-"quoted"')
    db.table("events").insert(_ev("INC-1", 9))  # appends still work...
    with pytest.raises(CorruptDatabaseError):
        db.storage.compact()  # ...but the damaged slice is never re-encoded over the file
    db.close()
    assert Path(db_path).read_bytes() == damaged


def test_foreign_json_and_a_plain_tinydb_file_are_still_refused(db_path):
    Path(db_path).parent.mkdir(parents=True)
    for raw in (b'{"_default": {"1": {"a": 1}}}', b'{"_meta":{"1":{"segment":"x"}}}', b"[1, 2]"):
        Path(db_path).write_bytes(raw)
        with pytest.raises(CorruptDatabaseError):
            open_db(db_path)
        assert Path(db_path).read_bytes() == raw


def test_a_schema_1_reader_refuses_a_schema_2_file_with_the_one_line_error(db_path, monkeypatch):
    raw = _v2_bytes(db_path)
    # The previous version parses the whole file (it knows no segment header) and reads up to schema 1.
    monkeypatch.setattr(snapshot_mod, "read_header", lambda head: None)
    monkeypatch.setattr(storage_mod, "SCHEMA_VERSION", 1)
    with pytest.raises(SchemaVersionError) as info:
        open_db(db_path)
    assert str(info.value) == (
        f"cannot open database {db_path}: written by a newer incident-tui (schema 2, this version reads up to 1)"
    )
    assert Path(db_path).read_bytes() == raw
    assert issubclass(SchemaVersionError, StoreError)


def test_huge_and_unicode_events_roundtrip(db_path):
    db = open_db(db_path)
    big = "\u2028".join(["é🧯 \"x\" \\ \x00"] * 200_000)
    db.table("events").insert({"incident_id": "INC-\u2029", "text": big})
    db.table("events").insert({"incident_id": "INC-2", "text": "small"})
    db.storage.compact()
    db.close()
    db = open_db(db_path)
    assert db.storage.read_group("events", "incident_id", "INC-\u2029")["1"]["text"] == big
    assert _group_texts(db, "INC-2") == ["small"]
    db.close()


def _group_texts(db, inc: str) -> list[str]:
    return [d["text"] for d in db.storage.read_group("events", "incident_id", inc).values()]


def test_header_field_is_first_and_fixed_width(db_path):
    raw = _v2_bytes(db_path)
    assert raw.startswith(segment_mod.HEADER_PREFIX)
    header = segment_mod.read_header(raw[: segment_mod.HEADER_LEN])
    assert raw[header.start - 10:header.start] == b'"events":{' and raw[header.end:] == b"}}"
    assert raw[header.meta_end:header.meta_end + 1] == b","


def test_a_handle_that_loaded_every_event_lets_them_go_at_its_next_compaction(segmented):
    path, expected = segmented
    db = open_db(path)
    assert len(db.table("events").all()) == 21
    assert not db.storage.is_segmented("events")
    db.table("events").insert(_ev("INC-1", 900))
    db.storage.compact()
    assert db.storage.is_segmented("events") and "events" not in db.storage._data
    assert _group(db, "INC-1") == expected["INC-1"] + [900]
    assert db.table("events").insert(_ev("INC-1", 901)) == 23
    db.close()


def test_count_follows_inserts_updates_and_deletes_without_loading(segmented, monkeypatch):
    from incident_tui.store.segment_table import SegmentedTable

    path, expected = segmented
    db = open_db(path)
    other = open_db(path)
    assert db.storage.count("events") == 21
    db.table("events").insert(_ev("INC-1", 950))
    db.table("events").update({"incident_id": "INC-1", "text": "edited"}, doc_ids=[1])
    other.table("events").remove(doc_ids=[2, 22])  # through the journal: tombstones for old and new ids
    other.close()
    db.storage.refresh()
    monkeypatch.setattr(SegmentedTable, "base", lambda self: pytest.fail("every event was loaded"))
    assert db.storage.count("events") == 20
    assert db.storage.is_segmented("events")
    monkeypatch.undo()
    assert db.storage.count("events") == len(db.table("events").all()) == 20
    db.close()


def test_a_truncate_or_drop_seen_through_the_journal_leaves_the_segment(segmented):
    path, expected = segmented
    db = open_db(path)
    other = open_db(path)
    other.table("events").truncate()
    other.table("events").insert(_ev("INC-1", 990))
    db.storage.refresh()
    assert not db.storage.is_segmented("events")
    assert _group(db, "INC-1") == [990] and _group(db, "INC-2") == []
    other.drop_table("events")
    other.close()
    db.storage.refresh()
    assert "events" not in db.tables() and db.storage.count("events") == 0
    db.close()
