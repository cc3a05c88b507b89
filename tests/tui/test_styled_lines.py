"""Every widget the dashboard shows paints the same lines through styled_lines.py as through Textual's own code."""

from __future__ import annotations

import pytest
from textual.geometry import Region
from textual.widget import Widget

from incident_tui.tui import styled_lines
from incident_tui.tui.widgets.event_list import EventList
from incident_tui.tui.widgets.incident_list import IncidentList


def painted(widget: Widget) -> list[list]:
    widget._styles_cache.clear()
    region = Region(0, 0, widget.region.width, widget.region.height)
    return [list(strip) for strip in widget.render_lines(region)]


def both_ways(app) -> tuple[int, int]:
    """Paints every widget on screen (and its scrollbars) both ways; (widgets compared, plain boxes among them)."""
    widgets: list[Widget] = []
    for widget in app.screen.walk_children(with_self=True):
        if not widget.region.area:
            continue
        widgets.append(widget)
        for bar in (widget.vertical_scrollbar, widget.horizontal_scrollbar):
            if bar.region.area and bar.is_mounted:
                widgets.append(bar)
    plain = 0
    for widget in widgets:
        ours = painted(widget)
        styled_lines.uninstall()
        try:
            textuals = painted(widget)
        finally:
            styled_lines.install()
        assert ours == textuals, f"{widget!r} paints differently"
        plain += styled_lines._plain_box(widget.styles, widget.opacity)
    return len(widgets), plain


@pytest.mark.parametrize("size", [(160, 48), (80, 24)])
async def test_the_dashboards_screens_paint_the_same_lines_both_ways(make_app, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        compared, plain = both_ways(app)
        assert compared > 10 and plain > 5
        assert styled_lines._plain_box(app.query_one(EventList).styles, 1.0)
        assert styled_lines._plain_box(app.query_one(IncidentList).styles, 1.0)  # a border, still plain
        for keys in (["down", "down"], ["2"], ["up", "f"], ["3"], ["4"], ["5"], ["1", "question_mark"],
                     ["escape", "d"], ["escape", "ctrl+p"]):
            await pilot.press(*keys)
            await pilot.pause()
            both_ways(app)


async def test_a_box_with_an_outline_or_a_tint_goes_through_textuals_own_lines(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        details = app.query_one("#details")
        details.styles.outline = ("heavy", "red")
        events = app.query_one(EventList)
        events.styles.tint = "red 20%"
        await pilot.pause()
        assert not styled_lines._plain_box(details.styles, 1.0)
        assert not styled_lines._plain_box(events.styles, 1.0)
        both_ways(app)
