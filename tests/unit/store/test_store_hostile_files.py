"""Hostile paths: a symlinked DB, symlinked or non-regular journal/lock/temp files, an emptied snapshot."""

from __future__ import annotations

import errno
import hashlib
import os
import stat

import pytest

from incident_tui.store import storage as storage_mod
from incident_tui.store.storage import (
    CorruptDatabaseError,
    StoreError,
    UnsafeFileError,
    open_db,
    transaction,
)


def state(*paths) -> list:
    """Bytes and mtime of each path (lstat for links), to prove nothing was touched."""
    out = []
    for p in paths:
        st = os.lstat(p)
        if os.path.islink(p):
            out.append((str(p), "link", os.readlink(p), st.st_mtime_ns))
        else:
            with open(p, "rb") as fh:
                out.append((str(p), hashlib.sha256(fh.read()).hexdigest(), st.st_mtime_ns, st.st_size))
    return out


def one_line(exc: BaseException) -> str:
    message = str(exc)
    assert message and "\n" not in message
    return message


# ------------------------------------------------------ a symlinked database path


def alloc_id(db) -> str:
    """The incident service's way: next INC number inside one transaction."""
    with transaction(db):
        table = db.table("incidents")
        n = max((int(d["id"].rsplit("-", 1)[1]) for d in table.all()), default=0) + 1
        new_id = f"INC-20261125-{n:03d}"
        table.insert({"id": new_id})
    return new_id


def test_symlinked_db_shares_journal_and_lock_with_its_target(tmp_path):
    real = tmp_path / "real.json"
    link = tmp_path / "link.json"
    via_real = open_db(real)
    link.symlink_to(real)
    via_link = open_db(link)
    assert via_link.storage.journal_path == via_real.storage.journal_path == f"{real}.journal"
    assert not (tmp_path / "link.json.journal").exists() and not (tmp_path / "link.json.lock").exists()
    ids = []
    for i in range(12):
        ids.append(alloc_id(via_link if i % 2 else via_real))
        if i == 5:
            via_real.storage.compact()
        if i == 9:
            via_link.storage.compact()
    assert len(set(ids)) == 12
    for handle in (via_real, via_link):
        handle.storage.refresh()
        assert sorted(d["id"] for d in handle.table("incidents").all()) == sorted(ids)
    via_real.close()
    via_link.close()
    assert os.path.islink(link)  # the link itself is never replaced by a compaction
    for path in (real, link):
        again = open_db(path)
        assert sorted(d["id"] for d in again.table("incidents").all()) == sorted(ids)
        again.close()


def test_symlinked_db_from_two_processes_hands_out_distinct_ids(tmp_path, spawn_child):
    real = tmp_path / "real.json"
    open_db(real).close()
    link = tmp_path / "link.json"
    link.symlink_to(real)
    procs = [spawn_child("alloc", link, 40), spawn_child("alloc", real, 40)]
    outs = [p.communicate(timeout=120)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    ids = outs[0] + outs[1]
    assert len(ids) == 80 and len(set(ids)) == 80
    for path in (real, link):
        db = open_db(path)
        assert sorted(d["id"] for d in db.table("incidents").all()) == sorted(ids)
        db.close()


# ------------------------------------------------ an emptied or missing snapshot


@pytest.fixture
def big_first_record(tmp_path):
    """A database whose journal's first record is over 1 MiB (a big prompt added first), and a second one."""
    path = tmp_path / "db.json"
    db = open_db(path)
    db.table("prompts").insert({"text": "p" * 1_200_000})
    db.table("incidents").insert({"id": "INC-20261125-001"})
    db.close()
    assert os.path.getsize(f"{path}.journal") > (1 << 20)
    return path


@pytest.mark.parametrize("how", ["emptied", "deleted"])
def test_snapshot_gone_but_journal_has_big_records_is_refused(big_first_record, how):
    path = big_first_record
    journal = f"{path}.journal"
    if how == "emptied":
        path.write_bytes(b"")
        before = state(path, journal)
    else:
        path.unlink()
        before = state(journal)
    for _ in range(2):  # a second try must not have changed anything either
        with pytest.raises(CorruptDatabaseError) as info:
            open_db(path)
        message = one_line(info.value)
        assert str(path) in message and journal in message and "records" in message
    assert state(*([path, journal] if how == "emptied" else [journal])) == before
    assert how == "emptied" or not path.exists()


def test_snapshot_emptied_with_a_foreign_journal_is_refused(tmp_path):
    path = tmp_path / "db.json"
    path.write_bytes(b"")
    journal = tmp_path / "db.json.journal"
    journal.write_bytes(b"x" * 5000)  # no newline at all: not a torn header either
    before = state(path, journal)
    with pytest.raises(CorruptDatabaseError, match="not an incident-tui journal"):
        open_db(path)
    assert state(path, journal) == before


def test_snapshot_emptied_with_a_header_only_journal_is_a_new_database(tmp_path):
    path = tmp_path / "db.json"
    open_db(path).close()  # journal = header only: every record was in the snapshot
    path.write_bytes(b"")
    db = open_db(path)
    assert db.table("incidents").all() == []
    db.close()


def test_cli_list_on_an_emptied_snapshot_fails_and_keeps_the_journal(big_first_record, run_cli):
    path = big_first_record
    path.write_bytes(b"")
    before = state(path, f"{path}.journal")
    result = run_cli("--db", path, "list")
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1 and f"{path}.journal" in result.stderr
    assert state(path, f"{path}.journal") == before


# ------------------------------------- symlinked or non-regular journal, lock, temp


@pytest.mark.parametrize("suffix", [".journal", ".lock"])
def test_symlinked_sibling_is_refused_and_its_target_untouched(tmp_path, suffix):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    path = tmp_path / "new.json"
    sibling = tmp_path / f"new.json{suffix}"
    sibling.symlink_to(victim)
    before = state(victim, sibling)
    with pytest.raises(UnsafeFileError) as info:
        open_db(path)
    message = one_line(info.value)
    assert str(sibling) in message and "symbolic link" in message
    assert state(victim, sibling) == before
    assert victim.read_text() == "precious\n"


@pytest.mark.parametrize("suffix", [".journal", ".lock"])
def test_dangling_symlinked_sibling_is_not_created(tmp_path, suffix):
    target = tmp_path / "elsewhere.txt"
    sibling = tmp_path / f"new.json{suffix}"
    sibling.symlink_to(target)
    with pytest.raises(UnsafeFileError):
        open_db(tmp_path / "new.json")
    assert not target.exists()


def test_symlinked_journal_of_an_existing_database_is_refused(tmp_path):
    path = tmp_path / "db.json"
    db = open_db(path)
    db.table("t").insert({"a": 1})
    db.close()
    journal = tmp_path / "db.json.journal"
    journal.rename(tmp_path / "moved.journal")
    journal.symlink_to(tmp_path / "moved.journal")
    before = state(path, tmp_path / "moved.journal")
    with pytest.raises(UnsafeFileError, match="journal"):
        open_db(path)
    assert state(path, tmp_path / "moved.journal") == before


@pytest.mark.parametrize("kind", ["fifo", "directory"])
@pytest.mark.parametrize("suffix", [".journal", ".lock"])
def test_non_regular_sibling_is_refused(tmp_path, suffix, kind):
    sibling = tmp_path / f"new.json{suffix}"
    if kind == "fifo":
        os.mkfifo(sibling)
    else:
        sibling.mkdir()
    with pytest.raises(UnsafeFileError) as info:
        open_db(tmp_path / "new.json")  # a FIFO must not hang the open either
    message = one_line(info.value)
    assert str(sibling) in message and ("FIFO" in message or "directory" in message)
    assert (os.path.isdir(sibling) if kind == "directory" else not os.path.isfile(sibling))


def char_device(tmp_path) -> str:
    """A character device to point the DB at, that a broken store could only damage in tmp_path.

    As root (where /dev/null itself could be replaced) a private null device node; otherwise
    /dev/null, which an unprivileged process cannot replace.
    """
    if os.geteuid() != 0:
        return "/dev/null"
    node = tmp_path / "null-device"
    os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    return str(node)


@pytest.mark.parametrize("kind", ["fifo", "directory", "device"])
def test_non_regular_snapshot_is_refused_and_kept(tmp_path, kind):
    if kind == "device":
        path = char_device(tmp_path)
    else:
        path = str(tmp_path / "db.json")
        os.mkfifo(path) if kind == "fifo" else os.mkdir(path)
    mode = os.stat(path).st_mode
    with pytest.raises(UnsafeFileError) as info:
        open_db(path)
    message = one_line(info.value)
    assert path in message and "not a regular file" in message
    assert os.stat(path).st_mode == mode
    assert not os.path.lexists(f"{path}.journal") and not os.path.lexists(f"{path}.lock")


def test_symlink_to_a_device_is_refused(tmp_path):
    device = char_device(tmp_path)
    link = tmp_path / "db.json"
    link.symlink_to(device)
    with pytest.raises(UnsafeFileError, match="character device"):
        open_db(link)
    assert not os.path.lexists(f"{device}.journal") and not os.path.lexists(f"{device}.lock")
    assert stat.S_ISCHR(os.stat(device).st_mode)


def test_compaction_never_writes_through_a_symlinked_temp_name(tmp_path, monkeypatch):
    path = tmp_path / "db.json"
    db = open_db(path)
    db.table("t").insert({"a": 1})
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    monkeypatch.setattr(storage_mod.secrets, "token_hex", lambda n: "guessed")
    planted = tmp_path / f"db.json.compact-{os.getpid()}-guessed.tmp"
    planted.symlink_to(victim)
    with pytest.raises(FileExistsError):
        db.storage.compact()
    assert victim.read_text() == "precious\n" and os.path.islink(planted)
    assert [d["a"] for d in db.table("t").all()] == [1]
    db.close()


def test_temp_names_are_random(tmp_path, monkeypatch):
    names = []
    real_open = os.open

    def spy(p, *args, **kwargs):
        if ".compact-" in str(p):
            names.append(str(p))
        return real_open(p, *args, **kwargs)

    db = open_db(tmp_path / "db.json")
    monkeypatch.setattr(storage_mod.os, "open", spy)
    db.storage.compact()
    db.storage.compact()
    monkeypatch.undo()
    db.close()
    assert len(names) == 2 and names[0] != names[1]


def test_snapshot_swapped_for_a_fifo_is_not_replaced_by_compaction(tmp_path):
    path = tmp_path / "db.json"
    db = open_db(path)
    db.table("t").insert({"a": 1})
    path.unlink()
    os.mkfifo(path)
    with pytest.raises(UnsafeFileError):
        db.storage._compact_locked()  # under no lock: only the file-type guard is tested
    assert not path.is_file() and os.path.exists(path)
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    db.close()


# ------------------------------------------------ OSErrors name the file they are about


def test_permission_error_on_the_journal_names_the_journal(tmp_path, monkeypatch):
    path = tmp_path / "db.json"
    open_db(path).close()
    journal = f"{path}.journal"
    real_open = os.open

    def deny(p, flags, *args, **kwargs):
        if os.fspath(p) == journal:
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(p))
        return real_open(p, flags, *args, **kwargs)

    monkeypatch.setattr(storage_mod.os, "open", deny)
    with pytest.raises(StoreError) as info:
        open_db(path)
    message = one_line(info.value)
    assert f"{journal}: Permission denied" in message


def test_fd_level_errors_name_the_journal(tmp_path, monkeypatch):
    path = tmp_path / "db.json"
    db = open_db(path)
    other = open_db(path)
    other.table("t").insert({"a": 1})

    def broken(*args):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(storage_mod.os, "pread", broken)
    with pytest.raises(OSError) as info:
        db.storage.refresh()
    assert info.value.filename == f"{path}.journal"
    monkeypatch.undo()
    other.close()
    db.close()
