"""Containment hooks as real shell scripts: exit decides, timeouts kill the whole group, output is capped."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from incident_tui.config import Config, HookConfig
from incident_tui.services.hooks import MAX_OUTPUT_BYTES, TAIL_CHARS, _Output, run_hook
from incident_tui.services.incidents import IncidentService
from incident_tui.services.prompts import PromptService

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="process groups are POSIX")


def script(tmp_path: Path, name: str, body: str) -> list[str]:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return [str(path)]


def running(pid: int) -> bool:
    """Alive and not a zombie (a zombie has exited; only its parent's reaping is pending)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return state not in ("Z", "X")


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group, from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def pids_in(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()]


@pytest.fixture
def cleanup():
    """Pids a test started in the background; anything a failing test leaves is killed here."""
    started: list[int] = []
    yield started
    for pid in started:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_a_hook_that_backgrounds_a_child_and_exits_0_is_ok_at_once(tmp_path, cleanup):
    pid_file = tmp_path / "pid"
    argv = script(tmp_path, "bg.sh", f"sleep 300 &\necho $! > {pid_file}\necho started\nexit 0\n")
    result = run_hook(argv, {}, timeout=20)
    cleanup.extend(pids_in(pid_file))
    # Done when the hook exited, not when its child closes the pipe 300 s from now (waiting
    # for the pipe ran into the 20 s timeout: "timed out", not contained).
    assert result.ok and result.exit_code == 0 and result.tail == "started"
    assert running(pids_in(pid_file)[0])  # a child left on purpose by a hook that succeeded is its business


def test_a_timed_out_hook_dies_with_every_process_it_started(tmp_path, cleanup):
    pid_file = tmp_path / "pids"
    argv = script(
        tmp_path, "hang.sh",
        f"sleep 301 &\necho $! >> {pid_file}\n(sleep 302; echo late) &\necho $! >> {pid_file}\n"
        f"echo $$ >> {pid_file}\necho working\nsleep 303\n",
    )
    result = run_hook(argv, {}, timeout=1, grace=1)
    pids = pids_in(pid_file)
    cleanup.extend(pids)
    assert not result.ok and result.exit_code is None
    assert result.tail.startswith("timed out after 1 s") and "working" in result.tail
    assert len(pids) == 3
    assert not [pid for pid in pids if running(pid)]
    if Path("/proc/self/stat").exists():  # the sleep inside the subshell too: nothing of the group is left
        assert group_members(pids[-1]) == []


def test_children_that_ignore_sigterm_get_sigkill(tmp_path, cleanup):
    pid_file = tmp_path / "pids"
    argv = script(
        tmp_path, "stubborn.sh",
        f"sh -c 'trap \"\" TERM; echo $$ >> {pid_file}; while :; do sleep 1; done' &\n"
        f"trap '' TERM\necho $$ >> {pid_file}\nwhile :; do sleep 1; done\n",
    )
    result = run_hook(argv, {}, timeout=1, grace=0.5)
    deadline = time.monotonic() + 5
    while not pid_file.exists() or len(pids_in(pid_file)) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    pids = pids_in(pid_file)
    cleanup.extend(pids)
    assert result.exit_code is None
    assert not [pid for pid in pids if running(pid)]


def test_a_hook_that_closes_its_output_but_keeps_running_still_times_out(tmp_path, cleanup):
    pid_file = tmp_path / "pid"
    argv = script(tmp_path, "quiet.sh", f"echo $$ > {pid_file}\nexec >/dev/null 2>&1\nsleep 300\n")
    result = run_hook(argv, {}, timeout=1, grace=0.5)
    cleanup.extend(pids_in(pid_file))
    assert result.exit_code is None and not running(pids_in(pid_file)[0])


def test_ten_megabytes_of_output_keep_only_a_tail(tmp_path):
    argv = script(tmp_path, "loud.sh", "head -c 10000000 /dev/zero | tr '\\0' 'x'\necho\necho THE END >&2\nexit 3\n")
    result = run_hook(argv, {}, timeout=60)
    assert result.exit_code == 3 and not result.ok
    assert result.output_bytes > 10_000_000
    assert len(result.tail) <= TAIL_CHARS and result.tail.endswith("THE END")


def test_kept_output_is_bounded_while_reading():
    out = _Output()
    for _ in range(200):
        out.add(b"y" * 100_000)
    out.add(b"last")
    assert len(out.kept) == MAX_OUTPUT_BYTES and out.kept.endswith(b"last") and out.total == 20_000_004


def test_a_hook_that_cannot_start_says_why(tmp_path):
    not_executable = tmp_path / "hook.sh"
    not_executable.write_text("#!/bin/sh\n")
    for argv in ([str(tmp_path / "missing.sh")], [str(not_executable)]):
        result = run_hook(argv, {}, timeout=5)
        assert not result.ok and result.exit_code is None and result.tail.startswith("could not start")


def test_the_environment_reaches_the_hook(tmp_path):
    argv = script(tmp_path, "env.sh", 'echo "$PROMPT_ID $TO_VERSION"\n')
    assert run_hook(argv, {"PROMPT_ID": "p", "TO_VERSION": "6"}, timeout=10).tail == "p 6"


def test_a_loud_hook_does_not_bloat_the_database(db, db_path, clock, tmp_path):
    prompts = PromptService(db, clock=clock)
    for n in range(1, 3):
        prompts.add("p", f"text {n}\n")
    argv = script(tmp_path, "loud.sh", "head -c 10000000 /dev/zero | tr '\\0' 'z'\n")
    svc = IncidentService(db, config=Config(hooks=HookConfig(rollback=argv, timeout=60)), clock=clock)
    incident = svc.declare(title="t", prompt_id="p", version=2, severity="P1", detected_by="alert")
    result = svc.rollback(incident.id)
    assert result.contained
    hook_line = [e for e in svc.timeline(incident.id) if e.kind.value == "hook"][0]
    assert len(hook_line.text) < TAIL_CHARS + 100
    on_disk = sum(p.stat().st_size for p in db_path.parent.iterdir() if p.name.startswith(db_path.name))
    assert on_disk < 100_000
