"""The postmortem form in the dashboard, keys sent as a tired responder sends them: in bursts.

Key sequences go in as one burst (``burst``: every key queued before the first is handled, as
over a laggy SSH link) and the tests assert the result a slow typist would get. The store is
checked as another process would see it.
"""

from __future__ import annotations

from helpers import key_event, settle
from textual import events
from textual.widgets import Input, Select, TextArea
from tinydb import where

from incident_tui.domain.postmortem import DocStatus
from incident_tui.services.postmortem import PostmortemService
from incident_tui.tui.widgets.incident_list import IncidentList
from incident_tui.tui.widgets.postmortem.dialogs import ActionDialog
from incident_tui.tui.widgets.postmortem.fields import EDITED_MARK, FieldRow

P1 = "INC-20261125-001"  # the demo's OpenHands regression: contained, impact resolved


async def open_form(app, pilot):
    """4, then enter: the form of the selected incident, focus in its first field that takes typing."""
    await pilot.press("4")
    await settle(pilot)
    pane = app.panes["postmortem"]
    assert app.focused is pane and pane.pm is not None and pane.pm.incident_id == P1
    await pilot.press("enter")
    await pilot.pause()
    return pane


def value(app, key: str) -> str:
    widget = app.query_one(f"#pm-{key}")
    return widget.text if isinstance(widget, TextArea) else str(widget.value)


def label(app, key: str) -> str:
    return str(app.query_one(f"#pm-row-{key}", FieldRow)._label.render())


def stored(app):
    return PostmortemService(app.db, app.service).load(P1)


def keys(text: str) -> list[str]:
    return ["space" if c == " " else c for c in text]


async def burst(app, pilot, *sequence: str) -> None:
    """Keys as one read from a laggy terminal delivers them: all queued before the first is handled.

    ``pilot.press`` waits for the app to go idle after each key, which hides every type-ahead bug.
    """
    driver = app._driver
    for key in sequence:
        event = key_event(key)
        event.set_sender(app)
        driver.send_message(event)
    await pilot.pause()
    await pilot.pause()


async def test_eight_tabs_then_text_in_one_burst_land_whole_where_a_slow_typist_lands(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        pane = await open_form(app, pilot)
        before = {k: value(app, k) for k in ("incident_id", "ended_at", "duration", "severity", "prepared_by")}
        pane.screen.set_focus(app.query_one("#pm-incident_id"))
        await pilot.pause()
        # Header order: incident, prompt, version, start, end, duration, severity, prepared by, review date.
        await burst(app, pilot, *["tab"] * 8, *keys("next week"))
        assert app.focused.id == "pm-review_date"
        assert value(app, "review_date") == "next week"
        assert {k: value(app, k) for k in before} == before
        await settle(pilot)
        assert stored(app).get("review_date") == "next week"
        # And back again: shift+tab is as prompt.
        await burst(app, pilot, "shift+tab", "shift+tab", "enter", "ctrl+u", *keys("bo and ana"))
        assert app.focused.id == "pm-severity" and value(app, "severity") == "bo and ana"
        await settle(pilot)  # (saves land before the app goes)


async def test_ctrl_down_lands_on_the_first_field_that_takes_typing(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        pane = await open_form(app, pilot)
        assert app.focused.id == "pm-review_date"  # incident facts above it are auto
        gap = value(app, "detection_gap")
        assert gap and "auto" in label(app, "detection_gap")
        # From the header to DETECTION GAP (summary, timeline, root cause, detection), then type at once.
        await burst(app, pilot, "ctrl+down", "ctrl+down", "ctrl+down", "ctrl+down", *keys("alert window 10m"))
        assert pane.current_section == "detection"
        assert app.focused.id == "pm-detection_why"
        assert value(app, "detection_why") == "alert window 10m"
        assert value(app, "detection_gap") == gap  # nothing appended to the computed gap
        # A section whose fields are all auto still gets focus (on its first), typing there is refused.
        await burst(app, pilot, "ctrl+up", "ctrl+up", *keys("xyz"))
        assert pane.current_section == "timeline" and app.focused.id == "pm-timeline"
        assert "xyz" not in value(app, "timeline")
        await settle(pilot)


async def test_auto_fields_refuse_typing_until_overridden_and_go_back_to_auto(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_form(app, pilot)
        severity = value(app, "severity")
        await pilot.press("shift+tab", "shift+tab")
        assert app.focused.id == "pm-severity"
        assert label(app, "severity").endswith("· auto")
        # q, z and a backspace on an auto field: nothing changes, nothing quits or zooms.
        await burst(app, pilot, "q", "z", "backspace", "delete", "ctrl+v")
        assert app.is_running and value(app, "severity") == severity
        assert app.screen.maximized is None
        assert sum("enter overrides it" in n.message for n in app._notifications) == 1
        # The footer says how to override; enter opens it, typed keys then land in it.
        assert "override auto" in str(app.query_one("#keybar").render())
        await burst(app, pilot, "enter", "ctrl+u", *keys("P1 (paged twice)"))
        assert value(app, "severity") == "P1 (paged twice)"
        assert label(app, "severity").endswith(EDITED_MARK)
        assert "back to auto" in str(app.query_one("#keybar").render())
        await settle(pilot)
        assert stored(app).get("severity") == "P1 (paged twice)" and "severity" in stored(app).edited
        # ctrl+r: back to the computed value, locked again.
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert value(app, "severity") == severity and label(app, "severity").endswith("· auto")
        assert "severity" not in stored(app).edited
        await pilot.press("x")
        assert value(app, "severity") == severity


async def test_auto_prose_fields_refuse_typing_and_pastes_too(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_form(app, pilot)
        await pilot.press("ctrl+down", "ctrl+down")
        assert app.focused.id == "pm-timeline"
        timeline = value(app, "timeline")
        assert timeline and "auto" in label(app, "timeline")
        # n is the dashboard's note key and q quits: on a locked field both are refused, not passed on.
        await burst(app, pilot, "n", "q", "backspace")
        assert app.is_running and app.focused.id == "pm-timeline" and value(app, "timeline") == timeline
        app.focused.post_message(events.Paste("pasted text"))
        await pilot.pause()
        assert value(app, "timeline") == timeline and app.focused.id == "pm-timeline"
        # enter opens it (no newline typed); what follows lands at the cursor.
        await burst(app, pilot, "enter", *keys("Edited: "))
        assert value(app, "timeline") == "Edited: " + timeline
        assert label(app, "timeline").endswith(EDITED_MARK)
        await settle(pilot)


async def test_escape_leaves_every_kind_of_field_and_saves(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        pane = await open_form(app, pilot)
        # A line field, a prose field, the status select: escape returns focus to the pane each time.
        await burst(app, pilot, *keys("2026-12-02"), "escape")
        assert app.focused is pane
        await pilot.press("1")  # a dashboard key works again: the incident list has focus
        assert isinstance(app.focused, IncidentList)
        await pilot.press("4", "enter")  # (a burst across a pane switch is the app's type-ahead, not the form's)
        await burst(app, pilot, "ctrl+down", *keys("Left with escape."), "escape")
        assert app.focused is pane
        await settle(pilot)
        assert stored(app).get("summary") == "Left with escape."
        assert stored(app).get("review_date") == "2026-12-02"
        app.query_one("#pm-status", Select).focus()
        await pilot.pause()
        await pilot.press("escape")
        assert app.focused is pane
        # Zoomed (z), escape still leaves the field first; a second one restores the layout.
        await burst(app, pilot, "z", "enter", "escape")
        assert app.focused is pane and app.screen.maximized is pane
        await pilot.press("escape")
        assert app.screen.maximized is None


async def test_typing_into_a_final_postmortem_reopens_it_as_a_draft(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        pane = await open_form(app, pilot)
        service = PostmortemService(app.db, app.service)
        with app.db_lock:
            service.save_field(P1, "review_date", "2026-12-02")
            # Marked final (as after the checklist), whatever lint says of the demo's text.
            app.db.table("postmortems").update({"status": DocStatus.FINAL.value}, where("incident_id") == P1)
        pane.reload()
        await settle(pilot)
        assert pane.pm.status is DocStatus.FINAL
        await burst(app, pilot, "ctrl+down", *keys(" Typed after the review."))
        await settle(pilot)
        assert pane.pm.status is DocStatus.DRAFT
        assert app.query_one("#pm-status", Select).value == DocStatus.DRAFT.value
        assert stored(app).status is DocStatus.DRAFT
        stamps = [e.text for e in app.service.timeline(P1) if "reopened" in e.text]
        assert stamps == ["Postmortem reopened as draft by ana: Summary edited after it was marked final"]
        assert any("draft again" in n.message for n in app._notifications)


async def test_typing_into_a_field_is_stored_without_leaving_it(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_form(app, pilot)
        await burst(app, pilot, "ctrl+down", *keys("Typed and left open."))
        await settle(pilot)
        assert app.focused.id == "pm-summary"
        assert stored(app).get("summary") == "Typed and left open."
        assert isinstance(app.query_one("#pm-review_date"), Input)


async def test_action_item_dialog_takes_a_burst_field_by_field(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        pane = await open_form(app, pilot)
        before = len(pane.pm.action_items)
        pane.focus_list("actions")
        await pilot.press("ctrl+n")  # (the dialog opening is the app's type-ahead; what follows is the dialog's)
        await pilot.pause()
        assert isinstance(app.screen, ActionDialog)
        await burst(app, pilot, *keys("Add a refund eval"), "enter", *keys("bo"), "enter", *keys("2026-12-09x"),
                    "backspace", "tab", "shift+tab", "ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, ActionDialog)
        added = pane.pm.action_items[before]
        assert (added.text, added.owner, added.due) == ("Add a refund eval", "bo", "2026-12-09")
        assert len(pane.pm.action_items) == before + 1
