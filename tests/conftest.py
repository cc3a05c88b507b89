"""Shared fixtures: a fresh database per test, a settable clock, and the shared real data."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data" / "prompt-history" / "openhands-codeact-system-prompt"


class Clock:
    """A clock the test moves by hand: deterministic timelines without sleeping."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


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
