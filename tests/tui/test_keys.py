"""Keys land where the user meant: bursts, type-ahead, pastes, dialogs that close once.

``burst`` hands every key to the app at once, as a terminal read does on a laggy SSH link or
with a bouncing key; ``pilot.press`` instead waits for the app between keys. Both must work.
"""

from __future__ import annotations

import pytest
from helpers import key_event, settle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_dashboard import P1, P2, select
from textual import events
from textual.widgets import Input

from incident_tui.domain.models import EventKind, Stage
from incident_tui.tui.screens.choice import ChoiceScreen
from incident_tui.tui.screens.dialog import Dialog
from incident_tui.tui.screens.form import ConfirmScreen, FormScreen
from incident_tui.tui.widgets.timeline import NoteInput

# What only a confirmed dialog may write.
CONFIRMED_KINDS = {EventKind.CONTAINMENT, EventKind.HOOK, EventKind.MILESTONE, EventKind.TRIAGE, EventKind.OVERRIDE}


def burst(app, *keys: str) -> None:
    """Every key read in one go: none waits for the app to handle the one before."""
    for key in keys:
        event = key_event(key)
        event.set_sender(app)
        app._driver.send_message(event)


def paste(app, text: str) -> None:
    event = events.Paste(text)
    event.set_sender(app)
    app._driver.send_message(event)


async def land(app, pilot) -> None:
    """Until every key sent is handled and every write stored."""
    for _ in range(3):
        await pilot.pause()
        await app.typeahead.drain()
        await settle(pilot)


def state(app) -> dict:
    incidents = app.service.list(include_closed=True)
    return {
        "incidents": {i.id: (i.title, i.severity, i.stage, i.commander, tuple(i.responders), i.containment,
                             i.category, i.contain_override) for i in incidents},
        "confirmed": {i.id: [e.text for e in app.service.timeline(i.id) if e.kind in CONFIRMED_KINDS]
                      for i in incidents},
        "samples": {i.id: len(app.service.samples(i.id)) for i in incidents},
    }


def notes(app, incident_id=P1) -> list[str]:
    return [e.text for e in app.service.timeline(incident_id) if e.kind is EventKind.NOTE]


# --- every modal flow, keys in one burst: no crash, no yes the user did not see --------------

MODAL_FLOWS = {
    "milestone": ("m", "enter", "enter"),
    "milestone root cause": ("m", "down", "enter", *"it was v5", "enter", "ctrl+s"),
    "milestone promoted": ("m", "down", "down", "down", "enter", "enter", "enter"),
    "close": ("m", "end", "enter", "y", "enter"),
    "triage": ("t", "enter", *"hypothesis", "enter", "enter"),
    "rollback": ("r", "enter", "y", "enter", "enter"),
    "kill switch": ("K", "y", "enter", "enter"),
    "declare": ("d", *"Summaries invent refunds", "enter", *"support-summary", "enter", "enter", "ctrl+s",
                "enter"),
    "people": ("p", "enter", "enter", "enter", "ctrl+s", "enter"),
    "edit": ("e", *" more", "enter", "ctrl+s", "enter"),
    "sample": ("s", *"in", "tab", *"out", "ctrl+s", "enter"),
    "samples": ("S", "enter", "S", "S", "enter"),
    "help": ("question_mark", "enter", "escape", "question_mark", "enter"),
    "palette": ("ctrl+p", *"kill", "enter", "y", "enter"),
    "escape storm": ("m", "escape", "escape", "t", "escape", "r", "escape", "escape", "enter"),
}


@pytest.mark.parametrize("keys", MODAL_FLOWS.values(), ids=MODAL_FLOWS.keys())
async def test_a_burst_through_every_dialog_acts_on_nothing_unseen(make_app, keys):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        before = state(app)
        burst(app, *keys)
        await land(app, pilot)
        assert state(app) == before
        # Whatever is still open is one dialog deep, on top and usable.
        assert len(app.screen_stack) <= 3
        while isinstance(app.screen, Dialog):
            await pilot.press("escape")
            await land(app, pilot)
        assert state(app) == before
    # run_test re-raises any exception the app hit (ScreenStackError before the fix).


async def test_contain_first_burst_does_not_contain_or_override(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        incident = app.service.declare(title="new", prompt_id="support-summary", severity="P2", detected_by="manual")
        app.service.triage(incident.id, "prompt-quality", "h")
        app.service.advance(incident.id, "contain")
        app.reload()
        await select(pilot, app, incident.id)
        before = state(app)
        burst(app, "a", "r", "enter", "y", "o", *"because", "enter", "ctrl+s")
        await land(app, pilot)
        assert state(app) == before


async def test_a_dialog_acts_on_keys_pressed_once_it_is_on_screen(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        def stamped() -> int:
            return [e.text for e in app.service.timeline(P1)].count("User impact resolved")

        before = stamped()
        burst(app, "m", "enter", "enter")
        await land(app, pilot)
        assert isinstance(app.screen, ChoiceScreen) and app.screen.shown_at is not None
        assert stamped() == before
        await pilot.press("enter")  # pressed with the picker in view: it counts
        await land(app, pilot)
        assert not isinstance(app.screen, Dialog)
        assert stamped() == before + 1


async def test_a_dialog_closes_once(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("m")
        await land(app, pilot)
        picker = app.screen
        assert isinstance(picker, ChoiceScreen)
        results = []
        picker._result_callbacks[-1].callback = results.append
        picker.dismiss("impact-resolved")
        picker.dismiss("closed")  # a second key that reached a closing dialog: ignored
        picker.dismiss(None)
        await land(app, pilot)
        assert results == ["impact-resolved"]
        assert len(app.screen_stack) == 1


# --- type-ahead: keys go where the previous key sent the focus --------------------------------

async def test_keys_typed_right_after_n_go_to_the_note_line(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        burst(app, "n", *"hello burst", "enter")
        await land(app, pilot)
        assert not isinstance(app.screen, Dialog)  # the e of "hello" did not open Edit
        assert notes(app)[-1] == "hello burst"
        assert app.query_one(NoteInput).value == ""


async def test_five_notes_in_one_burst_are_five_notes_in_order(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        typed = ["first: canary at 29%", "second [bold]not markup[/]", "third -5m is not a prefix here",
                 "fourth: rollback asked", "fifth"]
        keys = ["n"]
        for text in typed:
            keys += [*text, "enter"]
        before = notes(app)
        burst(app, *keys)
        await land(app, pilot)
        assert notes(app) == before + typed


async def test_keys_wait_for_a_form_to_open_and_fill_it_in_order(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        burst(app, "d", *"Summaries invent refunds", "enter", *"support-summary")
        await land(app, pilot)
        assert isinstance(app.screen, FormScreen)
        assert app.screen.values()["title"] == "Summaries invent refunds"
        assert app.screen.values()["prompt"] == "support-summary"


async def test_keys_typed_while_the_database_opens_are_kept(tmp_path):
    from datetime import datetime, timedelta, timezone

    from helpers import Clock

    from incident_tui.config import Config
    from incident_tui.demo import seed_demo
    from incident_tui.store.storage import open_db
    from incident_tui.tui.app import IncidentApp

    fixed_now = datetime(2026, 11, 25, 14, 30, tzinfo=timezone(timedelta(hours=1)))  # as the demo fixture
    path = tmp_path / "incidents.json"
    db = open_db(path)
    seed_demo(db, now=fixed_now)
    db.close()
    app = IncidentApp(db_path=path, config=Config(user="ana"), clock=Clock(fixed_now), poll_interval=0,
                      selection_delay=0)
    async with app.run_test(size=(120, 36)) as pilot:
        burst(app, "n", *"typed before the database was open", "enter")
        await land(app, pilot)
        assert notes(app)[-1] == "typed before the database was open"



async def test_an_enter_typed_before_the_app_took_the_terminal_stamps_the_note(make_app):
    # Typed at the shell with the command, Enter reaches the app as ctrl+j (the terminal was still
    # turning carriage returns into newlines); ctrl+j is Enter, as in readline.
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        burst(app, "n", *"typed with the command", "ctrl+j", *"second", "enter")
        await land(app, pilot)
        assert notes(app)[-2:] == ["typed with the command", "second"]
        assert app.query_one(NoteInput).value == ""

# --- pastes: nothing dropped -------------------------------------------------------------------

async def test_a_multi_line_paste_into_the_note_is_one_note_per_line(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        before = notes(app)
        await pilot.press("n", *"EU: ")
        paste(app, "429s from the provider\r\n\nsecond line [b]x[/b]\nstill typing")
        await land(app, pilot)
        assert notes(app) == before + ["EU: 429s from the provider", "second line [b]x[/b]"]
        assert app.query_one(NoteInput).value == "still typing"  # no line break yet: finish it
        await pilot.press(*" here", "enter")
        await land(app, pilot)
        assert notes(app)[-1] == "still typing here"


async def test_a_paste_on_the_dashboard_goes_to_the_note_line(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        before = notes(app)
        paste(app, "from the incident channel\n")
        await land(app, pilot)
        assert notes(app) == before + ["from the incident channel"]


async def test_a_multi_line_paste_into_a_form_field_joins_the_lines(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("d")
        await land(app, pilot)
        paste(app, "Summaries invent\nrefund policies\n")
        await land(app, pilot)
        assert app.screen.values()["title"] == "Summaries invent refund policies"


async def test_paste_then_keys_keep_their_order(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        before = notes(app)
        burst(app, "n")
        paste(app, "pasted\n")
        burst(app, *"typed", "enter")
        await land(app, pilot)
        assert notes(app) == before + ["pasted", "typed"]


# --- backdating: refused in the future, asked before impact start ---------------------------

async def test_a_note_before_impact_start_is_asked_and_given_back_on_no(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        before = notes(app)
        await pilot.press("n", *"03:00 deploy of v5", "enter")
        await land(app, pilot)
        assert isinstance(app.screen, ConfirmScreen) and "before impact started" in str(app.screen.body)
        await pilot.press("n")
        await land(app, pilot)
        assert notes(app) == before
        assert app.query_one(NoteInput).value == "03:00 deploy of v5"  # back, to fix the time
        await pilot.press("enter")
        await land(app, pilot)
        await pilot.press("y")
        await land(app, pilot)
        stored = app.service.timeline(P1)
        note = next(e for e in stored if e.text == "deploy of v5")
        assert note.backdated and note.at < app.service.get(P1).started_at


async def test_a_note_in_the_future_is_refused_with_the_reason_and_kept(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        before = notes(app)
        notified = []
        app.notify = lambda message, **kw: notified.append(message)
        app.query_one(NoteInput).value = "2030-01-01T10:00 from the future"
        await pilot.press("n", "enter")
        await land(app, pilot)
        assert notes(app) == before
        assert any("in the future" in m for m in notified)
        assert app.query_one(NoteInput).value == "2030-01-01T10:00 from the future"


# --- contain first: keys that work where the focus is --------------------------------------------

async def test_contain_first_r_rolls_back_instead_of_typing(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        incident = app.service.declare(title="new", prompt_id="support-summary", severity="P2", detected_by="manual")
        app.service.triage(incident.id, "prompt-quality", "h")
        app.service.advance(incident.id, "contain")
        app.reload()
        await select(pilot, app, incident.id)
        await pilot.press("a")
        await land(app, pilot)
        assert isinstance(app.screen, ChoiceScreen) and app.screen.choice_title == "Contain first"
        assert not isinstance(app.focused, Input)
        await pilot.press("r")
        await land(app, pilot)
        # r opened the rollback flow (its picker or its confirm), nothing was typed anywhere
        assert isinstance(app.screen, (ChoiceScreen, ConfirmScreen)) and app.screen.is_active
        assert getattr(app.screen, "choice_title", "") != "Contain first"


async def test_an_api_incident_leaving_contain_uncontained_is_asked_and_explained(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        incident = app.service.declare(title="429s", prompt_id="support-summary", severity="P2",
                                       detected_by="alert")
        app.service.triage(incident.id, "api", "provider rate limits")
        app.service.advance(incident.id, "contain")
        app.reload()
        await select(pilot, app, incident.id)
        await pilot.press("a")
        await land(app, pilot)
        assert isinstance(app.screen, ConfirmScreen) and "NOT contained" in str(app.screen.body)
        await pilot.press("y")
        await land(app, pilot)
        got = app.service.get(incident.id)
        assert got.stage is Stage.DIAGNOSE
        assert any("not contained: an API incident is contained at the provider" in e.text
                   for e in app.service.timeline(incident.id))


# --- any key sequence on the dashboard ---------------------------------------------------------

KEYS = ["m", "t", "r", "K", "d", "p", "e", "s", "S", "question_mark", "a", "n", "i", "o", "enter", "escape",
        "y", "tab", "down", "up", "end", "x", "1", "2", "3", "5", "z", "f", "asterisk", "c", "ctrl+s", "space"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(KEYS), min_size=3, max_size=25))
async def test_any_burst_on_the_dashboard_is_safe(make_app, keys):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        before = state(app)
        burst(app, *keys)
        await land(app, pilot)
        after = state(app)
        # Stage moves (a) and notes are instant by design; anything a dialog confirms is not.
        assert after["confirmed"] == before["confirmed"]
        assert after["samples"] == before["samples"]
        assert set(after["incidents"]) == set(before["incidents"])
        for incident_id, fields in before["incidents"].items():
            title, severity, _stage, commander, responders, containment, category, override = fields
            got = after["incidents"][incident_id]
            assert (got[0], got[1], got[3], got[4], got[5], got[6], got[7]) == (
                title, severity, commander, responders, containment, category, override)
        assert P2 in after["incidents"]
