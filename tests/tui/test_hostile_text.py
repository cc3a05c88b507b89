"""Outside text on the dashboard: shown as typed in every pane, dialog and notification, never parsed as
markup, never a control sequence, never a clickable action; and a huge text never slows the screen.

Notifications are rendered only with ``run_test(notifications=True)``: without it a toast that would
crash the app is never drawn, which is how a prompt id of ``summarizer[/]`` got through.
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from helpers import Clock, settle, timeline_rows
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from textual import events
from textual.widgets import Input, Static

from incident_tui.config import Config
from incident_tui.domain.limits import MAX_TEXT_BYTES
from incident_tui.domain.models import EventKind, Stage, TimelineEvent
from incident_tui.domain.text import clean, neutralise
from incident_tui.services.alerts import AlertService
from incident_tui.services.incidents import IncidentService
from incident_tui.store.repository import Repository
from incident_tui.store.storage import open_db
from incident_tui.tui.app import IncidentApp
from incident_tui.tui.render import VIEW_ALL
from incident_tui.tui.screens.choice import ChoiceScreen
from incident_tui.tui.screens.form import ConfirmScreen, FormScreen
from incident_tui.tui.screens.samples import SamplesScreen
from incident_tui.tui.screens.text_view import TextPager, TextViewScreen
from incident_tui.tui.widgets.incident_list import IncidentList

NOW = datetime(2026, 11, 25, 14, 30, tzinfo=timezone(timedelta(hours=1)))
PAYLOADS = Path(__file__).parents[1] / "unit" / "payloads"
# C0 and C1 controls and DEL: none may reach the terminal from a rendered screen.
RAW_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

HOSTILE = [
    "summarizer[/]",
    "[bold]loud[/bold] and [/]",
    "[@click=app.quit]x[/]",
    "[link=https://evil.example/phish]Ack here[/link]",
    "\\[not markup\\] \\",
    "[b]unclosed [i",
    "rtl \u202eevil\u202c and \u2066isolate\u2069",
    "fire 🔥 👩‍💻 中文 wide",
    "\x1b]0;PWNED\x07title\x1b[2J",
    "$(rm -rf /) {x} %s",
    "L" * 450,
]


def new_app(db) -> IncidentApp:
    return IncidentApp(db=db, config=Config(user="ana"), clock=Clock(NOW), poll_interval=0, selection_delay=0)


async def until(pilot, condition) -> bool:
    """Let the app run until ``condition()`` holds (scrolls and screen changes land a frame or two later)."""
    for _ in range(50):
        if condition():
            return True
        await pilot.pause()
    return condition()


def screen_rows(app) -> list:
    """The rendered rows of the active screen (toasts included): what the terminal would receive."""
    return app.screen._compositor.render_strips()


def assert_safe_screen(app) -> None:
    """No raw control character and no clickable action anywhere on screen."""
    for strip in screen_rows(app):
        text = strip.text
        assert not RAW_CONTROL.search(text), repr(text)
        for segment in strip:
            meta = segment.style.meta if segment.style is not None else {}
            assert "@click" not in meta, (segment.text, meta)


def toasts(app) -> list[str]:
    return [toast.render().plain for toast in app.screen.query("Toast")]


def ingest(db, prompt_id: str, *, version: bool = True):
    if version:  # containment acts only on registered versions: v1–v7, v7 live
        from incident_tui.services.prompts import PromptService

        prompts = PromptService(db, clock=Clock(NOW))
        for n in range(1, 8):
            prompts.add(prompt_id, f"You summarise tickets. Revision {n}.\n")
        prompts.move_label(prompt_id, "production", 7, "ana", "release")
    payload = json.loads((PAYLOADS / "alertmanager_firing.json").read_text())
    for alert in payload["alerts"]:
        alert["labels"]["prompt_id"] = prompt_id
        if not version:
            del alert["labels"]["prompt_version"]
    payload["groupKey"] = f"{{}}:{{prompt_id={prompt_id!r}}}"
    report = AlertService(db, config=Config(user="ana"), clock=Clock(NOW)).ingest("alertmanager", payload)
    assert report.ok, report.errors
    return report.incident_ids[0]


# --- issue 11 item 1, as reported -------------------------------------------------------------


async def test_kill_switch_on_a_prompt_named_with_markup_is_recorded_and_the_app_lives(db):
    incident_id = ingest(db, "summarizer[/]")
    app = new_app(db)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await pilot.press("K")
        assert isinstance(app.screen, ConfirmScreen)
        assert "summarizer[/]" in app.screen.query_one("#confirm-body", Static).render().plain
        await pilot.press("enter")
        await settle(pilot)
        assert app.service.get(incident_id).is_contained
        assert any("summarizer[/] v6" in t for t in toasts(app))
        assert_safe_screen(app)
    assert app.return_code is None  # not ended by a MarkupError


async def test_rollback_refused_for_a_prompt_named_with_markup_says_so_literally(db):
    ingest(db, "summarizer[/]", version=False)  # no version: nothing to roll back to
    app = new_app(db)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await pilot.press("r")
        await settle(pilot)
        assert any("nothing to roll back to" in t and "summarizer[/]" in t for t in toasts(app))
        assert_safe_screen(app)
    assert app.return_code is None


async def test_notify_is_literal_for_strings_and_styled_for_text(db):
    from rich.text import Text

    app = new_app(db)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        app.notify("[@click=app.quit]x[/] \x1b[31mred", title="[b]t[/b]")
        app.notify(Text.assemble(("bold ", "bold"), "[/] literal"))
        app.query_one(IncidentList).notify("[/] from a widget", markup=True)
        await pilot.pause()
        shown = toasts(app)
        assert "[b]t[/b]\n[@click=app.quit]x[/] red" in shown
        assert "bold [/] literal" in shown and "[/] from a widget" in shown
        assert_safe_screen(app)


# --- every dialog, with hostile text in every field ---------------------------------------------

# Each example mounts the app and walks a dozen dialogs: shrinking a failure would take many minutes,
# and the failing example is reported (and replayed from the example database) as found.
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)

hostile = st.sampled_from(HOSTILE) | st.lists(
    st.sampled_from([*"[]/@=\\#$:; abx", "bold", "link=", "@click=app.quit", "\u202e", "\u2066", "🔥", "\x1b",
                     "\x07", "\x9b", "\n", "\t"]),
    min_size=1, max_size=20,
).map("".join)
one_line = hostile.filter(lambda s: clean(s, multiline=False).strip())
some_text = hostile.filter(lambda s: clean(s).strip())


async def paste(pilot, app, text: str) -> None:
    app.screen.focused.post_message(events.Paste(text))
    await pilot.pause()


async def drive_every_dialog(app, pilot, incident_id: str, shown: dict[str, str]) -> None:
    """r, K, m, t, e, p, s, S, d, a (contain first), the palette and enter on the timeline; each one
    shows the stored text literally and leaves the screen safe."""
    prompt, title, note = shown["prompt"], shown["title"], shown["note"]

    async def step(*keys: str, screen: type | None = None) -> None:
        await pilot.press(*keys)
        await settle(pilot)
        if screen is not None:
            assert isinstance(app.screen, screen), (keys, app.screen)
        assert_safe_screen(app)

    async def close() -> None:
        await step("escape")
        assert not app.screen.is_modal

    # r first picks the version (the picker names the prompt), then both name it in the question.
    await step("r", screen=ChoiceScreen)
    assert prompt in app.screen.query_one("#form-title", Static).render().plain
    for keys in (("enter",), ("K",)):
        await step(*keys, screen=ConfirmScreen)
        assert prompt in app.screen.query_one("#confirm-body", Static).render().plain
        await close()
    await step("m", screen=ChoiceScreen)
    assert incident_id in app.screen.query_one("#form-title", Static).render().plain
    await step("down", "enter", screen=FormScreen)  # root cause: prefilled with the hypothesis
    assert app.screen.values()["text"] == shown["hypothesis"]  # a TextArea when it has several lines
    await close()
    await step("t", screen=ChoiceScreen)
    await step("enter", screen=FormScreen)
    assert app.screen.values()["hypothesis"] == shown["hypothesis"]
    await close()
    await step("e", screen=FormScreen)
    assert app.screen.values()["title"] == title
    await close()
    await step("p", screen=FormScreen)
    assert app.screen.values()["commander"] == shown["person"]
    await close()
    await step("s", screen=FormScreen)
    await close()
    await step("S", screen=SamplesScreen)
    samples_text = "".join(s.render().plain for s in app.screen.query(Static))
    assert neutralise(shown["sample"]) in samples_text  # bidi shown, not applied
    await close()
    await step("d", screen=FormScreen)
    await close()
    # Contained? no: past contain the rule asks for a reason, shown in a form with the refusal.
    # The contain-first question is a choice (r / K / o), naming the incident; o asks the reason.
    await step("a", screen=ChoiceScreen)
    assert incident_id in app.screen.query_one("#form-intro", Static).render().plain
    await step("o", screen=FormScreen)
    await paste(pilot, app, shown["reason"])
    await step("enter")
    assert app.service.get(incident_id).stage is Stage.DIAGNOSE
    await step("ctrl+p")
    await paste(pilot, app, title[:20])  # a search the palette cannot parse as markup either
    await step("down")
    assert_safe_screen(app)
    await close()
    await step("2")
    timeline = app.query_one("#timeline-events")
    notes = [i for i, e in enumerate(app.query_one("TimelinePane").visible_events()) if e.kind is EventKind.NOTE]
    timeline.highlighted = notes[-1]
    await step("enter", screen=TextViewScreen)
    assert app.screen.query_one(TextPager).text == neutralise(note)  # bidi overrides shown, not applied
    await close()


@seed(20261130)
@settings(max_examples=10, deadline=None, phases=NO_SHRINK, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                                    HealthCheck.too_slow])
@given(title=one_line, prompt=one_line, note=some_text, hypothesis=hostile, person=one_line, sample=some_text,
       reason=one_line)
def test_every_dialog_shows_hostile_text_literally(title, prompt, note, hypothesis, person, sample, reason):
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "incidents.json")
        try:
            service = IncidentService(db, config=Config(user="ana"), clock=Clock(NOW))
            for n in range(1, 8):  # containment acts only on registered versions: v1–v7, v7 live
                registered = service.prompts.add(prompt, f"You summarise tickets. Revision {n}.\n").prompt_id
            service.prompts.move_label(registered, "production", 7, "ana", "release")
            incident = service.declare(title=title, prompt_id=prompt, version=7, severity="P1", detected_by="alert",
                                       commander=person)
            service.triage(incident.id, "prompt-quality", hypothesis)
            service.advance(incident.id, "contain")
            stored_note = service.note(incident.id, note).text
            service.add_sample(incident.id, input="q", output=sample)
            incident = service.get(incident.id)
            shown = {"title": incident.title, "prompt": incident.prompt_id, "note": stored_note,
                     "hypothesis": incident.hypothesis, "person": incident.commander, "sample": clean(sample),
                     "reason": reason}

            async def run() -> None:
                app = new_app(db)
                async with app.run_test(size=(120, 36), notifications=True) as pilot:
                    assert_safe_screen(app)
                    details = app.query_one("#details", Static).render().plain
                    assert neutralise(incident.title)[:50] in details
                    assert neutralise(incident.prompt_id)[:50] in details
                    await drive_every_dialog(app, pilot, incident.id, shown)
                assert app.return_code is None

            asyncio.run(run())
        finally:
            db.close()


async def test_a_click_action_in_a_title_is_text_not_a_link(db):
    service = IncidentService(db, config=Config(user="ana"), clock=Clock(NOW))
    service.declare(new_prompt=True, title="[@click=app.quit]x[/] click me", prompt_id="p", severity="P1", detected_by="alert")
    app = new_app(db)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await pilot.pause()
        rows = [strip.text for strip in screen_rows(app)]
        y = next(n for n, row in enumerate(rows) if "[@click=app.quit]x[/] click me" in row)
        x = rows[y].index("[@click=app.quit]x[/]") + len("[@click=app.quit]")  # on the x
        await pilot.click(offset=(x, y))
        await pilot.pause()
        assert app.is_running
        assert_safe_screen(app)
    assert app.return_code is None


# --- issue 11 item 11: a huge text ---------------------------------------------------------------


async def test_a_5mb_note_from_an_old_database_shows_its_head_and_opens_in_full(db):
    service = IncidentService(db, config=Config(user="ana"), clock=Clock(NOW))
    incident = service.declare(new_prompt=True, title="Huge paste", prompt_id="p", severity="P1", detected_by="manual")
    huge = ("word " * 19 + "[/]\n") * 50_000  # 5 MB, written past the service as an old database holds it
    assert len(huge) > 70 * MAX_TEXT_BYTES
    Repository(db).add_event(TimelineEvent(incident.id, NOW, EventKind.NOTE, huge, author="ana"))
    app = new_app(db)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await pilot.pause()
        assert [i.id for i in app.query_one(IncidentList).incidents] == [incident.id]
        rows = timeline_rows(app)
        assert rows[-1].count("\n") < 12 and len(rows[-1]) < 1000  # the head, wrapped: not 5 MB
        assert "word word" in rows[-1] and " ".join(rows[-1].split()).endswith(VIEW_ALL.strip())
        await pilot.press("2", "up", "down", "v")
        assert await until(pilot, lambda: isinstance(app.screen, TextViewScreen))
        pager = app.screen.query_one(TextPager)
        assert pager.text == huge and len(pager.rows) >= 50_000
        assert max(len(row) for row in pager.rows) <= pager.scrollable_content_region.width
        assert not pager.show_horizontal_scrollbar  # rows are cut to what is visible beside the scrollbar
        await pilot.press("end")
        assert await until(pilot, lambda: pager.scroll_offset.y > 49_000)
        await pilot.pause()
        assert any("word [/]" in strip.text for strip in screen_rows(app))
        await pilot.press("escape", "enter")  # enter on the event opens it too
        assert await until(pilot, lambda: isinstance(app.screen, TextViewScreen))
        await pilot.press("q")
        assert await until(pilot, lambda: not app.screen.is_modal)


async def test_a_note_over_the_limit_is_refused_on_screen_and_stays_in_the_line(db):
    service = IncidentService(db, config=Config(user="ana"), clock=Clock(NOW))
    incident = service.declare(new_prompt=True, title="t", prompt_id="p", severity="P1", detected_by="manual")
    app = new_app(db)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await pilot.press("n")
        big = "z" * (MAX_TEXT_BYTES + 10)
        await paste(pilot, app, big)
        await pilot.press("enter")
        await settle(pilot)
        assert any("the note is too long: 64.0 KiB (the limit is 64 KiB)" in t for t in toasts(app))
        assert app.query_one("#note", Input).value == big  # nothing typed is lost
        assert [e.kind for e in service.timeline(incident.id)] == [EventKind.DETECTION]


# --- the dashboard half of the hostile-payload fuzz --------------------------------------------------

label_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(min_size=1, max_size=40),  # any code point, lone surrogates included
    st.sampled_from(["\ud800", "a\udcffb", "\x1b[31m", "\u202e\u2067", "\x9b2J", "\x00\x07\x08"]),
)
annotation_text = st.one_of(label_text, st.builds(lambda s, n: s * n, label_text, st.integers(1_000, 20_000)))


@st.composite
def alert_payloads(draw):
    payload = json.loads((PAYLOADS / "alertmanager_firing.json").read_text())
    for alert in payload["alerts"]:
        alert["labels"]["prompt_id"] = draw(
            label_text.filter(lambda s: 0 < len(clean(s, multiline=False).strip()) <= 200))  # longer: refused
        alert["labels"]["alertname"] = draw(label_text)
        alert["labels"][draw(st.sampled_from(["team", "[b]x", "a\x1bb", "\u202ez"]))] = draw(label_text)
        alert["annotations"] = {"summary": draw(annotation_text), "description": draw(annotation_text)}
        alert["fingerprint"] = draw(st.text("0123456789abcdef", min_size=8, max_size=16))
    return payload


@seed(20261130)
@settings(max_examples=15, deadline=None, phases=NO_SHRINK, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(payload=alert_payloads())
def test_hostile_alert_payloads_reach_the_dashboard_safely(payload):
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "incidents.json")
        try:
            report = AlertService(db, config=Config(user="ana"), clock=Clock(NOW)).ingest("alertmanager", payload)
            assert report.ok, report.errors
            ids = report.incident_ids

            async def run() -> None:
                app = new_app(db)
                async with app.run_test(size=(100, 30), notifications=True) as pilot:
                    await pilot.pause()
                    assert sorted(i.id for i in app.query_one(IncidentList).incidents) == sorted(ids)
                    assert_safe_screen(app)
                    # r and K on an alert's unregistered prompt refuse with a toast (nothing to route to):
                    # that toast carries the label too, and must be as safe as a dialog.
                    for keys, screens in ((("2", "up", "up", "enter"), (TextViewScreen,)),
                                          (("r",), (ConfirmScreen, ChoiceScreen, type(app.screen))),
                                          (("K",), (ConfirmScreen, type(app.screen)))):
                        await pilot.press(*keys)
                        await settle(pilot)
                        assert isinstance(app.screen, screens)
                        assert_safe_screen(app)
                        if app.screen.is_modal:
                            await pilot.press("escape")
                    await pilot.press("1", "down")
                    await settle(pilot)
                    assert_safe_screen(app)
                assert app.return_code is None

            asyncio.run(run())
        finally:
            db.close()


def test_palette_hits_are_text_not_markup():
    from textual.fuzzy import Matcher
    from textual.markup import MarkupError

    from incident_tui.tui.commands import highlight

    matcher = Matcher("note")
    try:
        matcher.highlight("Write a note [/]")
    except MarkupError:
        pass  # what Textual's own highlight does with a bracket in a command name
    shown = highlight(matcher, "Write a note [/] ([@click=app.quit]x[/])")
    assert shown.plain == "Write a note [/] ([@click=app.quit]x[/])"
    assert all("@click" not in str(span.style) for span in shown.spans)
    assert len(shown.spans) == 4  # n o t e, highlighted
