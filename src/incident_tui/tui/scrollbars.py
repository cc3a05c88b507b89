"""Scrollbars painted once per position: the same bar is not rendered through Rich on every frame.

Every selection in the incident list shows another timeline, and its scrollbar moves: Textual
8.2.8 renders a scrollbar as a Rich renderable, so each repaint built the bar's styles again and
ran the console render, the line split and a strip per line (35 lines on a 48-line terminal,
~10% of a keystroke's paint). A bar's look is a function of a few numbers (its size, the
timeline's length, the window, the position) and two styles, and moving back and forth through
the incidents shows the same bars again and again.

:class:`CachedScrollBarRender` is Textual's ``ScrollBarRender`` (same glyphs, same mouse meta)
made a Visual whose strips are kept in a small LRU keyed by all of those. A miss renders exactly
as Textual does for a Rich renderable (the console render, the widget's base style applied to
every segment as ``Widget.post_render`` does, the same line split), so the bars look identical;
the snapshot tests pin that. :func:`install` sets it as ``ScrollBar.renderer``, the hook Textual
documents for replacing the renderer.
"""

from __future__ import annotations

from itertools import islice

from rich.segment import Segment
from textual._context import active_app
from textual.cache import LRUCache
from textual.css.styles import RulesMap
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual

#: Painted bars, shared by every scrollbar (strips are immutable).
_PAINTED: LRUCache[tuple, list[Strip]] = LRUCache(256)


class _BarVisual(Visual):
    def __init__(self, bar: ScrollBarRender) -> None:
        self.bar = bar

    def render_strips(self, width: int, height: int | None, style: Style, options: RenderOptions) -> list[Strip]:
        bar = self.bar
        key = (width, height, style, bar.virtual_size, bar.window_size, bar.position, bar.thickness, bar.vertical,
               bar.style)
        strips = _PAINTED.get(key)
        if strips is None:
            strips = _PAINTED[key] = _paint(bar, width, height, style)
        return strips

    # A scrollbar is placed by its widget's gutter, never sized by its content; these answer as
    # Rich's measure of a renderable without one would (all the width, one line).
    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return container_width

    def get_height(self, rules: RulesMap, width: int) -> int:
        return 1


def _paint(bar: ScrollBarRender, width: int, height: int | None, style: Style) -> list[Strip]:
    """The strips Textual's RichVisual makes of ``bar`` in a widget whose base style is ``style``."""
    app = active_app.get()
    options = app.console_options.update(highlight=False, width=width, height=height)
    segments = app.console.render(bar, options.update_width(width))
    base = style.rich_style
    # What Widget.post_render's _Styled does: the base style under every segment; then, with links
    # on (a bar's meta has no "@click", so no link style), segments without a style are dropped,
    # which leaves a bar in a widget without a base style on one line, as Textual paints it.
    if base:
        segments = (Segment(text, base + segment_style, None) for text, segment_style, _ in segments)
    else:
        segments = (segment for segment in segments if segment.style is not None)
    lines = Segment.split_and_crop_lines(segments, width, include_new_lines=False, pad=False)
    return [Strip(line) for line in islice(lines, None, height)]


class CachedScrollBarRender(ScrollBarRender):
    """Textual's scrollbar renderer, as a Visual with its strips cached (see the module doc)."""

    def visualize(self) -> Visual:
        return _BarVisual(self)


def install() -> None:
    """Idempotent; done once by the app module."""
    ScrollBar.renderer = CachedScrollBarRender
