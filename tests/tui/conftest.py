"""Dashboard fixtures: the demo seeded at a fixed time, an app on it that never polls by itself."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from helpers import Clock

from incident_tui.config import Config
from incident_tui.demo import seed_demo

FIXED_NOW = datetime(2026, 11, 25, 14, 30, tzinfo=timezone(timedelta(hours=1)))


@pytest.fixture
def demo_db(db):
    seed_demo(db, now=FIXED_NOW)
    return db


@pytest.fixture
def make_app(demo_db):
    from incident_tui.tui.app import IncidentApp

    def make(config: Config | None = None, db=None):
        return IncidentApp(db=db or demo_db, config=config or Config(user="ana"), clock=Clock(FIXED_NOW),
                           poll_interval=0, selection_delay=0)

    return make
