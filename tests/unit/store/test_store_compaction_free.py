"""What a compaction leaves behind is freed a chunk at a time, and only when nobody else reads it.

A replaced snapshot (or a temp file a compaction abandoned) is cut from its end in FREE_CHUNK steps
before its last close, so that freeing tens of MB is not one filesystem commit that every other
process's journal fsync waits behind.  A handle still reading its events from that file keeps it whole.
"""

from __future__ import annotations

import os

import pytest

from incident_tui.store.storage import core, files, open_db

CHUNK = 4096


def text(i: int) -> str:
    return f"event {i} " + "padding to make the snapshot span several chunks " * 3


@pytest.fixture
def cuts(monkeypatch):
    """Every (inode, length) a replaced file was cut to (by release_replaced), in order."""
    monkeypatch.setattr(files, "FREE_CHUNK", CHUNK)
    seen: list[tuple[int, int]] = []
    real_release = files.release_replaced
    real_ftruncate = os.ftruncate
    inside = [False]

    def ftruncate(fd, length):
        if inside[0]:
            seen.append((os.fstat(fd).st_ino, length))
        return real_ftruncate(fd, length)

    def release(fd):
        inside[0] = True
        try:
            real_release(fd)
        finally:
            inside[0] = False

    monkeypatch.setattr(os, "ftruncate", ftruncate)
    monkeypatch.setattr(core, "release_replaced", release)
    monkeypatch.setattr(files, "release_replaced", release)
    return seen


def build(path, n: int = 600) -> list[str]:
    db = open_db(path)
    db.table("events").insert_multiple({"incident_id": f"i{i % 7}", "text": text(i)} for i in range(n))
    db.storage.compact()
    db.close()
    return [text(i) for i in range(n)]


def texts(db) -> list[str]:
    return [doc["text"] for doc in db.table("events").all()]


def test_a_replaced_snapshot_another_handle_still_reads_is_left_whole(db_path, cuts):
    want = build(db_path)
    cuts.clear()
    reader = open_db(db_path)
    assert reader.storage.is_segmented("events")  # its events are read from this file on demand
    st = os.stat(db_path)
    assert st.st_size > 3 * CHUNK

    writer = open_db(db_path)
    writer.table("events").insert({"incident_id": "i1", "text": "after"})
    writer.storage.compact()
    writer.storage.compact()
    writer.close()

    # The second compaction's old file (the first one's) is cut; the one the reader
    # still has open is only closed.
    assert cuts and st.st_ino not in {ino for ino, _ in cuts}
    assert reader.storage.is_segmented("events")
    assert reader.storage.refresh() is True
    assert texts(reader) == [*want, "after"]
    reader.close()


def test_a_replaced_snapshot_nobody_reads_is_cut_from_its_end_a_chunk_at_a_time(db_path, cuts):
    want = build(db_path)
    cuts.clear()
    db = open_db(db_path)
    st = os.stat(db_path)
    db.table("events").insert({"incident_id": "i1", "text": "after"})
    db.storage.compact()  # the file it read its events from is replaced, and nobody else has it

    lengths = [length for ino, length in cuts if ino == st.st_ino]
    assert len(lengths) == len(cuts) > 3
    assert lengths == [max(0, st.st_size - k * CHUNK) for k in range(1, len(lengths) + 1)]
    assert lengths[-1] == 0
    assert texts(db) == [*want, "after"]
    db.close()
    again = open_db(db_path)
    assert texts(again) == [*want, "after"]
    again.close()


def test_the_temp_file_of_a_try_that_starts_over_is_cut_then_gone(db_path, cuts, monkeypatch):
    want = build(db_path)
    cuts.clear()
    compactor = open_db(db_path)
    other = open_db(db_path)
    real_bytes = core.JournalStorage._snapshot_bytes
    tries: list[int] = []

    def serialise(self, gen, data=None):
        out = real_bytes(self, gen, data)
        if self is compactor.storage and not tries:
            other.table("events").insert({"incident_id": "i2", "text": "during"})  # overtakes the first try
        tries.append(len(out[0]))
        return out

    monkeypatch.setattr(core.JournalStorage, "_snapshot_bytes", serialise)
    compactor.storage.compact()

    assert len(tries) == 2
    # The first try's temp file was cut from its end before its last close.
    lengths = [length for _, length in cuts]
    assert lengths[:2] == [tries[0] - CHUNK, tries[0] - 2 * CHUNK] and 0 in lengths
    assert not [name for name in os.listdir(db_path.parent) if name.endswith(".tmp")]
    assert texts(compactor) == [*want, "during"]
    assert other.storage.refresh() is True
    assert texts(other) == [*want, "during"]
    compactor.close()
    other.close()


def test_the_last_handle_to_close_a_replaced_snapshot_cuts_it(db_path, cuts):
    want = build(db_path)
    cuts.clear()
    reader = open_db(db_path)
    assert reader.storage.is_segmented("events")  # its events are read from this file on demand
    st = os.stat(db_path)
    writer = open_db(db_path)
    writer.table("events").insert({"incident_id": "i1", "text": "after"})
    writer.storage.compact()
    writer.close()
    assert st.st_ino not in {ino for ino, _ in cuts}  # the reader still has it
    assert reader.storage.is_segmented("events")

    reader.close()
    lengths = [length for ino, length in cuts if ino == st.st_ino]
    assert lengths[0] == st.st_size - CHUNK and lengths[-1] == 0
    again = open_db(db_path)
    assert texts(again) == [*want, "after"]
    again.close()


def test_a_reader_that_reloads_last_cuts_the_old_snapshot_once_its_lock_is_released(db_path, cuts, monkeypatch):
    want = build(db_path)
    cuts.clear()
    reader = open_db(db_path)
    assert reader.storage.is_segmented("events")
    st = os.stat(db_path)
    writer = open_db(db_path)
    writer.table("events").insert({"incident_id": "i1", "text": "after"})
    writer.storage.compact()
    writer.table("events").insert({"incident_id": "i2", "text": "later"})
    writer.storage.compact()  # two generations on: the reader cannot follow the journal, it reloads
    writer.close()
    assert st.st_ino not in {ino for ino, _ in cuts}  # the reader still has it

    # The reader's reload drops the last fd of the old file: cut in chunks, with its lock
    # released (a writer's journal sync must not wait on the lock behind the freeing).
    depths: list[int] = []
    cut = core.release_replaced

    def release(fd):
        depths.append(reader.storage._lock_depth)
        cut(fd)

    monkeypatch.setattr(core, "release_replaced", release)
    assert reader.storage.refresh() is True
    lengths = [length for ino, length in cuts if ino == st.st_ino]
    assert lengths and lengths[0] == st.st_size - CHUNK and lengths[-1] == 0
    assert depths and set(depths) == {0}
    assert texts(reader) == [*want, "after", "later"]
    reader.close()
