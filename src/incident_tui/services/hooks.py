"""Containment hooks: the user's own rollback / kill-switch command, run without a shell.

A hook runs in its own session (so in its own process group). What decides its outcome is
the hook process itself: it is done when it exits, even if a child it started in the
background still holds the output pipe open. When it runs past its timeout, the whole group
gets SIGTERM, then SIGKILL after a grace period, so no child it started can finish a rollback
after the app said it did not happen. Output is read as it comes and only the last
MAX_OUTPUT_BYTES are kept: a hook printing megabytes costs neither memory nor database.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from incident_tui.domain.text import clean

TAIL_CHARS = 300  # what the timeline keeps of the output
MAX_OUTPUT_BYTES = 64 * 1024  # what memory keeps while reading
KILL_GRACE_S = 2.0  # between SIGTERM and SIGKILL of a timed-out hook's group
_DRAIN_AFTER_EXIT_BYTES = 1024 * 1024  # read no more than this once the hook has exited
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class HookResult:
    name: str
    ok: bool
    exit_code: int | None  # None when it timed out or could not start
    seconds: float
    tail: str
    output_bytes: int = 0  # how much it printed in all (only the tail is kept)
    last_line: str = ""  # the last non-empty line it printed (a validate hook's pass rate), cleaned


def hook_name(argv: list[str]) -> str:
    return Path(argv[0]).name if argv else "hook"


class _Output:
    """The last ``limit`` bytes of a stream, and how many went by."""

    def __init__(self, limit: int = MAX_OUTPUT_BYTES) -> None:
        self.limit = limit
        self.kept = bytearray()
        self.total = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        self.kept += chunk
        if len(self.kept) > self.limit:
            del self.kept[: len(self.kept) - self.limit]


def run_hook(argv: list[str], env: dict[str, str], timeout: float, *, grace: float = KILL_GRACE_S) -> HookResult:
    """Run ``argv`` (no shell) with ``env`` added to the environment; never raises.

    The output tail (stdout and stderr together, last few hundred characters) is kept for
    the timeline.
    """
    name = hook_name(argv)
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except (OSError, ValueError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return HookResult(name, False, None, time.monotonic() - started, f"could not start: {detail}")
    output = _Output()
    try:
        exited = _read_until_exit(proc, output, started + timeout)
        if not exited:
            _kill_group(proc, grace)
            _drain(proc, output)
            tail = f"timed out after {timeout:g} s; the hook and every process it started were killed " + _tail(
                bytes(output.kept)
            )
            return HookResult(name, False, None, time.monotonic() - started, tail.strip(), output.total)
        _drain(proc, output)
    finally:
        if proc.stdout is not None:
            proc.stdout.close()
        if proc.returncode is None:  # an exception on the way: leave nothing running
            _kill_group(proc, 0)
    code = proc.returncode
    return HookResult(name, code == 0, code, time.monotonic() - started, _tail(bytes(output.kept)), output.total,
                      _last_line(bytes(output.kept)))


def _last_line(output: bytes) -> str:
    lines = [line.strip() for line in clean(output.decode("utf-8", "replace")).splitlines() if line.strip()]
    return lines[-1][-200:] if lines else ""


def _pidfd(pid: int) -> int | None:
    opener = getattr(os, "pidfd_open", None)
    if opener is None:
        return None
    try:
        return opener(pid)
    except OSError:
        return None


def _read_until_exit(proc: subprocess.Popen, output: _Output, deadline: float) -> bool:
    """Read output until the hook process exits (True) or the deadline passes (False).

    The end of the output is not the end of the hook, nor the reverse: a background child
    may keep the pipe open long after the hook exited, and a hook may close its output and
    keep running. A pidfd wakes us the moment the process exits; without one, we poll.
    """
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    os.set_blocking(fd, False)
    pidfd = _pidfd(proc.pid)
    selector = selectors.DefaultSelector()
    selector.register(fd, selectors.EVENT_READ, "out")
    if pidfd is not None:
        selector.register(pidfd, selectors.EVENT_READ, "exit")
    try:
        while proc.poll() is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            wait = remaining if pidfd is not None else min(remaining, 0.05)
            for key, _ in selector.select(wait):
                if key.data != "out":
                    continue
                chunk = _read(fd)
                if chunk is None:
                    continue
                if not chunk:  # every writer closed the pipe; the process may still be running
                    selector.unregister(fd)
                    continue
                output.add(chunk)
        return True
    finally:
        selector.close()
        if pidfd is not None:
            os.close(pidfd)


def _read(fd: int) -> bytes | None:
    try:
        return os.read(fd, _CHUNK)
    except BlockingIOError:
        return None
    except OSError:
        return b""


def _drain(proc: subprocess.Popen, output: _Output) -> None:
    """Take what is already in the pipe, without waiting for writers that are still alive."""
    if proc.stdout is None or proc.stdout.closed:
        return
    fd = proc.stdout.fileno()
    read = 0
    while read < _DRAIN_AFTER_EXIT_BYTES:
        chunk = _read(fd)
        if not chunk:  # empty now (None) or closed (b"")
            return
        read += len(chunk)
        output.add(chunk)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_group(proc: subprocess.Popen, grace: float) -> None:
    """SIGTERM the hook's whole process group, then SIGKILL whatever is left after ``grace``."""
    pgid = proc.pid  # start_new_session: the hook leads its own group
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    end = time.monotonic() + grace
    while time.monotonic() < end:
        proc.poll()  # reap the leader, or its zombie keeps the group "alive"
        if not _group_alive(pgid):
            break
        time.sleep(0.02)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL is not refused
        pass
    # SIGKILL is delivered asynchronously: wait (briefly) until no member of the group still
    # runs, so "timed out" is only reported once nothing the hook started can act any more.
    end = time.monotonic() + 2.0
    while _group_running(pgid) and time.monotonic() < end:
        time.sleep(0.01)


def _group_running(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (zombies have exited and do not count)."""
    if not _group_alive(pgid):
        return False
    try:
        entries = os.listdir("/proc")
    except OSError:  # no procfs: the group answering signals is all we know
        return True
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            stat = open(f"/proc/{entry}/stat", "rb").read()
        except OSError:
            continue
        fields = stat.rsplit(b")", 1)[-1].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


def _tail(output: bytes) -> str:
    text = clean(output.decode("utf-8", "replace"))
    text = " ".join(text.split())
    return text[-TAIL_CHARS:]
