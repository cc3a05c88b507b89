"""Declare, triage and contain from the keyboard: nothing is acted on that the registry does not hold."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from helpers import settle
from textual.widgets import OptionList

from incident_tui.config import Config, HookConfig
from incident_tui.domain.prompts import UNASSIGNED
from incident_tui.services.prompts import PromptService
from incident_tui.tui.screens.choice import ChoiceScreen
from incident_tui.tui.screens.form import ConfirmScreen, FormScreen
from incident_tui.tui.widgets.incident_list import IncidentList

FIXED_NOW = datetime(2026, 11, 25, 14, 30, tzinfo=timezone(timedelta(hours=1)))  # as the demo fixture seeds it
P2 = "INC-20261125-002"  # support-summary v7 (v6 was live before it; v1–v5 never in production)


async def select(pilot, app, incident_id):
    app.query_one(IncidentList).select_id(incident_id)
    await pilot.pause()
    assert app.current.id == incident_id


async def until(pilot, condition, frames: int = 50) -> None:
    """Let the app run frame by frame until ``condition()`` holds (a screen pushed by a callback)."""
    for _ in range(frames):
        if condition():
            return
        await pilot.pause()
    assert condition()


def notifications(app) -> list[str]:
    return [n.message for n in app._notifications]


def titles(app) -> list[str]:
    return [i.title for i in app.service.list()]


def options(app) -> list[str]:
    return [str(key) for key, _ in app.screen.choices]


async def fill_declare(pilot, title: str, prompt: str, version: str = "", *more: str) -> None:
    """d, then every field, ending with the enter that submits (and ``more``) — one burst, no pauses."""
    await pilot.press("d", *title, "enter", *prompt, "enter", *version, "enter", "tab", "tab", "enter", *more)


async def test_a_typo_asks_first_and_a_stray_enter_goes_back_to_the_form(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        # A second enter in the same burst lands on "back", never on "new".
        await fill_declare(pilot, "Answers in the wrong language", "faq-answr", "", "enter")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        values = app.screen.values()
        assert (values["title"], values["prompt"]) == ("Answers in the wrong language", "faq-answr")
        assert "Answers in the wrong language" not in titles(app)

        await pilot.press("ctrl+s")  # submit again: the question again, with the closest known id
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        assert app.screen.choice_title == "prompt faq-answr is not registered — declare it as new?"
        assert options(app) == ["back", "use:faq-answer", "new"]
        assert "Did you mean faq-answer?" in app.screen.intro
        await pilot.press("down", "enter")  # use faq-answer
        await settle(pilot)
        created = [i for i in app.service.list() if i.title == "Answers in the wrong language"]
        assert [(i.prompt_id, i.prompt_version) for i in created] == [("faq-answer", 12)]


async def test_a_new_prompt_is_declared_only_by_saying_so(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await fill_declare(pilot, "Router picks the wrong tool", "tool-router", "3")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen) and options(app)[-1] == "new"
        await pilot.press("end", "enter")
        await settle(pilot)
        (created,) = [i for i in app.service.list() if i.title == "Router picks the wrong tool"]
        assert (created.prompt_id, created.prompt_version) == ("tool-router", 3)
        assert app.current.id == created.id
        assert any("register its versions" in m for m in notifications(app))

        # r and K on it: refused with what to do, no dialog, nothing run, not contained.
        await pilot.press("r")
        await pilot.pause()
        assert not isinstance(app.screen, (ChoiceScreen, ConfirmScreen))
        await pilot.press("K")
        await pilot.pause()
        assert not isinstance(app.screen, (ChoiceScreen, ConfirmScreen))
        assert any(m.startswith("nothing to roll back to: register versions") for m in notifications(app))
        assert any("kill switch has nothing to act on" in m for m in notifications(app))
        assert app.service.get(created.id).contained_at is None


async def test_an_unknown_version_of_a_known_prompt_stays_in_the_form(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await fill_declare(pilot, "Answers too short", "faq-answer", "999")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        assert "faq-answer has no version 999 (it has v1–v12)" in str(app.screen.query_one("#form-error").render())
        assert "Answers too short" not in titles(app)


async def test_rollback_picker_order_and_direction(make_app, demo_db, tmp_path):
    prompts = PromptService(demo_db)
    # Earlier production history of support-summary: v3, then v5, then (from the demo) v6 → v7.
    prompts.move_label("support-summary", "production", 3, "bo", "release", at=FIXED_NOW - timedelta(days=10))
    prompts.move_label("support-summary", "production", 5, "bo", "release", at=FIXED_NOW - timedelta(days=9))
    record = tmp_path / "env.txt"
    hook = tmp_path / "rollback.sh"
    hook.write_text(f'#!/bin/sh\necho "$FROM_VERSION $TO_VERSION" > {record}\n')
    hook.chmod(0o755)
    app = make_app(Config(user="ana", hooks=HookConfig(rollback=[str(hook)], timeout=30)))
    async with app.run_test(size=(120, 36)) as pilot:
        await select(pilot, app, P2)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        assert app.screen.choice_title == "Roll support-summary v7 back to which version?"
        # The default first, then earlier production versions newest first, never-deployed last.
        assert options(app) == ["6", "5", "3", "4", "2", "1"]
        labels = [str(label) for _, label in app.screen.choices]
        assert "previous good version (default)" in labels[0] and "was live until" in labels[0]
        assert "was live until" in labels[1] and "never deployed" in labels[3]
        assert app.screen.query_one(OptionList).highlighted == 0

        await pilot.press("down", "enter")  # v5
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        # From live to target, and the size in that direction: v5 (the v6 rules plus a revision
        # line) brings back 6 lines and drops 3 of v7's.
        assert str(app.screen.body).startswith("Route support-summary v7 → v5 (+6 −3 lines) and run rollback.sh?")
        await pilot.press("y")
        await settle(pilot)
        await until(pilot, lambda: not app.busy)
        assert record.read_text() == "7 5\n", [e.text for e in app.service.timeline(P2)][-3:]
        assert prompts.production_version("support-summary") == 5
        assert "Rollback executed. Traffic routed to support-summary v5 (from v7)" in [
            e.text for e in app.service.timeline(P2)]


async def test_unassigned_incident_gets_its_prompt_in_the_triage_form(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        incident = app.service.declare(title="Unlabelled alert fired", prompt_id=UNASSIGNED, severity="P2",
                                       detected_by="alert")
        app.reload()
        await select(pilot, app, incident.id)
        await pilot.press("r")
        await pilot.pause()
        assert not isinstance(app.screen, ChoiceScreen)
        assert any("prompt is unassigned: set it first" in m for m in notifications(app))

        await pilot.press("t", "enter")  # prompt quality
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        assert [f.name for f in app.screen.fields] == ["prompt", "version", "hypothesis"]
        await pilot.press(*"support-summary", "enter", *"7", "enter", *"v7 dropped the refund rule", "enter")
        await settle(pilot)
        got = app.service.get(incident.id)
        assert (got.prompt_id, got.prompt_version, got.category.value) == ("support-summary", 7, "prompt-quality")
        assert f"Prompt changed: {UNASSIGNED} → support-summary v7" in [e.text for e in app.service.timeline(got.id)]

        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen) and options(app)[0] == "6"
