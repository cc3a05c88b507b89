"""Shared fixtures: a fresh database per test, a settable clock, and the shared real data."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from helpers import Clock

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO / "tests" / "data" / "openhands-codeact"  # a copy, with its LICENSE


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
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not beside this checkout")
    return SHARED_DATA


@pytest.fixture
def run(db_path):
    """Invoke the CLI in-process on the test's database; errors are one line on result.stderr."""
    from click.testing import CliRunner

    from incident_tui.cli import main

    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(main, ["--db", str(db_path), *args], input=input, catch_exceptions=False)

    return invoke
