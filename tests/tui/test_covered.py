"""The compositor skips a widget covered on every line it would paint; the screen comes out the same."""

from __future__ import annotations

import pytest
from textual.geometry import Region

from incident_tui.tui import covered


def screen_both_ways(app) -> list:
    """The whole screen composed both ways (each line as its segments), asserted equal; the lines."""
    compositor = app.screen._compositor
    ours = [list(strip) for strip in compositor.render_strips()]
    covered.uninstall()
    try:
        textuals = [list(strip) for strip in compositor.render_strips()]
    finally:
        covered.install()
    assert ours == textuals
    return ours


def partial_both_ways(app, regions: list[Region]) -> int:
    """An update of some regions only, both ways; how many pieces of lines it painted."""
    compositor = app.screen._compositor

    def update():
        compositor._dirty_regions.update(regions)
        return compositor.render_partial_update()

    ours = update()
    covered.uninstall()
    try:
        textuals = update()
    finally:
        covered.install()
    def as_lists(update):  # a line the update does not paint has None for its pieces
        return [{cut: None if strip is None else list(strip) for cut, strip in line.items()} for line in update.chops]

    assert as_lists(ours) == as_lists(textuals)
    return sum(strip is not None for line in ours.chops for strip in line.values())


@pytest.mark.parametrize("size", [(160, 48), (80, 24)])
async def test_every_screen_of_the_dashboard_composes_the_same_both_ways(make_app, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        lines = screen_both_ways(app)
        assert len(lines) == size[1] and all(lines)
        width, height = size
        partial_both_ways(app, [Region(0, 0, width, 1), Region(0, height - 1, width, 1)])
        assert partial_both_ways(app, [Region(width // 3, 2, 3, height // 2), Region(1, height // 2, 5, 2)]) > 0
        for keys in (["down", "down"], ["2"], ["up", "f"], ["3"], ["4"], ["5"], ["1", "question_mark"],
                     ["escape", "d"], ["escape", "ctrl+p"], ["escape", "escape"]):
            await pilot.press(*keys)
            await pilot.pause()
            screen_both_ways(app)
            partial_both_ways(app, [Region(0, 0, width, height)])


async def test_containers_behind_the_panes_are_not_painted_on_a_selection(make_app):
    """The reason for covered.py: a selection repaints the panes, not the containers behind them."""
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        painted: list[str] = []
        screen = app.screen
        containers = [screen, *(w for w in screen.walk_children() if w.id in ("main", "left", "right"))]
        assert len(containers) == 4
        originals = {}
        for widget in containers:
            originals[widget] = widget.render_lines

            def spy(crop, widget=widget):
                painted.append("screen" if widget is screen else widget.id)
                return originals[widget](crop)

            widget.render_lines = spy
        await pilot.press("down")
        await pilot.pause()
        screen._compositor._dirty_regions.add(screen.region)
        screen._compositor.render_partial_update()
        assert painted == []
        covered.uninstall()
        try:
            screen._compositor._dirty_regions.add(screen.region)
            screen._compositor.render_partial_update()
        finally:
            covered.install()
        assert set(painted) == {"screen", "main", "left", "right"}  # Textual's own paints them all


async def test_a_gap_between_children_is_still_painted_from_the_container(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.query_one("#left").styles.width = "30%"  # the panes no longer fill the row: the row shows
        app.query_one("#main").styles.padding = (1, 2)
        await pilot.pause()
        screen_both_ways(app)
        partial_both_ways(app, [Region(0, 0, 120, 40)])
