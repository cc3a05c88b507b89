"""A stopped process holding the database lock, seen from a real terminal: the dashboard says who holds it,
q quits at once, and a short deadline ends it with one line naming the holder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

PROGRAM = str(Path(sys.executable).parent / "incident-tui")
HOLD = """
import sys
from incident_tui.store.storage import open_db, transaction
db = open_db(sys.argv[1], holder_name="incident-tui note")
with transaction(db):
    print("holding", flush=True)
    sys.stdin.read()
"""


@pytest.fixture
def stopped_holder(terminal):
    db = terminal.env["INCIDENT_TUI_DB"]
    subprocess.run([PROGRAM, "list"], env=terminal.env, check=True, capture_output=True)  # create the db
    proc = subprocess.Popen([sys.executable, "-c", HOLD, db], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=terminal.env)
    assert proc.stdout.readline().strip() == "holding"
    os.kill(proc.pid, signal.SIGSTOP)
    yield proc
    os.kill(proc.pid, signal.SIGCONT)
    proc.kill()
    proc.communicate()


def test_dashboard_waits_visibly_and_q_quits(terminal, stopped_holder):
    terminal.start("main", ["sh", "-c", f"{PROGRAM}; echo exit=$?; sleep 60"])
    terminal.wait_for(f"waiting for the database lock held by pid {stopped_holder.pid} (incident-tui note)")
    terminal.keys("q")
    terminal.wait_for("exit=0")


def test_dashboard_lock_deadline_exits_1_with_one_line(terminal, stopped_holder):
    terminal.start("main", ["sh", "-c", f"INCIDENT_TUI_LOCK_TIMEOUT=1 {PROGRAM}; echo exit=$?; sleep 60"])
    screen = terminal.wait_for("exit=1")
    assert f"is locked by pid {stopped_holder.pid} (incident-tui note) for 1 s" in screen.replace("\n", "")
