"""Worker process for the store's crash and concurrency tests.

Run as ``python _child.py MODE PATH ...``; prints one line per acknowledged
write (only after the write returned, i.e. after its fsync) and flushes it, so
the parent knows exactly which writes must survive a SIGKILL.
"""

from __future__ import annotations

import sys

from tinydb import Query

from incident_tui.store.storage import open_db, transaction


def _small_compactions(db) -> None:
    # Compact after every few kB so kills also land inside compactions.
    db.storage.compact_min_bytes = 4096
    db.storage.compact_ratio = 0.0


def append(path: str, start: int, count: int, small: bool, tag: str) -> None:
    """Insert documents n=start.. (forever when count == 0), some in transactions."""
    db = open_db(path)
    if small:
        _small_compactions(db)
    events = db.table("events")
    n = start
    i = 0
    while count == 0 or i < count:
        if i % 5 == 4:
            # Every other transaction is a few MB, so that kills also land in
            # the middle of a long write() and leave a torn journal line.
            big = not small  # "big" mode: multi-MB commits, kills land inside write()
            with transaction(db):
                ids = [
                    events.insert({"n": n + k, "w": tag, "pad": "x" * (1_000_000 if big and k == 0 else 100)})
                    for k in range(3)
                ]
            for k, doc_id in enumerate(ids):
                print(f"{n + k} {doc_id}", flush=True)
            n += 3
        else:
            doc_id = events.insert({"n": n, "w": tag, "pad": "x" * 100})
            print(f"{n} {doc_id}", flush=True)
            n += 1
        if small and i % 11 == 10:
            db.storage.compact()
        i += 1
    db.close()


def alloc(path: str, count: int) -> None:
    """Allocate INC-20261125-NNN ids the way the incident service does: in a transaction."""
    db = open_db(path)
    _small_compactions(db)
    incidents = db.table("incidents")
    for _ in range(count):
        with transaction(db):
            prefix = "INC-20261125-"
            seqs = [int(d["id"][len(prefix):]) for d in incidents.search(Query().id.test(lambda v: v.startswith(prefix)))]
            new_id = f"{prefix}{max(seqs, default=0) + 1:03d}"
            incidents.insert({"id": new_id})
        print(new_id, flush=True)
    db.close()


def insert_one(path: str) -> None:
    """Insert a single document and print its id."""
    db = open_db(path)
    print(db.table("events").insert({"from": "child"}), flush=True)
    db.close()


if __name__ == "__main__":
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "append":
        append(path, int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "small", sys.argv[6])
    elif mode == "alloc":
        alloc(path, int(sys.argv[3]))
    elif mode == "insert-one":
        insert_one(path)
    else:
        raise SystemExit(f"unknown mode {mode}")
