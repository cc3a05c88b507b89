"""Pilot tests of the diff pane on a tiny host app."""

from __future__ import annotations

import pytest
from helpers import settle
from textual.app import App, ComposeResult

from incident_tui.domain.diff import unified_diff
from incident_tui.services.prompts import PromptService
from incident_tui.store.storage import open_db
from incident_tui.tui.widgets.diff_pane import DiffPane, VersionPicker
from incident_tui.tui.widgets.diff_view import FOLD, DiffView



class Host(App):
    def __init__(self, service: PromptService) -> None:
        super().__init__()
        self.service = service

    def compose(self) -> ComposeResult:
        yield DiffPane(self.service)

    def on_mount(self) -> None:
        self.query_one(DiffPane).focus()


@pytest.fixture
def service(tmp_path):
    db = open_db(tmp_path / "incidents.json")
    yield PromptService(db)
    db.close()


@pytest.fixture
def openhands(service, openhands_history) -> PromptService:
    service.import_dir(openhands_history, "openhands")
    return service


def numbered(n: int, changes: dict[int, str] | None = None) -> str:
    changes = changes or {}
    return "".join(changes.get(i, f"rule {i}: answer the question asked") + "\n" for i in range(1, n + 1))


THREE_CHANGES = (numbered(80), numbered(80, {10: "rule 10: answer briefly", 40: "rule 40: cite sources", 70: "rule 70: be kind"}))


def screen_lines(app: App) -> list[str]:
    view = app.query_one(DiffView)
    return [view.render_line(y).text for y in range(view.size.height)]


def header(app: App) -> str:
    return str(app.query_one("#diff-header").render())


async def test_side_by_side_real_regression(openhands):
    app = Host(openhands)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = app.query_one(DiffPane)
        pane.show_versions("openhands", 4, 5)
        await settle(pilot)
        assert "openhands v4 → v5" in header(app)
        assert "+2 −1 lines" in header(app)
        assert "change 1 of 2" in header(app)
        assert "side by side" in header(app)
        lines = screen_lines(app)
        replaced = next(line for line in lines if "The assistant MUST" in line)
        left, right = replaced.split("│") if "│" in replaced else replaced.split("┃")
        assert left.lstrip().startswith("5 - * The assistant MUST")
        assert right.lstrip().startswith("6 + * You MUST")
        inserted = next(line for line in lines if "You should start exploring" in line)
        left, right = inserted[:59], inserted[60:]
        assert not left.strip()  # filler opposite the insertion
        assert right.lstrip().startswith("4 + * You should start")


async def test_n_and_shift_n_jump_between_changes(service):
    service.add("p", THREE_CHANGES[0])
    service.add("p", THREE_CHANGES[1])
    app = Host(service)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = app.query_one(DiffPane)
        pane.show_versions("p", 1, 2)
        await settle(pilot)
        view = app.query_one(DiffView)
        assert "change 1 of 3" in header(app)
        await pilot.press("n")
        assert "change 2 of 3" in header(app)
        assert any("rule 40: cite sources" in line for line in screen_lines(app))
        await pilot.press("n")
        assert "change 3 of 3" in header(app)
        assert any("rule 70: be kind" in line for line in screen_lines(app))
        await pilot.press("n")  # stays on the last one
        assert "change 3 of 3" in header(app)
        await pilot.press("N")
        assert "change 2 of 3" in header(app)
        assert view.current_hunk == 1


async def test_fold_toggle_shows_everything(service):
    service.add("p", THREE_CHANGES[0])
    service.add("p", THREE_CHANGES[1])
    app = Host(service)
    async with app.run_test(size=(120, 36)) as pilot:
        app.query_one(DiffPane).show_versions("p", 1, 2)
        await settle(pilot)
        view = app.query_one(DiffView)
        folded_lines = view.line_count
        assert any(kind == FOLD for kind, *_ in view._lines)
        assert "⋯ 6 unchanged lines · o to show ⋯" in screen_lines(app)[0]
        await pilot.press("o")
        assert view.line_count == 80 > folded_lines
        assert "unfolded" in header(app)
        assert "change 1 of 3" in header(app)
        await pilot.press("o")
        assert view.line_count == folded_lines


async def test_copy_puts_the_unified_diff_on_the_clipboard(openhands):
    app = Host(openhands)
    async with app.run_test(size=(120, 36)) as pilot:
        app.query_one(DiffPane).show_versions("openhands", 4, 5)
        await settle(pilot)
        await pilot.press("y")
        expected = unified_diff(
            openhands.get("openhands", 4).text, openhands.get("openhands", 5).text, "openhands@v4", "openhands@v5"
        )
        assert app.clipboard == expected
        assert app.clipboard.startswith("--- openhands@v4\n+++ openhands@v5\n@@ -1,6 +1,7 @@")


async def test_narrow_terminal_gets_the_unified_layout(openhands):
    app = Host(openhands)
    async with app.run_test(size=(80, 24)) as pilot:
        app.query_one(DiffPane).show_versions("openhands", 4, 5)
        await settle(pilot)
        assert "unified" in header(app)
        lines = [line.rstrip() for line in screen_lines(app)]
        removed = next(i for i, line in enumerate(lines) if "- * The assistant MUST" in line)
        assert "+ * You MUST" in lines[removed + 1]
        assert lines[removed].split()[0] == "5"  # old number only on a removed line
        assert all(len(line) <= 80 for line in lines)
        await pilot.press("u")  # auto → side by side, whatever the width
        assert "side by side" in header(app)
        await pilot.press("u")
        assert "unified" in header(app)


async def test_failing_vs_last_good(openhands):
    app = Host(openhands)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = app.query_one(DiffPane)
        pane.show_incident("openhands", 5)
        await settle(pilot)
        assert "v4 (last good) → v5 (failing)" in header(app)
        pane.show_versions("openhands", 20, 21)
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        assert "v20 (last good) → v21 (failing)" in header(app)


async def test_whitespace_markers_and_ignore_toggle(service):
    service.add("p", "alpha beta\n\tgamma\nend\n")
    service.add("p", "alpha  beta\n    gamma\nend\n")
    app = Host(service)
    async with app.run_test(size=(120, 36)) as pilot:
        app.query_one(DiffPane).show_versions("p", 1, 2)
        await settle(pilot)
        lines = screen_lines(app)
        # A whitespace change shows the row's whitespace on both sides.
        assert "alpha·beta" in lines[0] and "alpha··beta" in lines[0]
        assert "→   gamma" in lines[1] and "····gamma" in lines[1]
        assert "end" in lines[2] and "·" not in lines[2]
        await pilot.press("full_stop")  # markers everywhere, line ends too
        lines = screen_lines(app)
        assert "→   gamma↵" in lines[1]
        assert "end↵" in lines[2]
        await pilot.press("W")
        await settle(pilot)
        assert "ignoring whitespace" in header(app)
        assert "identical apart from whitespace" in "\n".join(screen_lines(app))
        await pilot.press("W")
        await settle(pilot)
        assert "change 1 of 1" in header(app)


async def test_user_text_is_shown_literally_never_as_markup_or_escapes(service):
    service.add("p", "[bold]x[/] keep\n")
    service.add("p", "[bold]y[/] \x1b[31mred\x1b[0m\n")
    app = Host(service)
    async with app.run_test(size=(120, 36)) as pilot:
        app.query_one(DiffPane).show_versions("p", 1, 2)
        await settle(pilot)
        shown = "\n".join(screen_lines(app))
        assert "[bold]x[/] keep" in shown
        assert "[bold]y[/] ␛[31mred␛[0m" in shown
        assert "\x1b" not in "".join(screen_lines(app))


async def test_soft_wrap(service):
    long_line = "word " * 60
    service.add("p", "short\n" + long_line + "\n")
    service.add("p", "short\n" + long_line + "more\n")
    app = Host(service)
    async with app.run_test(size=(120, 36)) as pilot:
        app.query_one(DiffPane).show_versions("p", 1, 2)
        await settle(pilot)
        view = app.query_one(DiffView)
        assert view.line_count == 2
        await pilot.press("w")
        assert view.line_count > 2
        assert any("↪" in line for line in screen_lines(app))
        assert "wrap" in header(app)


async def test_pick_two_versions(openhands):
    app = Host(openhands)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = app.query_one(DiffPane)
        pane.show_versions("openhands", 4, 5)
        await settle(pilot)
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, VersionPicker)
        await pilot.press("up", "enter")  # old: v3
        await pilot.press("down", "enter")  # new: v6
        await settle(pilot)
        assert not isinstance(app.screen, VersionPicker)
        assert (pane.old_version, pane.new_version) == (3, 6)
        await pilot.press("v")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert (pane.old_version, pane.new_version) == (3, 6)


async def test_keys_can_be_remapped_by_binding_id(service):
    service.add("p", THREE_CHANGES[0])
    service.add("p", THREE_CHANGES[1])
    app = Host(service)
    async with app.run_test(size=(120, 36)) as pilot:
        app.set_keymap({"diff.next": "x"})
        app.query_one(DiffPane).show_versions("p", 1, 2)
        await settle(pilot)
        await pilot.press("x")
        assert "change 2 of 3" in header(app)
    assert all(binding.id for binding in DiffPane.BINDINGS)


async def test_unknown_version_is_one_line_not_a_crash(openhands):
    app = Host(openhands)
    async with app.run_test(size=(120, 36)) as pilot:
        app.query_one(DiffPane).show_versions("openhands", 4, 99)
        await settle(pilot)
        assert "openhands has no version 99" in screen_lines(app)[0]


async def test_a_large_diff_renders_only_what_is_visible(service):
    old = numbered(20_000)
    new = numbered(20_000, {i: f"rule {i}: changed" for i in range(5, 20_000, 97)})
    service.add("p", old)
    service.add("p", new)
    app = Host(service)
    async with app.run_test(size=(120, 36)) as pilot:
        app.query_one(DiffPane).show_versions("p", 1, 2)
        await settle(pilot)
        view = app.query_one(DiffView)
        await pilot.press("o")  # everything unfolded: 20 000 rows
        assert view.line_count == 20_000
        await pilot.press("end")
        await pilot.pause()
        assert any(line.lstrip().startswith("20000") for line in screen_lines(app))
        # A repaint renders the visible rows only: two columns each, of 20 000 rows.
        view._body_cache.clear()
        view._line_cache.clear()
        view.refresh()
        await pilot.pause()
        assert 0 < len(view._body_cache) <= 2 * view.size.height
