"""The cached scrollbar renderer paints what Textual's own renderer paints, and paints a bar once."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.style import Style
from textual.visual import RenderOptions, RichVisual, visualize
from textual.widgets import Static

from incident_tui.tui import scrollbars
from incident_tui.tui.scrollbars import CachedScrollBarRender

BARS = [
    dict(virtual_size=300, window_size=35, position=0.0, thickness=1, vertical=True),
    dict(virtual_size=300, window_size=35, position=117.5, thickness=1, vertical=True),
    dict(virtual_size=300, window_size=35, position=265.0, thickness=2, vertical=True),
    dict(virtual_size=36, window_size=35, position=1.0, thickness=1, vertical=True),
    dict(virtual_size=35, window_size=0, position=0.0, thickness=1, vertical=True),  # nothing to scroll
    dict(virtual_size=500, window_size=80, position=33.3, thickness=1, vertical=False),
]


class Host(App):
    def compose(self) -> ComposeResult:
        yield Static("x" * 500 + "\n" * 300, id="host")


@pytest.mark.parametrize("base", [Style(), Style.parse("on #1e1e1e")])
async def test_each_bar_is_painted_as_textual_paints_it(base):
    app = Host()
    async with app.run_test(size=(60, 40)):
        widget = app.query_one("#host")
        options = RenderOptions(widget._get_style, widget.styles, None, None)
        bar_style = Style.parse("#ffa62b on #2d2d2d").rich_style
        for params in BARS:
            width, height = (params["thickness"], 35) if params["vertical"] else (80, params["thickness"])
            ours = visualize(widget, CachedScrollBarRender(**params, style=bar_style))
            theirs = RichVisual(widget, ScrollBarRender(**params, style=bar_style))
            painted = ours.render_strips(width, height, base, options)
            assert painted == theirs.render_strips(width, height, base, options), params
            assert ours.render_strips(width, height, base, options) is painted  # the second time, cached


async def test_the_dashboard_s_scrollbars_use_it(make_app):
    assert ScrollBar.renderer is CachedScrollBarRender  # installed by the app module
    scrollbars._PAINTED.clear()
    app = make_app()
    async with app.run_test(size=(120, 24)) as pilot:  # short: the lists scroll
        await pilot.pause()
        for key in ["down"] * 4 + ["up"] * 4:
            await pilot.press(key)
            await pilot.pause()
    assert len(scrollbars._PAINTED) > 0
