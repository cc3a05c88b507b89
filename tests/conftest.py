"""Shared fixtures: a fresh database per test, a settable clock, the real prompt history, steady cursors.

Also one rule for CI: with CI set, a skipped e2e test is a failure (a real-terminal test that
silently skips proves nothing).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from helpers import Clock

# The real OpenHands CodeAct system-prompt history (24 versions, two real rollbacks; MIT, see its
# README and LICENSE). Tests reach it only through the `openhands_history` fixture.
OPENHANDS_HISTORY = Path(__file__).resolve().parent / "data" / "openhands-codeact"

# A pytest-xdist worker (make test) starts with COLUMNS=80 and LINES=24 in its environment; a test run in
# one process has neither. Without them every worker sees what a single process sees (CLI widths, the
# size of a program started in tmux).
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 25, 14, 2, tzinfo=timezone(timedelta(hours=1))))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "incidents.json"


@pytest.fixture
def db(db_path: Path):
    from incident_tui.store.storage import open_db

    database = open_db(db_path)
    yield database
    database.close()


@pytest.fixture
def openhands_history() -> Path:
    """The directory of the real history: v01.j2 … v24.j2 and versions.tsv (file, commit, authored, subject)."""
    return OPENHANDS_HISTORY


@pytest.fixture(autouse=True)
def steady_cursors(monkeypatch):
    """No blinking cursor in Input or TextArea: a blink mid-snapshot would make screens differ by timing.

    Textual 8.2.8 has only a per-widget `cursor_blink` reactive, so the blink timers' callbacks are
    stubbed instead: the cursor stays shown, as it is right after a key press.
    """
    from textual.widgets import Input, TextArea

    monkeypatch.setattr(Input, "_toggle_cursor", lambda _self: None)
    monkeypatch.setattr(TextArea, "_toggle_cursor_blink_visible", lambda _self: None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not (os.environ.get("CI") and report.skipped and item.get_closest_marker("e2e")):
        return
    if hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = (
        f"e2e test skipped with CI set: {reason}\n"
        "CI must run the real-terminal tests: install what the reason names (.ci/run does), or unset CI locally."
    )


@pytest.fixture
def run(db_path):
    """Invoke the CLI in-process on the test's database; errors are one line on result.stderr."""
    from click.testing import CliRunner

    from incident_tui.cli import main

    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(main, ["--db", str(db_path), *args], input=input, catch_exceptions=False)

    return invoke
