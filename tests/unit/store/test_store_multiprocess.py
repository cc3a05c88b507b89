"""Crash safety (SIGKILL) and two processes on the same database."""

from __future__ import annotations

import random
import signal
import time

from incident_tui.store.storage import open_db

KILL_ROUNDS = 40


def parse_acks(stdout: str) -> dict[int, int]:
    """n -> doc_id for every complete line the child printed (= acknowledged)."""
    acks = {}
    for line in stdout.splitlines(keepends=True):
        if not line.endswith("\n"):
            continue  # cut by the kill: that write was never acknowledged
        n, doc_id = line.split()
        acks[int(n)] = int(doc_id)
    return acks


def test_sigkill_never_loses_acknowledged_writes(db_path, spawn_child):
    open_db(db_path).close()
    rng = random.Random(1234)
    acknowledged: dict[int, int] = {}
    unreadable = 0
    torn = 0
    for round_ in range(KILL_ROUNDS):
        # Half the rounds compact every few kB, so kills land in compactions too.
        mode = "small" if round_ % 2 else "big"
        proc = spawn_child("append", db_path, round_ * 1_000_000, 0, mode, f"r{round_}")
        first = proc.stdout.readline()  # wait until it is writing
        assert first, proc.stderr.read()
        time.sleep(rng.uniform(0, 0.03))
        proc.send_signal(signal.SIGKILL)
        rest, _ = proc.communicate()
        assert proc.returncode == -signal.SIGKILL
        with open(f"{db_path}.journal", "rb") as fh:
            torn += not fh.read().endswith(b"\n")
        acks = parse_acks(first + rest)
        assert acks
        acknowledged.update(acks)
        try:
            db = open_db(db_path)
        except Exception:  # noqa: BLE001 - counting is the point
            unreadable += 1
            continue
        by_n = {d["n"]: d.doc_id for d in db.table("events").all()}
        db.close()
        lost = {n for n in acknowledged if n not in by_n}
        assert not lost, f"round {round_}: {len(lost)} acknowledged writes lost"
        # and each acknowledged document kept the id it was acknowledged with
        assert all(by_n[n] == acknowledged[n] for n in acknowledged)
    assert unreadable == 0
    assert len(acknowledged) > KILL_ROUNDS
    print(f"{len(acknowledged)} acknowledged writes, {torn} rounds left a torn journal line")


def test_two_processes_append_concurrently(db_path, spawn_child):
    open_db(db_path).close()
    count = 250
    procs = [spawn_child("append", db_path, w * 1_000_000, count, "small", f"w{w}") for w in (0, 1)]
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (_, err) in zip(procs, outputs):
        assert p.returncode == 0, err
    acks = [parse_acks(out) for out, _ in outputs]
    per_worker = sum(len(a) for a in acks)
    all_ids = [doc_id for a in acks for doc_id in a.values()]
    assert len(set(all_ids)) == len(all_ids), "two processes were handed the same doc_id"
    db = open_db(db_path)
    docs = db.table("events").all()
    db.close()
    assert len(docs) == per_worker  # nothing lost, nothing duplicated
    assert {d.doc_id for d in docs} == set(all_ids)
    for a in acks:
        assert all(any(d.doc_id == doc_id and d["n"] == n for d in docs) for n, doc_id in list(a.items())[:20])


def test_two_processes_allocate_unique_incident_ids(db_path, spawn_child):
    open_db(db_path).close()
    procs = [spawn_child("alloc", db_path, 60) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (_, err) in zip(procs, outputs):
        assert p.returncode == 0, err
    ids = [line for out, _ in outputs for line in out.split()]
    assert len(ids) == 120
    assert len(set(ids)) == 120
    assert sorted(ids) == [f"INC-20261125-{i:03d}" for i in range(1, 121)]


def test_refresh_sees_another_process_write(db, run_child):
    assert db.storage.refresh() is False
    assert len(db.table("events")) == 0
    out = run_child("insert-one", db.storage.path).stdout
    assert db.storage.refresh() is True
    assert [d.doc_id for d in db.table("events").all()] == [int(out)]
    assert db.storage.refresh() is False
    # and our next insert does not reuse the other process's doc id
    assert db.table("events").insert({"from": "parent"}) == int(out) + 1


def test_refresh_and_write_catch_up_across_handles(db_path):
    a = open_db(db_path)
    b = open_db(db_path)
    ta, tb = a.table("events"), b.table("events")
    assert ta.count(lambda d: True) == 0  # cached empty result in a
    # b and a insert alternately without refreshing: each write catches up first
    ids = []
    for i in range(10):
        ids.append((tb if i % 2 else ta).insert({"i": i}))
    assert ids == list(range(1, 11))
    # b wrote last, so it is caught up, but it still reports a's writes once
    assert b.storage.refresh() is True
    assert b.storage.refresh() is False
    assert a.storage.refresh() is True
    assert ta.count(lambda d: True) == 10  # a's query cache was invalidated by the catch-up
    assert len(tb) == 10
    a.close()
    b.close()


def test_other_process_notices_compaction(db_path):
    a = open_db(db_path)
    b = open_db(db_path)
    a.table("t").insert_multiple([{"i": i} for i in range(5)])
    gen = a.storage.generation
    b.table("t").remove(doc_ids=[1])
    b.storage.compact()
    assert b.storage.generation == gen + 1
    b.table("t").insert({"i": 5})  # journaled under the new generation
    assert a.storage.refresh() is True
    assert a.storage.generation == gen + 1
    assert sorted(d["i"] for d in a.table("t").all()) == [1, 2, 3, 4, 5]
    # a writes after b's compaction without refreshing first: caught up, no clash
    a.storage.compact()
    b.table("t").insert({"i": 6})
    new_id = a.table("t").insert({"i": 7})
    assert new_id == max(d.doc_id for d in a.table("t").all())
    assert b.storage.refresh()
    assert sorted(d["i"] for d in b.table("t").all()) == [1, 2, 3, 4, 5, 6, 7]
    a.close()
    b.close()


def test_auto_compaction_while_another_handle_reads(db_path):
    a = open_db(db_path)
    b = open_db(db_path)
    a.storage.compact_min_bytes = 2048
    a.storage.compact_ratio = 0.0
    gen = a.storage.generation
    for i in range(100):
        a.table("t").insert({"i": i, "pad": "y" * 50})
        if i % 7 == 0:
            b.storage.refresh()
            assert len(b.table("t")) == i + 1
    assert a.storage.generation > gen + 3
    b.storage.refresh()
    assert [d["i"] for d in b.table("t").all()] == list(range(100))
    a.close()
    b.close()


def test_refresh_reports_changes_our_own_write_caught_up(db_path):
    a = open_db(db_path)
    b = open_db(db_path)
    b.table("events").insert({"from": "b"})
    a.table("notes").insert({"from": "a"})  # catches up with b's event first
    assert len(a.table("events")) == 1
    # the dashboard polling a.refresh() must still hear about b's event
    assert a.storage.refresh() is True
    assert a.storage.changed_tables == {"events"}
    assert a.storage.refresh() is False
    b.storage.compact()
    assert a.storage.refresh() is True
    assert a.storage.changed_tables is None  # reloaded: everything may have changed
    a.close()
    b.close()
