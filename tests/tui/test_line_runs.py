"""Lines painted from their runs (line_runs.py) come out as Content paints them, segment for segment."""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.geometry import Region

from incident_tui.tui.widgets import details as details_module
from incident_tui.tui.widgets.details import DetailsPanel
from incident_tui.tui.widgets.line_runs import text_runs


def painted(widget) -> list[list]:
    widget._styles_cache.clear()
    widget._line_strips.clear()
    widget._painted = None
    return [list(strip) for strip in widget.render_lines(Region(0, 0, widget.region.width, widget.region.height))]


def both_ways(panel: DetailsPanel, monkeypatch) -> list[list]:
    ours = painted(panel)
    with monkeypatch.context() as patch:
        patch.setattr(details_module, "text_runs", lambda _line: None)  # every line through Content
        contents = painted(panel)
    assert ours == contents
    return ours


HOSTILE = [
    Text.assemble(("impact 14:02", "bold"), " · detected 14:05 ", ("(3m ago)", "bold")),
    Text.assemble(("告警 ", "cyan"), "提示词 v12 · 回滚 ", ("🔥🔥", "bold red"), " ok"),
    Text.assemble(("a", "bold"), ("b", "dim"), ("c", "green"), "  trailing  "),
    Text("plain words only"),
    Text.assemble(("x" * 51, "yellow")),  # just fits a 52-wide box; wider boxes too
    Text.assemble(("wraps " * 20, "dim")),  # too long: through Content, wrapped
    Text("tab\there"),
    Text.assemble("x", ("告警" * 40, "cyan"), " tail"),  # cut inside a wide character
    Text.assemble(("y" * 47, "bold"), ("z" * 30, "dim")),  # cut inside the second span
    Text.assemble(("y" * 49, "bold"), "unstyled tail that is cut"),
]


@pytest.mark.parametrize("size", [(160, 48), (100, 30)])
async def test_the_details_of_every_incident_paint_as_content_paints_them(make_app, monkeypatch, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        panel = app.query_one(DetailsPanel)
        if not panel.region.area:
            pytest.skip("details folded away at this size")
        seen = 0
        for index in range(len(app.incidents)):
            app.query_one("#incidents").highlighted = index
            await pilot.pause()
            lines = both_ways(panel, monkeypatch)
            seen += any(segment.text.strip() for line in lines for segment in line)
        assert seen == len(app.incidents)
        for text in HOSTILE:
            panel.set_text(text)
            await pilot.pause()
            both_ways(panel, monkeypatch)


def test_runs_are_the_words_and_styles_in_order_or_none_when_only_content_can_paint_it():
    assert text_runs(Text.assemble("a ", ("b", "bold"), " c")) == (("a ", ""), ("b", "bold"), (" c", ""))
    assert text_runs(Text.assemble(("a", "bold"), ("b", "dim"))) == (("a", "bold"), ("b", "dim"))
    overlapping = Text("abcdef")
    overlapping.stylize("bold", 0, 4)
    overlapping.stylize("red", 2, 6)
    assert text_runs(overlapping) is None
    assert text_runs(Text("x", style="bold")) is None  # a style on the whole line
    assert text_runs(Text("")) is None
    assert text_runs(Text("a\tb")) is None
    from rich.style import Style

    assert text_runs(Text.assemble(("a", Style(bold=True)))) is None  # a style object, not words


def row_both_ways(incidents, index: int, style, width: int, monkeypatch) -> list[list]:
    from incident_tui.tui.widgets import incident_list as incident_list_module

    incidents._strips.clear()
    ours = [list(strip) for strip in incidents._row_strips(index, style, width)]
    with monkeypatch.context() as patch:
        patch.setattr(incident_list_module, "text_runs", lambda _line: None)  # every row through Content
        incidents._strips.clear()
        contents = [list(strip) for strip in incidents._row_strips(index, style, width)]
    incidents._strips.clear()
    assert ours == contents
    return ours


@pytest.mark.parametrize("size", [(160, 48), (80, 24)])
async def test_every_incident_row_paints_as_content_paints_it_in_every_state(make_app, monkeypatch, size):
    from incident_tui.tui.widgets.incident_list import IncidentList

    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        incidents = app.query_one(IncidentList)
        width = incidents.scrollable_content_region.width
        states = [incidents.get_visual_style("row-list--row"),
                  incidents.get_visual_style("row-list--row", "row-list--row-highlighted"),
                  incidents.get_visual_style("row-list--row", "row-list--row-hover")]
        padding = incidents.get_component_styles("row-list--row").padding
        by_runs = sum(incidents._painted_by_runs(incidents.row(index), states[0], width, padding) is not None
                      for index in range(len(incidents.incidents)))
        assert by_runs == len(incidents.incidents)  # long titles too: cut as Content cuts them
        for index in range(len(incidents.incidents)):
            for style in states:
                lines = row_both_ways(incidents, index, style, width, monkeypatch)
                assert len(lines) == incidents.row_height
                assert all(sum(len(segment.text) for segment in line) == width for line in lines)
        for text in HOSTILE:  # a row as another incident's words could make it
            incidents._texts[0] = Text("\n").join([text, text])
            for style in states:
                row_both_ways(incidents, 0, style, width, monkeypatch)
