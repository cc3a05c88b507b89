"""The postmortem form in a real terminal: a burst of keys, then kill -9 300 ms later."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from incident_tui.services.incidents import IncidentService
from incident_tui.services.postmortem import PostmortemService
from incident_tui.store.storage import open_db

pytestmark = pytest.mark.e2e

HEADER_AUTO = ("incident_id", "prompt_id", "prompt_version", "started_at", "ended_at", "duration", "severity",
               "prepared_by")


def load(env: dict[str, str], incident_id: str):
    db = open_db(env["INCIDENT_TUI_DB"])
    try:
        return PostmortemService(db, IncidentService(db)).load(incident_id)
    finally:
        db.close()


def app_pid(terminal) -> int:
    """The dashboard's own process: the pane's, or its child when a shell started it."""
    pid = int(terminal.tmux("display-message", "-p", "-t", "e2e:main", "#{pane_pid}").strip())
    for _ in range(3):
        if b"incident-tui" in Path(f"/proc/{pid}/cmdline").read_bytes():
            return pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pid = int(children[0])
    raise AssertionError("the dashboard process was not found under the tmux pane")


def test_tabs_and_text_in_one_burst_then_kill_9(terminal, run_cli):
    env = terminal.env
    seeded = run_cli(env, "demo", "--db", env["INCIDENT_TUI_DB"], "--no-open")
    assert seeded.returncode == 0, seeded.stderr
    terminal.start("main", [str(Path(sys.executable).parent / "incident-tui")])
    screen = terminal.wait_for("active · ")  # "N active · P1 INC-…": not the "0 active" of the first frame
    incident_id = next(w for w in screen.split() if w.startswith("INC-"))
    before = load(env, incident_id)

    terminal.keys("4")
    terminal.wait_for("1/11 HEADER")
    terminal.keys("Enter")  # into the form: the first field that takes typing (Review date)
    # Back to Incident ID, then what the responder did: eight Tabs and the text, all in one write.
    terminal.keys(*["BTab"] * 8)
    terminal.wait_for("override auto")  # on an auto field, the footer offers the override
    terminal.keys(*["Tab"] * 8, "next week")
    terminal.wait_for("next week")
    # q and z on an auto field: refused with a word, nothing quits or zooms.
    terminal.keys("BTab", "q", "z")
    terminal.wait_for("follows")  # "Prepared by follows the incident (auto): enter overrides it…"
    time.sleep(0.3)
    os.kill(app_pid(terminal), signal.SIGKILL)

    after = load(env, incident_id)
    assert after.get("review_date") == "next week"
    assert {k: after.get(k) for k in HEADER_AUTO} == {k: before.get(k) for k in HEADER_AUTO}
    assert not after.edited & set(HEADER_AUTO)
