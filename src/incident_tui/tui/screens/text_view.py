"""The whole of one long text (a timeline event), read-only and scrollable.

Rows shorter than the stored text are what the timeline shows; this is where the rest is read.
Only the visible rows are rendered (a ScrollView with ``render_line``), and wrapping is a cut by
cell width, so even a multi-megabyte note from an old database opens at once.
"""

from __future__ import annotations

from rich.cells import chop_cells
from rich.segment import Segment
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from incident_tui.domain.limits import format_size, text_bytes
from incident_tui.domain.text import clean, neutralise


def wrap_rows(text: str, width: int) -> list[str]:
    """``text`` as screen rows of at most ``width`` cells: its lines, broken after a space where one
    is near the edge, else where the width ends."""
    width = max(width, 1)
    rows: list[str] = []
    for line in text.split("\n"):
        line = line.expandtabs(4)
        if len(line) <= width and line.isascii():
            rows.append(line)
        elif line.isascii():  # one cell per character: slices, no measuring
            rows.extend(_break_ascii(line, width))
        else:
            rows.extend(chop_cells(line, width) or [""])
    return rows


def _break_ascii(line: str, width: int) -> list[str]:
    rows = []
    start, end = 0, len(line)
    while end - start > width:
        cut = line.rfind(" ", start + width // 2, start + width) + 1  # after a space in the right half
        if cut <= start:
            cut = start + width
        rows.append(line[start:cut])
        start = cut
    rows.append(line[start:])
    return rows


class TextPager(ScrollView, can_focus=True):
    """Scrolls through ``text``; ↑ ↓ page keys, home and end move."""

    DEFAULT_CSS = """
    TextPager { height: 1fr; overflow-y: scroll; overflow-x: hidden; }  /* a steady width: rows are cut to it */
    """

    BINDINGS = [
        Binding("up,k", "scroll_up", "up", show=False),
        Binding("down,j", "scroll_down", "down", show=False),
        Binding("pageup,b", "page_up", "page up", show=False),
        Binding("pagedown,space", "page_down", "page down", show=False),
        Binding("home,g", "scroll_home", "top", show=False),
        Binding("end,G", "scroll_end", "end", show=False),
    ]

    def __init__(self, text: str, **kwargs) -> None:
        super().__init__(**kwargs)
        # Stored text is cleaned on the way in; an old database's may not be. Nothing raw reaches the
        # terminal, and bidi overrides are shown rather than applied.
        self.text = neutralise(clean(text))
        self.rows: list[str] = []
        self._wrapped_at = 0

    def on_resize(self) -> None:
        self._wrap()

    def _wrap(self) -> None:
        width = self.scrollable_content_region.width
        if width <= 0 or width == self._wrapped_at:
            return
        self._wrapped_at = width
        self.rows = wrap_rows(self.text, width)
        self.virtual_size = Size(width, len(self.rows))
        self.refresh()

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        style = self.rich_style
        if not 0 <= index < len(self.rows):
            return Strip.blank(width, style)
        return Strip([Segment(self.rows[index], style)]).extend_cell_length(width, style).crop(0, width)


class TextViewScreen(ModalScreen[None]):
    """One text in full; escape, q or v closes."""

    DEFAULT_CSS = """
    TextViewScreen #form-box { width: 90%; max-width: 120; height: 90%; }
    TextViewScreen #form-title, TextViewScreen #form-intro { margin-bottom: 0; }
    """

    BINDINGS = [Binding("escape,q,v", "close", "close")]

    def __init__(self, title: str, text: str) -> None:
        super().__init__(classes="form-screen")
        self.view_title = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="form-box", classes="text-view"):
            yield Static(Text(self.view_title, style="bold", no_wrap=True, overflow="ellipsis"), id="form-title")
            lines = self.text.count("\n") + 1
            yield Static(Text(f"{format_size(text_bytes(self.text))} · {lines:,} line{'s' if lines != 1 else ''}"
                              " · ↑ ↓ pgup pgdn home end scroll · esc closes", style="dim"), id="form-intro")
            yield TextPager(self.text, id="text-view")

    def on_mount(self) -> None:
        self.query_one(TextPager).focus()

    def action_close(self) -> None:
        self.dismiss(None)
