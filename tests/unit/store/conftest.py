"""Fixtures for the store tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from incident_tui.store.storage import open_db

CHILD = Path(__file__).with_name("_child.py")
PROGRAM = Path(sys.executable).parent / "incident-tui"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Path of a database that does not exist yet (in a not-yet-created dir)."""
    return tmp_path / "data" / "incidents.json"


@pytest.fixture
def db(db_path: Path):
    """A freshly created database, closed after the test."""
    handle = open_db(db_path)
    yield handle
    handle.close()


@pytest.fixture
def run_child():
    """Run the worker script (_child.py) to completion; returns the CompletedProcess."""

    def run(*args) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(CHILD), *map(str, args)], check=True, capture_output=True, text=True, timeout=60
        )

    return run


@pytest.fixture
def spawn_child():
    """Start the worker script with stdout piped; killed at teardown if still running."""
    procs: list[subprocess.Popen] = []

    def spawn(*args) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, str(CHILD), *map(str, args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        return proc

    yield spawn
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


@pytest.fixture
def run_cli(tmp_path):
    """Run the installed CLI as a separate process, with no user config."""
    if not PROGRAM.exists():
        pytest.skip(f"the installed program is missing: {PROGRAM.name} beside the test interpreter")

    def run(*args, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
        full_env = {**os.environ, "INCIDENT_TUI_CONFIG": str(tmp_path / "no-config.toml"), **(env or {})}
        return subprocess.run(
            [str(PROGRAM), *map(str, args)],
            capture_output=True, text=True, timeout=timeout, env=full_env,
        )

    return run
