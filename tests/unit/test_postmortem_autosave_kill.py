"""Autosave survives kill -9: every save the service acknowledged is there after reopening.

A child process types a postmortem field by field (each keystroke one save, as the form's
debounced autosave would at worst) and prints an acknowledgement after each save returns. The
test kills it with SIGKILL after a number of acknowledgements, never after a time, then reopens
the database: the last acknowledged value of every field must be there (or a later one).

The form itself is tested the same way: a child runs the postmortem pane, types into a field
and stays in it; 300 ms after the last key it is killed, and the text must be in the store.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone

import pytest

from incident_tui.config import Config
from incident_tui.services.incidents import IncidentService
from incident_tui.services.postmortem import PostmortemService
from incident_tui.store.storage import open_db

CHILD = textwrap.dedent(
    """
    import json, sys
    from incident_tui.services.incidents import IncidentService
    from incident_tui.services.postmortem import PostmortemService
    from incident_tui.store.storage import open_db

    path, incident_id = sys.argv[1], sys.argv[2]
    db = open_db(path)
    pms = PostmortemService(db, IncidentService(db))
    fields = ["summary", "root_cause", "detection_why", "went_well", "went_badly"]
    n = 0
    while True:
        for field in fields:
            n += 1
            value = f"{field} typed {n} " + "x" * (n % 50)
            pms.save_field(incident_id, field, value)
            if n % 7 == 0:
                pms.add_factor(incident_id, f"factor {n}")
            sys.stdout.write(json.dumps([field, value, n]) + "\\n")
            sys.stdout.flush()
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [1, 17, 60, 150])
def test_every_acknowledged_save_survives_sigkill(db_path, kill_after):
    db = open_db(db_path)
    incidents = IncidentService(
        db, config=Config(user="ana"), clock=lambda: datetime(2026, 11, 25, 14, 2, tzinfo=timezone(timedelta(hours=1)))
    )
    incident_id = incidents.declare(title="t", prompt_id="p", severity="P2", detected_by="alert", new_prompt=True).id
    db.close()

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db_path), incident_id],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    acked: dict[str, tuple[str, int]] = {}
    last_n = 0
    try:
        for _ in range(kill_after):
            line = child.stdout.readline()
            assert line, f"child died early: {child.stderr.read()}"
            field, value, n = json.loads(line)
            acked[field] = (value, n)
            last_n = n
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()

    db = open_db(db_path)
    try:
        pm = PostmortemService(db, IncidentService(db)).load(incident_id)
    finally:
        db.close()
    for field, (value, n) in acked.items():
        stored = pm.get(field)
        assert stored, f"{field} lost"
        stored_n = int(stored.split()[2])
        assert stored_n >= n, f"{field}: acknowledged save {n} lost (found {stored_n})"
        if stored_n == n:
            assert stored == value.rstrip()  # prose is saved without trailing blanks
    factors = [int(f.split()[1]) for f in pm.contributing_factors]
    assert factors == sorted(factors)
    assert set(range(7, last_n + 1, 7)) <= set(factors)


# --- the form itself: what was typed 300 ms before a kill -9 is in the store ----------------------

FORM_CHILD = textwrap.dedent(
    """
    import asyncio, os, sys
    from helpers import burst
    from textual.app import App
    from incident_tui.services.incidents import IncidentService
    from incident_tui.services.postmortem import PostmortemService
    from incident_tui.store.storage import open_db
    from incident_tui.tui.widgets.postmortem_form import PostmortemPane

    path, incident_id, text = sys.argv[1], sys.argv[2], sys.argv[3]
    db = open_db(path)
    service = PostmortemService(db, IncidentService(db))

    class Host(App):
        said = []

        def compose(self):
            yield PostmortemPane(service)

        def on_mount(self):
            self.query_one(PostmortemPane).show_incident(incident_id)

        def notify(self, message, **kwargs):
            self.said.append(str(message))
            super().notify(message, **kwargs)

    async def main():
        app = Host()
        async with app.run_test(size=(100, 30)) as pilot:
            for _ in range(600):  # a bounded wait: a lost load fails the test, it never hangs it
                if app.query_one(PostmortemPane).pm is not None:
                    break
                await pilot.pause(0.05)
            else:
                pane = app.query_one(PostmortemPane)
                sys.stderr.write(f"the postmortem never loaded; said {app.said!r}; "
                                 f"writer pending {pane.writer.pending}; workers {list(app.workers)!r}\\n")
                sys.stderr.flush()
                os._exit(3)
            await pilot.press("ctrl+down")  # SUMMARY
            await burst(pilot, *["space" if c == " " else c for c in text])  # returns once all are handled
            # Straight to the pipe: while an app runs, Textual captures sys.stdout and its flush()
            # does not flush the real stream, so without PYTHONUNBUFFERED the line never left.
            os.write(1, b"typed\\n")
            await asyncio.sleep(3600)  # still in the field, never leaving it: killed here

    asyncio.run(main())
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("length", [1, 40, 160])
def test_text_typed_300ms_before_sigkill_is_stored(db_path, length):
    """No blur, no exit, no flush: only the form's own autosave stands between the keys and a kill."""
    db = open_db(db_path)
    incidents = IncidentService(
        db, config=Config(user="ana"), clock=lambda: datetime(2026, 11, 25, 14, 2, tzinfo=timezone(timedelta(hours=1)))
    )
    incident_id = incidents.declare(title="t", prompt_id="p", severity="P2", detected_by="alert", new_prompt=True).id
    db.close()
    text = ("Typed just before the kill " * 8)[:length].strip() or "x"

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen(
        [sys.executable, "-c", FORM_CHILD, str(db_path), incident_id, text],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        ready = selectors.DefaultSelector()
        ready.register(child.stdout, selectors.EVENT_READ)
        assert ready.select(timeout=120), "the form said nothing in 120 s"  # fail, never hang CI
        line = child.stdout.readline()
        assert line == "typed\n", f"the form did not start: {line!r} {child.stderr.read()}"
        time.sleep(0.3)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()

    db = open_db(db_path)
    try:
        assert PostmortemService(db, IncidentService(db)).load(incident_id).get("summary") == text
    finally:
        db.close()
