"""Any failure of a write or a worker is one line on screen and never leaves "⠿ saving" behind."""

from __future__ import annotations

from helpers import settle

from incident_tui.domain.prompts import PromptError
from incident_tui.tui.screens.form import ConfirmScreen, FormScreen
from incident_tui.tui.widgets.header import StatusHeader
from incident_tui.tui.widgets.timeline import NoteInput

P1 = "INC-20261125-001"


def toasts(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


def header(app) -> str:
    return str(app.query_one(StatusHeader).render())


async def test_a_product_error_in_a_write_is_its_message_and_the_note_comes_back(make_app, monkeypatch):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        def refuse(*_args, **_kwargs):
            raise PromptError("prompt [bold]x[/] is not registered")

        monkeypatch.setattr(app.service, "note", refuse)
        await pilot.press("n", *"keep me", "enter")
        await settle(pilot)
        assert "prompt [bold]x[/] is not registered" in toasts(app)  # literal, markup and all
        assert not app.busy and "⠿" not in header(app)
        assert app.query_one(NoteInput).value == "keep me"  # nothing typed is lost


async def test_a_bug_in_a_write_says_bug_and_clears_the_busy_mark(make_app, monkeypatch):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        def broken(*_args, **_kwargs):
            raise TypeError("edit() got an unexpected keyword argument 'titel'")

        monkeypatch.setattr(app.service, "edit", broken)
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, FormScreen)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "bug: TypeError: edit() got an unexpected keyword argument 'titel'" in toasts(app)
        assert not app.busy and "⠿" not in header(app)
        # The writer goes on: the next write is stored.
        monkeypatch.undo()
        await pilot.press("n", *"after the bug", "enter")
        await settle(pilot)
        assert "after the bug" in [e.text for e in app.service.timeline(P1)]


async def test_a_bug_in_a_hook_worker_is_shown_by_the_worker_handler(make_app, monkeypatch):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        def broken(_plan):
            raise TypeError("hook result is None")

        monkeypatch.setattr(app.service, "run_containment_hook", broken)
        await pilot.press("K")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert "bug: TypeError: hook result is None" in toasts(app)
        assert not app.busy and "⠿" not in header(app)
        await pilot.press("n", *"still here", "enter")
        await settle(pilot)
        assert "still here" in [e.text for e in app.service.timeline(P1)]
