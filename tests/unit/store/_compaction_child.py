"""Worker process for the concurrent-compaction tests.

``python _compaction_child.py writer PATH STOP``: commits continuously (inserts,
updates, deletes) until the file STOP exists, printing one line per
acknowledged commit (after its fsync): ``i DOC_ID N``, ``u DOC_ID N``,
``d DOC_ID``, each followed by the commit's duration in ms.

``python _compaction_child.py compactor PATH``: compacts in a loop, printing
``c GEN`` after each compaction, until killed.

``python _compaction_child.py crash PATH STEP OUT``: builds a database, then
compacts it while a second handle commits during the serialisation, and
dies with ``os._exit`` at STEP of the swap (``none``: completes).  Before
dying it writes OUT: the committed state and how many commits were made
before and during the compaction.
"""

from __future__ import annotations

import os
import sys
import time

import orjson

from incident_tui.store import storage as storage_mod
from incident_tui.store.storage import core, files, open_db, transaction

STEPS = (
    "snapshot-temp-written",
    "before-snapshot-replace",
    "snapshot-replaced",
    "snapshot-durable",
    "journal-temp-written",
    "before-journal-replace",
    "journal-replaced",
    "journal-durable",
    "old-snapshot-freed-in-part",
    "none",
)
# The steps after which the new snapshot is the one in place.
AFTER_SNAPSHOT = STEPS[2:]


def writer(path: str, stop: str) -> None:
    db = open_db(path, lock_timeout=30)
    db.storage.compact_min_ops = 10**9  # this process only writes
    db.storage.compact_min_bytes = 10**12
    events = db.table("events")
    n = 0
    mine: list[int] = []
    while not os.path.exists(stop):
        start = time.perf_counter()
        if n % 7 == 3 and mine:
            doc_id = mine[n % len(mine)]
            events.update({"n": n}, doc_ids=[doc_id])
            line = f"u {doc_id} {n}"
        elif n % 11 == 5 and mine:
            doc_id = mine.pop(0)
            events.remove(doc_ids=[doc_id])
            line = f"d {doc_id}"
        else:
            doc_id = events.insert({"n": n, "text": "written while another process compacts"})
            mine.append(doc_id)
            line = f"i {doc_id} {n}"
        print(f"{line} {(time.perf_counter() - start) * 1000:.2f}", flush=True)
        n += 1
    db.close()


def compactor(path: str) -> None:
    db = open_db(path, lock_timeout=30)
    while True:
        db.storage.compact()
        print(f"c {db.storage.generation}", flush=True)


def crash(path: str, step: str, out: str) -> None:
    a = open_db(path)
    a.table("events").insert_multiple({"n": i, "pad": "p" * 50} for i in range(300))
    a.table("gone").insert({"x": 1})
    a.table("scratch").insert_multiple({"s": i} for i in range(3))
    a.storage.compact()
    b = open_db(path)
    counts = {"before": 0, "during": []}
    events, scratch = b.table("events"), b.table("scratch")

    # Commits in the journal before the compaction copies the state.
    events.insert({"n": "before 1"})
    events.update({"pad": "updated before"}, doc_ids=[4])
    events.remove(doc_ids=[3])
    with transaction(b):
        events.insert({"n": "before 2"})
        scratch.insert({"s": "before"})
    counts["before"] = 4

    real_bytes = core.JournalStorage._snapshot_bytes

    def serialise(self, gen, data=None):
        # While compactor a serialises (no lock held), b commits every kind of operation.
        if self is a.storage:
            k = len(counts["during"])
            events.insert({"n": f"during {k}"})
            events.update({"pad": f"updated during {k}"}, doc_ids=[5 + k])
            events.remove(doc_ids=[10 + k])
            scratch.truncate()
            with transaction(b):
                scratch.insert({"s": f"during {k}"})
                events.insert({"n": f"during {k} in a transaction"})
            if k == 0:
                b.drop_table("gone")
                counts["during"].append(6)
            else:
                counts["during"].append(5)
        return real_bytes(self, gen, data)

    core.JournalStorage._snapshot_bytes = serialise

    def die() -> None:
        state = {name: list(docs.items()) for name, docs in b.storage.read().items() if name != "_meta"}
        with open(out, "wb") as fh:
            fh.write(orjson.dumps({"state": state, "before": counts["before"], "during": counts["during"],
                                   "gen": a.storage.generation}))
        os._exit(9)

    last_attempt = 2  # the first try is overtaken by b's commits and starts over

    real_write_temp = core.JournalStorage._write_temp

    def write_temp(self, payload):
        tmp = real_write_temp(self, payload)
        if step == "snapshot-temp-written" and len(counts["during"]) == last_attempt:
            die()
        return tmp

    core.JournalStorage._write_temp = write_temp

    real_journal_temp = core.write_temp

    def journal_temp(db_path, payload, infix=files.TMP_INFIX, **kw):
        tmp = real_journal_temp(db_path, payload, infix, **kw)
        if step == "journal-temp-written" and infix == files.JOURNAL_TMP_INFIX:
            die()
        return tmp

    core.write_temp = journal_temp

    real_replace = os.replace
    real_fsync_dir = files.fsync_dir
    replaced: list[str] = []

    def replace(src, dst):
        which = "snapshot" if os.fspath(dst) == a.storage.path else "journal"
        if step == f"before-{which}-replace":
            die()
        real_replace(src, dst)
        replaced.append(which)
        if step == f"{which}-replaced":
            die()

    def fsync_dir(dirname):
        real_fsync_dir(dirname)
        if replaced and step == f"{replaced[-1]}-durable":
            die()

    real_ftruncate = os.ftruncate

    def ftruncate(fd, length):
        real_ftruncate(fd, length)
        if step == "old-snapshot-freed-in-part" and "journal" in replaced:
            os.fsync(fd)
            die()

    if step == "old-snapshot-freed-in-part":
        # Nobody reads the old snapshot's events then (both handles hold them in
        # memory), so once the swap is done it is cut a chunk at a time: die after
        # the first cut.
        files.FREE_CHUNK = 1024
        a.storage._materialise()
        b.storage._materialise()

    storage_mod.os.replace = replace
    storage_mod.os.ftruncate = ftruncate
    files.fsync_dir = fsync_dir
    a.storage.compact()
    assert step == "none", f"never reached {step}"
    die()


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "writer":
        writer(sys.argv[2], sys.argv[3])
    elif mode == "compactor":
        compactor(sys.argv[2])
    elif mode == "crash":
        crash(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        raise SystemExit(f"unknown mode {mode}")
