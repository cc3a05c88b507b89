"""Containment hooks: the user's own rollback / kill-switch command, run without a shell."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from incident_tui.domain.text import clean

TAIL_CHARS = 300


@dataclass(frozen=True)
class HookResult:
    name: str
    ok: bool
    exit_code: int | None  # None when it timed out or could not start
    seconds: float
    tail: str


def hook_name(argv: list[str]) -> str:
    return Path(argv[0]).name if argv else "hook"


def run_hook(argv: list[str], env: dict[str, str], timeout: float) -> HookResult:
    """Run ``argv`` (no shell) with ``env`` added to the environment; never raises.

    The output tail (stdout and stderr, last few hundred characters) is kept for the timeline.
    """
    import subprocess  # here, not at the top: commands without a hook never pay for it

    name = hook_name(argv)
    started = time.monotonic()
    try:
        proc = subprocess.run(
            argv,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"") + (exc.stderr or b"")
        tail = f"timed out after {timeout:g} s " + _tail(out)
        return HookResult(name, False, None, time.monotonic() - started, tail.strip())
    except OSError as exc:
        return HookResult(name, False, None, time.monotonic() - started, f"could not start: {exc.strerror or exc}")
    out = (proc.stdout or b"") + (proc.stderr or b"")
    return HookResult(name, proc.returncode == 0, proc.returncode, time.monotonic() - started, _tail(out))


def _tail(output: bytes) -> str:
    text = clean(output.decode("utf-8", "replace"))
    text = " ".join(text.split())
    return text[-TAIL_CHARS:]
