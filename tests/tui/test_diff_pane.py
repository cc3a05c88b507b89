"""Pilot tests of the diff pane on a tiny host app."""

from __future__ import annotations

import pytest
from helpers import settle
from textual.app import App, ComposeResult

from diff_screen import NEW, OLD, Reassembler, expected_lines, number_width, separator_column
from incident_tui.domain.diff import unified_diff, visible
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
        sep = (app.query_one(DiffView).content_width - 1) // 2
        left, right = inserted[:sep], inserted[sep + 1 :]
        assert inserted[sep] in "│┃"
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
        # Prose starts wrapped: the removed line's continuations, then the added line.
        after = next(line for line in lines[removed + 1 :] if "↪" not in line)
        assert "+ * You MUST" in after
        assert lines[removed].split()[0] == "5"  # old number only on a removed line
        assert all(len(line) <= 80 for line in lines)
        await pilot.press("u")  # the other layout on the first press
        assert "side by side" in header(app)
        await pilot.press("u")
        assert "unified" in header(app)


@pytest.mark.parametrize("width", [120, 200])
async def test_u_switches_layout_on_the_first_press_on_a_wide_terminal(openhands, width):
    app = Host(openhands)
    async with app.run_test(size=(width, 30)) as pilot:
        app.query_one(DiffPane).show_versions("openhands", 4, 5)
        await settle(pilot)
        view = app.query_one(DiffView)
        assert "side by side" in header(app) and not view.unified
        await pilot.press("u")
        assert "unified" in header(app) and view.unified
        await pilot.press("u", "u", "u")
        assert "side by side" in header(app) and not view.unified


async def test_failing_vs_last_good(openhands):
    app = Host(openhands)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = app.query_one(DiffPane)
        pane.show_incident("openhands", 5)
        await settle(pilot)
        assert "v4 (last good) → v5 (failing)" in header(app)
        pane.show_versions("openhands", 20, 21)
        await settle(pilot)
        assert "v20 → v21" in header(app)
        await pilot.press("g")
        await settle(pilot)
        assert "v4 (last good) → v5 (failing)" in header(app)
        assert (pane.old_version, pane.new_version) == (4, 5)


async def test_g_after_picking_versions_goes_back_to_the_incident(openhands):
    app = Host(openhands)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = app.query_one(DiffPane)
        pane.show_incident("openhands", 21)
        await settle(pilot)
        assert "v20 (last good) → v21 (failing)" in header(app)
        # v, in one burst: old two up from v20 (v18), new one up from v21 (v20).
        await pilot.press("v", "up", "up", "enter", "up", "enter")
        await settle(pilot)
        assert (pane.old_version, pane.new_version) == (18, 20)
        assert "v18 → v20" in header(app)
        await pilot.press("g")
        await settle(pilot)
        assert (pane.old_version, pane.new_version) == (20, 21)
        assert "v20 (last good) → v21 (failing)" in header(app)


async def test_g_without_an_incident_diffs_the_shown_version_against_its_last_good(openhands):
    app = Host(openhands)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = app.query_one(DiffPane)
        pane.show_versions("openhands", 2, 21)
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        assert (pane.old_version, pane.new_version) == (20, 21)
        assert "v20 (last good) → v21" in header(app)


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
        # One line of two is wider than the column: prose, so it starts wrapped.
        assert view.line_count > 2
        assert any("↪" in line for line in screen_lines(app))
        assert "wrap" in header(app)
        await pilot.press("w")
        assert view.line_count == 2
        assert "wrap" not in header(app)
        # The user's choice sticks for the next diff.
        app.query_one(DiffPane).show_versions("p", 2, 1)
        await settle(pilot)
        assert not view.wrap and view.line_count == 2


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


# --- the screen, reassembled ------------------------------------------------------------
#
# What the user sees is the composed screen: the view's text area, the scrollbar's gutter
# left out. Each side's lines are rebuilt from it (gutters, markers and "↪" stripped,
# wrapped parts joined, horizontal pages laid side by side) and compared with the files.


def text_area(app: App) -> list[str]:
    """The diff view's lines as composed on screen, without the scrollbar's cells."""
    view = app.query_one(DiffView)
    region = view.scrollable_content_region
    strips = app.screen._compositor.render_strips()
    return [strips[y].crop(region.x, region.right).text for y in range(region.y, region.bottom)]


def text_widths(app: App, num_w: int, separator: int | None) -> dict[str, int]:
    """Cells of text each side's column shows, from the screen's geometry."""
    width = app.query_one(DiffView).scrollable_content_region.width
    if separator is not None:
        widths = {OLD: separator - (num_w + 3), NEW: width - separator - 1 - (num_w + 3)}
        # The two columns share the text area: the right one is not the narrower one
        # (it was, by the scrollbar's two cells, which cut "'utf8'" to "'utf").
        assert widths[NEW] in (widths[OLD], widths[OLD] + 1), widths
    else:
        widths = dict.fromkeys((OLD, NEW), width - 2 * (num_w + 1) - 2)
    assert min(widths.values()) > 10
    return widths


async def read_diff(app: App, pilot, num_w: int) -> dict[tuple[str, int], str]:
    """Every line of both sides, read page by page (and, unwrapped, sideways too)."""
    view = app.query_one(DiffView)
    split, wrapped = not view.unified, view.wrap
    rebuilt = Reassembler(split=split, num_w=num_w, wrapped=wrapped)
    first = text_area(app)
    height = len(first)
    separator = separator_column(first) if split else None
    text_w = min(text_widths(app, num_w, separator).values())
    await pilot.press("home")
    done = 0
    while True:
        top = int(view.scroll_offset.y)
        assert top <= done, "a page skipped lines"
        xs = [0] if wrapped else list(range(0, int(view.max_scroll_x) + text_w, text_w))
        for x in xs:
            view.scroll_to(x=x, animate=False, immediate=True)
            await pilot.pause()
            left = int(view.scroll_offset.x)
            assert wrapped or left <= x
            for line in text_area(app)[done - top :]:
                rebuilt.feed(line, left, separator)
        done = top + height
        if done >= view.virtual_size.height:
            return rebuilt.lines
        view.scroll_to(x=0, animate=False, immediate=True)
        await pilot.press("pagedown")


def assert_shown_whole(shown: dict[tuple[str, int], str], old: str, new: str) -> None:
    for side, text in ((OLD, old), (NEW, new)):
        expected = expected_lines(text, visible)
        got = {n: line for (s, n), line in shown.items() if s == side}
        assert sorted(got) == sorted(expected), f"{side}: lines missing or extra"
        for n, line in expected.items():
            assert got[n] == line, f"{side} line {n}:\n  file:   {line!r}\n  screen: {got[n]!r}"


@pytest.mark.parametrize("width", [80, 120, 200])
@pytest.mark.parametrize("layout", ["split", "unified"])
@pytest.mark.parametrize("wrap", [True, False], ids=["wrapped", "unwrapped"])
async def test_a_long_real_prompt_reads_back_whole_from_the_screen(openhands, width, layout, wrap):
    old, new = openhands.get("openhands", 20).text, openhands.get("openhands", 21).text
    app = Host(openhands)
    async with app.run_test(size=(width, 40)) as pilot:
        app.query_one(DiffPane).show_versions("openhands", 20, 21)
        await settle(pilot)
        view = app.query_one(DiffView)
        assert view.wrap  # prose starts wrapped
        keys = ["o"]  # unfolded: every line of both files is on some screen
        if (layout == "unified") != view.unified:
            keys.append("u")
        if not wrap:
            keys.append("w")
        await pilot.press(*keys)
        assert (view.unified, view.wrap) == (layout == "unified", wrap)
        shown = await read_diff(app, pilot, number_width(old, new))
        assert_shown_whole(shown, old, new)
        if wrap:
            assert view.max_scroll_x == 0  # nothing hides sideways
        else:
            # The first screen shows each line's exact prefix, up to the column.
            first = Reassembler(split=layout == "split", num_w=number_width(old, new), wrapped=False)
            view.scroll_to(x=0, y=0, animate=False, immediate=True)
            await pilot.pause()
            lines = text_area(app)
            separator = separator_column(lines) if layout == "split" else None
            for line in lines:
                first.feed(line, 0, separator)
            text_w = text_widths(app, number_width(old, new), separator)
            files = {OLD: expected_lines(old, visible), NEW: expected_lines(new, visible)}
            assert len(first.lines) > 20
            for (side, n), prefix in first.lines.items():
                assert prefix == files[side][n][: text_w[side]].rstrip(), f"{side} line {n} cut early"


def area_strips(app: App):
    view = app.query_one(DiffView)
    region = view.scrollable_content_region
    strips = app.screen._compositor.render_strips()
    return [strips[y].crop(region.x, region.right) for y in range(region.y, region.bottom)]


WIDE_OLD = "".join(
    [
        "ab" + "漢字かな" * 20 + "\n",
        "\tindented " + "x" * 90 + "\n",
        "emoji " + "😀🎉" * 30 + " end\n",
        "same line\n",
    ]
)
WIDE_NEW = WIDE_OLD.replace("かな" * 3, "カナ" * 3, 1).replace("end", "fin").replace("x" * 30, "y" * 31, 1)


@pytest.mark.parametrize("width", [81, 120])
@pytest.mark.parametrize("unified", [False, True])
async def test_wide_characters_and_tabs_wrap_whole(service, width, unified):
    from rich.cells import cell_len

    service.add("p", WIDE_OLD)
    service.add("p", WIDE_NEW)
    app = Host(service)
    async with app.run_test(size=(width, 40)) as pilot:
        app.query_one(DiffPane).show_versions("p", 1, 2)
        await settle(pilot)
        view = app.query_one(DiffView)
        assert view.wrap  # long lines: prose
        if view.unified != unified:
            await pilot.press("u")
        strips = area_strips(app)
        area_w = view.scrollable_content_region.width
        left_w = (area_w - 1) // 2
        columns = [(0, area_w, ("old", "new"))] if unified else [(0, left_w, ("old",)), (left_w + 1, area_w, ("new",))]
        gutter = 3 * 2 + 4 if unified else 3 + 3
        rebuilt: dict[tuple[str, int], list[str]] = {}
        short: dict[tuple[str, int], list[int]] = {}
        for start, end, sides in columns:
            text_w = end - start - gutter
            last: list[tuple[str, int]] = []
            for strip in strips:
                col = strip.crop(start, end)
                head, body = col.crop(0, gutter).text, col.crop(gutter, end - start).text
                if not head.strip():
                    continue
                marker = head[-2]
                if marker == "↪":
                    keys = last
                else:
                    numbers = [head[k * 4 : k * 4 + 3].strip() for k in range(len(sides))]
                    keys = last = [(side, int(n)) for side, n in zip(sides, numbers) if n]
                part = body.rstrip()
                assert cell_len(part) <= text_w
                for key in keys:
                    rebuilt.setdefault(key, []).append(part)
                    short.setdefault(key, []).append(text_w - cell_len(part))
        for side, text in (("old", WIDE_OLD), ("new", WIDE_NEW)):
            for n, line in expected_lines(text, visible).items():
                assert "".join(rebuilt[(side, n)]) == line, f"{side} line {n}"
                # A part ends short of its column by one cell at most: a wide
                # character that did not fit starts the next part, whole.
                assert all(gap <= 1 for gap in short[(side, n)][:-1]), f"{side} line {n}"
        assert len(rebuilt[("new", 1)]) > 1 and len(rebuilt[("new", 3)]) > 1  # they did wrap


async def test_a_changed_word_across_the_wrap_point_is_highlighted_on_both_parts(service):
    service.add("p", "start " + "a" * 30 + " " + "b" * 150 + "\n")
    service.add("p", "start " + "a" * 30 + " " + "C" * 150 + "\n")
    app = Host(service)
    async with app.run_test(size=(100, 20)) as pilot:
        app.query_one(DiffPane).show_versions("p", 1, 2)
        await settle(pilot)
        view = app.query_one(DiffView)
        assert view.wrap and not view.unified
        await pilot.press("u")  # unified: the new line's parts under each other
        lines = [view.render_line(y) for y in range(view.size.height)]
        added = [strip for strip in lines if "+ start" in strip.text or ("↪" in strip.text and "C" in strip.text)]
        assert len(added) >= 2
        for strip in added:
            c_segments = [seg for seg in strip if "C" in seg.text]
            assert c_segments, strip.text
            # Every cell of the changed word carries the word highlight (underline).
            assert all(seg.style and seg.style.underline for seg in c_segments)


def header_on_screen(app: App) -> list[str]:
    region = app.query_one("#diff-header").region
    strips = app.screen._compositor.render_strips()
    return [strips[y].crop(region.x, region.right).text.rstrip() for y in range(region.y, region.bottom)]


async def test_header_is_never_cut_at_80_columns(openhands):
    openhands.add("a-rather-long-prompt-identifier-for-the-checkout-agent", openhands.get("openhands", 20).text)
    openhands.add("a-rather-long-prompt-identifier-for-the-checkout-agent", openhands.get("openhands", 21).text)
    app = Host(openhands)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(DiffPane)
        pane.show_incident("a-rather-long-prompt-identifier-for-the-checkout-agent", 2)
        await settle(pilot)
        await pilot.press("o", "full_stop", "w")  # every flag on: the longest header
        lines = header_on_screen(app)
        assert len(lines) >= 2
        shown = " ".join(line.strip() for line in lines)
        for piece in (
            "a-rather-long-prompt-identifier-for-the-checkout-agent",
            "v1 (last good) → v2 (failing)",
            "change 1 of 1",
            "+12 −2 lines",
            "167 words",
            "unified",
            "unfolded",
            "spaces shown",
        ):
            assert piece in shown
        assert "…" not in shown
        assert all(len(line) <= 80 for line in lines)
        # The body starts below the header, whatever its height.
        assert app.query_one(DiffView).region.y >= len(lines)


@pytest.mark.parametrize("wrap", [True, False], ids=["wrapped", "unwrapped"])
@pytest.mark.parametrize("unified", [False, True])
async def test_lines_with_whitespace_shown_read_back_whole(openhands, unified, wrap):
    old, new = openhands.get("openhands", 20).text, openhands.get("openhands", 21).text
    app = Host(openhands)
    async with app.run_test(size=(100, 40)) as pilot:
        app.query_one(DiffPane).show_versions("openhands", 20, 21)
        await settle(pilot)
        view = app.query_one(DiffView)
        keys = ["o", "full_stop"]  # unfolded, every space and line end marked
        if view.unified != unified:
            keys.append("u")
        if not wrap:
            keys.append("w")
        await pilot.press(*keys)
        assert view.wrap == wrap and view.show_whitespace
        shown = await read_diff(app, pilot, number_width(old, new))
        for side, text in ((OLD, old), (NEW, new)):
            for n in expected_lines(text, visible):
                raw = text.split("\n")[n - 1]
                assert shown[(side, n)] == visible(raw).replace(" ", "·") + "↵", f"{side} line {n}"
