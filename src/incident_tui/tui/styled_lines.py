"""A widget line without a border is styled in a few steps, not through every rule Textual checks per line.

Every line a widget paints goes through Textual's ``StylesCache.render_line`` (8.2.8), which
reads the widget's border, outline, padding, hatch, tint, opacity and text opacity again for
each line, builds closures for its post-processing and looks up the active app. For a line of
content in a box with no border and no outline (the timeline's events, every scrollbar, the
filter line, the containers), all that comes to: the content line at the content width, the
padding on either side, one strip. A selection repaints ~100 such lines (~10 µs each that way).

:func:`install` puts :func:`_render` in place of ``StylesCache.render``: it decides once per
paint whether the box is that plain (a border is allowed: its sides are made once per paint),
and if so makes its content lines that way (the same strips, segment for segment); any other box,
and the border and padding rows above and below the content, go through Textual's own code. What is cached, when a line is dirty, and the line filters are
Textual's loop, unchanged. ``tests/tui/test_styled_lines.py`` compares every widget of the
dashboard's screens painted both ways.
"""

from __future__ import annotations

from rich.segment import Segment
from textual._ansi_theme import DEFAULT_TERMINAL_THEME
from textual._border import get_box
from textual._segment_tools import line_pad
from textual._styles_cache import StylesCache
from textual.strip import Strip
from textual.style import Style

_textual_render = StylesCache.render
_textual_render_line = StylesCache.render_line


def _plain_box(styles, opacity: float) -> bool:
    """No outline, no hatch, no tint, fully opaque: a content line is its border's sides, padding and content."""
    for edge, _ in styles.outline:
        if edge:
            return False
    if styles.has_rule("hatch") and styles.hatch != "none":
        return False
    return opacity == 1.0 and not styles.tint.a and styles.text_opacity == 1.0


def _render(self: StylesCache, styles, size, base_background, background, render_content_line, filters,
            border_title, border_subtitle, content_size=None, padding=None, crop=None, opacity=1.0,
            ansi_theme=DEFAULT_TERMINAL_THEME, native_ansi=False) -> list[Strip]:
    if not _plain_box(styles, opacity):  # any other box: Textual's own render
        return _textual_render(self, styles, size, base_background, background, render_content_line, filters,
                               border_title, border_subtitle, content_size=content_size, padding=padding,
                               crop=crop, opacity=opacity, ansi_theme=ansi_theme, native_ansi=native_ansi)
    # Textual's StylesCache.render, with the content lines of a plain box made here.
    if content_size is None:
        content_size = size
    if padding is None:
        padding = styles.padding
    if crop is None:
        crop = size.region
    width, height = size
    if width != self._width:
        self.clear()
        self._width = width
    gutter_top, _, gutter_bottom, _ = styles.gutter
    pad_top, pad_right, pad_bottom, pad_left = padding
    content_width, content_height = content_size
    inner_style, outer_style = self.get_inner_outer(base_background, background)
    inner = inner_style.rich_style
    (border_top, _), (border_right, right_color), (border_bottom, _), (border_left, left_color) = styles.border
    # The sides of the border, as Textual makes them for each line (the same for every content line).
    left = right = None
    if border_left:
        left_side = Style(foreground=base_background + left_color.multiply_alpha(opacity))
        left = get_box(border_left, inner_style, outer_style, left_side)[1][0]
    if border_right:
        right_side = Style(foreground=base_background + right_color.multiply_alpha(opacity))
        right = get_box(border_right, inner_style, outer_style, right_side)[1][2]
    cache = self._cache
    is_dirty = self._dirty_lines.__contains__
    strips: list[Strip] = []
    for y in crop.line_range:
        if is_dirty(y) or y not in cache:
            if ((border_top and y == 0) or (border_bottom and y == height - 1)
                    or (pad_top and y < gutter_top) or (pad_bottom and y >= height - gutter_bottom)):
                strip = _textual_render_line(self, styles, y, size, content_size, padding, base_background,
                                             background, render_content_line, border_title, border_subtitle,
                                             opacity, ansi_theme, native_ansi)
            else:
                content_y = y - gutter_top
                if content_y < content_height:
                    line = render_content_line(content_y).adjust_cell_length(content_width, inner)
                else:
                    line = Strip.blank(content_width, inner)
                if line.cell_length == width and not (pad_left or pad_right) and left is None and right is None:
                    strip = line  # the content line is the whole line: the same strip (its caches with it)
                else:
                    segments: Strip | list[Segment] = (line_pad(line, pad_left, pad_right, inner)
                                                       if (pad_left or pad_right) else line)
                    if left is not None and right is not None:
                        segments = [left, *segments, right]
                    elif left is not None:
                        segments = [left, *segments]
                    elif right is not None:
                        segments = [*segments, right]
                    strip = Strip(segments, width)
            cache[y] = strip
        else:
            strip = cache[y]
        for line_filter in filters:
            strip = strip.apply_filter(line_filter, background)
        strips.append(strip)
    self._dirty_lines.difference_update(crop.line_range)
    if crop.column_span != (0, width):
        x1, x2 = crop.column_span
        strips = [strip.crop(x1, x2) for strip in strips]
    return strips


def install() -> None:
    """Idempotent; done once by the app module."""
    StylesCache.render = _render  # type: ignore[method-assign]


def uninstall() -> None:
    """Textual's own again (for the tests that compare the two)."""
    StylesCache.render = _textual_render  # type: ignore[method-assign]
