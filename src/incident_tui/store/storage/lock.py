"""Who holds the database lock, and what a timed-out wait for it says.

The exclusive holder writes "<pid> <name>" into the lock file, padded to a
fixed size so that one pwrite replaces the previous holder's record;
/proc/locks says who holds it when that is available.  Names from either are
outside text: they are kept to printable characters.
"""

from __future__ import annotations

import os
import sys

from incident_tui.store.storage.errors import LockHolder, LockTimeoutError, one_line

#: Seconds a lock wait lasts before :class:`LockTimeoutError` (a stopped or
#: hung process holding the lock must not hang everyone else silently).
DEFAULT_LOCK_TIMEOUT = 5.0
# Lock waits poll LOCK_NB with an exponential backoff up to this many seconds,
LOCK_POLL_MAX = 0.05
# ... but no more than LOCK_POLL_SHORT apart for the first LOCK_POLL_SHORT_FOR
# seconds: a holder (a commit, a compaction's swap) usually keeps the lock a
# few ms, and a coarser poll would add up to as much again to the wait.
LOCK_POLL_SHORT = 0.004
LOCK_POLL_SHORT_FOR = 1.0
# A wait is reported to on_lock_wait, with the holder looked up, once it has
# lasted this long: most waits are for a commit or a compaction's swap, over
# in a few ms, and the first read of /proc/locks in a process can itself take
# 10-20 ms, which would make such a wait several times longer.
LOCK_WAIT_REPORT_AFTER = 0.05
HOLDER_BYTES = 128


def printable(text: str, limit: int = 60) -> str:
    # Lock files and /proc are outside text: keep the name to printable
    # characters before it reaches a terminal.
    cleaned = "".join(c if c.isprintable() and c not in "\u2028\u2029" else "?" for c in text)
    cleaned = " ".join(cleaned.split())
    return cleaned[:limit] + ("…" if len(cleaned) > limit else "")


def default_holder_name() -> str:
    return os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"


def holder_record(holder_name: str | None) -> bytes:
    """What this process writes into the lock file while it holds it exclusively."""
    name = printable(holder_name or default_holder_name())
    return f"{os.getpid()} {name}".encode()[: HOLDER_BYTES - 1].ljust(HOLDER_BYTES - 1) + b"\n"


def _proc_name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm", "rb") as fh:
            return fh.read(64).decode("utf-8", "replace").strip()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def find_lock_holder(fd: int) -> LockHolder | None:
    """Who holds the flock on ``fd``'s file: /proc/locks when there is one, else the lock file's record."""
    recorded: LockHolder | None = None
    try:
        raw = os.pread(fd, HOLDER_BYTES, 0).decode("utf-8", "replace").strip()
        pid_text, _, name = raw.partition(" ")
        if pid_text.isdigit():
            recorded = LockHolder(int(pid_text), printable(name))
    except OSError:
        pass
    pids: list[int] = []
    try:
        st = os.fstat(fd)
        dev = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
        with open("/proc/locks", "rb") as fh:
            for line in fh.read().decode("ascii", "replace").splitlines():
                fields = line.split()
                # "1: FLOCK  ADVISORY  WRITE 1234 fd:01:567 0 EOF"; waiters have "->".
                if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == dev and fields[4].isdigit():
                    pids.append(int(fields[4]))
    except OSError:
        pids = []
    if pids:
        pid = recorded.pid if recorded is not None and recorded.pid in pids else pids[0]
        if recorded is not None and recorded.pid == pid and recorded.name:
            return recorded
        return LockHolder(pid, printable(_proc_name(pid)))
    if recorded is not None and _alive(recorded.pid):
        return recorded
    return None


def lock_timeout_error(db_path: str, holder: LockHolder | None, waited: float) -> LockTimeoutError:
    who = f"by {holder}" if holder is not None else "by another process"
    secs = f"{waited:.0f}" if waited >= 1 else f"{waited:.1f}"
    return LockTimeoutError(
        one_line(
            f"database {db_path} is locked {who} for {secs} s; is it stopped? kill it or retry "
            "(lock_timeout in the config or INCIDENT_TUI_LOCK_TIMEOUT waits longer)"
        ),
        holder,
        waited,
    )
