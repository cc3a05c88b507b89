"""A list that scrolls keeps the lines still on screen: it paints what came into view, and paints right.

RowList moves the styled lines Textual keeps per widget line when it scrolls (row_list.py), so
every check here compares what the list paints after a scroll with what a list painting every
line from nothing paints, across steps, pages, jumps, a clock tick and the mouse.
"""

from __future__ import annotations

from test_event_list import NOW as EVENTS_NOW
from test_event_list import sample_events
from test_incident_list import NOW, Many
from textual.app import App, ComposeResult
from textual.geometry import Region

from incident_tui.tui.widgets.event_list import EventList
from incident_tui.tui.widgets.incident_list import IncidentList


def as_painted(widget) -> list[list]:
    region = Region(0, 0, widget.region.width, widget.region.height)
    return [list(strip) for strip in widget.render_lines(region)]


def from_nothing(widget) -> list[list]:
    widget._styles_cache.clear()
    return as_painted(widget)


async def test_scrolling_the_incident_list_paints_what_painting_every_line_paints():
    app = Many(200)
    async with app.run_test(size=(80, 14)) as pilot:
        await pilot.pause()
        incidents = app.query_one(IncidentList)
        steps = [["down"] * 8, ["down"], ["down", "down", "down"], ["pagedown"], ["up"] * 9, ["k"],
                 ["end"], ["up", "up"], ["home"], ["pagedown", "pagedown", "up"]]
        offsets = set()
        for keys in steps:
            await pilot.press(*keys)
            await pilot.pause()
            offsets.add(incidents.scroll_offset.y)
            assert as_painted(incidents) == from_nothing(incidents), keys
        assert len(offsets) > 5  # it did scroll, by steps and by pages
        # A clock tick and the mouse over a row repaint rows in place; a scroll after them is right too.
        incidents.show(app.rows, NOW.replace(hour=14), compact=False)
        await pilot.hover(IncidentList, offset=(4, 3))
        await pilot.press("down", "down", "down", "down", "down")
        await pilot.pause()
        assert as_painted(incidents) == from_nothing(incidents)
        assert "2h 00m" in "".join(segment.text for segment in as_painted(incidents)[1])


async def test_a_step_past_the_edge_paints_the_rows_it_touches_not_the_screen():
    app = Many(200)
    async with app.run_test(size=(80, 14)) as pilot:
        await pilot.pause()
        incidents = app.query_one(IncidentList)
        rows_on_screen = incidents.scrollable_content_region.height // incidents.row_height
        await pilot.press(*["down"] * (rows_on_screen - 1))  # the cursor on the last row on screen
        await pilot.pause()
        assert incidents.scroll_offset.y == 0
        painted_lines = []
        paint = incidents.render_line
        incidents.render_line = lambda y: painted_lines.append(y) or paint(y)
        await pilot.press("down")
        await pilot.pause()
        assert incidents.scroll_offset.y == incidents.row_height  # one row up
        # The row that came into view (which has the cursor) and the row the cursor left: 2 lines each.
        assert len(painted_lines) == 2 * incidents.row_height, painted_lines
        del incidents.render_line
        assert as_painted(incidents) == from_nothing(incidents)


class Timeline(App):
    def compose(self) -> ComposeResult:
        yield EventList()

    def on_mount(self) -> None:
        many = sample_events() * 6  # rows of one line and of several (wrapped notes, line breaks)
        events = self.query_one(EventList)
        events.show(many, EVENTS_NOW, with_date=False, highlighted=len(many) - 1)
        events.focus()


async def test_scrolling_the_timeline_paints_what_painting_every_line_paints():
    app = Timeline()
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.pause()
        events = app.query_one(EventList)
        offsets = set()
        for keys in (["up"] * 6, ["pageup"], ["up"], ["home"], ["down"] * 4, ["end"], ["pageup", "down"]):
            await pilot.press(*keys)
            await pilot.pause()
            offsets.add(events.scroll_offset.y)
            assert as_painted(events) == from_nothing(events), keys
        assert len(offsets) > 4
