"""The timeline's filter line paints what a Static paints for the same words, fitting or not."""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widgets import Static

from incident_tui.tui.widgets.timeline import RunsLine

RUNS = (("filter: starred", "bold"), (" (f) · 12 of 51 events · 5 starred", "dim"))


class SideBySide(App):
    CSS = "Screen { layout: vertical; } RunsLine, Static { height: 1; padding: 0 1; background: $surface; }"

    def compose(self) -> ComposeResult:
        yield RunsLine()
        yield Static()


def lines(widget) -> list[list]:
    widget._styles_cache.clear()
    return [list(strip) for strip in widget.render_lines(Region(0, 0, widget.region.width, widget.region.height))]


@pytest.mark.parametrize("width", [100, 52, 30, 12])  # fits, just fits, wraps, wraps hard
async def test_the_filter_line_paints_as_a_static_paints_its_text(width):
    app = SideBySide()
    async with app.run_test(size=(width, 6)) as pilot:
        line, static = app.query_one(RunsLine), app.query_one(Static)
        line.show(RUNS)
        static.update(Text.assemble(*RUNS))
        await pilot.pause()
        assert lines(line) == lines(static)
        line.show((("filter: all", "bold"), (" (f) · 3 of 3 events · 0 starred", "dim")))
        await pilot.pause()
        assert lines(line) == lines(static.update(Text.assemble(*line.runs)) or static)
        if width >= 52:
            assert "3 of 3 events" in "".join(segment.text for segment in lines(line)[0])
