"""The postmortem pane driven by keys only, on a tiny host app, at 80×24 and 160×48.

The clipboard is asserted through ``app.clipboard`` with a pyperclip that raises (no xclip,
headless), so the pane must fall back to OSC 52 and say so. Autosave is asserted in the
store through a second database handle, as another process would see it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pyperclip
import pytest
from helpers import Clock, burst, settle
from textual.app import App, ComposeResult
from textual.widgets import Input, TextArea

from incident_tui.config import Config
from incident_tui.domain.postmortem import ActionKind, DocStatus
from incident_tui.services.incidents import IncidentService
from incident_tui.services.postmortem import PostmortemService
from incident_tui.store.storage import open_db
from incident_tui.tui.widgets.postmortem.dialogs import (
    ActionDialog,
    ChecklistDialog,
    ExportDialog,
    ItemDialog,
)
from incident_tui.tui.widgets.postmortem_form import PostmortemPane

TZ = timezone(timedelta(hours=1))


def make_incident(db) -> tuple[IncidentService, str]:
    """A contained, resolved P1 with a starred note and a confirmed root cause."""
    clock = Clock(datetime(2026, 11, 25, 14, 2, tzinfo=TZ))
    incidents = IncidentService(db, config=Config(user="ana"), clock=clock)
    for n in range(1, 8):  # rollback acts only on registered versions
        incidents.prompts.add("support-summary", f"support summary, revision {n}\n")
    inc = incidents.declare(title="Summaries invent refunds", prompt_id="support-summary", version=7,
                            severity="P1", detected_by="alert", started_at=clock.now - timedelta(minutes=12))
    clock.now += timedelta(minutes=2)
    incidents.note(inc.id, "CS escalations spiking in [bold]EU[/]", star=True)
    incidents.triage(inc.id, "prompt-quality", "v7 dropped the refund-policy paragraph")
    clock.now += timedelta(minutes=3)
    incidents.rollback(inc.id, to_version=6)
    clock.now += timedelta(minutes=20)
    incidents.milestone(inc.id, "impact-resolved")
    incidents.milestone(inc.id, "root-cause", text="v7 removed the refund-policy paragraph, so the model "
                                                   "answered refund questions from its prior and invented refunds")
    return incidents, inc.id


class PostmortemHost(App):
    """What the dashboard does, and no more: mount the pane, show an incident, focus it."""

    def __init__(self, service: PostmortemService, incident_id: str, directory) -> None:
        super().__init__()
        self.service = service
        self.incident_id = incident_id
        self.directory = directory

    def compose(self) -> ComposeResult:
        yield PostmortemPane(self.service, directory=self.directory, id="pm")

    def on_mount(self) -> None:
        self.query_one(PostmortemPane).show_incident(self.incident_id)


@pytest.fixture
def no_clipboard(monkeypatch):
    def copy(text):
        raise pyperclip.PyperclipException("Pyperclip could not find a copy/paste mechanism for your system.")

    monkeypatch.setattr(pyperclip, "copy", copy)
    # A display and no tool to reach it: the message names what to install, on any machine.
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr("incident_tui.services.clipboard._installed", lambda: [])


@pytest.fixture
def host(db, tmp_path):
    incidents, incident_id = make_incident(db)
    service = PostmortemService(db, incidents)
    return PostmortemHost(service, incident_id, tmp_path), service, incident_id


async def type_text(pilot, text: str) -> None:
    await burst(pilot, *["space" if c == " " else c for c in text])


def focused_id(app) -> str:
    return getattr(app.focused, "id", None) or ""


async def tab_to(pilot, widget_id: str) -> None:
    for _ in range(40):
        if focused_id(pilot.app) == widget_id:
            return
        await pilot.press("tab")
    raise AssertionError(f"tab never reached #{widget_id} (at #{focused_id(pilot.app)})")


async def next_section(pilot, expect: str) -> None:
    await pilot.press("ctrl+down")
    await pilot.pause()
    assert focused_id(pilot.app) == expect


def notifications(app) -> list[str]:
    return [n.message for n in app._notifications]


SUMMARY = "Summaries invented refunds for 25 minutes. About 3% of EU tickets were affected. We rolled back to v6."


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_fill_a_whole_postmortem_by_keys(host, db_path, no_clipboard, size, tmp_path):
    app, service, incident_id = host
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        pane = app.query_one(PostmortemPane)
        assert pane.pm is not None and pane.pm.get("severity") == "P1"

        # Header: only the review date needs typing; the rest is prefilled from the incident.
        await tab_to(pilot, "pm-review_date")
        await type_text(pilot, "2026-12-02")
        await pilot.press("ctrl+down")  # leaving the field saves it
        assert focused_id(app) == "pm-summary"
        await settle(pilot)
        other = open_db(db_path)  # another process's view of the store: the save is durable
        try:
            assert PostmortemService(other, IncidentService(other)).load(incident_id).get("review_date") == "2026-12-02"
        finally:
            other.close()

        await type_text(pilot, SUMMARY)
        await next_section(pilot, "pm-timeline")
        assert "ana: CS escalations spiking in [bold]EU[/]" in app.query_one("#pm-timeline", TextArea).text
        # Root cause, detection gap and method are computed from the incident: ctrl+↓ lands on the
        # first field that takes typing.
        await next_section(pilot, "pm-trigger")
        await type_text(pilot, "Deploy of v7 at 13:45")
        await next_section(pilot, "pm-detection_why")
        assert app.query_one("#pm-detection_gap", Input).value == "12m"
        await type_text(pilot, "The alert window is 10 minutes.")
        await next_section(pilot, "pm-impact_requests")
        await type_text(pilot, "1200 (3%)")
        await pilot.press("tab")
        await type_text(pilot, "EU customers")
        await pilot.press("tab")
        await type_text(pilot, "Refunds promised that policy does not allow")

        # Contributing factors: add two, reorder, edit, delete and undo.
        await next_section(pilot, "pm-factors")
        for factor in ("No eval on refund questions", "Prompt review without CS"):
            await pilot.press("ctrl+n")
            await pilot.pause()
            assert isinstance(app.screen, ItemDialog)
            await type_text(pilot, factor)
            await pilot.press("enter")
            await settle(pilot)
        assert pane.pm.contributing_factors == ["No eval on refund questions", "Prompt review without CS"]
        await pilot.press("shift+up")
        await settle(pilot)
        assert pane.pm.contributing_factors[0] == "Prompt review without CS"
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("end")
        await type_text(pilot, " | *sign-off*")
        await pilot.press("enter")
        await settle(pilot)
        assert pane.pm.contributing_factors[0] == "Prompt review without CS | *sign-off*"
        await pilot.press("delete")
        await settle(pilot)
        assert len(pane.pm.contributing_factors) == 1
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert len(pane.pm.contributing_factors) == 2

        # Action items: one of each kind; the dialog offers the next uncovered kind.
        await next_section(pilot, "pm-actions")
        for text, owner, due in (
            ("Add refund questions to the eval set", "ana", "2026-12-09"),
            ("Alert on a 5 minute window", "bo", "2026-12-04"),
            ("Rollback drill for CS prompts", "chen", "2026-12-16"),
        ):
            await pilot.press("ctrl+n")
            await pilot.pause()
            assert isinstance(app.screen, ActionDialog)
            await type_text(pilot, text)
            await pilot.press("enter")
            await type_text(pilot, owner)
            await pilot.press("enter")
            await type_text(pilot, due)
            await pilot.press("ctrl+s")
            await settle(pilot)
        assert [a.kind for a in pane.pm.action_items] == list(ActionKind)
        # Edit the second (the highlight stays on the one just added): add a tracking link.
        await pilot.press("up", "enter")
        await pilot.pause()
        await tab_to(pilot, "pm-a-link")
        await type_text(pilot, "https://jira.example/PM-7")
        await pilot.press("enter")
        await settle(pilot)
        assert pane.pm.action_items[1].link == "https://jira.example/PM-7"

        await next_section(pilot, "pm-went_well")
        await type_text(pilot, "Rollback took 3 minutes.")
        await next_section(pilot, "pm-went_badly")
        await type_text(pilot, "Nobody owned the alert.")
        await next_section(pilot, "pm-lucky")
        await type_text(pilot, "Quiet Sunday traffic.")

        # Final: the checklist passes, mark final.
        await pilot.press("ctrl+f")
        await pilot.pause()
        assert isinstance(app.screen, ChecklistDialog) and app.screen.ready
        await pilot.press("enter")
        await settle(pilot)
        assert pane.pm.status is DocStatus.FINAL

        stored = service.load(incident_id)
        assert stored.status is DocStatus.FINAL
        assert stored.get("summary") == SUMMARY
        assert stored.get("trigger") == "Deploy of v7 at 13:45"
        assert stored.get("lucky") == "Quiet Sunday traffic."
        assert stored.contributing_factors[0] == "Prompt review without CS | *sign-off*"
        assert service.lint(incident_id) == []

        # Copy: pyperclip raises, so the pane falls back to OSC 52 and says so.
        await pilot.press("f2")
        await settle(pilot)
        assert app.clipboard == service.render(incident_id, "markdown")
        assert any("OSC 52" in m and "xclip" in m for m in notifications(app))
        await pilot.press("f3")  # the current section: WHERE WE GOT LUCKY
        await settle(pilot)
        assert app.clipboard == "## WHERE WE GOT LUCKY\n\nQuiet Sunday traffic.\n"
        await pilot.press("f4", "f4", "f4")  # markdown → text → slack → jira
        await pilot.press("f2")
        await settle(pilot)
        assert app.clipboard == service.render(incident_id, "jira")

        # Save to a file through the dialog.
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, ExportDialog)
        await pilot.press("ctrl+s")
        await settle(pilot)
        saved = tmp_path / f"{incident_id}-postmortem.jira.txt"
        assert saved.read_text(encoding="utf-8") == service.render(incident_id, "jira")
        assert any(str(saved) in m for m in notifications(app))


async def test_typing_is_saved_when_the_app_exits_without_leaving_the_field(host, db_path):
    app, service, incident_id = host
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+down")
        await type_text(pilot, "Typed and never left.")
        # no blur and no debounce: the app goes away now
    other = open_db(db_path)
    try:
        stored = PostmortemService(other, IncidentService(other)).load(incident_id)
        assert stored.get("summary") == "Typed and never left."
    finally:
        other.close()


async def test_prefilled_field_follows_the_incident_until_edited_and_resets(host):
    app, service, incident_id = host
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        pane = app.query_one(PostmortemPane)
        service.incidents.edit(incident_id, severity="P2")
        pane.reload()
        await settle(pilot)
        assert app.query_one("#pm-severity", Input).value == "P2"
        await tab_to(pilot, "pm-severity")
        await pilot.press("backspace", "x")  # auto: refused, and said once
        await pilot.pause()
        assert app.query_one("#pm-severity", Input).value == "P2"
        assert [m for m in notifications(app) if "enter overrides" in m] == [
            "Severity follows the incident (auto): enter overrides it, then type"]
        await pilot.press("enter", "backspace", "backspace")
        await type_text(pilot, "P1 (customer-facing)")
        await pilot.press("tab")
        await settle(pilot)
        service.incidents.edit(incident_id, severity="P3")
        pane.reload()
        await settle(pilot)
        assert app.query_one("#pm-severity", Input).value == "P1 (customer-facing)"
        await tab_to(pilot, "pm-severity")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert app.query_one("#pm-severity", Input).value == "P3"
        assert "severity" not in service.load(incident_id).edited


async def test_inline_lint_and_refused_final(host):
    app, service, incident_id = host
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        pane = app.query_one(PostmortemPane)
        await pilot.press("ctrl+down", "ctrl+down", "ctrl+down")
        assert focused_id(app) == "pm-trigger"  # the root cause is computed: the first field that takes typing
        await pilot.press("shift+tab", "enter", "f7", "backspace")  # back, override, select all, delete
        await type_text(pilot, "The prompt was bad.")
        await pilot.pause()
        lint_line = str(app.query_one("#pm-row-root_cause .pm-lint").render())
        assert "Too vague" in lint_line
        await pilot.press("ctrl+f")
        await pilot.pause()
        assert isinstance(app.screen, ChecklistDialog) and not app.screen.ready
        await pilot.press("ctrl+s")  # refused: stays open and says why
        await pilot.pause()
        assert isinstance(app.screen, ChecklistDialog)
        await pilot.press("escape")
        await settle(pilot)
        assert pane.pm.status is DocStatus.DRAFT
        assert service.load(incident_id).get("root_cause") == "The prompt was bad."


async def test_user_text_is_shown_as_text_not_markup(host):
    app, service, incident_id = host
    service.save_field(incident_id, "summary", "[bold red]not markup[/] and [link=x]y[/link]")
    service.add_factor(incident_id, "[/] closing tag alone")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert app.query_one("#pm-summary", TextArea).text.startswith("[bold red]not markup[/]")
        options = app.query_one("#pm-factors").options
        assert "[/] closing tag alone" in str(options[0].prompt)


async def test_no_incident_yet(db, tmp_path):
    incidents = IncidentService(db)

    class Empty(App):
        def compose(self):
            yield PostmortemPane(PostmortemService(db, incidents), directory=tmp_path)

    app = Empty()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f2", "ctrl+o", "ctrl+down")
        await pilot.pause()
        assert "Select an incident" in notifications(app)[0]
        assert app.clipboard == ""


async def test_escape_leaves_the_field_and_saves_it(host):
    app, service, incident_id = host
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+down")
        await type_text(pilot, "Left with escape.")
        await pilot.press("escape")
        await settle(pilot)
        assert app.focused is None  # the dashboard's single-letter keys work again
        assert service.load(incident_id).get("summary") == "Left with escape."


async def test_switching_incident_saves_typing_to_the_one_it_was_typed_in(host, db):
    app, service, incident_id = host
    other_id = service.incidents.declare(title="Answers too long", prompt_id="faq-answer", version=12,
                                         severity="P3", detected_by="user-report", new_prompt=True).id
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        pane = app.query_one(PostmortemPane)
        await pilot.press("ctrl+down")
        await type_text(pilot, "First incident.")
        pane.show_incident(other_id)
        await settle(pilot)
        assert service.load(incident_id).get("summary") == "First incident."
        assert pane.pm.incident_id == other_id
        assert app.query_one("#pm-summary", TextArea).text == ""
        assert app.query_one("#pm-prompt_id", Input).value == "faq-answer"
