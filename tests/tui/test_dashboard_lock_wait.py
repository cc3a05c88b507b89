"""The dashboard while another process holds (or sits stopped on) the database lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from helpers import settle

from incident_tui.config import Config
from incident_tui.tui.widgets.header import StatusHeader
from incident_tui.tui.widgets.incident_list import IncidentList

HOLD_IN_TRANSACTION = """
import sys
from incident_tui.store.storage import open_db, transaction
db = open_db(sys.argv[1], holder_name="incident-tui note")
with transaction(db):
    print("holding", flush=True)
    sys.stdin.read()
db.close()
"""


@pytest.fixture
def holder():
    """A second process holding the database lock inside a transaction until released."""
    procs: list[subprocess.Popen] = []

    def start(path, stop: bool = False) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-c", HOLD_IN_TRANSACTION, str(path)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        procs.append(proc)
        assert proc.stdout.readline().strip() == "holding"
        if stop:
            os.kill(proc.pid, signal.SIGSTOP)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)
            proc.kill()
        proc.communicate()


def release(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGCONT)
    proc.communicate(input="")


def header_text(app) -> str:
    return str(app.query_one(StatusHeader).render())


async def wait_for(pilot, condition, what: str) -> None:
    for _ in range(400):
        if condition():
            return
        await pilot.pause(0.025)
    raise AssertionError(f"never: {what}")


@pytest.fixture
def seeded(db_path):
    from incident_tui.demo import seed_demo
    from incident_tui.store.storage import open_db

    db = open_db(db_path)
    seed_demo(db)
    db.close()
    return db_path


def make_app(path, lock_timeout: float):
    from incident_tui.tui.app import IncidentApp

    return IncidentApp(db_path=path, config=Config(user="ana", lock_timeout=lock_timeout), poll_interval=0,
                       selection_delay=0)


async def test_opening_waits_visibly_and_q_quits_at_once(seeded, holder):
    proc = holder(seeded, stop=True)
    app = make_app(seeded, lock_timeout=120)  # if q did not quit, the open would fail (exit 1) much later
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_for(pilot, lambda: f"held by pid {proc.pid} (incident-tui note)" in header_text(app),
                       "the waiting line names the holder")
        assert "waiting for the database lock" in header_text(app)
        await pilot.press("n", "x", "r")  # app keys are off while opening: nothing happens
        await pilot.press("q")
    assert app.return_code == 0 and app.load_error == ""
    assert app.service is None
    release(proc)


async def test_ctrl_c_quits_while_opening(seeded, holder):
    proc = holder(seeded, stop=True)
    app = make_app(seeded, lock_timeout=120)
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_for(pilot, lambda: "waiting for the database lock" in header_text(app), "waiting")
        await pilot.press("ctrl+c")
    assert app.return_code == 0 and app.load_error == ""
    release(proc)


async def test_lock_timeout_while_opening_exits_1_naming_the_holder(seeded, holder):
    proc = holder(seeded, stop=True)
    app = make_app(seeded, lock_timeout=0.5)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.return_code is not None, "the app ends")
    assert app.return_code == 1
    assert f"locked by pid {proc.pid} (incident-tui note)" in app.load_error and "\n" not in app.load_error
    release(proc)


async def test_refresh_and_writes_do_not_freeze_the_screen_while_another_process_holds_the_lock(seeded, holder):
    from incident_tui.store.storage import open_db

    app = make_app(seeded, lock_timeout=120)
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_for(pilot, lambda: app.service is not None, "the database opens")
        await pilot.pause()
        first = app.current.id
        # Another terminal declares an incident, then a process stops while holding the lock.
        other = open_db(seeded)
        from incident_tui.services.incidents import IncidentService

        declared = IncidentService(other).declare(title="declared elsewhere", prompt_id="faq-answer",
                                                  severity="P1", detected_by="manual")
        other.close()
        proc = holder(seeded, stop=True)
        app.poll_store()  # must not wait for the stopped holder
        assert declared.id not in [i.id for i in app.query_one(IncidentList).incidents]
        # A note waits for the lock in its worker; the screen keeps answering meanwhile.
        await pilot.press("n", *"typed while locked", "enter")
        await wait_for(pilot, lambda: f"held by pid {proc.pid}" in header_text(app), "the write says it waits")
        await pilot.press("escape", "1", "down")
        assert app.current.id != first  # reads and keys still work
        await pilot.press("up")
        release(proc)
        for _ in range(2):
            await app.workers.wait_for_complete()
            await pilot.pause()
        assert "typed while locked" in [e.text for e in app.service.timeline(first)]
        assert "waiting for the database lock" not in header_text(app)
        app.poll_store()  # off the UI thread: wait for its worker and the refresh it asks for
        await settle(pilot)
        assert declared.id in [i.id for i in app.query_one(IncidentList).incidents]


async def test_a_write_that_times_out_is_a_notification_not_a_stuck_spinner(seeded, holder):
    app = make_app(seeded, lock_timeout=0.5)
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_for(pilot, lambda: app.service is not None, "the database opens")
        await pilot.pause()
        incident_id = app.current.id
        proc = holder(seeded, stop=True)
        await pilot.press("n", *"lost?", "enter")
        await wait_for(pilot, lambda: not app.busy and app._notifications, "the write gives up")
        messages = [str(n.message) for n in app._notifications]
        assert any(f"locked by pid {proc.pid}" in m for m in messages)
        release(proc)
        assert "lost?" not in [e.text for e in app.service.timeline(incident_id)]
        assert app.query_one("#note").value == "lost?"  # the words stay in the line to retry
