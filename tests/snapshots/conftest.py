"""Snapshot fixtures: the demo at a fixed time, so every run paints the same screen."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from incident_tui.config import Config
from incident_tui.demo import seed_demo

SNAP_NOW = datetime(2026, 11, 25, 14, 30, tzinfo=timezone(timedelta(hours=1)))


@pytest.fixture
def demo_app(tmp_path):
    from incident_tui.store.storage import open_db
    from incident_tui.tui.app import IncidentApp

    db = open_db(tmp_path / "snap.json")
    seed_demo(db, now=SNAP_NOW)
    app = IncidentApp(db=db, config=Config(user="ana"), clock=lambda: SNAP_NOW, poll_interval=0, selection_delay=0)
    yield app
    db.close()
