"""Real-terminal tests: the installed program in tmux, driven by send-keys, read by capture-pane.

Each test gets its own tmux server (its own socket), so nothing leaks between tests or into a
developer's own tmux. Waiting is always for a condition on the screen, with a generous limit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

PROGRAM = Path(sys.executable).parent / "incident-tui"
WAIT_LIMIT = 30.0


class Terminal:
    def __init__(self, socket: str, env: dict[str, str]) -> None:
        self.socket = socket
        self.env = env

    def tmux(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                              env=self.env, check=check)
        return proc.stdout

    def start(self, name: str, command: list[str], size=(120, 36)) -> None:
        cmd = " ".join(_quote(c) for c in command)
        if name == "main":
            self.tmux("new-session", "-d", "-s", "e2e", "-n", name, "-x", str(size[0]), "-y", str(size[1]), cmd)
            self.tmux("set-option", "-g", "set-clipboard", "on")
        else:
            self.tmux("new-window", "-d", "-t", "e2e", "-n", name, cmd)

    def keys(self, *keys: str, window: str = "main", literal: bool = False) -> None:
        args = ["send-keys", "-t", f"e2e:{window}"]
        if literal:
            args.append("-l")
        self.tmux(*args, "--", *keys)

    def type(self, text: str, window: str = "main") -> None:
        self.keys(text, window=window, literal=True)

    def screen(self, window: str = "main") -> str:
        return self.tmux("capture-pane", "-p", "-t", f"e2e:{window}")

    def wait_for(self, text: str, window: str = "main", gone: bool = False, limit: float = WAIT_LIMIT) -> str:
        deadline = time.monotonic() + limit
        while True:
            screen = self.screen(window)
            if (text in screen) != gone:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{'still' if gone else 'never'} saw {text!r} on screen:\n{screen}")
            time.sleep(0.1)

    def buffer(self) -> str:
        return self.tmux("show-buffer", check=False)

    def close(self) -> None:
        self.tmux("kill-server", check=False)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


@pytest.fixture
def terminal(tmp_path):
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (.ci/run installs it; locally: apt-get install tmux)")
    if not PROGRAM.exists():
        pytest.skip(f"the installed program is missing: {PROGRAM.name} beside the test interpreter")
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "INCIDENT_TUI_DB": str(tmp_path / "incidents.json"),
        "INCIDENT_TUI_CONFIG": str(tmp_path / "config.toml"),
        "HOME": str(tmp_path),
        "DISPLAY": "",
        "WAYLAND_DISPLAY": "",
    }
    env.pop("TMUX", None)
    # The program sizes itself from the tmux pane; COLUMNS/LINES (set in pytest-xdist workers) would override it.
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    term = Terminal(f"incident-e2e-{uuid.uuid4().hex[:8]}", env)
    yield term
    term.close()


@pytest.fixture
def run_cli():
    """Run the installed program with the terminal's environment (same db, same config)."""

    def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(PROGRAM), *args], capture_output=True, text=True, env=env, timeout=60)

    return run
