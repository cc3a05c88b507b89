"""Lock waits have a deadline and name the holder (a stopped process must not hang everyone)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest

from incident_tui.store.storage import LockTimeoutError, StoreError, open_db, transaction

# Opens the DB, enters a transaction (the exclusive lock), says so, then waits for stdin to close.
HOLD_IN_TRANSACTION = """
import sys
from incident_tui.store.storage import open_db, transaction
db = open_db(sys.argv[1], holder_name=sys.argv[2])
with transaction(db):
    db.table("t").insert({"from": "holder"})
    print("holding", flush=True)
    sys.stdin.read()
db.close()
"""

# Takes the flock directly, as any other program could: no holder record in the lock file.
HOLD_RAW_FLOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_EX)
print("holding", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def holder():
    """Start a process holding the database lock; it is stopped/continued/killed by the test, reaped after."""
    procs: list[subprocess.Popen] = []

    def start(script: str, *args: str) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-c", script, *map(str, args)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        procs.append(proc)
        assert proc.stdout.readline().strip() == "holding"
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)
            proc.kill()
        proc.communicate()


def release(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGCONT)
    proc.communicate(input="")
    assert proc.returncode == 0


def test_stopped_writer_gives_a_timeout_naming_it(tmp_path, holder):
    path = tmp_path / "db.json"
    open_db(path).close()
    proc = holder(HOLD_IN_TRANSACTION, path, "incident-tui note")
    os.kill(proc.pid, signal.SIGSTOP)  # stopped inside its transaction
    with pytest.raises(LockTimeoutError) as info:
        open_db(path, lock_timeout=0.3)
    message = str(info.value)
    assert "\n" not in message
    assert f"pid {proc.pid} (incident-tui note)" in message and str(path) in message
    assert "is it stopped" in message
    assert info.value.holder.pid == proc.pid
    release(proc)
    db = open_db(path, lock_timeout=0.3)
    assert [d["from"] for d in db.table("t").all()] == ["holder"]
    db.close()


def test_writes_and_compaction_of_an_open_handle_time_out_then_recover(tmp_path, holder):
    path = tmp_path / "db.json"
    db = open_db(path, lock_timeout=0.3)
    db.table("t").insert({"n": 1})
    proc = holder(HOLD_IN_TRANSACTION, path, "incident-tui dashboard")
    for attempt in (lambda: db.table("t").insert({"n": 2}), db.storage.compact):
        with pytest.raises(LockTimeoutError, match=f"pid {proc.pid} \\(incident-tui dashboard\\)"):
            attempt()
    assert [d["n"] for d in db.table("t").all()] == [1]  # the failed write left nothing behind
    # nothing committed yet: a refresh needs no lock; once committed, a poll does not wait for it
    assert db.storage.refresh() is False
    assert db.storage.refresh(wait=False) is False
    release(proc)
    assert db.storage.refresh(wait=False) is True
    db.table("t").insert({"n": 3})
    assert sorted(d.get("n", 0) for d in db.table("t").all()) == [0, 1, 3]
    db.close()


def test_holder_without_a_record_is_found_by_pid(tmp_path, holder):
    path = tmp_path / "db.json"
    db = open_db(path, lock_timeout=0.2)
    proc = holder(HOLD_RAW_FLOCK, f"{path}.lock")
    with pytest.raises(LockTimeoutError) as info:
        db.table("t").insert({"n": 1})
    if os.path.exists("/proc/locks"):
        assert info.value.holder is not None and info.value.holder.pid == proc.pid
        assert f"pid {proc.pid}" in str(info.value)
    release(proc)
    db.table("t").insert({"n": 1})
    db.close()


def test_hostile_holder_record_is_printed_literally(tmp_path, holder):
    path = tmp_path / "db.json"
    db = open_db(path, lock_timeout=0.2)
    proc = holder(HOLD_IN_TRANSACTION, path, "evil\x1b]0;PWNED\x07\u202e name")
    with pytest.raises(LockTimeoutError) as info:
        db.table("t").insert({"n": 1})
    message = str(info.value)
    assert "\x1b" not in message and "\x07" not in message and "\u202e" not in message
    assert f"pid {proc.pid} (evil" in message
    release(proc)
    db.close()


def test_lock_wait_callback_sees_the_holder_and_can_abandon_the_wait(tmp_path, holder):
    path = tmp_path / "db.json"
    open_db(path).close()
    proc = holder(HOLD_IN_TRANSACTION, path, "incident-tui note")
    seen = []

    class Quit(Exception):
        pass

    def waiting(who, waited):
        seen.append(who)
        if len(seen) >= 3:
            raise Quit

    with pytest.raises(Quit):
        open_db(path, lock_timeout=60, on_lock_wait=waiting)
    assert seen[0] is not None and seen[0].pid == proc.pid
    release(proc)


def test_threads_of_one_process_take_turns_with_a_deadline(tmp_path):
    path = tmp_path / "db.json"
    db = open_db(path, lock_timeout=0.3)
    storage = db.storage
    held, done = threading.Event(), threading.Event()
    results = {}

    def hold():
        with storage.hold_lock():
            # A transaction in the holding thread reuses the lock.
            with transaction(db):
                db.table("t").insert({"by": "holder"})
            held.set()
            done.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(10)
    results["refresh"] = storage.refresh(wait=False)
    with pytest.raises(LockTimeoutError, match="another thread of this process"):
        db.table("t").insert({"by": "main"})
    done.set()
    thread.join(10)
    assert results["refresh"] is False
    db.table("t").insert({"by": "main"})
    assert [d["by"] for d in db.table("t").all()] == ["holder", "main"]
    db.close()


def test_closed_handle_releases_a_waiter(tmp_path):
    db = open_db(tmp_path / "db.json")
    db.close()
    with pytest.raises(StoreError, match="closed"):
        db.table("t").insert({"n": 1})


# ------------------------------------------------------------------------- CLI


@pytest.mark.parametrize("command", [["list"], ["note", "INC-20261125-001", "hello"]])
def test_cli_exits_non_zero_naming_the_holder(tmp_path, holder, run_cli, command):
    path = tmp_path / "db.json"
    open_db(path).close()
    proc = holder(HOLD_IN_TRANSACTION, path, "incident-tui note")
    os.kill(proc.pid, signal.SIGSTOP)
    result = run_cli("--db", path, *command, env={"INCIDENT_TUI_LOCK_TIMEOUT": "0.5"})
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert f"locked by pid {proc.pid} (incident-tui note)" in result.stderr
    release(proc)


def test_cli_lock_timeout_from_the_config_file_and_holder_name(tmp_path, holder, run_cli):
    path = tmp_path / "db.json"
    open_db(path).close()
    config = tmp_path / "config.toml"
    config.write_text("lock_timeout = 0.5\n")
    proc = holder(HOLD_RAW_FLOCK, f"{path}.lock")
    result = run_cli("--config", config, "--db", path, "list")
    assert result.returncode == 1 and "locked by pid" in result.stderr
    release(proc)
    # The CLI names itself in the lock file while it holds the lock.
    result = run_cli("--config", config, "--db", path, "declare", "--title", "t", "--prompt", "p",
                     "--new-prompt", "--severity", "P2", "--detected-by", "manual")
    assert result.returncode == 0, result.stderr
    with open(f"{path}.lock", "rb") as fh:
        record = fh.read().decode()
    assert record.split()[1:3] == ["incident-tui", "declare"]


def test_cli_bad_lock_timeout_env_is_one_line(tmp_path, run_cli):
    result = run_cli("--db", tmp_path / "db.json", "list", env={"INCIDENT_TUI_LOCK_TIMEOUT": "soon"})
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "INCIDENT_TUI_LOCK_TIMEOUT" in result.stderr
