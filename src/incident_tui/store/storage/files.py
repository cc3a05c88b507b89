"""The database's files on disk: opening them safely, refusing what is not a regular file, syncing.

Every file of a database (snapshot, journal, lock, compaction temp files) is
opened with O_NOFOLLOW (created with O_EXCL, mode 0600); a symlink,
directory, FIFO, device or socket in its place is refused with
:class:`UnsafeFileError`, never followed, truncated or replaced.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import os
import stat
from collections.abc import Iterator

from incident_tui.store.storage.errors import unsafe

JOURNAL_SUFFIX = ".journal"
LOCK_SUFFIX = ".lock"
# Temp files of a compaction are ``<path>.compact-<pid>-<random>.tmp``.  They
# are written outside the lock, so one found at open may also be a live
# compaction of another process.  A live one holds a shared flock on its
# temp file until the swap, and is left alone; the others are leftovers of a
# crash, deleted at open (under the exclusive lock).
TMP_INFIX = ".compact-"
TMP_SUFFIX = ".tmp"
# The new journal a compaction writes, under the exclusive lock, is
# ``<path>.journal-<pid>-<random>.tmp`` until it is renamed over the journal.
JOURNAL_TMP_INFIX = JOURNAL_SUFFIX + "-"

datasync = getattr(os, "fdatasync", os.fsync)


# Why each kind of file that is not a regular one is refused, in the words of the error.
_REFUSED = (
    (stat.S_ISDIR, "is a directory"),
    (stat.S_ISFIFO, "is a FIFO (named pipe)"),
    (stat.S_ISCHR, "is a character device"),
    (stat.S_ISBLK, "is a block device"),
    (stat.S_ISSOCK, "is a socket"),
    (stat.S_ISLNK, "is a symbolic link"),
)


def refuse_kind(st: os.stat_result) -> str | None:
    """Why a file of this type is refused, or None for a regular file."""
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return None
    for is_kind, why in _REFUSED:
        if is_kind(mode):
            return why
    return "is not a regular file"


@contextlib.contextmanager
def naming(path: str) -> Iterator[None]:
    """Give an OSError from an fd-level call (no file name of its own) the file it is about."""
    try:
        yield
    except OSError as exc:
        if exc.filename is None:
            exc.filename = path
        raise


def stat_key(st: os.stat_result) -> tuple[int, int, int]:
    """What identifies one state of a snapshot or journal file.

    Snapshots are only ever replaced (new inode) and journals only appended
    to or reset, so (inode, size, mtime) identifies a state of either file.
    """
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def fsync_dir(dirname: str) -> None:
    fd = os.open(dirname, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


# A big file is written and synced this many bytes at a time (see write_synced):
# another process's fdatasync may wait for one chunk's writeback, which on a
# busy disk took up to 40-55 ms for 4 MB (a 500k-event snapshot, 190 MB: 190
# syncs, all outside the lock).
SYNC_CHUNK = 1024 * 1024


def write_synced(fd: int, data: bytes) -> None:
    """Write ``data`` and fsync it, syncing every SYNC_CHUNK bytes on the way.

    A snapshot is tens of MB.  Left dirty until one final fsync, all of it
    is flushed at once, and every other process's journal fdatasync meanwhile
    waits behind that flush (a filesystem journal commit must flush the
    data it orders): a writer would wait on the compaction after all, on the
    disk instead of on the lock.  Syncing as it goes keeps each flush small.
    """
    view = memoryview(data)
    for start in range(0, len(view), SYNC_CHUNK):
        write_all(fd, view[start:start + SYNC_CHUNK])
        if start + SYNC_CHUNK < len(view):
            datasync(fd)
    os.fsync(fd)


# A replaced snapshot nobody else has open is freed this many bytes at a time
# (see release_replaced).
FREE_CHUNK = 8 * 1024 * 1024
_F_SETLEASE = getattr(fcntl, "F_SETLEASE", None)


def release_replaced(fd: int) -> None:
    """Close an fd on a replaced (unlinked) database file; a big one is freed a chunk at a time first.

    The last close of a replaced snapshot frees its blocks, tens of MB, in
    one filesystem transaction; its commit (and, with online discard, the
    trim of every freed block) then holds up every other process's journal
    fdatasync: a writer would wait on the compaction after all, on the disk
    instead of on the lock.  Cutting the file from its end a chunk at a
    time, each cut synced, keeps each such commit small.  That is only done
    while nobody else can read the file: it has no name left, and a write
    lease is granted (the kernel refuses one while any other open file
    description of it exists, in any process; none can be opened later
    without a name).  Otherwise, or where leases are unsupported, it is
    just closed and whoever closes it last frees it.
    """
    try:
        st = os.fstat(fd)
        if _F_SETLEASE is not None and st.st_nlink == 0 and st.st_size > FREE_CHUNK:
            if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDONLY:
                # A reader's fd: cut through a writable one of its own (the
                # read-only one closed first, or the lease would count it).
                writable = os.open(f"/proc/self/fd/{fd}", os.O_RDWR | os.O_CLOEXEC)
                fd, old = writable, fd
                os.close(old)
            fcntl.fcntl(fd, _F_SETLEASE, fcntl.F_WRLCK)
            size = st.st_size
            while size > 0:
                size = max(0, size - FREE_CHUNK)
                os.ftruncate(fd, size)
                os.fsync(fd)
    except OSError:
        pass  # not ours alone, or no leases here: a plain close
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)


def close_fds(fds: list[int]) -> None:
    """Close every open fd of ``fds`` and mark it -1 (the list is shared with a finalizer).

    A snapshot replaced meanwhile that nobody else has open is freed in
    chunks (see release_replaced).
    """
    for i, fd in enumerate(fds):
        if fd >= 0:
            fds[i] = -1
            release_replaced(fd)


def refuse_unsafe_siblings(db_path: str) -> None:
    """Refuse a symlinked or special journal or lock file before either is created."""
    for sibling, what in ((db_path + JOURNAL_SUFFIX, "journal"), (db_path + LOCK_SUFFIX, "lock file")):
        try:
            kind = refuse_kind(os.lstat(sibling))
        except FileNotFoundError:
            continue
        if kind is not None:
            raise unsafe(db_path, sibling, what, kind)


def open_file(db_path: str, path: str, flags: int, what: str, *, create: bool = True) -> int:
    """Open one of the database's files, never through a symlink, never anything but a regular file.

    Created (O_EXCL, mode 0600) when missing and ``create``; the directory
    entry is made durable before the caller writes acknowledged data into
    it.  A symlink, directory, FIFO, device or socket is refused with
    :class:`UnsafeFileError` and left as it is.
    """
    # O_NONBLOCK: opening a FIFO must not hang; it is refused below anyway.
    base = flags | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
    created = False
    try:
        try:
            fd = os.open(path, base)
        except FileNotFoundError:
            if not create:
                raise
            try:
                fd = os.open(path, base | os.O_CREAT | os.O_EXCL, 0o600)
                created = True
            except FileExistsError:  # another process created it just now
                fd = os.open(path, base)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EISDIR, errno.ENXIO, errno.EOPNOTSUPP):
            try:
                kind = refuse_kind(os.lstat(path))
            except OSError:
                kind = None
            if kind is not None:
                raise unsafe(db_path, path, what, kind) from None
        raise
    try:
        st = os.fstat(fd)
        kind = refuse_kind(st)
        if kind is not None:
            raise unsafe(db_path, path, what, kind)
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        if created:
            fsync_dir(os.path.dirname(path))
    except BaseException:
        os.close(fd)
        raise
    return fd


def leftover_temps(db_path: str) -> list[str]:
    """Compaction temp files beside the database (of a crashed, or a live, compaction)."""
    return [path for infix in (TMP_INFIX, JOURNAL_TMP_INFIX)
            for path in glob.glob(glob.escape(db_path) + infix + "*" + TMP_SUFFIX)]


def write_temp(db_path: str, payload: bytes, infix: str = TMP_INFIX, held: dict[str, int] | None = None) -> str:
    """A new temp file beside the snapshot holding ``payload``, fsynced; its path.

    With ``held``, the file stays open with a shared flock on it (its fd
    stored in ``held`` under its path; the caller closes it), so that an
    open of the database meanwhile does not take it for a crash's leftover.
    """
    import secrets  # here, not at start-up: it imports hashlib and random (see the package's __getattr__)

    tmp = f"{db_path}{infix}{os.getpid()}-{secrets.token_hex(8)}{TMP_SUFFIX}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        with naming(tmp):
            try:
                if held is not None:
                    fcntl.flock(fd, fcntl.LOCK_SH)
                os.fchmod(fd, 0o600)  # exact mode whatever the umask
                write_synced(fd, payload)
            except BaseException:
                os.close(fd)
                raise
            if held is None:
                os.close(fd)
            else:
                held[tmp] = fd
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def remove_leftover_temps(db_path: str) -> None:
    """Delete the temp files of crashed compactions; a live compaction's (flocked) are left alone."""
    for leftover in leftover_temps(db_path):
        try:
            fd = os.open(leftover, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            continue
        except OSError:
            fd = -1  # a symlink or such in its place: the name goes, nothing is followed
        try:
            if fd >= 0:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # being written by a compaction in progress
            with contextlib.suppress(FileNotFoundError):
                os.unlink(leftover)
        finally:
            if fd >= 0:
                os.close(fd)


def replace_snapshot(db_path: str, tmp: str) -> None:
    """Rename the temp file over the snapshot and make it durable; the temp file is gone either way.

    Never replaces what is not a regular file (it was checked at open, but
    the path may have been swapped since).
    """
    replace_file(db_path, tmp, db_path, "snapshot")


def replace_file(db_path: str, tmp: str, path: str, what: str) -> None:
    """Rename the temp file over ``path`` (the database's ``what``) and make it durable; the temp file is gone either way."""
    try:
        try:
            kind = refuse_kind(os.lstat(path))
        except FileNotFoundError:
            kind = None
        if kind is not None:
            raise unsafe(db_path, path, what, kind)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with naming(path):
        fsync_dir(os.path.dirname(path))
