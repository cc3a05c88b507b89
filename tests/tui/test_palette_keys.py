"""Every key of every pane is in the command palette, and the footer and `?` follow remaps."""

from __future__ import annotations

import pytest
from helpers import burst, settle

from incident_tui.config import Config
from incident_tui.tui.bindings import KEYS, pane_keys
from incident_tui.tui.commands import palette_commands
from incident_tui.tui.screens.help import HelpScreen
from incident_tui.tui.widgets.diff_view import DiffView
from incident_tui.tui.widgets.keybar import KeyBar


def our_bindings(widget):
    """The bindings a widget's own classes declare (Textual's built-in widget keys excluded)."""
    for klass in type(widget).__mro__:
        if klass.__module__.startswith("incident_tui."):
            yield from vars(klass).get("BINDINGS", ())


def footer(app) -> str:
    return app.query_one(KeyBar).render().plain


async def palette_pick(app, pilot, query: str) -> str:
    """Open the palette as a user does, type, take the first hit; returns what it said."""
    await pilot.press("ctrl+p")
    await burst(pilot, *query)  # returns once the palette's search has finished
    first = app.screen.query_one("CommandList").get_option_at_index(0).prompt.plain
    await pilot.press("enter")
    await settle(pilot)
    return first


async def test_every_binding_of_every_pane_is_in_the_palette(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        in_palette = {c.binding_id: c.name for c in palette_commands(app)}
        seen: set[str] = set()
        # Walk what is really mounted, pane by pane, with an incident selected (its lists, its fields).
        for pane_key in ("1", "2", "3", "4", "5"):
            await pilot.press(pane_key)
            await settle(pilot)
            for widget in app.screen.walk_children():
                for binding in our_bindings(widget):
                    if binding.id is None:
                        # Only the note line's enter / escape may lack an id: typing keys, not actions;
                        # and the incident list's and the timeline's cursor keys (a Textual OptionList's
                        # keys before).
                        assert type(widget).__name__ == "NoteInput" or (
                            type(widget).__name__ in ("IncidentList", "EventList")
                            and binding.action in {"cursor_down", "cursor_up", "first", "last", "page_down",
                                                   "page_up", "select"}), (widget, binding)
                        continue
                    assert binding.id in in_palette, (
                        f"{type(widget).__name__}: {binding.id} ({binding.description}) is not in the palette: "
                        "add the class to bindings.PANES"
                    )
                    seen.add(binding.id)
        for k in KEYS:
            assert k.id == "note.alt" or k.id in in_palette, k.id
        assert {"diff.wrap", "diff.fold", "diff.copy", "postmortem.export", "postmortem.copy_all",
                "postmortem.list.add"} <= seen
        # Nothing registered that no pane has: the registry and the screen agree.
        assert {k.id for k in pane_keys() if k.id} <= seen


async def test_palette_runs_a_diff_action_from_anywhere(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        said = await palette_pick(app, pilot, "fold unchanged")  # from the incident list: diff not open yet
        assert said.startswith("Diff: Fold") and "(o)" in said
        view = app.query_one(DiffView)  # the command opened the diff pane
        assert app.focused is app.panes["diff"] or app.panes["diff"] in app.focused.ancestors
        folded = view.folded
        await palette_pick(app, pilot, "fold unchanged")  # focus is in the diff now: toggles back
        assert view.folded is (not folded)
        wrap = view.wrap
        said = await palette_pick(app, pilot, "wrap unwrap")
        assert "(w)" in said and view.wrap is (not wrap)


async def test_palette_runs_postmortem_actions(make_app, monkeypatch):
    import pyperclip

    def no_mechanism(text):
        raise pyperclip.PyperclipException("Pyperclip could not find a copy/paste mechanism for your system.")

    # Headless with xclip installed: the copy falls back to OSC 52 and says why, not "install xclip".
    monkeypatch.setattr(pyperclip, "copy", no_mechanism)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("incident_tui.services.clipboard._installed", lambda: ["xclip"])
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        pane = app.panes["postmortem"]
        fmt = pane.fmt
        said = await palette_pick(app, pilot, "format markdown")
        assert said.startswith("Postmortem: Format") and pane.fmt != fmt
        await palette_pick(app, pilot, "copy the whole document")
        await settle(pilot)
        assert app.clipboard.strip(), "copy all from the palette copied nothing"
        said = [str(n.message) for n in app._notifications]
        assert any("OSC 52" in m and "no display is reachable" in m and "xclip" in m for m in said), said
        assert not any("install" in m for m in said), said
        said = await palette_pick(app, pilot, "export copy or save")
        assert "(ctrl+o)" in said and type(app.screen).__name__ == "ExportDialog"
        await pilot.press("escape")
        await settle(pilot)


async def test_the_palette_offers_no_dashboard_action_over_a_dialog(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("d")  # the declare form
        await settle(pilot)
        await pilot.press("ctrl+p")
        await burst(pilot, *"rollback")
        options = app.screen.query_one("CommandList")
        names = [options.get_option_at_index(i).prompt.plain for i in range(options.option_count)]
        assert not any("Roll back" in name for name in names)


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
async def test_footer_and_help_follow_a_remapped_note_key(make_app, size):
    # The footer said "i note" after note was remapped to ctrl+n.
    app = make_app(Config(user="ana", keys={"note": "ctrl+n", "rollback": "R", "diff.wrap": "x"}))
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        bar = footer(app)
        assert " ctrl+n  note " in bar and " i  note " not in bar
        if size[0] >= 120:
            assert " R  rollback " in bar and " r  rollback " not in bar
        await pilot.press("3")
        await settle(pilot)
        bar = footer(app)
        assert " x  wrap " in bar and " w  wrap " not in bar
        await pilot.press("ctrl+n", *"remapped", "enter")
        await settle(pilot)
        assert any(e.text == "remapped" for e in app.query_one("TimelinePane").events)
        await pilot.press("escape", "question_mark")  # leave the note line, then help
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        shown = _help_rows(app.screen)
        assert ("ctrl+n", "Write a note (a leading 14:32 or -5m backdates it)") in shown
        assert ("R", "Roll back to the previous good version (confirms first)") in shown
        assert ("x", "Wrap / unwrap long lines") in shown and ("w", "Wrap / unwrap long lines") not in shown
        assert ("ctrl+n / i", "Write a note") in shown and ("n / i", "Write a note") not in shown


def _help_rows(screen) -> list[tuple[str, str]]:
    from rich.table import Table

    rows = []
    for static in screen.query("Static"):
        if isinstance(static.content, Table):
            keys, words = (list(column.cells) for column in static.content.columns)
            rows += [(str(k), str(w)) for k, w in zip(keys, words, strict=True)]
    assert rows, "the help table was not found"
    return rows


async def test_default_footer_unchanged_and_the_diff_footer_says_i_for_note(make_app):
    app = make_app()
    async with app.run_test(size=(160, 36)) as pilot:
        await settle(pilot)
        assert footer(app).startswith(" n  note ")
        await pilot.press("3")
        await settle(pilot)
        bar = footer(app)
        assert " n  next change " in bar and " i  note " in bar


def test_only_the_note_line_has_keys_without_an_id():
    # An id is what puts a key in the palette and lets the config remap it.
    assert [k for k in pane_keys() if k.id is None and k.owner != "NoteInput"] == []


async def test_a_remapped_help_key_opens_closes_and_is_in_the_footer(make_app):
    app = make_app(Config(user="ana", keys={"help": "h"}))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert footer(app).rstrip().endswith(" h  help") and " ?  help" not in footer(app)
        await pilot.press("h")
        assert isinstance(app.screen, HelpScreen)
        assert ("h", "This help") in _help_rows(app.screen)
        await pilot.press("h")
        assert not isinstance(app.screen, HelpScreen)
