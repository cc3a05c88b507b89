"""Compaction beside writers: the snapshot is written without the lock, and the swap copies the
commits made meanwhile into the new journal.  A crash at any step of the swap loses no commit and
applies none twice; other processes take the new files over without parsing the snapshot."""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from incident_tui.store import storage as storage_mod
from incident_tui.store.storage import JournalStorage, core, open_db
from incident_tui.store.storage import journal as journal_mod

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from _compaction_child import AFTER_SNAPSHOT, STEPS  # noqa: E402

CHILD = str(HERE / "_compaction_child.py")


def state(db) -> dict[str, list]:
    """Every table but _meta, as [doc_id, document] pairs in TinyDB's order."""
    return {name: [[k, v] for k, v in docs.items()] for name, docs in db.storage.read().items() if name != "_meta"}


def journal_header(path) -> dict:
    with open(f"{path}.journal", "rb") as fh:
        return orjson.loads(fh.readline())


def snapshot_meta(path) -> dict:
    return orjson.loads(Path(path).read_bytes())["_meta"]["1"]


def temp_files(path) -> list[str]:
    return [name for name in os.listdir(Path(path).parent) if name.endswith(".tmp")]


@pytest.fixture
def replayed(monkeypatch):
    """How many journal records were applied (a list of counts per call)."""
    counts: list[int] = []
    real = journal_mod.apply_records

    def counting(data, hw, records, first_lineno, journal_path):
        counts.append(len(records))
        return real(data, hw, records, first_lineno, journal_path)

    monkeypatch.setattr(journal_mod, "apply_records", counting)
    return counts


# ----------------------------------------------------------------- crashes


@pytest.mark.parametrize("step", STEPS)
def test_a_crash_at_any_step_of_the_swap_loses_no_commit_and_applies_none_twice(tmp_path, step, replayed):
    path = tmp_path / "db.json"
    out = tmp_path / "expected.json"
    proc = subprocess.run([sys.executable, CHILD, "crash", str(path), step, str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr
    expected = orjson.loads(out.read_bytes())
    assert expected["during"] == [6, 5]  # both tries were overtaken by commits

    replayed.clear()
    db = open_db(path)
    assert state(db) == expected["state"]
    if step in AFTER_SNAPSHOT:
        # The new snapshot includes the journal up to where it was copied: only the
        # commits made while the last try was written are replayed on top of it.
        assert sum(replayed) == expected["during"][-1]
    else:
        # The old snapshot is still the one: the old journal, all of it.
        assert sum(replayed) == expected["before"] + sum(expected["during"])
    doc_id = db.table("events").insert({"n": "after the crash"})
    db.close()
    assert not temp_files(path)

    again = open_db(path)
    want = expected["state"]
    want["events"].append([str(doc_id), {"n": "after the crash"}])
    assert state(again) == want
    assert journal_header(path)["gen"] == snapshot_meta(path)["gen"] == again.storage.generation
    again.close()


def test_a_reader_in_the_crash_window_follows_the_writer_that_finishes_the_swap(tmp_path):
    path = tmp_path / "db.json"
    out = tmp_path / "expected.json"
    proc = subprocess.run([sys.executable, CHILD, "crash", str(path), "snapshot-durable", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr
    expected = orjson.loads(out.read_bytes())
    # The new snapshot next to the old journal, which it includes up to a byte.
    meta = snapshot_meta(path)
    assert journal_header(path)["gen"] == meta["journal"]["base"][0] == meta["gen"] - 1

    reader = open_db(path)  # under the shared lock: replays the old journal from that byte, changes no file
    assert state(reader) == expected["state"]
    assert journal_header(path)["gen"] == meta["gen"] - 1

    writer = open_db(path)
    writer.table("events").insert({"n": "first write after the crash"})  # finishes the swap first
    assert journal_header(path)["gen"] == meta["gen"]
    assert reader.storage.refresh() is True
    assert state(reader) == state(writer)
    reader.table("events").insert({"n": "the reader writes too"})
    assert writer.storage.refresh() is True
    assert state(writer) == state(reader)
    reader.close()
    writer.close()
    fresh = open_db(path)
    assert state(fresh) == state(writer)
    fresh.close()


def test_a_short_journal_next_to_a_snapshot_that_includes_more_is_refused(tmp_path):
    path = tmp_path / "db.json"
    out = tmp_path / "expected.json"
    subprocess.run([sys.executable, CHILD, "crash", str(path), "snapshot-durable", str(out)],
                   capture_output=True, text=True, timeout=120)
    base = snapshot_meta(path)["journal"]["base"][1]
    journal = Path(f"{path}.journal")
    with open(journal, "r+b") as fh:
        fh.truncate(base - 5)  # the old journal lost records the snapshot says it holds
    before = journal.read_bytes(), path.read_bytes()
    with pytest.raises(storage_mod.CorruptDatabaseError, match="includes ends"):
        open_db(path)
    assert (journal.read_bytes(), path.read_bytes()) == before


# ------------------------------------------------------------ old databases


def _old_database(path: Path, meta: dict, journal_gen: int, schema: int = 1) -> None:
    path.write_bytes(orjson.dumps({"_meta": {"1": {"app": "incident-tui", "schema": schema, **meta}},
                                   "events": {"1": {"n": 1}}}))
    Path(f"{path}.journal").write_bytes(b'{"journal":1,"gen":%d}\n[["s","events","2",{"n":2}]]\n' % journal_gen)


def test_an_old_database_without_a_position_opens_as_before(tmp_path):
    path = tmp_path / "db.json"
    _old_database(path, {"gen": 3}, journal_gen=3)  # its own journal: replayed
    db = open_db(path)
    assert [d["n"] for d in db.table("events").all()] == [1, 2]
    db.close()
    _old_database(path, {"gen": 3}, journal_gen=2)  # a journal left by an interrupted compaction: stale
    db = open_db(path)
    assert [d["n"] for d in db.table("events").all()] == [1]
    db.close()


def test_a_position_kept_by_an_older_version_is_ignored(tmp_path):
    # An older version compacted (generation 3) and kept the field written for generation 2.
    path = tmp_path / "db.json"
    _old_database(path, {"gen": 3, "journal": {"gen": 2, "base": [1, 23]}}, journal_gen=1)
    db = open_db(path)
    assert [d["n"] for d in db.table("events").all()] == [1]
    assert db.table("_meta").all() == [{"app": "incident-tui", "schema": storage_mod.SCHEMA_VERSION}]
    db.close()


def test_an_old_version_reads_the_new_journal_as_a_journal_of_its_format(db_path):
    db = open_db(db_path)
    db.table("events").insert({"n": 1})
    db.storage.compact()
    header = journal_header(db_path)
    assert header["journal"] == storage_mod.JOURNAL_FORMAT == 1
    assert header["gen"] == snapshot_meta(db_path)["gen"]  # what an older version checks
    db.close()


# ---------------------------------------------------- other processes follow


def _compact_while_committing(compacting, committing, commits_per_try: int = 2) -> None:
    """``compacting`` compacts while ``committing`` commits during each of its serialisations."""
    real = JournalStorage._snapshot_bytes

    def serialise(self, gen, data=None):
        if self is compacting.storage:
            for _ in range(commits_per_try):
                committing.table("events").insert({"n": "meanwhile"})
        return real(self, gen, data)

    JournalStorage._snapshot_bytes = serialise
    try:
        compacting.storage.compact()
    finally:
        JournalStorage._snapshot_bytes = real


def test_another_handle_takes_the_compaction_over_without_parsing_the_snapshot(db_path, monkeypatch):
    a = open_db(db_path)
    a.table("events").insert_multiple({"n": i} for i in range(50))
    b = open_db(db_path)
    c = open_db(db_path)
    a.table("events").insert({"n": "b has not read this yet"})
    gen = a.storage.generation
    _compact_while_committing(a, c)
    assert a.storage.generation == gen + 1
    assert journal_header(db_path)["base"][0] == gen
    assert len(Path(f"{db_path}.journal").read_bytes().splitlines()) == 3  # header + c's last two commits

    reads = []
    real_read = JournalStorage._read_snapshot
    monkeypatch.setattr(JournalStorage, "_read_snapshot", lambda self: reads.append(self) or real_read(self))
    assert b.storage.refresh() is True
    assert b.storage.changed_tables is None  # as after any compaction by someone else
    assert reads == [] and b.storage.generation == gen + 1
    assert state(b) == state(a)
    b.table("events").insert({"n": "b after"})
    c.table("events").insert({"n": "c after"})  # c, too, follows without reading the snapshot
    assert reads == []
    monkeypatch.undo()
    for handle in (a, b, c):
        handle.storage.refresh()
    fresh = open_db(db_path)
    assert state(a) == state(b) == state(c) == state(fresh)
    assert [d["n"] for d in fresh.table("events").all()][-7:] == [
        "b has not read this yet", *["meanwhile"] * 4, "b after", "c after"]
    for handle in (a, b, c, fresh):
        handle.close()


def test_a_journal_that_does_not_name_the_snapshot_in_place_is_not_taken_over(db_path, monkeypatch):
    a = open_db(db_path)
    a.table("events").insert_multiple({"n": i} for i in range(20))
    b = open_db(db_path)
    c = open_db(db_path)
    _compact_while_committing(a, c)
    # The snapshot is rewritten by hand (same content, another file): the header no longer names it.
    data = Path(db_path).read_bytes()
    os.unlink(db_path)
    Path(db_path).write_bytes(data)
    reads = []
    real_read = JournalStorage._read_snapshot
    monkeypatch.setattr(JournalStorage, "_read_snapshot", lambda self: reads.append(self) or real_read(self))
    assert b.storage.refresh() is True
    assert len(reads) == 1  # read in full, as before
    assert state(b) == state(a)
    for handle in (a, b, c):
        handle.close()


def test_a_quiet_compaction_leaves_an_empty_journal(db_path):
    db = open_db(db_path)
    db.table("events").insert_multiple({"n": i} for i in range(10))
    db.storage.compact()
    assert Path(f"{db_path}.journal").read_bytes().count(b"\n") == 1
    meta = snapshot_meta(db_path)
    assert meta["journal"]["gen"] == meta["gen"] == journal_header(db_path)["gen"]
    db.close()


def test_hold_lock_compaction_still_records_its_position(db_path):
    db = open_db(db_path)
    db.table("events").insert({"n": 1})
    with db.storage.hold_lock():
        db.storage.compact()
    assert snapshot_meta(db_path)["journal"]["base"][0] == db.storage.generation - 1
    db.close()
    assert [d["n"] for d in open_db(db_path).table("events").all()] == [1]


def test_a_migration_records_no_position(tmp_path, monkeypatch):
    path = tmp_path / "db.json"
    _old_database(path, {"gen": 3}, journal_gen=3, schema=storage_mod.SCHEMA_VERSION)
    target = storage_mod.SCHEMA_VERSION + 1
    monkeypatch.setattr(storage_mod, "SCHEMA_VERSION", target)
    monkeypatch.setitem(storage_mod.MIGRATIONS, target - 1, lambda data: data["events"].pop("1"))
    db = open_db(path)
    assert [d["n"] for d in db.table("events").all()] == [2]
    db.close()
    # The migrated state is no replay of the old journal: nobody may take it over as one.
    assert "journal" not in snapshot_meta(path)
    assert "base" not in journal_header(path)


# -------------------------------------------------- beside a writer process


def _read_acknowledged(lines: list[str]) -> tuple[dict[str, dict], list[float]]:
    docs: dict[str, dict] = {}
    waits = []
    for line in lines:
        kind, doc_id, *rest = line.split()
        waits.append(float(rest[-1]))
        if kind == "i":
            docs[doc_id] = {"n": int(rest[0]), "text": "written while another process compacts"}
        elif kind == "u":
            docs[doc_id] = {**docs[doc_id], "n": int(rest[0])}
        else:
            del docs[doc_id]
    return docs, waits


def test_compaction_beside_a_writer_process_writes_the_snapshot_with_no_lock_held(tmp_path, monkeypatch):
    path = tmp_path / "db.json"
    db = open_db(path)
    db.table("bulk").insert_multiple({"n": i, "pad": "b" * 200} for i in range(20_000))
    db.storage.compact()
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, CHILD, "writer", str(path), str(stop)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = writer.stdout.readline()
        assert first  # it is committing

        encoded_holding_lock: list[bool] = []
        real_bytes = JournalStorage._snapshot_bytes

        def encoder(self, gen, data=None):
            encoded_holding_lock.append(self._lock_owner is not None)
            return real_bytes(self, gen, data)

        snapshot_temps: list[bool] = []  # lock held while each was written
        under_lock: list[tuple[bool, int, int]] = []  # (lock held, bytes written, bytes of records copied)
        real_temp = core.write_temp

        def journal_temp(db_path, payload, infix=storage_mod.files.TMP_INFIX, **kw):
            if infix != storage_mod.files.JOURNAL_TMP_INFIX:  # the snapshot's temp file
                snapshot_temps.append(db.storage._lock_owner is not None)
                return real_temp(db_path, payload, infix, **kw)
            header, _, records = payload.partition(b"\n")
            x = orjson.loads(header)["base"][1]
            old = Path(f"{path}.journal").read_bytes()  # still the old journal: the rename comes after
            # Exactly the old journal's records after the copied position, as bytes.
            assert old[x:x + len(records)] == records and old[x + len(records):].count(b"\n") == 0
            under_lock.append((db.storage._lock_owner is not None, len(payload), len(records)))
            return real_temp(db_path, payload, infix)

        locked_compactions = []
        real_locked = JournalStorage._compact_locked
        monkeypatch.setattr(JournalStorage, "_snapshot_bytes", encoder)
        monkeypatch.setattr(core, "write_temp", journal_temp)
        monkeypatch.setattr(JournalStorage, "_compact_locked",
                            lambda self, **kw: locked_compactions.append(kw) or real_locked(self, **kw))
        gen = db.storage.generation
        for _ in range(30):
            db.storage.compact()
            if sum(1 for _, _, copied in under_lock if copied) >= 3:
                break
        monkeypatch.undo()
    finally:
        stop.touch()
        out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err

    assert db.storage.generation == gen + len(under_lock)
    assert sum(1 for _, _, copied in under_lock if copied) >= 3  # the writer did commit during the writes
    assert locked_compactions == []  # never the whole state under the lock
    assert encoded_holding_lock and not any(encoded_holding_lock)
    assert snapshot_temps and not any(snapshot_temps)
    assert all(held for held, _, _ in under_lock)  # what is written under the lock: the new journal only
    snapshot_bytes = path.stat().st_size
    db.close()

    expected, waits = _read_acknowledged([first, *out.splitlines()])
    reopened = open_db(path)
    assert {str(d.doc_id): dict(d) for d in reopened.table("events").all()} == expected
    assert len(reopened.table("bulk")) == 20_000
    reopened.close()
    # A figure, not a test: how long the writer's commits took meanwhile (benchmarks/scale.py measures it).
    print(f"\nwriter commits: {len(waits)}, median {statistics.median(waits):.1f} ms, max {max(waits):.1f} ms; "
          f"written under the lock per compaction: {[size for _, size, _ in under_lock]} bytes "
          f"(snapshot {snapshot_bytes} bytes)")


def test_kill_9_of_a_compacting_process_loses_no_write_of_another(tmp_path):
    path = tmp_path / "db.json"
    db = open_db(path)
    db.table("bulk").insert_multiple({"n": i, "pad": "b" * 200} for i in range(5_000))
    db.close()
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, CHILD, "writer", str(path), str(stop)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rng = random.Random(13)
    compactions = 0
    try:
        for _ in range(8):
            compactor = subprocess.Popen([sys.executable, CHILD, "compactor", str(path)],
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            assert compactor.stdout.readline().startswith("c ")  # one compaction done, more under way
            time.sleep(rng.uniform(0, 0.3))
            compactor.kill()
            out, _ = compactor.communicate(timeout=30)
            compactions += 1 + out.count("\n")
    finally:
        stop.touch()
        out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    expected, _ = _read_acknowledged(out.splitlines())
    assert len(expected) > 10 and compactions >= 8
    reopened = open_db(path)
    assert {str(d.doc_id): dict(d) for d in reopened.table("events").all()} == expected
    assert len(reopened.table("bulk")) == 5_000
    reopened.close()


def test_an_open_during_the_write_leaves_the_live_temp_file_alone(db_path, monkeypatch):
    a = open_db(db_path)
    a.table("events").insert_multiple({"n": i} for i in range(20))
    leftover = Path(f"{db_path}.compact-4242-deadbeef.tmp")  # a crashed compaction's
    opened = []
    real_temp = core.write_temp

    def write_then_open(path, payload, infix=storage_mod.files.TMP_INFIX, **kw):
        tmp = real_temp(path, payload, infix, **kw)
        if infix == storage_mod.files.TMP_INFIX and not opened:
            leftover.write_bytes(b'{"half": ')
            other = open_db(db_path)  # another process starting up meanwhile: it cleans up leftovers
            other.table("events").insert({"n": "opened meanwhile"})
            opened.append(os.path.exists(tmp))
            other.close()
        return tmp

    locked = []
    real_locked = JournalStorage._compact_locked
    monkeypatch.setattr(core, "write_temp", write_then_open)
    monkeypatch.setattr(JournalStorage, "_compact_locked", lambda self, **kw: locked.append(kw) or real_locked(self, **kw))
    gen = a.storage.generation
    a.storage.compact()
    assert opened == [True] and not leftover.exists()
    assert a.storage.generation == gen + 1 and locked == []
    assert not temp_files(db_path)
    a.close()
    assert [d["n"] for d in open_db(db_path).table("events").all()][-1] == "opened meanwhile"
