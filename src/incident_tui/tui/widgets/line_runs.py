"""A line of styled words painted straight from its (words, style) runs, as Content would paint it.

A Static (and Textual's Content under it) paints a Text by building a Content, laying it out,
wrapping it and rendering each span: ~0.1 ms a line. A line that fits its width, with styles
given as words ("bold", "dim cyan") that do not overlap, comes out of all that as one segment
per span and per stretch of unstyled words between spans, each in the widget's base style with
the span's on top and its offset in the line as meta. :func:`paint_runs` makes those segments
directly; the tests compare the two paths segment for segment. Used by the timeline's filter
line and the details box, which show new words on every selection.
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style as RichStyle
from rich.text import Span, Text
from textual.strip import Strip
from textual.style import Style

Runs = tuple[tuple[str, str], ...]


def run_style_on(app, base: Style, run_style: str) -> RichStyle:
    """A run's style (Rich words, e.g. "bold cyan") on a widget's base style, as Content paints a Text span."""
    if run_style:
        span = Style.from_rich_style(app.console.get_style(run_style), app.ansi_theme)
        combined = Style.combine([base, span])
    else:
        combined = Style.combine([base])
    return (base + combined).rich_style


def paints_by_runs(widget) -> bool:
    """Whether the widget's lines may be painted from runs at all: left-aligned text, none of it
    being selected with the mouse (a selection is drawn by Content)."""
    return widget.text_selection is None and widget.styles.text_align in ("left", "start")


def text_runs(line: Text) -> Runs | None:
    """A one-line Text as runs, or None when only Content paints it right (overlapping spans, a
    style object, a tab, an empty line)."""
    plain = line.plain
    if not plain or line.style or "\n" in plain or "\t" in plain:
        return None
    runs: list[tuple[str, str]] = []
    x = 0
    for span in line.spans:  # in the order appended: non-overlapping spans come in order
        style = span.style
        if not isinstance(style, str) or not style or span.start < x or span.end > len(plain):
            return None
        if span.start > x:
            runs.append((plain[x:span.start], ""))
        if span.end > span.start:
            runs.append((plain[span.start:span.end], style))
        x = max(x, span.end)
    if x < len(plain):
        runs.append((plain[x:], ""))
    return tuple(runs)


def ellipsized(line: Text, width: int) -> Text:
    """What a box with ``text-wrap: nowrap; text-overflow: ellipsis`` shows of a one-line Text
    ``width`` cells wide: Content.truncate(width, ellipsis=True), span for span."""
    if line.cell_len <= width or width <= 0:
        return line
    plain = set_cell_size(line.plain, width - 1) + "…"
    end = len(plain)
    return Text(plain, spans=[Span(span.start, min(end, span.end), span.style) for span in line.spans if span.start < end])


def paint_runs(app, base: Style, runs: Runs, styles: dict[tuple[Style, str], RichStyle], y: int = 0) -> Strip:
    """The line as Content paints it at a width it fits (the caller checks), unpadded; ``y`` is
    the line's place in its Content (its meta says it).

    ``styles`` caches each run style on a base (the caller clears it when its styles change)."""
    segments = []
    x = 0
    for words, run_style in runs:
        if words:
            rich = styles.get((base, run_style))
            if rich is None:
                rich = styles[base, run_style] = run_style_on(app, base, run_style)
            segments.append(Segment(words, rich + meta_style(x, y)))
            x += len(words)
    return Strip(segments, cell_len("".join(words for words, _ in runs)))


_METAS: dict[tuple[int, int, int | None], RichStyle] = {}


def meta_style(x: int, y: int = 0, row: int | None = None) -> RichStyle:
    """The meta Textual gives a painted piece: its offset in the content, and the list row it is in."""
    # Offsets and rows repeat from line to line and from one incident to the next: each is made once.
    style = _METAS.get((x, y, row))
    if style is None:
        if len(_METAS) > 4096:
            _METAS.clear()
        meta = {"offset": (x, y)} if row is None else {"row": row, "offset": (x, y)}
        style = _METAS[x, y, row] = RichStyle.from_meta(meta)
    return style
